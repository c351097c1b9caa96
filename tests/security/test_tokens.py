"""Forged, tampered and replayed credentials: API bearer tokens, subscribers' signed links and
the editor's session cookie. Each is refused and changes nothing."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from core import clock
from core.db import db
from editors.models import ApiToken
from subscribers.models import Subscription
from subscribers.tokens import confirm_token, manage_token
from tests.alert_payloads import audi_payload
from tests.alerts.api_client import call
from tests.helpers import csrf_from
from tests.subscribers.email_flow import make_subscriber

from .attacks import changed_tables, snapshot
from .site import CHIEF, WRITER, World


def tamper(token: str) -> str:
    """One character changed, well inside the signature (the last base64 character may only
    carry padding bits, so changing it can leave the decoded signature as it was)."""
    return token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]


def _create(world: World, header: str) -> int:
    """Try to create an alert with this Authorization header; the status (checked to change nothing unless 201)."""
    before = snapshot()
    client = world.app.test_client()
    response = call(client, "POST", "", body=audi_payload(), headers={"Authorization": header})
    if response.status_code != 201:
        assert changed_tables(before) == [], header[:30]
    return response.status_code


def test_forged_bearer_tokens_are_refused(world: World) -> None:
    good = world.writer_token
    forged = [
        "Bearer sgl_" + "A" * 43,  # the right shape, a secret nobody was given
        "Bearer " + tamper(good),  # the right prefix, one character off
        "Bearer " + good[:12],  # only the prefix that listings show
        "Bearer " + good + "x",
        "Bearer " + good.upper(),
        "Basic " + base64.b64encode(f"{WRITER}:{good}".encode()).decode(),
        "Token " + good,
        "Bearer",
        "Bearer " + "sgl_" + "A" * 100_000,
    ]
    for header in forged:
        assert _create(world, header) == 401, header[:40]
    assert _create(world, "Bearer " + good) == 201  # the control: the genuine token works


def test_a_token_in_the_query_string_or_a_cookie_counts_for_nothing(world: World) -> None:
    client = world.app.test_client()
    client.set_cookie("token", world.writer_token)
    before = snapshot()
    for query in ({"token": world.writer_token}, {"access_token": world.writer_token}):
        response = call(client, "POST", "", body=audi_payload(), query_string=query)
        assert response.status_code == 401
    assert changed_tables(before) == []


def test_revoked_tokens_and_those_of_deactivated_editors_are_refused(world: World) -> None:
    runner = world.app.test_cli_runner()
    (token_id,) = db.session.scalars(
        select(ApiToken.id).join(ApiToken.editor).where(ApiToken.prefix == world.writer_token[:12])
    )
    assert runner.invoke(args=["editors", "revoke-token", str(token_id)]).exit_code == 0
    assert _create(world, "Bearer " + world.writer_token) == 401
    assert _create(world, "Bearer " + world.chief_token) == 201
    assert runner.invoke(args=["editors", "deactivate", CHIEF]).exit_code == 0
    assert _create(world, "Bearer " + world.chief_token) == 401


def test_tampered_subscriber_links_are_refused(world: World) -> None:
    client = world.app.test_client()
    manage, unsubscribe, confirm = (world.token_for(kind) for kind in ("manage", "unsubscribe", "confirm"))
    payload, _, signature = manage.rpartition(".")
    other_id = base64.urlsafe_b64encode(json.dumps("x" * 32).encode()).decode().rstrip("=")
    forged_manage = [
        tamper(manage),
        manage[:-4],
        f"{other_id}.{payload.split('.')[-1]}.{signature}",
        unsubscribe,
        confirm,
    ]
    csrf = csrf_from(client.get("/subscribe").data)
    before = snapshot()
    for token in forged_manage:
        assert client.get(f"/manage/{token}").status_code == 404, token
        for action in ("", "/pause", "/leave"):
            assert client.post(f"/manage/{token}{action}", data={"csrf_token": csrf}).status_code == 404
        assert client.get(f"/manage/{token}/export").status_code == 404
    for token in (tamper(unsubscribe), manage, confirm):
        assert client.post(f"/unsubscribe/{token}").status_code == 404
    for token in (tamper(confirm), manage, unsubscribe):
        assert client.post(f"/subscribe/confirm/{token}", data={"csrf_token": csrf}).status_code == 400
    assert changed_tables(before) == []


def test_an_expired_confirmation_link_is_refused(app: Flask) -> None:
    start = clock.now()
    clock.freeze(start)
    pending = Subscription(public_id="p" * 32, channel="email", email="late@example.org", language="en")
    db.session.add(pending)
    db.session.commit()
    client = app.test_client()
    link = f"/subscribe/confirm/{confirm_token(pending)}"
    csrf = csrf_from(client.get("/subscribe").data)
    clock.freeze(start + timedelta(hours=app.config["CONFIRM_TOKEN_HOURS"], seconds=1))
    before = snapshot()
    assert client.get(link).status_code == 400
    assert client.post(link, data={"csrf_token": csrf}).status_code == 400
    assert changed_tables(before) == []
    clock.freeze(start + timedelta(hours=app.config["CONFIRM_TOKEN_HOURS"] - 1))
    assert client.post(link, data={"csrf_token": csrf}).status_code == 200  # the control: in time it works


def test_a_used_confirmation_link_confirms_nothing_again(world: World) -> None:
    client = world.app.test_client()
    link = f"/subscribe/confirm/{world.token_for('confirm')}"
    csrf = csrf_from(client.get("/subscribe").data)
    world.email.paused = True  # the subscriber confirmed long ago, then paused
    db.session.commit()
    before = snapshot()
    assert client.post(link, data={"csrf_token": csrf}).status_code == 200
    assert changed_tables(before) == []  # still paused, the first confirmation time kept


def test_one_subscribers_link_never_reaches_another(world: World) -> None:
    other = make_subscriber("piet@example.org")
    client = world.app.test_client()
    assert client.post(f"/unsubscribe/{world.token_for('unsubscribe')}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Subscription, other.id) is not None
    assert db.session.get(Subscription, world.email.id) is None
    # A push subscriber's manage token does not delete another endpoint.
    before = snapshot()
    response = client.delete(
        "/api/v1/subscriptions/push",
        json={"endpoint": "https://fcm.googleapis.com/fcm/send/someone-else"},
        headers={"X-Manage-Token": manage_token(world.push)},
    )
    assert response.status_code == 404 and changed_tables(before) == []


@pytest.mark.parametrize("attack", ["wrong secret", "changed payload", "bad signature", "garbage"])
def test_a_tampered_session_cookie_is_no_login(world: World, attack: str) -> None:
    chief = world.chief()
    chief.client.environ_base.pop("HTTP_AUTHORIZATION")
    cookie = chief.client.get_cookie("session")
    assert cookie is not None
    genuine = cookie.value
    interface = SecureCookieSessionInterface()
    data = interface.get_signing_serializer(world.app).loads(genuine)  # type: ignore[union-attr]
    if attack == "wrong secret":
        guesser = Flask(__name__)
        guesser.secret_key = "dev"
        forged = interface.get_signing_serializer(guesser).dumps(data)  # type: ignore[union-attr]
    elif attack == "changed payload":
        body = base64.urlsafe_b64encode(json.dumps({**data, "editor_id": world.team.writer.id}).encode()).decode()
        _body, stamp, signature = genuine.rsplit(".", 2)
        forged = f"{body.rstrip('=')}.{stamp}.{signature}"
    elif attack == "bad signature":
        forged = tamper(genuine)
    else:
        forged = "..."
    chief.client.set_cookie("session", forged)
    before = snapshot()
    assert chief.get("/editor/").status_code == 302
    response = chief.post(f"/editor/alerts/{world.published.id}/withdraw", {"reason": "error"})
    assert response.status_code in (302, 400)
    assert changed_tables(before) == []


def test_a_session_cookie_replayed_after_logout_is_no_login(world: World) -> None:
    chief = world.chief()
    chief.client.environ_base.pop("HTTP_AUTHORIZATION")
    copied = chief.client.get_cookie("session")
    elsewhere = world.chief()  # the same editor in a second browser
    elsewhere.client.environ_base.pop("HTTP_AUTHORIZATION")
    assert copied is not None and chief.get("/editor/").status_code == 200
    assert chief.post("/editor/logout").status_code == 302
    chief.client.set_cookie("session", copied.value)
    assert chief.get("/editor/").status_code == 302
    assert elsewhere.get("/editor/").status_code == 302  # logging out ends every session of the editor
    assert world.chief().get("/editor/").status_code == 200  # a fresh login works
