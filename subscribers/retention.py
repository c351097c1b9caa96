"""Email sign-ups nobody confirmed are deleted after UNCONFIRMED_EMAIL_RETENTION_HOURS.

An unconfirmed row holds an address someone typed, perhaps not their own, and receives nothing:
there is no reason to keep it once its confirmation link is dead. The window counts from the
last sign-up (updated_at; email_signup refreshes it with every confirmation mail) and is never
shorter than the link's validity (CONFIRM_TOKEN_HOURS), so no working link ever leads nowhere.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from core.clock import now
from core.purge import BATCH_SIZE, cutoff, delete_in_batches

from .models import Channel, Subscription


def purge_unconfirmed_emails(batch_size: int = BATCH_SIZE) -> int:
    """Delete email subscriptions never confirmed whose last sign-up is older than the window."""
    before = cutoff("UNCONFIRMED_EMAIL_RETENTION_HOURS", "hours")
    if before is None:
        return 0
    link_valid_since = now() - timedelta(hours=current_app.config["CONFIRM_TOKEN_HOURS"])
    where = [
        Subscription.channel == Channel.EMAIL,
        Subscription.confirmed_at.is_(None),
        Subscription.updated_at < min(before, link_valid_since),
    ]
    # Their areas go with them (ON DELETE CASCADE); they never had an outbox row.
    return delete_in_batches(Subscription, where, batch_size=batch_size)
