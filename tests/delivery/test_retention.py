"""The outbox purge: exactly the finished rows of alerts that are over, past the window; counts kept."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from alerts import lifecycle
from alerts.models import Alert
from alerts.sweeps import expire_due
from core import clock
from core.db import db
from delivery.claims import claim
from delivery.models import Delivery, DeliveryTally, Status
from delivery.retention import purge_deliveries
from delivery.stats import version_stats
from editors.models import Editor, Role
from tests.delivery.test_engine import AFTERNOON, drain, publish
from tests.factories import make_editor, make_subscription

DAY = timedelta(days=1)


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    clock.freeze(AFTERNOON)
    return make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)


def row_ids(*alerts: Alert) -> set[int]:
    versions = [v.id for alert in alerts for v in alert.versions]
    return set(db.session.scalars(select(Delivery.id).where(Delivery.version_id.in_(versions))))


def all_row_ids() -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(Delivery.id)))


def stats_of(*alerts: Alert) -> dict[int, dict[str, Any]]:
    db.session.expire_all()
    return {k: v.as_json() for k, v in version_stats(v.id for a in alerts for v in a.versions).items()}


def set_outcome(alert: Alert, subscription_id: int, **values: object) -> None:
    db.session.execute(
        update(Delivery)
        .where(Delivery.version_id == alert.latest.id, Delivery.subscription_id == subscription_id)
        .values(**values)
    )
    db.session.commit()


def test_only_finished_rows_of_alerts_over_and_past_the_window_go(app: Flask, people: tuple[Editor, Editor]) -> None:
    app.config["DELIVERY_RETENTION_DAYS"] = 90
    subscribers = [make_subscription(["NL"]) for _ in range(3)] + [make_subscription(["NL"], channel="email")]
    over = publish(people)  # expires after 30 days
    drain(app)
    # Every final outcome, and a row held back by quiet hours, so the tallies keep them all apart.
    set_outcome(over, subscribers[0].id, deferred=True)
    set_outcome(over, subscribers[1].id, status=Status.FAILED, sent_at=None, last_error="400 from the push service")
    set_outcome(over, subscribers[2].id, status=Status.DROPPED, sent_at=None)
    lasting = publish(people, expires=(clock.now() + 400 * DAY).isoformat())
    being_updated = publish(people)
    drain(app)
    lifecycle.start_update(being_updated, people[0])  # it expires, but an editor is working on it
    clock.freeze(AFTERNOON + 85 * DAY)
    recent = publish(people, expires=(clock.now() + DAY).isoformat())
    drain(app)
    unsent = publish(people)  # its rows stay pending, two of them leased to a worker
    claim("some-worker", 2, timedelta(minutes=5))

    clock.freeze(AFTERNOON + 91 * DAY)
    expire_due()
    alerts = (over, lasting, being_updated, recent, unsent)
    before, kept = stats_of(*alerts), all_row_ids() - row_ids(over)
    assert purge_deliveries(batch_size=3) == 4  # in two batches
    assert all_row_ids() == kept
    assert stats_of(*alerts) == before
    assert purge_deliveries(batch_size=3) == 0  # running it again changes nothing
    assert stats_of(*alerts) == before

    clock.freeze(AFTERNOON + 176 * DAY)  # `recent` and `unsent` are over and past the window now
    expire_due()
    recent_rows = row_ids(recent)
    assert purge_deliveries() == len(recent_rows) == 4
    assert all_row_ids() == kept - recent_rows
    assert stats_of(*alerts) == before
    pending = db.session.scalar(select(func.count()).where(Delivery.status == Status.PENDING))
    assert pending == len(row_ids(unsent)) == 4


def test_zero_keeps_rows_for_ever_and_nonsense_is_refused(app: Flask, people: tuple[Editor, Editor]) -> None:
    make_subscription(["NL"])
    publish(people)
    drain(app)
    clock.freeze(AFTERNOON + 1000 * DAY)
    expire_due()
    app.config["DELIVERY_RETENTION_DAYS"] = 0
    assert purge_deliveries() == 0
    app.config["DELIVERY_RETENTION_DAYS"] = "90"
    with pytest.raises(ValueError, match="DELIVERY_RETENTION_DAYS must be a number of days"):
        purge_deliveries()
    assert len(all_row_ids()) == 1


def test_two_purges_at_once_delete_each_row_once_and_count_it_once(app: Flask, people: tuple[Editor, Editor]) -> None:
    for n in range(30):
        make_subscription(["NL"], channel="email" if n % 3 == 0 else "push")
    alerts = [publish(people) for _ in range(3)]
    drain(app)
    clock.freeze(AFTERNOON + 200 * DAY)
    expire_due()
    before = stats_of(*alerts)
    db.session.commit()
    start, counted, failures = threading.Barrier(2), [], []

    def purge() -> None:
        with app.app_context():
            start.wait()
            try:
                counted.append(purge_deliveries(batch_size=7))
            except Exception as error:  # reported below, not lost in the thread
                failures.append(error)

    threads = [threading.Thread(target=purge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(counted) == 90
    assert all_row_ids() == set()
    assert stats_of(*alerts) == before
    tallied = db.session.scalar(select(func.sum(DeliveryTally.rows)))
    assert tallied == 90
