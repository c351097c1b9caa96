"""The periodic sweeps of the editorial workflow: scheduled publication and expiry.

Each is safe to run twice or in two processes at once: every change is conditional on the
state it expects, under the alert's lock.
"""

from __future__ import annotations

from sqlalchemy import select

from core.clock import now
from core.db import db

from . import audit
from .lifecycle import commit_action, lock_alert, make_public
from .models import Alert, AlertVersion
from .vocabulary import State


def publish_due() -> int:
    """Publish scheduled versions whose time has come. Safe to run twice or in two processes."""
    due = db.session.scalars(
        select(AlertVersion.alert_id).where(AlertVersion.state == State.SCHEDULED, AlertVersion.publish_at <= now())
    ).all()
    published = 0
    for alert_id in due:
        alert = lock_alert(db.session.get_one(Alert, alert_id))
        version = alert.open_version
        if version is None or version.state != State.SCHEDULED:
            db.session.rollback()  # another process got there first
            continue
        make_public(version, None)
        commit_action("publish", None, version, scheduled=True)
        published += 1
    return published


def expire_due() -> int:
    """Mark published versions past their expiry as expired. Idempotent."""
    expired = db.session.scalars(
        select(AlertVersion)
        .where(AlertVersion.state == State.PUBLISHED, AlertVersion.expires <= now())
        .with_for_update(skip_locked=True)
    ).all()
    for version in expired:
        version.state = State.EXPIRED
        audit.record("expire", None, alert_id=version.alert_id, version_id=version.id)
    db.session.commit()
    return len(expired)
