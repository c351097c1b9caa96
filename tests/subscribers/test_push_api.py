"""POST/DELETE /api/v1/subscriptions/push, the change endpoint and /sw.js."""

from __future__ import annotations

import copy
import functools
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from core import clock
from core.db import db
from subscribers import endpoints
from subscribers.models import Channel, Subscription, SubscriptionArea
from subscribers.preferences import preferences_of
from subscribers.tokens import manage_token, subscription_from_manage_token
from tests.factories import make_subscription

from .test_endpoints import browser_keys, dns

API = "/api/v1/subscriptions/push"
MOMENT = datetime(2026, 6, 1, 22, 0, tzinfo=UTC)
ENDPOINT = "https://fcm.googleapis.com/fcm/send/dXNlcjE:APA91bHPRgkF"


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The endpoint check answers as on a machine without DNS, where the allowed push services pass:
    these tests then ask no resolver on the internet and pass alike with or without one
    (test_endpoints.py gives the check resolvers of its own where resolution is the point)."""
    monkeypatch.setattr(endpoints, "check_endpoint", functools.partial(endpoints.check_endpoint, resolve=dns({})))


def body(endpoint: str = ENDPOINT, **preferences: Any) -> dict[str, Any]:
    return {
        "subscription": {"endpoint": endpoint, "expirationTime": None, "keys": browser_keys()},
        "preferences": {"areas": ["NL-NH"], "language": "nl", **preferences},
    }


def post(client: FlaskClient, payload: Any, path: str = API) -> TestResponse:
    return client.post(path, json=payload)


def rows() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Subscription)) or 0


def test_subscribe_creates_an_active_push_subscription(app: Flask, client: FlaskClient, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    payload = body(min_level="warning", forms=["tablet"], substances=["mdma", "ketamine"], language="en")
    payload["preferences"]["quiet_hours"] = {"start": "23:00", "end": "07:00", "timezone": "Europe/Amsterdam"}
    response = post(client, payload)
    assert response.status_code == 201, response.json
    assert response.headers["Cache-Control"] == "no-store"
    token = response.json["manage_token"]
    assert response.json["manage_url"] == f"https://signaal.test/manage/{token}"
    subscription = subscription_from_manage_token(token)
    assert subscription is not None
    assert subscription.channel == Channel.PUSH and subscription.active and subscription.confirmed_at is not None
    assert subscription.endpoint == ENDPOINT
    assert subscription.p256dh == payload["subscription"]["keys"]["p256dh"]
    assert subscription.auth == payload["subscription"]["keys"]["auth"]
    stored = preferences_of(subscription)
    assert stored["areas"] == ["NL-NH"] and stored["min_level"] == "warning" and stored["language"] == "en"
    assert stored["substances"] == ["mdma", "ketamine"] and stored["quiet_hours"]["start"] == "23:00"
    assert response.json["preferences"] == stored
    # The endpoint is a capability URL: it never reaches a log.
    assert ENDPOINT not in caplog.text and "dXNlcjE" not in caplog.text


def test_same_endpoint_updates_instead_of_adding(app: Flask, client: FlaskClient) -> None:
    first = post(client, body(areas=["NL-NH", "GM0363"]))
    second_body = body(areas=["GM0363", "NL-UT"], min_level="caution")
    second = post(client, second_body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert rows() == 1
    subscription = db.session.scalars(select(Subscription)).one()
    assert subscription.p256dh == second_body["subscription"]["keys"]["p256dh"]
    assert subscription.chosen_areas == ["GM0363", "NL-UT"]
    assert preferences_of(subscription)["min_level"] == "caution"
    # Same subscription: the link the visitor kept still works (tokens carry their signing
    # time, so compare whom they name, not their text).
    named = {subscription_from_manage_token(r.json["manage_token"]) for r in (first, second)}
    assert len(named) == 1 and None not in named


def test_turning_on_again_resumes_a_paused_subscription(app: Flask, client: FlaskClient) -> None:
    post(client, body())
    subscription = db.session.scalars(select(Subscription)).one()
    subscription.paused = True
    db.session.commit()
    assert post(client, body()).status_code == 200
    db.session.refresh(subscription)
    assert subscription.paused is False and subscription.active is True


def _with(path: str, value: Any) -> dict[str, Any]:
    """body() with one nested key (dotted path) set to value; "__delete__" removes it."""
    payload = copy.deepcopy(body())
    *parents, last = path.split(".")
    target = payload
    for key in parents:
        target = target[key]
    if value == "__delete__":
        del target[last]
    else:
        target[last] = value
    return payload


BAD_INPUT = [
    ("short p256dh", _with("subscription.keys.p256dh", "BOr8Y5ZkOQ"), "subscription.keys.p256dh", "65-byte"),
    ("long auth", _with("subscription.keys.auth", "A" * 30), "subscription.keys.auth", "16 bytes"),
    ("point off the curve", _with("subscription.keys.p256dh", "BA" + "A" * 85), "subscription.keys.p256dh", "curve"),
    ("no keys", _with("subscription.keys", "__delete__"), "subscription.keys", "p256dh and auth"),
    ("plain http", _with("subscription.endpoint", "http://fcm.googleapis.com/x"), "subscription.endpoint", "https"),
    ("private IP", _with("subscription.endpoint", "https://192.168.1.20/push"), "subscription.endpoint", "not"),
    ("localhost", _with("subscription.endpoint", "https://localhost/push"), "subscription.endpoint", "not"),
    ("unknown host", _with("subscription.endpoint", "https://push.evil.example/x"), "subscription.endpoint", "known"),
    ("no subscription", _with("subscription", "__delete__"), "subscription", "endpoint and keys"),
    ("unknown region", _with("preferences.areas", ["NL-XX"]), "preferences.areas", "unknown region"),
    ("no area at all", _with("preferences.areas", []), "preferences.areas", "at least one region"),
    (
        "absurd quiet hours",
        _with("preferences.quiet_hours", {"start": "08:00", "end": "07:00", "timezone": "Europe/Amsterdam"}),
        "preferences.quiet_hours",
        "at most 16 hours",
    ),
    (
        "quiet hours 25:00",
        _with("preferences.quiet_hours", {"start": "25:00", "end": "07:00"}),
        "quiet_hours.start",
        "",
    ),
    ("bad level", _with("preferences.min_level", "panic"), "preferences.min_level", "one of"),
    ("no preferences", _with("preferences", "__delete__"), "preferences", "JSON object"),
]


@pytest.mark.parametrize(("case", "payload", "field", "message"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_refused_naming_the_field(
    app: Flask, client: FlaskClient, case: str, payload: dict[str, Any], field: str, message: str
) -> None:
    response = post(client, payload)
    assert response.status_code == 422, (case, response.json)
    fields = response.json["fields"]
    named = [key for key in fields if key.endswith(field)]
    assert named, fields
    assert message in fields[named[0]]
    assert rows() == 0


def test_an_update_with_bad_input_changes_nothing(app: Flask, client: FlaskClient) -> None:
    post(client, body(areas=["GM0363"]))
    refused = post(client, body(areas=["GM0363", "NOWHERE"]))
    assert refused.status_code == 422
    subscription = db.session.scalars(select(Subscription)).one()
    assert subscription.chosen_areas == ["GM0363"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "message"),
    [
        ('{"subscription": ', "application/json", 400, "malformed JSON: Expecting value at line 1 column 18"),
        ("[1, 2]", "application/json", 400, "must be a JSON object"),
        (b"\xff\xfe", "application/json", 400, "not UTF-8"),
        ("subscription=1", "application/x-www-form-urlencoded", 415, "application/json"),
        ("{}" + " " * 17000, "application/json", 413, "larger than"),
    ],
)
def test_malformed_requests(
    app: Flask, client: FlaskClient, data: str | bytes, content_type: str, status: int, message: str
) -> None:
    response = client.post(API, data=data, content_type=content_type)
    assert response.status_code == status
    assert message in response.json["error"]
    assert rows() == 0


# Found while documenting and fuzzing this API (tests/security/test_fuzz_api.py), pinned down.


@pytest.mark.parametrize(
    "number",
    ["1e400", "-1e400", "Infinity", "-Infinity", "NaN", "1" + "0" * 400],
    ids=["1e400", "-1e400", "Infinity", "-Infinity", "NaN", "10^400"],
)
@pytest.mark.parametrize("where", ["circle", "digest_hour"])
def test_nan_infinity_and_numbers_past_a_floats_range_are_malformed_json(
    app: Flask, client: FlaskClient, number: str, where: str
) -> None:
    # float() of such an integer, and int() of an infinite float, raised OverflowError: a 500.
    if where == "circle":
        preference = f'"circle": {{"lat": {number}, "lon": 4.9, "radius_km": 5}}'
    else:
        preference = f'"digest_hour": {number}'
    subscription = json.dumps(body()["subscription"])
    raw = f'{{"subscription": {subscription}, "preferences": {{"areas": ["NL"], {preference}}}}}'
    for path in (API, f"{API}/change"):
        response = client.post(path, data=raw, content_type="application/json")
        assert response.status_code == 400, (path, response.json)
        assert "out of range" in response.json["error"]
    assert rows() == 0


def test_an_endpoint_no_url_parser_reads_is_a_field_error(app: Flask, client: FlaskClient) -> None:
    # urlsplit raises ValueError("Invalid IPv6 URL") for an unclosed bracket: it was a 500.
    for endpoint in ("https://[::1/push", "https://fcm.googleapis.com]/x", "https://[fcm.googleapis.com/x"):
        response = post(client, body(endpoint=endpoint))
        assert response.status_code == 422, (endpoint, response.json)
        assert response.json["fields"] == {"subscription.endpoint": "is not a URL"}
        change = {"old_endpoint": ENDPOINT, "subscription": body(endpoint=endpoint)["subscription"]}
        assert post(client, change, f"{API}/change").json["fields"] == {"subscription.endpoint": "is not a URL"}
    assert rows() == 0


def test_a_manage_token_in_the_body_must_be_a_string_even_beside_the_header(app: Flask, client: FlaskClient) -> None:
    # The header wins, and a mistyped manage_token beside it was ignored: the request the
    # document calls invalid turned the subscription off.
    subscription = make_subscription(["NL"], endpoint=ENDPOINT)
    header = {"X-Manage-Token": manage_token(subscription)}
    for token in (7, {}, [], False, ["x"]):
        response = client.delete(API, json={"endpoint": ENDPOINT, "manage_token": token}, headers=header)
        assert response.status_code == 422, token
        assert response.json["fields"] == {"manage_token": "must be a string: the manage token"}
    assert rows() == 1
    # null is the same as leaving it out.
    assert client.delete(API, json={"endpoint": ENDPOINT, "manage_token": None}, headers=header).status_code == 204
    assert rows() == 0


def test_delete_needs_the_manage_token_and_the_endpoint(app: Flask, client: FlaskClient) -> None:
    token = post(client, body()).json["manage_token"]
    other_token = post(client, body(endpoint=ENDPOINT + "other")).json["manage_token"]
    assert client.delete(API, json={"endpoint": ENDPOINT}).status_code == 401
    assert client.delete(API, json={"endpoint": ENDPOINT}, headers={"X-Manage-Token": "forged"}).status_code == 404
    # A genuine token of another subscription does not delete this one.
    assert client.delete(API, json={"endpoint": ENDPOINT}, headers={"X-Manage-Token": other_token}).status_code == 404
    assert rows() == 2
    response = client.delete(API, json={"endpoint": ENDPOINT}, headers={"X-Manage-Token": token})
    assert response.status_code == 204
    assert rows() == 1
    assert db.session.scalar(select(func.count()).select_from(SubscriptionArea)) == 1  # its areas went too
    again = client.delete(API, json={"endpoint": ENDPOINT, "manage_token": token})
    assert again.status_code == 404


def test_token_in_the_body_works_too(app: Flask, client: FlaskClient) -> None:
    token = post(client, body()).json["manage_token"]
    assert client.delete(API, json={"endpoint": ENDPOINT, "manage_token": token}).status_code == 204
    assert rows() == 0


def test_change_moves_the_row_to_the_new_endpoint(app: Flask, client: FlaskClient) -> None:
    clock.freeze(MOMENT)  # a manage token carries its time: two made a second apart differ
    token = post(client, body(min_level="warning")).json["manage_token"]
    new = {"endpoint": ENDPOINT + "-renewed", "keys": browser_keys()}
    response = post(client, {"old_endpoint": ENDPOINT, "subscription": new}, f"{API}/change")
    assert response.status_code == 200
    assert response.json["manage_token"] == token
    subscription = db.session.scalars(select(Subscription)).one()
    assert subscription.endpoint == new["endpoint"] and subscription.p256dh == new["keys"]["p256dh"]
    assert preferences_of(subscription)["min_level"] == "warning"
    missing = post(client, {"old_endpoint": ENDPOINT, "subscription": new}, f"{API}/change")
    assert missing.status_code == 404


def test_change_to_an_endpoint_already_subscribed_keeps_one_row(app: Flask, client: FlaskClient) -> None:
    clock.freeze(MOMENT)  # as above: the tokens compared are made at one moment
    post(client, body())
    newer = body(endpoint=ENDPOINT + "-new", min_level="caution")
    newer_token = post(client, newer).json["manage_token"]
    change = {"old_endpoint": ENDPOINT, "subscription": newer["subscription"]}
    response = post(client, change, f"{API}/change")
    assert response.status_code == 200 and response.json["manage_token"] == newer_token
    assert rows() == 1


def test_change_refuses_a_bad_new_subscription(app: Flask, client: FlaskClient) -> None:
    post(client, body())
    bad = {"old_endpoint": ENDPOINT, "subscription": {"endpoint": "https://10.0.0.1/x", "keys": browser_keys()}}
    response = post(client, bad, f"{API}/change")
    assert response.status_code == 422 and "subscription.endpoint" in response.json["fields"]
    assert db.session.scalars(select(Subscription)).one().endpoint == ENDPOINT
    assert post(client, {"subscription": bad["subscription"]}, f"{API}/change").json["fields"] == {
        "old_endpoint": "required: the endpoint being replaced"
    }


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = True  # as in production
    response = post(client, body())
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


def test_vapid_key_endpoint(app: Flask, client: FlaskClient, tmp_path: Any) -> None:
    app.config["VAPID_FILE"] = str(tmp_path / "vapid.json")
    assert client.get(f"{API}/vapid-key").status_code == 503
    app.test_cli_runner().invoke(args=["vapid", "generate"])
    key = json.loads((tmp_path / "vapid.json").read_text())["public_key"]
    assert client.get(f"{API}/vapid-key").json == {"public_key": key}


def test_service_worker_is_served_from_the_root(app: Flask, client: FlaskClient) -> None:
    with client.get("/sw.js") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/javascript"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["Service-Worker-Allowed"] == "/"
        script = response.get_data(as_text=True)
        etag = response.headers["ETag"]
    # Browsers revalidate the worker on every navigation; an unchanged one costs a 304.
    with client.get("/sw.js", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    for event in ("push", "notificationclick", "pushsubscriptionchange"):
        assert f'addEventListener("{event}"' in script
    with client.get("/static/icon-192.png") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/png"


def test_unknown_members_are_named_but_the_browsers_own_are_ignored(app: Flask, client: FlaskClient) -> None:
    misspelt = {**body(), "prefs": {"areas": ["NL"]}}
    response = post(client, misspelt)
    assert response.status_code == 422 and response.json["fields"] == {"prefs": "unknown field"}
    change = {"old_endpoint": ENDPOINT, "subscription": body()["subscription"], "endpoint": ENDPOINT}
    assert post(client, change, f"{API}/change").json["fields"] == {"endpoint": "unknown field"}
    header = {"X-Manage-Token": "forged"}
    refused = client.delete(API, json={"endpoint": ENDPOINT, "token": "x"}, headers=header)
    assert refused.status_code == 422 and refused.json["fields"] == {"token": "unknown field"}
    assert rows() == 0
    # PushSubscription.toJSON() may grow: what a browser adds inside the subscription is no mistake.
    payload = body()
    payload["subscription"]["keys"]["future"] = "x"
    payload["subscription"]["renewable"] = True
    assert post(client, payload).status_code == 201 and rows() == 1
