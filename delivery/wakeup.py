"""Waking idle workers when there is new work, instead of having them poll fast.

In one process (the embedded default) a threading.Event does it. Worker processes on
PostgreSQL LISTEN on a channel the planner NOTIFYs in the publishing transaction. A slow
poll remains as a safety net for rows that fall due later (quiet hours, digests, retries).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask
from sqlalchemy.engine import make_url

from core.config import connect_timeout

if TYPE_CHECKING:  # imported when a PostgreSQL listener is made: libpq adds some 10 MiB to a SQLite worker
    import psycopg

CHANNEL = "signaal_deliveries"
log = logging.getLogger(__name__)

_event = threading.Event()


def wake() -> None:
    _event.set()


def wait(timeout: float) -> bool:
    """Block until woken or the timeout passes; True when woken. Clears the signal."""
    woken = _event.wait(timeout)
    _event.clear()
    return woken


class Listener(Protocol):
    def wait(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


class LocalListener:
    """Woken by this process's planner (the embedded default, and SQLite)."""

    def wait(self, timeout: float) -> bool:
        return wait(timeout)

    def close(self) -> None:
        pass


class PostgresListener:
    """Woken by NOTIFY from any process on any machine sharing the database.

    A lost connection (a database restart, a failover) must not stop the worker: the wait
    then falls back to the poll interval and the next wait connects again.
    """

    def __init__(self, url: str, connect_timeout: int) -> None:
        self.url, self.connect_timeout = url, connect_timeout
        self.connection: psycopg.Connection[Any] | None = None
        self._connect()

    def wait(self, timeout: float) -> bool:
        import psycopg

        if self.connection is None and not self._connect():
            return wait(timeout)
        assert self.connection is not None
        try:
            return any(True for _ in self.connection.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error as error:
            log.warning("lost the wake-up connection (%s); polling until it is back", type(error).__name__)
            self.close()
            return False

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()

    def _connect(self) -> bool:
        import psycopg

        try:
            self.connection = psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout)
            self.connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as error:
            log.warning("no wake-up connection (%s); polling until there is one", type(error).__name__)
            self.close()
            return False
        return True


def listener_for(app: Flask) -> Listener:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresListener(dsn, connect_timeout(app.config))
    return LocalListener()
