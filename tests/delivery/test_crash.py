"""kill -9 a worker in the middle of a batch: the next one finishes the job, with at most one batch resent.

Real parts only: `flask --app app worker` processes, the loopback push service in a process of
its own (it verifies VAPID and decrypts), and the session's SQLite file or PostgreSQL database.

To crash *inside* a batch every time, not only when a poll happens to land there, one
subscriber in the seventh batch gets no answer from the push service: the worker has sent the
rest of that batch and waits for the last answer, holding the batch's lease, when it is
killed. That is the worst moment to die (a whole batch sent and nothing recorded), so the
duplicates it causes are the most the design allows: one batch.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from core.db import db
from delivery.models import Delivery, Status
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

SUBSCRIBERS = 5_000
BATCH = 200
LEASE_SECONDS = 3
STALLED_BATCH = 6  # counted from 0: six batches recorded, the seventh sent but for one push, when killed


def test_a_worker_killed_mid_batch_is_taken_over_and_resends_at_most_that_batch(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    settings = {
        "DELIVERY_BATCH_SIZE": BATCH,
        "DELIVERY_LEASE_SECONDS": LEASE_SECONDS,
        # The stalled push must still be waiting for its answer when the worker is killed.
        "PUSH_READ_TIMEOUT_SECONDS": 120,
    }
    with Fleet(database_url, tmp_path, **settings) as fleet:
        push = fleet.service
        push_ids = push_subscribers(push, SUBSCRIBERS)
        alert = publish_red_alert()
        version_id = alert.latest.id
        language = {push_id_of(s.endpoint): s.language for s in db.session.scalars(select(Subscription))}
        # Workers claim due rows in id order: this row is in the seventh batch.
        stalled_sub = db.session.scalar(
            select(Subscription.endpoint)
            .join(Delivery, Delivery.subscription_id == Subscription.id)
            .where(Delivery.version_id == version_id)
            .order_by(Delivery.id)
            .offset(STALLED_BATCH * BATCH + BATCH // 2)
            .limit(1)
        )
        stalled = push_id_of(stalled_sub)
        push.answer(stalled, 201, delay=300)
        db.session.rollback()

        first = fleet.start_worker("crash-1")
        wait_until(
            lambda: push.requests() >= (STALLED_BATCH + 1) * BATCH,
            "the first worker to reach the stalled batch",
            watch=[first],
        )
        first.kill()

        # It died holding exactly the stalled batch: six batches recorded, one leased, none lost.
        held_by_dead = _leased_by("crash-1", version_id)
        assert len(held_by_dead) == BATCH
        assert statuses(version_id) == {
            Status.SENT: STALLED_BATCH * BATCH,
            Status.PENDING: SUBSCRIBERS - STALLED_BATCH * BATCH,
        }

        push.answer(stalled, 201)  # the push service answers again
        second = fleet.start_worker("crash-2")
        wait_until(
            lambda: statuses(version_id).get(Status.PENDING, 0) == 0,
            "no pending row (the lease taken over)",
            watch=[second],
        )
        assert second.stop() == 0, second.output()
        assert "Traceback" not in second.output(), second.output()

        records = push.received()

    # Every row was sent, each recorded once, and no lease is left behind.
    db.session.expire_all()
    rows = db.session.execute(
        select(Delivery.status, Delivery.attempts, Delivery.claimed_by).where(Delivery.version_id == version_id)
    ).all()
    assert len(rows) == SUBSCRIBERS
    assert Counter(tuple(row) for row in rows) == {(Status.SENT, 1, None): SUBSCRIBERS}

    # Every subscriber got the alert, decrypted and in their language; none more than twice.
    for record in records:
        assert record["status"] == 201
        assert record["payload"] == expected_payload(alert.id, language[record["push_id"]])
    received = Counter(record["push_id"] for record in records)
    assert set(received) == set(push_ids)
    assert max(received.values()) <= 2
    # The only duplicates are the dead worker's batch: at most one batch.
    duplicated = {push_id for push_id, count in received.items() if count > 1}
    assert duplicated <= held_by_dead
    assert len(records) - SUBSCRIBERS == len(duplicated) <= BATCH
    assert stalled in duplicated


def _leased_by(worker: str, version_id: int) -> set[str]:
    """Push ids of the pending rows `worker` holds a lease on."""
    query = (
        select(Subscription.endpoint)
        .join(Delivery, Delivery.subscription_id == Subscription.id)
        .where(Delivery.version_id == version_id, Delivery.claimed_by == worker, Delivery.status == Status.PENDING)
    )
    with db.engine.connect() as connection:
        return {push_id_of(endpoint) for endpoint in connection.scalars(query)}
