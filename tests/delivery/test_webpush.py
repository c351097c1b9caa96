"""The web push channel end to end: published alerts, the real worker, real encryption and VAPID,
and a push service on loopback that verifies and decrypts (tests/pushservice)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from flask import Flask
from sqlalchemy import select

from alerts import lifecycle
from alerts.models import Alert
from core import clock
from core.db import db
from delivery import claims
from delivery.models import Delivery, Status
from delivery.prepare import prepare
from delivery.push_payload import BODY_SIZES
from delivery.webpush import WebPushSender
from delivery.worker import Worker
from editors.models import Editor, Role
from subscribers.models import Channel, Subscription
from subscribers.vapid import b64url, b64url_decode, generate_pair
from tests.alert_payloads import audi_payload
from tests.factories import make_editor, make_subscription
from tests.pushservice.server import PushService

AFTERNOON = datetime(2027, 1, 9, 13, 0, tzinfo=UTC)  # outside anyone's quiet hours
AUTH_PAUSE = timedelta(seconds=900)
_push_ids = count(1)


@pytest.fixture
def push(app: Flask) -> Iterator[PushService]:
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture
def other_push(app: Flask) -> Iterator[PushService]:
    """A second push service: another origin, as FCM and Mozilla are."""
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    clock.freeze(AFTERNOON)
    app.config.update(
        DELIVERY_PUSH_BACKEND="webpush",
        PUSH_ALLOW_PRIVATE_ENDPOINTS=True,
        PUSH_ALLOWED_HOSTS=[],
        VAPID_PRIVATE_KEY=generate_pair()[0],
        VAPID_SUBJECT="mailto:push-admin@example.org",
        PUSH_AUTH_PAUSE_SECONDS=AUTH_PAUSE.total_seconds(),
    )
    return make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)


@pytest.fixture
def worker(app: Flask, people: tuple[Editor, Editor], caplog: pytest.LogCaptureFixture) -> Iterator[Worker]:
    caplog.set_level(logging.INFO)
    worker = Worker(app, "push-test")
    yield worker
    worker.close()
    # Endpoints are capabilities: they never appear in a log line, whatever happened.
    assert "/push/" not in caplog.text


def publish(people: tuple[Editor, Editor], **overrides: object) -> Alert:
    writer, chief = people
    alert = lifecycle.create_alert(audi_payload(**overrides), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    return alert


def subscriber(service: PushService, language: str = "nl") -> Subscription:
    """A push subscription whose endpoint is on `service`, with keys the service can decrypt for."""
    push_id = f"s{next(_push_ids)}"
    p256dh, auth = service.keys(push_id)
    return make_subscription(["NL"], endpoint=service.endpoint(push_id), p256dh=p256dh, auth=auth, language=language)


def push_id(subscription: Subscription) -> str:
    return (subscription.endpoint or "").rsplit("/", 1)[1]


def drain(worker: Worker) -> None:
    while worker.run_once():
        pass


def rows(alert: Alert) -> dict[int | None, Delivery]:
    """Subscription id → this alert's latest delivery row for it."""
    db.session.expire_all()
    query = select(Delivery).where(Delivery.version_id == alert.latest.id)
    return {row.subscription_id: row for row in db.session.scalars(query)}


def sender(worker: Worker) -> WebPushSender:
    made = worker.sender(Channel.PUSH)
    assert isinstance(made, WebPushSender)
    return made


def test_each_subscriber_gets_the_documented_payload_in_their_language(
    people: tuple[Editor, Editor], worker: Worker, push: PushService, other_push: PushService
) -> None:
    dutch = [subscriber(push, "nl") for _ in range(3)]
    english = [subscriber(other_push, "en"), subscriber(other_push, "de")]  # no German text: English
    alert = publish(people)
    drain(worker)
    assert {row.status for row in rows(alert).values()} == {Status.SENT}
    texts = audi_payload()["texts"]
    for service, group, lang in ((push, dutch, "nl"), (other_push, english, "en")):
        assert sorted(r.push_id for r in service.received) == sorted(push_id(s) for s in group)
        for record in service.received:
            assert record.payload() == {
                "title": texts[lang]["headline"],  # it starts with the level already: said once
                "body": texts[lang]["push_text"],
                "url": f"/alerts/{alert.id}",
                "tag": f"signaal-alert-{alert.id}",
                "level": "red_alert",
                "lang": lang,
                "kind": "alert",
            }
            assert len(record.body) == BODY_SIZES[0]
            assert record.headers["TTL"] == str(28 * 24 * 3600)  # 30 days to expiry, capped at 28
            assert record.headers["Urgency"] == "high"
            assert record.headers["Topic"] == f"signaal-alert-{alert.id}"
            assert record.headers["Content-Encoding"] == "aes128gcm"
        # Signed once per push service and reused for every push to it.
        assert len({record.token for record in service.received}) == 1
    assert sender(worker).vapid.signatures == 2
    publish(people)  # the next batch reuses the headers too
    drain(worker)
    assert sender(worker).vapid.signatures == 2
    assert len({record.token for record in push.received}) == 1


@pytest.mark.parametrize(
    ("level", "urgency", "title"), [("info", "low", "Informatie"), ("caution", "normal", "Let op")]
)
def test_urgency_follows_the_level_and_ttl_the_expiry(
    people: tuple[Editor, Editor], worker: Worker, push: PushService, level: str, urgency: str, title: str
) -> None:
    subscriber(push)
    texts = {lang: {"headline": "Oranje pillen", "push_text": "Laat ze testen."} for lang in ("nl", "en")}
    publish(people, level=level, texts=texts, expires=(AFTERNOON + timedelta(hours=2)).isoformat())
    drain(worker)
    (record,) = push.received
    assert (record.headers["Urgency"], record.headers["TTL"]) == (urgency, "7200")
    assert record.payload()["title"] == f"{title}: Oranje pillen"


def test_an_update_keeps_the_topic_and_a_withdrawal_says_so(
    people: tuple[Editor, Editor], worker: Worker, push: PushService
) -> None:
    subscriber(push)
    alert = publish(people)
    drain(worker)
    writer, chief = people
    lifecycle.edit(alert, {"area_description": "Heel Nederland"}, writer, partial=True)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    drain(worker)
    lifecycle.withdraw(alert, chief, "error", "Wrong lab result")
    drain(worker)
    first, updated, withdrawn = (record.payload() for record in push.received)
    assert {record.headers["Topic"] for record in push.received} == {first["tag"]}
    assert (updated["kind"], updated["title"]) == ("update", f"Update: {first['title']}")
    assert withdrawn["kind"] == "cancel"
    assert withdrawn["title"].startswith("Ingetrokken: ")
    assert withdrawn["body"] == "Deze waarschuwing is ingetrokken en geldt niet meer."


def test_a_gone_endpoint_is_pruned_but_not_one_that_resubscribed(
    people: tuple[Editor, Editor], worker: Worker, push: PushService
) -> None:
    gone, staying, moving = subscriber(push), subscriber(push), subscriber(push)
    push.answer(push_id(gone), 410)
    push.answer(push_id(moving), 404)
    publish(people)
    ids = {"gone": gone.id, "staying": staying.id, "moving": moving.id}
    # Worker.run_once step by step, with a re-subscription while the push is on its way.
    taken = claims.claim("push-test", 100, timedelta(seconds=60))
    plan = prepare(taken)
    db.session.rollback()
    moved = db.session.get(Subscription, ids["moving"])
    assert moved is not None
    moved.endpoint, (moved.p256dh, moved.auth) = push.endpoint("renewed"), push.keys("renewed")
    db.session.commit()
    claims.record(sender(worker).send(plan.jobs), plan.reschedules, plan.drops, plan.expiry)
    db.session.expire_all()
    left = {s.id for s in db.session.scalars(select(Subscription))}
    assert left == {ids["staying"], ids["moving"]}
    # The pruned subscriptions' rows lost their link (ON DELETE SET NULL): find them by row id.
    row_of = {job.recipient.subscription_id: job.delivery_id for job in plan.jobs}
    statuses = {name: db.session.get(Delivery, row_of[sid]).status for name, sid in ids.items()}  # type: ignore[union-attr]
    assert statuses == {"gone": Status.PRUNED, "staying": Status.SENT, "moving": Status.PRUNED}


def test_429_honours_retry_after_and_pauses_that_push_service(
    people: tuple[Editor, Editor], worker: Worker, push: PushService, other_push: PushService
) -> None:
    limited, others, elsewhere = subscriber(push), [subscriber(push) for _ in range(2)], subscriber(other_push)
    push.answer(push_id(limited), 429, retry_after="120")
    alert = publish(people)
    drain(worker)
    row = rows(alert)[limited.id]
    assert (row.status, row.attempts, row.not_before) == (Status.PENDING, 1, AFTERNOON + timedelta(seconds=120))
    origin = sender(worker).origins[push.origin]
    assert origin.limit < sender(worker).cap  # slowed down
    asked = len(push.received)
    second = publish(people)
    drain(worker)
    assert len(push.received) == asked  # paused: nothing more went to it
    held = rows(second)
    for sub in [limited, *others]:
        assert held[sub.id].status == Status.PENDING
        assert AFTERNOON + timedelta(seconds=120) <= held[sub.id].not_before <= AFTERNOON + timedelta(seconds=150)
    assert held[elsewhere.id].status == Status.SENT  # another push service is not affected
    push.answer(push_id(limited), 201)
    clock.freeze(AFTERNOON + timedelta(seconds=150))
    drain(worker)
    assert {r.status for r in rows(second).values()} == {Status.SENT}
    assert rows(alert)[limited.id].status == Status.SENT


def test_5xx_backs_off_with_jitter_and_gives_up_at_expiry(
    people: tuple[Editor, Editor], worker: Worker, push: PushService
) -> None:
    subscriptions = [subscriber(push) for _ in range(4)]
    push.answer(None, 500)
    alert = publish(people, expires=(AFTERNOON + timedelta(minutes=10)).isoformat())
    moment, attempts = AFTERNOON, 0
    while attempts < 10:
        drain(worker)
        pending = [row for row in rows(alert).values() if row.status == Status.PENDING]
        if not pending:
            break
        step = timedelta(seconds=30) * 2**attempts
        attempts += 1
        for row in pending:
            assert row.attempts == attempts and "500" in row.last_error
            assert moment + step / 2 <= row.not_before <= moment + step
        assert len({row.not_before for row in pending}) > 1  # jitter: they do not return together
        moment = max(row.not_before for row in pending)
        clock.freeze(moment)
    final = rows(alert)
    assert {row.status for row in final.values()} == {Status.DROPPED}
    assert all(row.last_error.startswith("gave up at expiry") for row in final.values())
    assert 3 <= attempts < 10
    # Each row was sent once per attempt, and once more when the answer made it give up.
    assert len(push.received) == sum(row.attempts + 1 for row in final.values()) >= 4 * len(subscriptions)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_vapid_signature_stops_that_push_service_and_tells_an_operator(
    people: tuple[Editor, Editor],
    worker: Worker,
    push: PushService,
    other_push: PushService,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    refused, elsewhere = [subscriber(push) for _ in range(2)], subscriber(other_push)
    push.answer(None, status)
    alert = publish(people)
    drain(worker)
    after = rows(alert)
    for sub in refused:
        assert (after[sub.id].status, after[sub.id].not_before) == (Status.PENDING, AFTERNOON + AUTH_PAUSE)
    assert after[elsewhere.id].status == Status.SENT
    assert db.session.scalar(select(Subscription).where(Subscription.id == refused[0].id)) is not None
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and push.origin in errors[0] and "VAPID" in errors[0]
    asked = len(push.received)
    publish(people)
    drain(worker)
    assert len(push.received) == asked
    push.answer(None, 201)
    clock.freeze(AFTERNOON + AUTH_PAUSE + timedelta(minutes=1))
    drain(worker)
    assert {row.status for row in rows(alert).values()} == {Status.SENT}
    assert len({record.token for record in push.received}) == 2  # signed anew after the refusal


def test_413_fails_and_is_never_resent(
    people: tuple[Editor, Editor], worker: Worker, push: PushService, caplog: pytest.LogCaptureFixture
) -> None:
    sub = subscriber(push)
    push.answer(push_id(sub), 413)
    alert = publish(people)
    drain(worker)
    clock.freeze(AFTERNOON + timedelta(hours=1))
    drain(worker)
    assert rows(alert)[sub.id].status == Status.FAILED and len(push.received) == 1
    assert any(r.levelno == logging.ERROR and "413" in r.getMessage() for r in caplog.records)


def test_a_slow_push_service_times_out_and_the_push_is_retried(
    app: Flask, people: tuple[Editor, Editor], worker: Worker, push: PushService
) -> None:
    app.config["PUSH_READ_TIMEOUT_SECONDS"] = 0.3
    sub = subscriber(push)
    push.answer(push_id(sub), 201, delay=30)
    alert = publish(people)
    drain(worker)
    row = rows(alert)[sub.id]
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "timed out" in row.last_error
    assert AFTERNOON + timedelta(seconds=15) <= row.not_before <= AFTERNOON + timedelta(seconds=30)


def test_unusable_subscriptions_fail_with_a_clear_error(
    app: Flask, people: tuple[Editor, Editor], worker: Worker, push: PushService
) -> None:
    good_key, good_auth = push.keys("broken")
    raw = b64url_decode(good_key)
    off_curve = b64url(raw[:-1] + bytes([raw[-1] ^ 1]))
    broken = [
        make_subscription(["NL"], endpoint=push.endpoint("b1"), p256dh="not-a-key", auth=good_auth),
        make_subscription(["NL"], endpoint=push.endpoint("b2"), p256dh=good_key, auth="AAAA"),
        make_subscription(["NL"], endpoint=push.endpoint("b3"), p256dh=off_curve, auth=good_auth),
    ]
    alert = publish(people)
    drain(worker)
    for sub in broken:
        row = rows(alert)[sub.id]
        assert row.status == Status.FAILED and row.last_error.startswith("unusable push keys: ")
    assert push.received == []


def test_plain_http_is_refused_unless_private_endpoints_are_allowed(
    app: Flask, people: tuple[Editor, Editor], worker: Worker, push: PushService
) -> None:
    app.config["PUSH_ALLOW_PRIVATE_ENDPOINTS"] = False
    sub = subscriber(push)
    alert = publish(people)
    drain(worker)
    assert rows(alert)[sub.id].status == Status.FAILED
    assert "https" in rows(alert)[sub.id].last_error and push.received == []
