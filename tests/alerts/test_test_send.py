""" "Send a test to me": one version to the editor's own mailbox or browser, outside the outbox."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from sqlalchemy import func, select

from alerts import lifecycle
from alerts.audit import AuditEntry
from alerts.models import Alert
from core import clock
from core.db import db
from delivery.channels import Job, Outcome, RecordingSender, Result, recording_factory, register
from delivery.models import Delivery
from editors.models import Role
from subscribers.models import Subscription
from subscribers.vapid import b64url, generate_pair
from tests.pushservice.server import PushService

from ..alert_payloads import audi_payload
from ..factories import make_editor, make_subscription
from .test_editor_ui import START, Browser

WRITER, CHIEF = "writer@lab.test", "chief@lab.test"
JSON = {"Accept": "application/json"}


class ProbeSender:
    """Answers as configured, and notes whether a database transaction was open while sending."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def send(self, jobs: list[Job]) -> list[Result]:
        self.app.extensions["probe_in_transaction"] = db.session().in_transaction()
        outcome = self.app.extensions.get("probe_outcome", Outcome.SENT)
        return [Result(job.delivery_id, outcome, "550 mailbox unavailable") for job in jobs]

    def close(self) -> None:
        pass


register("test-probe", ProbeSender)


@pytest.fixture
def draft(app: Flask) -> Alert:
    clock.freeze(START)
    writer = make_editor(WRITER, Role.EDITOR)
    make_editor(CHIEF, Role.PUBLISHER)
    make_subscription(["NL"])  # a subscriber who must never see a test
    return lifecycle.create_alert(audi_payload(), writer)


def sent(app: Flask) -> list[Job]:
    sender = recording_factory(app)
    assert isinstance(sender, RecordingSender)
    return sender.sent


def rows(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def audits_of(alert: Alert) -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).where(AuditEntry.alert_id == alert.id, AuditEntry.action == "test_send")
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def push_subscription(endpoint: str) -> dict[str, Any]:
    """What PushSubscription.toJSON() gives: the endpoint and the browser's real P-256 key and secret."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {
        "endpoint": endpoint,
        "expirationTime": None,
        "keys": {"p256dh": b64url(point), "auth": b64url(os.urandom(16))},
    }


def test_a_draft_goes_to_the_editors_own_email_marked_as_a_test(app: Flask, draft: Alert) -> None:
    writer = Browser(app, WRITER)
    url = f"/editor/alerts/{draft.id}"
    page = writer.page(url)
    assert "Send a test to me" in page and f"My email address ({WRITER})" in page
    assert 'id="test-push-choice" hidden' in page  # offered only once test-push.js finds web push

    response = writer.post(f"{url}/test-send", {"version": "1", "channel": "email"})
    assert response.status_code == 303 and response.headers["Location"] == f"{url}#test-send"
    assert f"The test of version 1 was sent to {WRITER}." in writer.page(url)

    [job] = sent(app)
    assert job.recipient.email == WRITER and job.recipient.channel == "email"
    assert job.message.test and job.message.number == 1
    assert job.message.test  # the channels mark the title or subject
    assert job.message.topic != f"signaal-alert-{draft.id}"  # never replaces a real alert's push
    assert rows(Delivery) == 0 and rows(Subscription) == 1
    [entry] = audits_of(draft)
    assert entry.actor is not None and entry.actor.email == WRITER
    assert entry.detail == {"channel": "email", "version": 1, "outcome": "sent"}


def test_the_sender_runs_outside_any_transaction_and_its_refusal_is_shown(app: Flask, draft: Alert) -> None:
    app.config["DELIVERY_EMAIL_BACKEND"] = "test-probe"
    app.extensions["probe_outcome"] = Outcome.FAIL
    writer = Browser(app, WRITER)
    response = writer.post(f"/editor/alerts/{draft.id}/test-send", {"version": "1", "channel": "email"})
    assert response.status_code == 502
    assert "The test could not be sent: 550 mailbox unavailable" in response.get_data(as_text=True)
    assert app.extensions["probe_in_transaction"] is False
    [entry] = audits_of(draft)
    assert entry.detail["outcome"] == "fail" and entry.detail["error"] == "550 mailbox unavailable"


def test_this_browser_gets_the_push_when_its_subscription_is_valid(app: Flask, draft: Alert) -> None:
    app.config.update(PUSH_ALLOW_PRIVATE_ENDPOINTS=True, PUSH_ALLOWED_HOSTS=[])  # a push service on loopback
    subscription = push_subscription("http://127.0.0.1:8999/push/editor-browser")
    writer = Browser(app, WRITER)
    response = writer.post(
        f"/editor/alerts/{draft.id}/test-send",
        {"version": "1", "channel": "push", "subscription": json.dumps(subscription)},
        headers=JSON,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"message": "The test of version 1 was sent to this browser; it appears in a moment."}
    [job] = sent(app)
    assert job.recipient.channel == "push" and job.recipient.endpoint == subscription["endpoint"]
    assert job.recipient.p256dh == subscription["keys"]["p256dh"] and job.recipient.email is None
    assert job.message.test
    assert rows(Delivery) == 0 and rows(Subscription) == 1  # the browser is not signed up
    assert audits_of(draft)[0].detail["channel"] == "push"


@pytest.fixture
def push_service(app: Flask) -> Iterator[PushService]:
    service = PushService().start()
    app.config.update(
        DELIVERY_PUSH_BACKEND="webpush",
        PUSH_ALLOW_PRIVATE_ENDPOINTS=True,
        PUSH_ALLOWED_HOSTS=[],
        VAPID_PRIVATE_KEY=generate_pair()[0],
        VAPID_SUBJECT="mailto:push-admin@example.org",
    )
    yield service
    service.stop()


def test_the_real_push_sender_delivers_the_test_to_the_browser(
    app: Flask, draft: Alert, push_service: PushService
) -> None:
    p256dh, auth = push_service.keys("editor-browser")
    subscription = {"endpoint": push_service.endpoint("editor-browser"), "keys": {"p256dh": p256dh, "auth": auth}}
    writer = Browser(app, WRITER)
    assert 'data-vapid-key="' in writer.page(f"/editor/alerts/{draft.id}")
    data = {"version": "1", "channel": "push", "subscription": json.dumps(subscription)}
    response = writer.post(f"/editor/alerts/{draft.id}/test-send", data, headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    [record] = push_service.received
    payload = record.payload()
    assert "[TEST] " in payload["title"] and payload["lang"] == "en"  # the editor's language
    assert payload["tag"] == record.headers["Topic"] == f"signaal-test-{draft.id}"
    assert rows(Delivery) == 0 and rows(Subscription) == 1


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:8999/push/x", "https://10.0.0.7/push", "https://push.evil.example/x"],
)
def test_an_endpoint_a_sign_up_would_refuse_is_refused(app: Flask, draft: Alert, endpoint: str) -> None:
    writer = Browser(app, WRITER)
    subscription = json.dumps(push_subscription(endpoint))
    data = {"version": "1", "channel": "push", "subscription": subscription}
    response = writer.post(f"/editor/alerts/{draft.id}/test-send", data, headers=JSON)
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["error"].startswith("This browser's push subscription was refused: subscription.endpoint: ")
    page = writer.post(f"/editor/alerts/{draft.id}/test-send", data)  # without script: the page says it
    assert page.status_code == 422 and "push subscription was refused" in page.get_data(as_text=True)
    assert sent(app) == [] and audits_of(draft) == []


def test_bad_requests_are_explained(app: Flask, draft: Alert) -> None:
    writer = Browser(app, WRITER)
    url = f"/editor/alerts/{draft.id}/test-send"
    cases = [
        ({"version": "7", "channel": "email"}, "Choose a version of this alert to send."),
        ({"version": "1", "channel": "fax"}, "Choose where to send the test"),
        ({"version": "1", "channel": "push"}, "This browser sent no push subscription."),
        ({"version": "1", "channel": "push", "subscription": "{not json"}, "could not be read"),
    ]
    for data, expected in cases:
        response = writer.post(url, data, headers=JSON)
        assert response.status_code == 422 and response.json is not None
        assert expected in response.json["error"], data
    assert sent(app) == []
    assert writer.post(url, {"version": "1", "channel": "email"}, headers={}).status_code == 303
    assert Browser(app, WRITER).post(url, {"version": "1"}).status_code == 422


def test_each_editor_may_send_ten_tests_an_hour(app: Flask, draft: Alert) -> None:
    writer, chief = Browser(app, WRITER), Browser(app, CHIEF)
    url = f"/editor/alerts/{draft.id}/test-send"
    for _ in range(10):
        assert writer.post(url, {"version": "1", "channel": "email"}).status_code == 303
    refused = writer.post(url, {"version": "1", "channel": "email"}, headers=JSON)
    assert refused.status_code == 429 and refused.json is not None and "wait" in refused.json["error"]
    page = writer.post(url, {"version": "1", "channel": "email"})
    assert page.status_code == 429 and "Please wait" in page.get_data(as_text=True)
    assert chief.post(url, {"version": "1", "channel": "email"}).status_code == 303  # a limit per editor
    assert len(sent(app)) == 11


def test_a_test_send_needs_a_login_and_the_csrf_token(app: Flask, client: Any, draft: Alert) -> None:
    url, data = f"/editor/alerts/{draft.id}/test-send", {"version": "1", "channel": "email"}
    app.config["WTF_CSRF_ENABLED"] = False  # so only the login check can refuse
    anonymous = client.post(url, data=data)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/editor/login")
    app.config["WTF_CSRF_ENABLED"] = True
    writer = Browser(app, WRITER)
    with app.app_context():
        forged = writer.client.post(url, data=data)  # logged in, but no token: another site's form
    assert forged.status_code == 400
    assert sent(app) == [] and audits_of(draft) == []
