"""Heartbeats: a process that must stay alive (the scheduler, each delivery worker) writes the
time into a row of its own every few seconds; /healthz and /metrics read how old it is, from any
process on any machine.

A worker's row is named after the worker and removed when it stops cleanly; the rows of killed
workers are purged a day after their last beat.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import String, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, UTCDateTime, db

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"
WORKER_PREFIX = "worker:"
# A killed worker's row stays this long: long enough to see in /metrics which one went quiet.
DEAD_WORKER_RETENTION = timedelta(days=1)
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


def worker_name(worker_id: str) -> str:
    """A worker's row: its id (host:pid:thread) with the host cut short if the key would overflow.

    The end is kept, not the start: pid and thread tell two workers of one host apart.
    """
    room = Heartbeat.name.type.length - len(WORKER_PREFIX)
    return WORKER_PREFIX + worker_id[-room:]


def forget(name: str) -> None:
    """A process stopping cleanly removes its row: it is gone, not stale."""
    db.session.execute(delete(Heartbeat).where(Heartbeat.name == name))
    db.session.commit()


def workers_alive(heartbeat_ages: dict[str, float], max_age: float) -> int:
    return sum(1 for name, age in heartbeat_ages.items() if name.startswith(WORKER_PREFIX) and age <= max_age)


def purge_dead_workers() -> int:
    """The rows of workers that were killed and never said goodbye (a retention job)."""
    done = db.session.execute(
        delete(Heartbeat).where(
            Heartbeat.name.startswith(WORKER_PREFIX, autoescape=True),
            Heartbeat.beat_at < now() - DEAD_WORKER_RETENTION,
        )
    )
    db.session.commit()
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


class Beating:
    """Beat under `name` from a thread of its own while the block runs; remove the row after it.

    A thread, not the worker's loop: a batch to a slow push service can take minutes, and the
    worker is alive all that time.
    """

    def __init__(self, app: Flask, name: str) -> None:
        self.app, self.name = app, name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> Beating:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        with self.app.app_context():
            try:
                forget(self.name)
            except Exception:
                db.session.rollback()
                log.warning("could not remove heartbeat %s; it is purged a day after its last beat", self.name)
            finally:
                db.session.remove()

    def _run(self) -> None:
        interval = beat_interval(self.app.config)
        while True:
            with self.app.app_context():
                try:
                    beat(self.name)
                except Exception as error:  # the database away for a while: beat again next time
                    db.session.rollback()
                    log.warning("heartbeat %s failed (%s)", self.name, type(error).__name__)
                finally:
                    db.session.remove()
            if self._stop.wait(interval):
                return
