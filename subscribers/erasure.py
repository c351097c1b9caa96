"""Deleting a subscriber: the one way every "leave" path removes everything we hold about them.

The subscriptions row holds all of it (address or endpoint and keys, preferences, times). The
database takes the rest in the same statement: the areas go (ON DELETE CASCADE), and outbox
rows lose their link to the row (ON DELETE SET NULL). Those rows are kept, nameless, because
editors' statistics count them; what is left in them is an alert version, a channel, an outcome
and its times, and an error text that never holds an address or endpoint (the senders scrub
it). tests/retention/test_erasure.py searches every table for anything left behind.
"""

from __future__ import annotations

from core.db import db

from .models import Subscription


def erase(subscription: Subscription) -> None:
    """Delete the subscription and everything linked to it, and commit."""
    db.session.delete(subscription)
    db.session.commit()
