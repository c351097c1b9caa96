"""Delivery statistics, counted straight from the outbox rows: per alert version, and the queue.

A row's status is the truth, so what editors see cannot drift from what happened, and each call
is one grouped query whatever the number of versions. The only counters kept are those of rows
the retention purge deleted (tallies.py), added in the same transaction that deleted them.

Per version (the rows the planner wrote when it was published):
- targeted: every row; sent, failed, pruned (subscription gone), dropped (expired, withdrawn
  or superseded before it went out) and pending add up to it;
- of the pending rows: deferred (held back by quiet hours), in_digest (gathered for an email
  digest) and queued (due now, or waiting for a retry);
- the time from publication to the last send, over all rows and over the rows that were not
  held back, since quiet hours alone can stretch the first to the next morning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, select, union_all

from alerts.models import AlertVersion
from core.clock import now
from core.db import db
from subscribers.models import Channel

from .models import Delivery, DeliveryTally, Status


@dataclass
class Counts:
    targeted: int = 0
    sent: int = 0
    failed: int = 0
    pruned: int = 0
    dropped: int = 0
    pending: int = 0

    def add(self, status: Status, rows: int) -> None:
        self.targeted += rows
        setattr(self, status.value, getattr(self, status.value) + rows)


@dataclass
class VersionStats(Counts):
    queued: int = 0  # pending and neither deferred nor in a digest
    deferred: int = 0  # pending until the subscriber's quiet hours end
    in_digest: int = 0  # pending until the subscriber's next digest mail
    channels: dict[str, Counts] = field(default_factory=lambda: {c.value: Counts() for c in Channel})
    published_at: datetime | None = None
    queued_at: datetime | None = None  # when the planner wrote the first row
    last_sent_at: datetime | None = None
    last_immediate_sent_at: datetime | None = None  # of the rows that were not held back

    @property
    def seconds_to_last_send(self) -> float | None:
        return _seconds(self.published_at, self.last_sent_at)

    @property
    def seconds_to_last_immediate_send(self) -> float | None:
        return _seconds(self.published_at, self.last_immediate_sent_at)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["published_at"]  # the version itself says when it was published
        for key in ("queued_at", "last_sent_at", "last_immediate_sent_at"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        data["seconds_to_last_send"] = self.seconds_to_last_send
        data["seconds_to_last_immediate_send"] = self.seconds_to_last_immediate_send
        return data


def version_stats(version_ids: Iterable[int]) -> dict[int, VersionStats]:
    """Statistics for each of `version_ids` (zeros for a version without rows), in one query."""
    ids = set(version_ids)
    found = {version_id: VersionStats() for version_id in ids}
    if not ids:
        return found
    groups = (Delivery.version_id, Delivery.channel, Delivery.status, Delivery.deferred, Delivery.digest)
    live = (
        select(
            *groups,
            func.count(),
            func.min(Delivery.created_at),
            func.max(Delivery.sent_at),
            func.min(AlertVersion.published_at),
        )
        .join(AlertVersion, AlertVersion.id == Delivery.version_id)
        .where(Delivery.version_id.in_(ids))
        .group_by(*groups)
    )
    t = DeliveryTally
    # Rows the retention purge deleted, in the same shape: a held-back row counts as deferred.
    purged = (
        select(
            t.version_id,
            t.channel,
            t.status,
            t.held_back,
            false(),
            t.rows,
            t.first_created_at,
            t.last_sent_at,
            AlertVersion.published_at,
        )
        .join(AlertVersion, AlertVersion.id == t.version_id)
        .where(t.version_id.in_(ids))
    )
    rows = db.session.execute(union_all(live, purged))
    for version_id, channel, status, deferred, digest, rows_, first_created, last_sent, published in rows:
        stats = found[version_id]
        stats.published_at = published
        stats.add(status, rows_)
        stats.channels[Channel(channel).value].add(status, rows_)
        if status == Status.PENDING:
            if deferred:
                stats.deferred += rows_
            if digest:
                stats.in_digest += rows_
            if not (deferred or digest):
                stats.queued += rows_
        stats.queued_at = _earliest(stats.queued_at, first_created)
        stats.last_sent_at = _latest(stats.last_sent_at, last_sent)
        if not (deferred or digest):
            stats.last_immediate_sent_at = _latest(stats.last_immediate_sent_at, last_sent)
    return found


@dataclass(frozen=True)
class QueueStats:
    """The whole outbox right now, for health checks: is the sending keeping up?"""

    pending: int  # every pending row, due or not
    due: int  # pending rows whose time has come
    leased: int  # due rows a worker holds right now
    oldest_due_lag_seconds: float | None  # how long the longest-waiting due row is overdue

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def queue_stats() -> QueueStats:
    moment = now()
    is_due = Delivery.not_before <= moment
    pending, due, leased, oldest = db.session.execute(
        select(
            func.count(),
            func.sum(case((is_due, 1), else_=0)),
            func.sum(case((and_(is_due, Delivery.claimed_until > moment), 1), else_=0)),
            func.min(case((is_due, Delivery.not_before), else_=None)),
        ).where(Delivery.status == Status.PENDING)
    ).one()
    return QueueStats(
        pending=int(pending or 0),
        due=int(due or 0),
        leased=int(leased or 0),
        oldest_due_lag_seconds=_seconds(oldest, moment),
    )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds(), 0.0), 3)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x is not None) if a or b else None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(x for x in (a, b) if x is not None) if a or b else None
