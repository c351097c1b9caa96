"""Counts that outlive the outbox rows they were made from, so editors' statistics stay true.

The retention purge (delivery/retention.py) deletes old finished rows; in the same transaction
it adds them to delivery_tallies (models.DeliveryTally), per version, channel, final status and
whether the row had been held back (quiet hours or a digest). delivery/stats.py reads these
beside the rows, so a version's numbers are the same before and after a purge. A tally names
no subscriber.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, func
from sqlalchemy.dialects import postgresql, sqlite

from core.db import db
from subscribers.models import Channel

from .models import Delivery, DeliveryTally, Status

# What the purge hands back for each row it deletes, in this order.
PURGED_COLUMNS = (
    Delivery.version_id,
    Delivery.channel,
    Delivery.status,
    Delivery.deferred,
    Delivery.digest,
    Delivery.created_at,
    Delivery.sent_at,
)


def fold(purged: Sequence[Row[Any]]) -> None:
    """Add deleted rows (PURGED_COLUMNS) to the tallies, in the caller's transaction."""
    totals: dict[tuple[int, Channel, Status, bool], dict[str, Any]] = {}
    for version_id, channel, status, deferred, digest, created_at, sent_at in purged:
        key = (version_id, Channel(channel), Status(status), bool(deferred or digest))
        tally = totals.setdefault(key, {"rows": 0, "first_created_at": created_at, "last_sent_at": None})
        tally["rows"] += 1
        tally["first_created_at"] = min(tally["first_created_at"], created_at)
        if sent_at is not None and (tally["last_sent_at"] is None or sent_at > tally["last_sent_at"]):
            tally["last_sent_at"] = sent_at
    values = [
        {"version_id": v, "channel": c, "status": s, "held_back": h, **tally}
        # In key order, so two purges at once lock the same tallies in the same order (no deadlock).
        for (v, c, s, h), tally in sorted(totals.items())
    ]
    if values:
        _upsert(values)


def _upsert(values: list[dict[str, Any]]) -> None:
    postgres = db.session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if postgres else sqlite.insert
    statement = insert(DeliveryTally).values(values)
    mine, new = DeliveryTally.__table__.c, statement.excluded
    earlier, later = (func.least, func.greatest) if postgres else (func.min, func.max)
    statement = statement.on_conflict_do_update(
        index_elements=[mine.version_id, mine.channel, mine.status, mine.held_back],
        set_={
            "rows": mine.rows + new.rows,
            "first_created_at": earlier(mine.first_created_at, new.first_created_at),
            "last_sent_at": later(
                _either(mine.last_sent_at, new.last_sent_at), _either(new.last_sent_at, mine.last_sent_at)
            ),
        },
    )
    db.session.execute(statement)


def _either(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    # SQLite's two-argument max() is NULL when either side is: compare only known times.
    return func.coalesce(a, b)
