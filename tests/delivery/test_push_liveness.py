"""Stale push subscriptions, through the real web-push sender and a push service on loopback.

Deleted: silent for the window, and an alert that reached others failed to reach it since.
Kept: everyone else, including a healthy subscription nothing was sent to, and everyone when
every push fails (then the fault is ours).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core import clock
from core.db import db
from delivery.models import Delivery
from delivery.push_liveness import purge_stale_pushes
from delivery.worker import Worker
from editors.models import Editor, Role
from subscribers.models import Subscription
from tests.delivery.test_engine import AFTERNOON, publish
from tests.delivery.test_webpush import push_id, subscriber
from tests.factories import make_editor, make_subscription
from tests.pushservice.sending import loopback_push_settings, running_push_service
from tests.pushservice.server import PushService

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def push(app: Flask) -> Iterator[PushService]:
    with running_push_service() as service:
        yield service


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    clock.freeze(AFTERNOON)
    app.config.update(loopback_push_settings(), STALE_PUSH_RETENTION_DAYS=60)
    return make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)


@pytest.fixture
def worker(app: Flask, people: tuple[Editor, Editor]) -> Iterator[Worker]:
    worker = Worker(app, "liveness-test")
    yield worker
    worker.close()


def drain(worker: Worker) -> None:
    while worker.run_once():
        pass


def existing(ids: set[int]) -> set[int]:
    return set(db.session.scalars(select(Subscription.id).where(Subscription.id.in_(ids))))


def last_success(subscription: Subscription) -> object:
    """When its push service last accepted a push: what the purge reads as its latest sign of life."""
    query = select(func.max(Delivery.sent_at)).where(Delivery.subscription_id == subscription.id)
    return db.session.scalar(query)


def renew(client: FlaskClient, push: PushService, subscription: Subscription) -> None:
    """What the subscribe page does when the browser hands it the same subscription again."""
    p256dh, auth = push.keys(push_id(subscription))
    body = {"endpoint": subscription.endpoint, "keys": {"p256dh": p256dh, "auth": auth}}
    response = client.post("/api/v1/subscriptions/push", json={"subscription": body, "preferences": {"areas": ["NL"]}})
    assert response.status_code == 200, response.json


def test_only_a_silent_subscription_that_alerts_failed_to_reach_goes(
    client: FlaskClient, people: tuple[Editor, Editor], worker: Worker, push: PushService
) -> None:
    healthy, dead, renewed, recovered = (subscriber(push) for _ in range(4))
    p256dh, auth = push.keys("quiet")
    quiet = make_subscription(["BE"], endpoint=push.endpoint("quiet"), p256dh=p256dh, auth=auth)  # never targeted
    for failing in (dead, renewed):
        push.answer(push_id(failing), 400)
    push.answer(push_id(recovered), 500)  # retried later, then accepted
    clock.freeze(AFTERNOON + HOUR)
    publish(people)
    drain(worker)
    push.answer(push_id(recovered), 201)
    clock.freeze(AFTERNOON + 3 * HOUR)
    drain(worker)
    assert last_success(healthy) == AFTERNOON + HOUR and last_success(recovered) == AFTERNOON + 3 * HOUR
    assert last_success(dead) is None
    clock.freeze(AFTERNOON + 30 * DAY)
    renew(client, push, renewed)  # the browser vouches for it again

    everyone, dead_id = {s.id for s in (healthy, dead, renewed, recovered, quiet)}, dead.id
    clock.freeze(AFTERNOON + 59 * DAY)
    assert purge_stale_pushes() == 0  # not silent for 60 days yet
    clock.freeze(AFTERNOON + 61 * DAY)
    assert purge_stale_pushes(batch_size=1) == 1
    assert existing(everyone) == everyone - {dead_id}
    assert purge_stale_pushes() == 0  # running it again changes nothing
    # Its outbox row stays for the counts, without a link to anyone.
    assert db.session.scalar(select(func.count()).where(Delivery.subscription_id.is_(None))) == 1


def test_when_every_push_fails_nobody_is_deleted(
    people: tuple[Editor, Editor], worker: Worker, push: PushService
) -> None:
    ids = {subscriber(push).id for _ in range(3)}
    push.answer(None, 400)  # as if our payloads were broken: the fault is ours, not theirs
    clock.freeze(AFTERNOON + HOUR)
    publish(people)
    drain(worker)
    clock.freeze(AFTERNOON + 100 * DAY)
    assert purge_stale_pushes() == 0
    assert existing(ids) == ids
