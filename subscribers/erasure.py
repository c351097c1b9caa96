"""Deleting a subscriber: the one way every "leave" path removes everything we hold about them.

The subscriptions row holds all of it (address or endpoint and keys, preferences, times). The
database takes the rest in the same statement: the areas go (ON DELETE CASCADE), and outbox
rows lose their link to the row (ON DELETE SET NULL). Those rows are kept, nameless, because
editors' statistics count them; what is left in them is an alert version, a channel, an outcome
and its times, and an error text that never holds an address or endpoint (the senders scrub
it). The sign-up mail throttle's row for the address (an HMAC of it, gone within minutes
anyway) goes too. tests/subscribers/test_erasure.py searches every table for anything left.
"""

from __future__ import annotations

from sqlalchemy import delete

from core.db import db

from .mail_throttle import mailbox_key
from .models import SignupMailSent, Subscription


def erase(subscription: Subscription) -> None:
    """Delete the subscription and everything linked to it, and commit."""
    if subscription.email:
        key = mailbox_key(subscription.email)
        db.session.execute(delete(SignupMailSent).where(SignupMailSent.address_key == key))
    db.session.delete(subscription)
    db.session.commit()
