"""Idle workers on PostgreSQL are woken by NOTIFY, and keep working when that connection is lost."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.db import db
from delivery import wakeup
from delivery.wakeup import CHANNEL, PostgresListener

WAIT_BOUND = 10.0  # a bound for a wake-up that never comes; a NOTIFY arrives in milliseconds


def notify() -> None:
    """What the planner does in the publishing transaction."""
    with db.engine.connect() as connection:
        connection.execute(select(func.pg_notify(CHANNEL, "")))
        connection.commit()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_listener_survives_the_database_ending_its_session(app: Flask) -> None:
    listener = wakeup.listener_for(app)
    assert isinstance(listener, PostgresListener)
    try:
        notify()
        assert listener.wait(WAIT_BOUND) is True
        assert listener.connection is not None
        ended = listener.connection.info.backend_pid
        # What a database restart or failover does to every session.
        with db.engine.connect() as connection:
            assert connection.scalar(select(func.pg_terminate_backend(ended))) is True
        assert listener.wait(WAIT_BOUND) is False  # the loss noticed, not raised into the worker
        assert listener.connection is None
        assert listener.wait(0) is False  # connects and listens again
        assert listener.connection is not None and listener.connection.info.backend_pid != ended
        notify()
        assert listener.wait(WAIT_BOUND) is True
    finally:
        listener.close()


def test_a_listener_without_a_database_falls_back_to_polling() -> None:
    # Nothing listens on port 1: every connect is refused at once.
    wakeup.wait(0)  # forget a wake-up an earlier test's publish left in this process
    listener = PostgresListener("postgresql://signaal@127.0.0.1:1/signaal", connect_timeout=1)
    assert listener.connection is None
    assert listener.wait(0.01) is False
    wakeup.wake()  # the in-process signal still works while it polls
    assert listener.wait(WAIT_BOUND) is True
