"""Two and three worker processes share the outbox on PostgreSQL: every row is sent exactly once.

FOR UPDATE SKIP LOCKED is what keeps live workers apart; a lease long enough that none runs
out means no row may be taken twice. Who claimed what is counted by a trigger the test puts
on the session's throwaway database (and removes again): the engine itself keeps no claim
history, since `record` clears claimed_by.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from core.db import db
from delivery.models import Delivery, Status
from delivery.wakeup import CHANNEL
from ops.health import check
from subscribers.models import Subscription

from .worker_process import (
    Fleet,
    expected_payload,
    publish_red_alert,
    push_id_of,
    push_subscribers,
    statuses,
    wait_until,
)

SUBSCRIBERS = 3_000
BATCH = 100

CLAIM_LOG = [
    "CREATE TABLE test_claim_log (delivery_id bigint NOT NULL, worker text NOT NULL)",
    """CREATE FUNCTION test_log_claim() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO test_claim_log VALUES (NEW.id, NEW.claimed_by); RETURN NEW; END $$""",
    """CREATE TRIGGER test_claim_log AFTER UPDATE OF claimed_by ON deliveries
       FOR EACH ROW WHEN (NEW.claimed_by IS NOT NULL) EXECUTE FUNCTION test_log_claim()""",
]
DROP_CLAIM_LOG = [
    "DROP TRIGGER IF EXISTS test_claim_log ON deliveries",
    "DROP FUNCTION IF EXISTS test_log_claim()",
    "DROP TABLE IF EXISTS test_claim_log",
]


@pytest.fixture
def claim_log(app: Flask, database_url: str) -> Iterator[None]:
    with db.engine.begin() as connection:
        for statement in CLAIM_LOG:
            connection.execute(text(statement))
    yield
    db.session.rollback()  # the test's reads of the log hold a lock the DROP waits for
    with db.engine.begin() as connection:
        for statement in DROP_CLAIM_LOG:
            connection.execute(text(statement))


def scans_of_the_outbox() -> int:
    """How often any session has read the deliveries table (PostgreSQL's statistics, flushed about every second)."""
    query = text(
        "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'deliveries'"
    )
    with db.engine.connect() as connection:
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(connection.scalar(query) or 0)


def health() -> dict[str, Any]:
    db.session.rollback()  # read what the worker processes committed since
    return check()


def listening_workers() -> int:
    """Worker processes waiting for NOTIFY on this database: each LISTENs once it runs."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = :listen")
    with db.engine.connect() as connection:
        return int(connection.scalar(query, {"listen": f"LISTEN {CHANNEL}"}) or 0)


# PostgreSQL only: on SQLite one worker runs by design, so there is nothing to share.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_on_postgresql_send_every_row_exactly_once(
    app: Flask, database_url: str, tmp_path: Path, claim_log: None, workers: int
) -> None:
    names = [f"worker-{n}" for n in range(1, workers + 1)]
    with Fleet(database_url, tmp_path, DELIVERY_BATCH_SIZE=BATCH, DELIVERY_LEASE_SECONDS=120) as fleet:
        push = fleet.service
        push_ids = push_subscribers(push, SUBSCRIBERS)
        running = [fleet.start_worker(name) for name in names]
        # Publish once all of them wait, so they start together (woken by the planner's NOTIFY).
        wait_until(lambda: listening_workers() == workers, f"{workers} workers listening", watch=running)
        wait_until(lambda: health()["workers_alive"] == workers, f"/healthz counting {workers} workers", watch=running)
        # Let them poll the empty outbox for a while first, as production workers do for hours:
        # psycopg prepares a statement run five times, and PostgreSQL then may cache a generic
        # plan made for an empty table. Such a plan once made the first claim after a quiet
        # spell take minutes and hand rows to two workers (bench/README.md).
        polled = scans_of_the_outbox() + 12 * workers
        wait_until(lambda: scans_of_the_outbox() >= polled, "workers polling the empty outbox", watch=running)
        alert = publish_red_alert()
        version_id = alert.latest.id
        wait_until(lambda: statuses(version_id) == {Status.SENT: SUBSCRIBERS}, "every row sent", watch=running)
        for worker in running:
            assert worker.stop() == 0, worker.output()
            assert "Traceback" not in worker.output(), worker.output()
        assert health()["workers"] == "none"  # each removed its heartbeat as it stopped
        records = push.received()

    # Each subscriber got exactly one push, decrypted and in their language.
    language = {push_id_of(s.endpoint): s.language for s in db.session.scalars(select(Subscription))}
    for record in records:
        assert record["status"] == 201
        assert record["payload"] == expected_payload(alert.id, language[record["push_id"]])
    assert Counter(record["push_id"] for record in records) == dict.fromkeys(push_ids, 1)

    rows = db.session.execute(
        select(Delivery.status, Delivery.attempts, Delivery.claimed_by).where(Delivery.version_id == version_id)
    ).all()
    assert Counter(tuple(row) for row in rows) == {(Status.SENT, 1, None): SUBSCRIBERS}

    # No row was ever claimed twice, and every worker took its share.
    claims = db.session.execute(text("SELECT delivery_id, worker FROM test_claim_log")).all()
    assert len(claims) == len({delivery_id for delivery_id, _ in claims}) == SUBSCRIBERS
    per_worker = Counter(worker for _, worker in claims)
    assert set(per_worker) == set(names), per_worker
