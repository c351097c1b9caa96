"""Waking idle workers when there is new work, instead of having them poll fast.

In one process (the embedded default) a threading.Event does it. Worker processes on
PostgreSQL LISTEN on a channel the planner NOTIFYs in the publishing transaction. A slow
poll remains as a safety net for rows that fall due later (quiet hours, digests, retries).
"""

from __future__ import annotations

import threading
from typing import Protocol

from flask import Flask
from sqlalchemy.engine import make_url

CHANNEL = "signaal_deliveries"

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
    """Woken by NOTIFY from any process on any machine sharing the database."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(url, autocommit=True)
        self.connection.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> bool:
        woken = False
        for _ in self.connection.notifies(timeout=timeout, stop_after=1):
            woken = True
        return woken

    def close(self) -> None:
        self.connection.close()


def listener_for(app: Flask) -> Listener:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        return PostgresListener(url.set(drivername="postgresql").render_as_string(hide_password=False))
    return LocalListener()
