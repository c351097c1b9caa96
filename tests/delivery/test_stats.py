"""Delivery statistics, counted from rows the real engine wrote: planner, worker, senders, clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from alerts import lifecycle
from alerts.models import Alert
from core import clock
from delivery.channels import Job, Outcome, Result, register
from delivery.claims import claim
from delivery.stats import Counts, queue_stats, version_stats
from delivery.worker import Worker
from editors.models import Editor, Role
from subscribers.models import Subscription
from tests.alert_payloads import audi_payload
from tests.factories import make_editor, make_subscription

# 00:30 on a Sunday night in Amsterdam: inside the usual quiet hours.
NIGHT = datetime(2027, 1, 9, 23, 30, tzinfo=UTC)
MORNING = datetime(2027, 1, 10, 6, 0, tzinfo=UTC)  # 07:00 in Amsterdam: quiet hours end
QUIET = {"quiet_start": 23 * 60, "quiet_end": 7 * 60, "timezone": "Europe/Amsterdam"}


class VerdictSender:
    """A push service that answers per endpoint: gone (PRUNE), refused for good (FAIL), or accepted."""

    def __init__(self, app: Flask) -> None:
        self.verdicts: dict[str, Outcome] = app.extensions.setdefault("test_push_verdicts", {})

    def send(self, jobs: list[Job]) -> list[Result]:
        results = []
        for job in jobs:
            endpoint = job.recipient.endpoint or ""
            outcome = self.verdicts.get(endpoint, Outcome.SENT)
            gone = endpoint if outcome == Outcome.PRUNE else None
            results.append(Result(job.delivery_id, outcome, "" if outcome == Outcome.SENT else "410 Gone", gone=gone))
        return results

    def close(self) -> None:
        pass


register("test-verdicts", VerdictSender)


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    app.config["DELIVERY_PUSH_BACKEND"] = "test-verdicts"
    return make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)


def publish(people: tuple[Editor, Editor], **overrides: object) -> Alert:
    writer, chief = people
    alert = lifecycle.create_alert(audi_payload(**overrides), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    return alert


def drain(app: Flask) -> None:
    worker = Worker(app, "stats-worker")
    while worker.run_once():
        pass


def verdict(app: Flask, subscription: Subscription, outcome: Outcome) -> None:
    assert subscription.endpoint is not None
    app.extensions.setdefault("test_push_verdicts", {})[subscription.endpoint] = outcome


def test_every_status_is_counted_from_the_rows(app: Flask, people: tuple[Editor, Editor]) -> None:
    clock.freeze(NIGHT)
    for _ in range(2):
        make_subscription(["NL"])
    make_subscription(["NL"], **QUIET)
    verdict(app, make_subscription(["NL"]), Outcome.PRUNE)
    verdict(app, make_subscription(["NL"]), Outcome.FAIL)
    make_subscription(["NL"], channel="email")
    make_subscription(["NL"], channel="email", digest="daily", digest_hour=18, timezone="Europe/Amsterdam")
    version = publish(people, level="caution").latest
    assert version.published_at == NIGHT

    before = version_stats([version.id])[version.id]
    assert (before.targeted, before.pending, before.queued, before.sent) == (7, 7, 7, 0)
    assert before.queued_at == NIGHT and before.last_sent_at is None and before.seconds_to_last_send is None

    clock.freeze(NIGHT + timedelta(seconds=3))
    drain(app)
    stats = version_stats([version.id])[version.id]
    counts = (stats.targeted, stats.sent, stats.failed, stats.pruned, stats.dropped, stats.pending)
    assert counts == (7, 3, 1, 1, 0, 2)
    assert (stats.queued, stats.deferred, stats.in_digest) == (0, 1, 1)
    assert stats.channels["push"] == Counts(targeted=5, sent=2, failed=1, pruned=1, pending=1)
    assert stats.channels["email"] == Counts(targeted=2, sent=1, pending=1)
    assert stats.seconds_to_last_send == 3.0 and stats.seconds_to_last_immediate_send == 3.0

    clock.freeze(MORNING)
    drain(app)  # quiet hours are over; the digest waits for 18:00
    stats = version_stats([version.id])[version.id]
    assert (stats.sent, stats.pending, stats.deferred, stats.in_digest) == (4, 1, 0, 1)
    assert stats.seconds_to_last_send == (MORNING - NIGHT).total_seconds()
    assert stats.seconds_to_last_immediate_send == 3.0  # the sleeper's late push does not count here

    clock.freeze(MORNING + timedelta(hours=1))
    alert = version.alert
    lifecycle.withdraw(alert, people[1], "error", "Wrong lab result")
    stats = version_stats([version.id])[version.id]
    assert (stats.targeted, stats.sent, stats.dropped, stats.pending) == (7, 4, 1, 0)  # the digest row
    cancel = alert.latest
    cancel_stats = version_stats([cancel.id])[cancel.id]
    assert (cancel_stats.targeted, cancel_stats.pending) == (4, 4)  # only those the alert reached


def test_several_versions_in_one_call_and_versions_without_rows(app: Flask, people: tuple[Editor, Editor]) -> None:
    clock.freeze(NIGHT)
    make_subscription(["NL-UT"])
    utrecht = publish(people, areas=["NL-UT"]).latest
    nobody = publish(people, areas=["BE"]).latest
    found = version_stats([utrecht.id, nobody.id])
    assert set(found) == {utrecht.id, nobody.id}
    assert found[utrecht.id].targeted == 1 and found[utrecht.id].queued == 1
    assert found[nobody.id].targeted == 0 and found[nobody.id].seconds_to_last_send is None
    assert version_stats([]) == {}


def test_the_json_shape(app: Flask, people: tuple[Editor, Editor]) -> None:
    clock.freeze(NIGHT)
    make_subscription(["NL"], channel="email")
    version = publish(people).latest
    clock.freeze(NIGHT + timedelta(milliseconds=1500))
    drain(app)
    data = version_stats([version.id])[version.id].as_json()
    assert data == {
        "targeted": 1,
        "sent": 1,
        "failed": 0,
        "pruned": 0,
        "dropped": 0,
        "pending": 0,
        "queued": 0,
        "deferred": 0,
        "in_digest": 0,
        "channels": {
            "push": {"targeted": 0, "sent": 0, "failed": 0, "pruned": 0, "dropped": 0, "pending": 0},
            "email": {"targeted": 1, "sent": 1, "failed": 0, "pruned": 0, "dropped": 0, "pending": 0},
        },
        "queued_at": NIGHT.isoformat(),
        "last_sent_at": (NIGHT + timedelta(milliseconds=1500)).isoformat(),
        "last_immediate_sent_at": (NIGHT + timedelta(milliseconds=1500)).isoformat(),
        "seconds_to_last_send": 1.5,
        "seconds_to_last_immediate_send": 1.5,
    }


def test_queue_stats_for_health_checks(app: Flask, people: tuple[Editor, Editor]) -> None:
    clock.freeze(NIGHT)
    assert queue_stats().as_json() == {"pending": 0, "due": 0, "leased": 0, "oldest_due_lag_seconds": None}
    for _ in range(3):
        make_subscription(["NL"])
    make_subscription(["NL"], **QUIET)
    publish(people, level="caution")
    clock.freeze(NIGHT + timedelta(seconds=10))
    assert queue_stats().as_json() == {"pending": 4, "due": 4, "leased": 0, "oldest_due_lag_seconds": 10.0}
    assert len(claim("busy-worker", 2, timedelta(seconds=60))) == 2
    assert queue_stats().leased == 2
    clock.freeze(NIGHT + timedelta(seconds=71))  # the lease ran out; another worker takes over
    drain(app)
    # Only the sleeper's row is left, due in the morning: pending, but not due.
    assert queue_stats().as_json() == {"pending": 1, "due": 0, "leased": 0, "oldest_due_lag_seconds": None}
    clock.freeze(MORNING + timedelta(minutes=2))
    assert queue_stats().oldest_due_lag_seconds == 120.0
