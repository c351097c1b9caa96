"""The delivery engine with a recording sender: planning, claiming, deferral, digests, leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from alerts import lifecycle
from alerts.models import Alert
from core import clock
from core.db import db
from delivery.channels import Job, Outcome, RecordingSender, Result, recording_factory
from delivery.claims import claim
from delivery.models import Delivery, Status
from delivery.worker import Worker
from editors.models import Editor, Role
from tests.alert_payloads import audi_payload
from tests.factories import make_editor, make_subscription

# A Saturday afternoon in January: outside anyone's night-time quiet hours.
AFTERNOON = datetime(2027, 1, 9, 13, 0, tzinfo=UTC)


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    clock.freeze(AFTERNOON)
    return make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)


def publish(people: tuple[Editor, Editor], **overrides: object) -> Alert:
    writer, chief = people
    alert = lifecycle.create_alert(audi_payload(**overrides), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    return alert


def update(people: tuple[Editor, Editor], alert: Alert, **changes: object) -> None:
    writer, chief = people
    lifecycle.edit(alert, changes, writer, partial=True)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)


def statuses(alert: Alert) -> dict[tuple[int, int | None], str]:
    """(version number, subscription id) → status, for this alert's rows."""
    numbers = {v.id: v.number for v in alert.versions}
    rows = db.session.execute(
        select(Delivery.version_id, Delivery.subscription_id, Delivery.status)
        .where(Delivery.version_id.in_(numbers))
        .order_by(Delivery.id)
    ).all()
    return {(numbers[v], s): status.value for v, s, status in rows}


def sent_jobs(app: Flask) -> list[Job]:
    sender = recording_factory(app)
    assert isinstance(sender, RecordingSender)
    return sender.sent


def drain(app: Flask) -> None:
    worker = Worker(app, "test-worker")
    while worker.run_once():
        pass


def test_publishing_queues_matching_subscriptions_in_the_same_transaction(
    app: Flask, people: tuple[Editor, Editor]
) -> None:
    amsterdam = make_subscription(["GM0363"])
    holland = make_subscription(["NL-NH"], channel="email", language="en")
    belgium = make_subscription(["BE"])
    alert = publish(people)  # national red alert for NL
    assert statuses(alert) == {(1, amsterdam.id): "pending", (1, holland.id): "pending"}
    drain(app)
    assert statuses(alert) == {(1, amsterdam.id): "sent", (1, holland.id): "sent"}
    languages = {job.recipient.subscription_id: job.message.text(job.recipient.language)[0] for job in sent_jobs(app)}
    assert languages == {amsterdam.id: "nl", holland.id: "en"}
    assert belgium.id not in languages


def test_update_reaches_earlier_recipients_and_new_matches(app: Flask, people: tuple[Editor, Editor]) -> None:
    utrecht = make_subscription(["NL-UT"])
    alert = publish(people, areas=["NL-UT"])
    drain(app)
    brabant = make_subscription(["NL-NB"])
    # The update moves the warning to Brabant: Utrecht received v1 and must hear of the change.
    update(people, alert, areas=["NL-NB"])
    assert statuses(alert) == {(1, utrecht.id): "sent", (2, utrecht.id): "pending", (2, brabant.id): "pending"}
    drain(app)
    kinds = [(job.recipient.subscription_id, job.message.kind) for job in sent_jobs(app)]
    assert kinds == [(utrecht.id, "alert"), (utrecht.id, "update"), (brabant.id, "update")]


def test_update_drops_what_was_still_pending(app: Flask, people: tuple[Editor, Editor]) -> None:
    first = make_subscription(["NL"])
    alert = publish(people)
    update(people, alert, area_description="Heel Nederland, update")
    assert statuses(alert) == {(1, first.id): "dropped", (2, first.id): "pending"}


def test_withdrawal_notifies_only_those_reached(app: Flask, people: tuple[Editor, Editor]) -> None:
    reached = make_subscription(["NL"])
    alert = publish(people)
    drain(app)
    late = make_subscription(["NL"])
    lifecycle.withdraw(alert, people[1], "error", "Wrong lab result")
    assert statuses(alert) == {(1, reached.id): "sent", (2, reached.id): "pending"}
    assert late.id not in {s for (_, s) in statuses(alert)}


def test_quiet_hours_defer_caution_but_not_red_alerts(app: Flask, people: tuple[Editor, Editor]) -> None:
    night = datetime(2027, 1, 9, 23, 30, tzinfo=UTC)  # 00:30 in Amsterdam
    clock.freeze(night)
    sleeper = make_subscription(["NL"], quiet_start=23 * 60, quiet_end=7 * 60, timezone="Europe/Amsterdam")
    caution = publish(people, level="caution")
    red = publish(people, level="red_alert")
    drain(app)
    caution_row = db.session.scalars(select(Delivery).where(Delivery.version_id == caution.latest.id)).one()
    assert caution_row.status == Status.PENDING and caution_row.deferred
    assert caution_row.not_before == datetime(2027, 1, 10, 6, 0, tzinfo=UTC)  # 07:00 local
    assert [job.message.level for job in sent_jobs(app)] == ["red_alert"]
    clock.freeze(caution_row.not_before)
    drain(app)
    assert [job.message.level for job in sent_jobs(app)] == ["red_alert", "caution"]
    assert statuses(red)[(1, sleeper.id)] == "sent"


def test_email_digest_gathers_lower_levels_into_one_mail(app: Flask, people: tuple[Editor, Editor]) -> None:
    reader = make_subscription(["NL"], channel="email", digest="daily", digest_hour=18, timezone="Europe/Amsterdam")
    publish(people, level="info")
    publish(people, level="caution")
    publish(people, level="warning")  # warnings never wait for a digest
    drain(app)
    assert [job.message.level for job in sent_jobs(app)] == ["warning"]
    clock.freeze(datetime(2027, 1, 9, 17, 0, tzinfo=UTC))  # 18:00 in Amsterdam
    drain(app)
    digest = sent_jobs(app)[1]
    assert digest.recipient.subscription_id == reader.id
    assert sorted([digest.message.level] + [m.level for _, m in digest.digest]) == ["caution", "info"]
    assert db.session.scalar(select(func.count()).where(Delivery.status == Status.SENT)) == 3


def test_expired_alert_rows_are_dropped_not_sent(app: Flask, people: tuple[Editor, Editor]) -> None:
    make_subscription(["NL"])
    alert = publish(people)
    clock.freeze(alert.latest.expires + timedelta(seconds=1))
    drain(app)
    assert list(statuses(alert).values()) == ["dropped"] and sent_jobs(app) == []


def test_a_dead_workers_rows_are_taken_over_after_the_lease(app: Flask, people: tuple[Editor, Editor]) -> None:
    for _ in range(3):
        make_subscription(["NL"])
    publish(people)
    taken = claim("worker-that-dies", 10, timedelta(seconds=60))
    assert len(taken) == 3
    assert claim("other-worker", 10, timedelta(seconds=60)) == []  # leased
    clock.freeze(AFTERNOON + timedelta(seconds=61))
    drain(app)
    assert len(sent_jobs(app)) == 3


class FlakySender(RecordingSender):
    def send(self, jobs: list[Job]) -> list[Result]:
        return [
            Result(job.delivery_id, Outcome.RETRY, "503 from push service", retry_at=clock.now() + timedelta(minutes=5))
            for job in jobs
        ]


def test_retries_back_off_and_give_up_at_expiry(app: Flask, people: tuple[Editor, Editor]) -> None:
    make_subscription(["NL"])
    alert = publish(people, expires=(AFTERNOON + timedelta(minutes=7)).isoformat())
    worker = Worker(app, "flaky")
    worker._senders = {sub.channel: FlakySender() for sub in [db.session.scalars(select(Delivery)).one()]}
    worker.run_once()
    row = db.session.scalars(select(Delivery)).one()
    assert (row.status, row.attempts, row.not_before) == (Status.PENDING, 1, AFTERNOON + timedelta(minutes=5))
    clock.freeze(AFTERNOON + timedelta(minutes=5))
    worker.run_once()  # the next retry would fall after expiry: give up
    db.session.expire_all()
    assert db.session.scalars(select(Delivery)).one().status == Status.DROPPED
    assert statuses(alert) == {(1, row.subscription_id): "dropped"}
