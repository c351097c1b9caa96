"""Filling the outbox in the publishing transaction, with one INSERT … SELECT.

Who gets a version:
- a new alert: every matching subscription;
- an update: every matching subscription, and everyone who received an earlier version
  (even if the update no longer matches them: they must learn that the warning changed);
- a withdrawal (cancel): only those who received an earlier version.
Rows still pending for earlier versions are dropped: the new version replaces them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, event, false, insert, literal, select, text, true, union, update
from sqlalchemy.orm import Session

from alerts.models import AlertVersion
from alerts.vocabulary import MsgType
from core.clock import now
from core.db import UTCDateTime, db
from subscribers.matching import matching_ids
from subscribers.models import Subscription

from . import wakeup
from .models import Delivery, Status


def plan(version: AlertVersion) -> None:
    """Add the delivery rows for a version being published; the caller commits."""
    moment = now()
    earlier = select(AlertVersion.id).where(AlertVersion.alert_id == version.alert_id, AlertVersion.id != version.id)
    db.session.execute(
        update(Delivery)
        .where(Delivery.version_id.in_(earlier), Delivery.status == Status.PENDING)
        .values(status=Status.DROPPED, claimed_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    reached = select(Delivery.subscription_id).where(Delivery.version_id.in_(earlier), Delivery.status == Status.SENT)
    targets: Select[Any] | CompoundSelect
    if version.msg_type == MsgType.CANCEL:
        targets = reached
    elif version.msg_type == MsgType.UPDATE:
        targets = union(matching_ids(version), reached)
    else:
        targets = matching_ids(version)
    s = Subscription
    rows = select(
        literal(version.id),
        s.id,
        s.channel,
        literal(Status.PENDING.value),
        literal(moment, UTCDateTime),
        literal(0),
        false(),
        false(),
        literal(""),
        literal(moment, UTCDateTime),
    ).where(s.id.in_(targets), and_(s.active == true(), s.paused == false()))
    columns = [
        "version_id",
        "subscription_id",
        "channel",
        "status",
        "not_before",
        "attempts",
        "deferred",
        "digest",
        "last_error",
        "created_at",
    ]
    db.session.execute(insert(Delivery).from_select(columns, rows))
    _wake_workers_after_commit(db.session())


def _wake_workers_after_commit(session: Session) -> None:
    """Workers start on a publish within moments: in this process by an event, elsewhere by NOTIFY."""
    if session.get_bind().dialect.name == "postgresql":
        # Delivered by PostgreSQL only when (and if) this transaction commits.
        session.execute(text(f"NOTIFY {wakeup.CHANNEL}"))
    event.listen(session, "after_commit", lambda _session: wakeup.wake(), once=True)
