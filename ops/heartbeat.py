"""Heartbeats: a process that must stay alive (the scheduler) writes the time into a row of its
own every few seconds; /healthz and /metrics read how old it is, from any process on any machine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, UTCDateTime, db

SCHEDULER = "scheduler"
# Beat at least this often, so a threshold of a minute has several beats to go on.
MAX_BEAT_SECONDS = 10


class Heartbeat(Base):
    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)


def beat(name: str) -> None:
    moment = now()
    try:
        done = db.session.execute(update(Heartbeat).where(Heartbeat.name == name).values(beat_at=moment))
        if not done.rowcount:  # type: ignore[attr-defined]
            db.session.execute(insert(Heartbeat).values(name=name, beat_at=moment))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a second scheduler made the row at the same moment: its beat counts


def scheduler_beat() -> None:
    """The scheduler's own periodic job: if this row stays fresh, the scheduler fires its jobs."""
    beat(SCHEDULER)


def beat_interval(config: Any) -> int:
    return max(1, min(int(config["SCHEDULER_INTERVAL_SECONDS"]), MAX_BEAT_SECONDS))


def ages(moment: datetime) -> dict[str, float]:
    """Seconds since each heartbeat, by name."""
    rows = db.session.execute(select(Heartbeat.name, Heartbeat.beat_at)).all()
    return {name: max(0.0, (moment - beat_at).total_seconds()) for name, beat_at in rows}
