"""GET /healthz: the database, the scheduler's heartbeat (written by the real scheduler job) and
the delivery lag, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update
from werkzeug.test import TestResponse

from app import create_app
from core import clock
from core.commands import scheduled_jobs
from core.db import db
from core.scheduler import add_jobs
from delivery.models import Delivery, Status
from editors.models import Editor, Role
from ops.heartbeat import Heartbeat, beat, worker_name
from tests.delivery.test_engine import AFTERNOON, drain, publish
from tests.factories import make_editor, make_subscription


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    clock.freeze(AFTERNOON)
    return make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)


def start_scheduler(app: Flask) -> Callable[[], None]:
    """What `flask serve` and `flask scheduler` do: the job list (which beats once at once), added
    to an APScheduler; returns the heartbeat job as APScheduler runs it (own context, own session)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, app, scheduled_jobs(app, lambda app: []))
    [job] = scheduler.get_jobs()
    assert job.id == "ops.heartbeat.scheduler_beat"
    assert job.trigger.interval == timedelta(seconds=min(10, app.config["SCHEDULER_INTERVAL_SECONDS"]))
    return job.func


def scheduler_beats(app: Flask) -> None:
    start_scheduler(app)()


@pytest.fixture
def scheduler_only(app: Flask) -> None:
    """Tests of the scheduler's check: no worker runs in them, and none is asked for."""
    app.config["HEALTH_WORKER_MAX_AGE_SECONDS"] = 0


def test_healthy_answers_200_with_every_field(app: Flask, client: FlaskClient) -> None:
    clock.freeze(AFTERNOON)
    scheduler_beats(app)
    beat(worker_name("web-1:4242:139"))
    clock.freeze(AFTERNOON + timedelta(seconds=7))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "scheduler": "ok",
        "scheduler_heartbeat_age_seconds": 7.0,
        "workers": "ok",
        "workers_alive": 1,
        "oldest_due_delivery_lag_seconds": 0.0,
    }
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.usefixtures("scheduler_only")
def test_a_stale_heartbeat_answers_503(app: Flask, client: FlaskClient) -> None:
    clock.freeze(AFTERNOON)
    scheduler_beats(app)
    clock.freeze(AFTERNOON + timedelta(seconds=60))  # HEALTH_SCHEDULER_MAX_AGE_SECONDS: still fine
    assert client.get("/healthz").status_code == 200
    clock.freeze(AFTERNOON + timedelta(seconds=61))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "ok",
        "scheduler": "stale",
        "scheduler_heartbeat_age_seconds": 61.0,
        "workers": "not checked",
        "workers_alive": None,
        "oldest_due_delivery_lag_seconds": 0.0,
    }
    scheduler_beats(app)  # the scheduler is back: the same row is renewed, no second one
    assert client.get("/healthz").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Heartbeat)) == 1


@pytest.mark.usefixtures("scheduler_only")
def test_a_scheduler_beats_as_it_starts(app: Flask, client: FlaskClient) -> None:
    clock.freeze(AFTERNOON)
    beat = start_scheduler(app)
    assert client.get("/healthz").get_json()["scheduler"] == "ok"  # before any interval has passed
    clock.freeze(AFTERNOON + timedelta(seconds=90))
    assert client.get("/healthz").status_code == 503
    beat()
    assert client.get("/healthz").get_json()["scheduler_heartbeat_age_seconds"] == 0.0


@pytest.mark.usefixtures("scheduler_only")
def test_no_heartbeat_yet_answers_503_unless_the_check_is_off(app: Flask, client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["scheduler"] == "missing"
    app.config["HEALTH_SCHEDULER_MAX_AGE_SECONDS"] = 0
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["scheduler"] == "not checked"


def test_lag_is_the_age_of_the_oldest_due_pending_row(
    app: Flask, client: FlaskClient, people: tuple[Editor, Editor]
) -> None:
    app.config["HEALTH_SCHEDULER_MAX_AGE_SECONDS"] = 0
    make_subscription(["NL"])
    make_subscription(["NL"], channel="email")
    publish(people)  # two rows, due now
    later = db.session.scalars(select(Delivery.id).order_by(Delivery.id)).first()
    # One row waits for later (quiet hours, a retry): it is not late, so it is no lag.
    db.session.execute(
        update(Delivery).where(Delivery.id == later).values(not_before=AFTERNOON + timedelta(minutes=30))
    )
    db.session.commit()
    clock.freeze(AFTERNOON + timedelta(seconds=42.5))
    assert client.get("/healthz").get_json()["oldest_due_delivery_lag_seconds"] == 42.5
    drain(app)
    assert db.session.scalar(select(func.count()).where(Delivery.status == Status.PENDING)) == 1
    assert client.get("/healthz").get_json()["oldest_due_delivery_lag_seconds"] == 0.0
    clock.freeze(AFTERNOON + timedelta(minutes=31))  # now the waiting row is due, a minute ago
    assert client.get("/healthz").get_json()["oldest_due_delivery_lag_seconds"] == 60.0


def test_an_unreachable_database_answers_503_and_says_no_more(tmp_path: Path) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    broken = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": "postgresql://signaal@127.0.0.1:1/signaal",
            "SECRET_KEY": "test-secret-key-not-for-production",
            "UPLOAD_DIR": str(tmp_path),
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "unreachable",
        "scheduler": "unknown",
        "scheduler_heartbeat_age_seconds": None,
        "workers": "unknown",
        "workers_alive": None,
        "oldest_due_delivery_lag_seconds": None,
    }


def health_from_a_thread(app: Flask) -> tuple[threading.Thread, list[TestResponse]]:
    """Ask /healthz in a thread, so a check that hangs fails the test instead of hanging it."""
    answers: list[TestResponse] = []
    asking = threading.Thread(target=lambda: answers.append(app.test_client().get("/healthz")), daemon=True)
    asking.start()
    # A bound for a hung check, not a measure: the answers come after about 1 s and 0.2 s.
    asking.join(timeout=30)
    return asking, answers


def test_a_database_that_accepts_but_never_answers_gives_up_after_the_connect_timeout(tmp_path: Path) -> None:
    # The kernel completes the handshake for the listening socket's backlog, but nothing ever
    # answers PostgreSQL's startup message: without a timeout the connect would wait forever.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        stalled = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"postgresql://signaal@127.0.0.1:{port}/signaal",
                "DATABASE_CONNECT_TIMEOUT_SECONDS": 1,
                "SECRET_KEY": "test-secret-key-not-for-production",
                "UPLOAD_DIR": str(tmp_path),
            }
        )
        asking, answers = health_from_a_thread(stalled)
        assert not asking.is_alive(), "the health check still waits for a database that never answers"
    assert answers[0].status_code == 503
    assert answers[0].get_json()["database"] == "unreachable"


# PostgreSQL only: SQLite's readers do not wait for a writer (WAL), and it has no statement_timeout.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_too_slow_to_answer_is_reported_slow(app: Flask, client: FlaskClient) -> None:
    app.config["HEALTH_DATABASE_TIMEOUT_SECONDS"] = 0.2
    with db.engine.connect() as migration:
        # What a long migration does: an exclusive lock that every read of the table waits for.
        migration.execute(text("LOCK TABLE heartbeats IN ACCESS EXCLUSIVE MODE"))
        asking, answers = health_from_a_thread(app)
        still_waiting = asking.is_alive()
        migration.rollback()  # lets a hung check finish
    assert not still_waiting, "the health check waited for the lock instead of timing out"
    assert answers[0].status_code == 503
    assert answers[0].get_json()["database"] == "slow"
    assert client.get("/healthz").get_json()["database"] == "ok"  # the timeout ended with the check


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_pooled_connections_the_database_ended_are_replaced_unseen(app: Flask, client: FlaskClient) -> None:
    app.config["HEALTH_SCHEDULER_MAX_AGE_SECONDS"] = 0  # only the database counts here
    app.config["HEALTH_WORKER_MAX_AGE_SECONDS"] = 0
    assert client.get("/healthz").get_json()["database"] == "ok"
    with db.engine.connect() as observer:  # a connection of its own, taken while the session holds one
        # The fixture's app context outlives requests; in production each request's teardown
        # returns the session's connection to the pool, as this does.
        db.session.remove()
        # What a restart or failover does: every session of the app's pool ends.
        ended = observer.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert ended
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["database"] == "ok"
