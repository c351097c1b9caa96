"""What the outbox (delivery rows) says about delivery health, in a few indexed queries.

Shared by /healthz and /metrics. Every count is of rows as they are now, so it is the same
whichever process answers, however many workers there are.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select

from core.db import db
from delivery.models import Delivery, Status
from delivery.tallies import DeliveryTally
from subscribers.models import Channel

# Pending rows by what they wait for.
QUEUE_STATES = ("due", "leased", "scheduled")


def oldest_due_lag(moment: datetime) -> float:
    """Seconds the longest-waiting due row has been due (0 when none is): one index lookup."""
    oldest = db.session.scalar(
        select(func.min(Delivery.not_before)).where(Delivery.status == Status.PENDING, Delivery.not_before <= moment)
    )
    return max(0.0, (moment - oldest).total_seconds()) if oldest is not None else 0.0


def queue_depth(moment: datetime) -> dict[tuple[str, str], int]:
    """Pending rows by (channel, state): due (waiting for a worker), leased (a worker is sending
    them) or scheduled (quiet hours, digests, retries later)."""
    state = case(
        (Delivery.not_before > moment, "scheduled"),
        (Delivery.claimed_until > moment, "leased"),
        else_="due",
    )
    query = (
        select(Delivery.channel, state, func.count())
        .where(Delivery.status == Status.PENDING)
        .group_by(Delivery.channel, state)
    )
    counts = {(channel.value, kind): 0 for channel in Channel for kind in QUEUE_STATES}
    for channel, kind, count in db.session.execute(query):
        counts[(channel.value, kind)] = count
    return counts


def deliveries_by_status() -> dict[tuple[str, str], int]:
    """Every delivery by (channel, status): the rows in the outbox, and those the retention purge
    has deleted (kept as tallies), so a count of finished deliveries never goes down."""
    rows = select(Delivery.channel, Delivery.status, func.count()).group_by(Delivery.channel, Delivery.status)
    purged = select(DeliveryTally.channel, DeliveryTally.status, func.sum(DeliveryTally.rows)).group_by(
        DeliveryTally.channel, DeliveryTally.status
    )
    counts = {(channel.value, status.value): 0 for channel in Channel for status in Status}
    for query in (rows, purged):
        for channel, status, count in db.session.execute(query):
            counts[(channel.value, status.value)] += int(count)
    return counts
