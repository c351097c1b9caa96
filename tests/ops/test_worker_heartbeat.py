"""Delivery workers beat while they run; /healthz counts those alive and fails when there is none."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import retention_jobs
from core import clock
from core.db import db
from delivery.worker import Worker
from ops.heartbeat import SCHEDULER, WORKER_PREFIX, Heartbeat, beat, purge_dead_workers, worker_name
from tests.delivery.test_engine import AFTERNOON
from tests.delivery.worker_process import wait_until


@pytest.fixture(autouse=True)
def workers_only(app: Flask) -> None:
    """The scheduler's check has tests of its own (test_health.py)."""
    app.config["HEALTH_SCHEDULER_MAX_AGE_SECONDS"] = 0


def heartbeat_names() -> set[str]:
    db.session.rollback()  # a fresh look at rows other threads committed
    return set(db.session.scalars(select(Heartbeat.name)))


def test_a_running_worker_beats_and_removes_its_row_when_it_stops(app: Flask, client: FlaskClient) -> None:
    worker, stop = Worker(app, "host-a:101:7"), threading.Event()
    running = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    running.start()
    try:
        wait_until(lambda: worker_name("host-a:101:7") in heartbeat_names(), "the worker's first beat", timeout=30)
        answer = client.get("/healthz")
        assert answer.status_code == 200
        assert (answer.get_json()["workers"], answer.get_json()["workers_alive"]) == ("ok", 1)
    finally:
        stop.set()
        running.join(timeout=30)
    assert not running.is_alive()
    assert heartbeat_names() == set()  # stopped cleanly: gone, not stale
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert (answer.get_json()["workers"], answer.get_json()["workers_alive"]) == ("none", 0)


def test_only_workers_that_beat_within_the_limit_count(app: Flask, client: FlaskClient) -> None:
    clock.freeze(AFTERNOON)
    beat(worker_name("host-a:101:7"))
    beat(SCHEDULER)  # not a worker
    clock.freeze(AFTERNOON + timedelta(seconds=30))
    beat(worker_name("host-b:202:7"))
    clock.freeze(AFTERNOON + timedelta(seconds=60))  # HEALTH_WORKER_MAX_AGE_SECONDS: both still count
    assert client.get("/healthz").get_json()["workers_alive"] == 2
    clock.freeze(AFTERNOON + timedelta(seconds=61))
    report = client.get("/healthz")
    assert report.status_code == 200 and report.get_json()["workers_alive"] == 1
    clock.freeze(AFTERNOON + timedelta(seconds=91))
    report = client.get("/healthz")
    assert report.status_code == 503 and report.get_json()["workers"] == "none"
    app.config["HEALTH_WORKER_MAX_AGE_SECONDS"] = 0
    report = client.get("/healthz")
    assert report.status_code == 200
    assert (report.get_json()["workers"], report.get_json()["workers_alive"]) == ("not checked", None)


def test_names_fit_the_key_and_keep_what_tells_workers_apart() -> None:
    host = "a-very-long-host-name.of-a-cluster-node.in-a-data-centre.example.org"
    first, second = worker_name(f"{host}:101:139711"), worker_name(f"{host}:102:139711")
    assert first.startswith(WORKER_PREFIX) and len(first) <= 64
    assert first != second and first.endswith(":101:139711")
    assert worker_name("web-1:4242:139") == "worker:web-1:4242:139"


def test_the_rows_of_killed_workers_are_purged_a_day_after_their_last_beat(app: Flask) -> None:
    assert purge_dead_workers in retention_jobs()
    clock.freeze(AFTERNOON)
    beat(worker_name("killed:1:1"))
    beat(SCHEDULER)
    clock.freeze(AFTERNOON + timedelta(hours=23))
    beat(worker_name("alive:2:2"))
    assert purge_dead_workers() == 0
    clock.freeze(AFTERNOON + timedelta(days=1, seconds=1))
    assert purge_dead_workers() == 1
    assert heartbeat_names() == {SCHEDULER, worker_name("alive:2:2")}
