"""Taking due rows under a lease, and writing back what happened to them.

Both are short transactions of their own: nothing stays open while a channel sends. On
PostgreSQL the claim skips rows other workers hold (FOR UPDATE SKIP LOCKED), so any number
of worker processes on any number of machines share the table; SQLite has one worker.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ColumnElement, Select, any_, bindparam, delete, or_, select, text, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from alerts.models import AlertVersion
from alerts.vocabulary import State
from core.clock import now
from core.db import db
from subscribers.models import Channel, Subscription

from .channels import Outcome, Result
from .models import Delivery, Status


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    version_id: int
    subscription_id: int | None
    channel: Channel
    attempts: int
    digest: bool


@dataclass(frozen=True)
class Reschedule:
    """Not sent now: due again at `not_before` (quiet hours or a digest)."""

    delivery_id: int
    not_before: datetime
    deferred: bool = False
    digest: bool = False


def claim(worker_id: str, batch_size: int, lease: timedelta) -> list[Claimed]:
    moment = now()
    session = db.session()
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == Status.PENDING,
            Delivery.not_before <= moment,
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < moment),
        )
        .order_by(Delivery.not_before, Delivery.id)
        .limit(batch_size)
    )
    rows = _take(session, due, worker_id, moment + lease)
    digest_owners = {row.subscription_id for row in rows if row.digest and row.subscription_id is not None}
    if digest_owners:
        # One digest mail per subscriber: take their other due digest rows along.
        companions = select(Delivery.id).where(
            Delivery.status == Status.PENDING,
            Delivery.digest == true(),
            Delivery.not_before <= moment,
            Delivery.subscription_id.in_(digest_owners),
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < moment),
        )
        rows += _take(session, companions, worker_id, moment + lease)
    session.commit()
    return rows


def _take(session: Session, ids: Select[tuple[int]], worker_id: str, until: datetime) -> list[Claimed]:
    if session.get_bind().dialect.name == "postgresql":
        # Plan this transaction's statements for the table as it is now. A plan cached while
        # the table was empty (idle workers poll it; psycopg prepares repeated statements and
        # PostgreSQL then reuses a generic plan) scans everything once per row: a publish to
        # 10,000 subscribers waited a minute for its first claim.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # The locking subquery runs exactly once (a CTE), whatever the plan: a subquery the
        # planner re-runs per row locks new rows each time, claims more than a batch, and
        # could hand rows to two workers.
        due = ids.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        chosen: ColumnElement[bool] = Delivery.id == due.c.id
    else:
        chosen = Delivery.id.in_(ids.scalar_subquery())
    statement = (
        update(Delivery)
        .where(chosen)
        .values(claimed_until=until, claimed_by=worker_id)
        .returning(
            Delivery.id,
            Delivery.version_id,
            Delivery.subscription_id,
            Delivery.channel,
            Delivery.attempts,
            Delivery.digest,
        )
        .execution_options(synchronize_session=False)
    )
    return [Claimed(*row) for row in session.execute(statement).all()]


def record(
    results: list[Result], reschedules: list[Reschedule], drops: dict[int, str], expiry: dict[int, datetime]
) -> None:
    """Write outcomes back in one transaction. `expiry` maps delivery id → its alert's expiry.

    Only rows still pending are touched: a row another worker finished meanwhile stays as it is.
    """
    moment = now()
    release = {"claimed_until": None, "claimed_by": None}
    attempt = Delivery.attempts + 1
    sent: list[int] = []
    for result in results:
        row, error = result.delivery_id, result.error[:200]
        if result.outcome == Outcome.SENT:
            sent.append(row)
        elif result.outcome == Outcome.RETRY:
            if result.retry_at is None or result.retry_at >= expiry[row]:
                drops[row] = f"gave up at expiry: {error}"
            else:
                _set([row], not_before=result.retry_at, attempts=attempt, last_error=error, **release)
        else:
            status = Status.PRUNED if result.outcome == Outcome.PRUNE else Status.FAILED
            _set([row], status=status, attempts=attempt, last_error=error, **release)
    _set(sent, status=Status.SENT, sent_at=moment, attempts=attempt, **release)
    for item in reschedules:
        _set([item.delivery_id], not_before=item.not_before, deferred=item.deferred, digest=item.digest, **release)
    for row, reason in drops.items():
        _set([row], status=Status.DROPPED, last_error=reason[:200], **release)
    _prune(results)
    db.session.commit()


def among(column: InstrumentedAttribute[int], ids: Collection[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL as `= ANY(array)`: one parameter, not hundreds to send and parse."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))
    return column.in_(ids)


def _set(ids: list[int], **values: object) -> None:
    if ids:
        db.session.execute(
            update(Delivery)
            .where(among(Delivery.id, ids), Delivery.status == Status.PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _prune(results: list[Result]) -> None:
    """Delete subscriptions that are gone, but only if they still have the endpoint that failed.

    A subscriber may have re-subscribed with a new endpoint meanwhile; that one must survive.
    """
    gone = {r.gone for r in results if r.outcome == Outcome.PRUNE and r.gone}
    if gone:
        db.session.execute(
            delete(Subscription)
            .where(or_(Subscription.endpoint.in_(gone), Subscription.email.in_(gone)))
            .execution_options(synchronize_session=False)
        )


def drop_stale() -> int:
    """Drop pending rows of versions that are no longer live (expired, withdrawn, superseded).

    Workers also check before sending; this sweep keeps the statistics and queue depth true.
    Idempotent.
    """
    stale = select(AlertVersion.id).where(AlertVersion.state != State.PUBLISHED)
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.status == Status.PENDING, Delivery.version_id.in_(stale))
        .values(status=Status.DROPPED, last_error="the alert is no longer live", claimed_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def extend_lease(worker_id: str, ids: list[int], lease: timedelta) -> int:
    """Keep holding rows still being sent, so a slow batch is not taken over while it is alive."""
    if not ids:
        return 0
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.claimed_by == worker_id, Delivery.status == Status.PENDING)
        .values(claimed_until=now() + lease)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
