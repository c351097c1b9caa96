"""Abuse limits on the public endpoints (core/rate_limits.py): 429 with Retry-After, per client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from core.db import db
from core.extensions import limiter

from ..conftest import _base_config
from ..helpers import csrf_from

Send = Callable[[FlaskClient], TestResponse]
JSON_PAGE = "application/json"
PROXY = "10.0.0.1"


def client_at(app: Flask, address: str) -> FlaskClient:
    """A test client whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _form_token(client: FlaskClient) -> str:
    return csrf_from(client.get("/subscribe?lang=en").data)  # the page itself is not limited


def _form_sign_up(client: FlaskClient) -> TestResponse:
    return client.post("/subscribe/email", data={"csrf_token": _form_token(client), "email": "not an address"})


def _confirm_post(client: FlaskClient) -> TestResponse:
    return client.post("/subscribe/confirm/forged", data={"csrf_token": _form_token(client)})


# Per group: a config key, then requests to different endpoints of the group (they share one
# counter), the last of which is the one over the limit, and whether it answers in JSON.
GROUPS: dict[str, tuple[str, list[Send], bool]] = {
    "subscribe": (
        "RATE_LIMIT_SUBSCRIBE",
        [lambda c: c.post("/api/v1/subscriptions/email", json={"email": "x"}), _form_sign_up, _form_sign_up],
        False,
    ),
    "subscribe api": (
        "RATE_LIMIT_SUBSCRIBE",
        [_form_sign_up, _form_sign_up, lambda c: c.post("/api/v1/subscriptions/email", json={"email": "x"})],
        True,
    ),
    "confirm": (
        "RATE_LIMIT_CONFIRM",
        [lambda c: c.get("/subscribe/confirm/forged"), _confirm_post, lambda c: c.get("/subscribe/confirm/forged")],
        False,
    ),
    "manage": (
        "RATE_LIMIT_MANAGE",
        [
            lambda c: c.get("/manage/forged"),
            lambda c: c.get("/unsubscribe/forged"),
            lambda c: c.post("/unsubscribe/forged", data={"List-Unsubscribe": "One-Click"}),
        ],
        False,
    ),
    "push api": (
        "RATE_LIMIT_PUSH_API",
        [
            lambda c: c.post("/api/v1/subscriptions/push", json={}),
            lambda c: c.post("/api/v1/subscriptions/push/change", json={}),
            lambda c: c.delete("/api/v1/subscriptions/push", json={}),
        ],
        True,
    ),
    "feeds": (
        "RATE_LIMIT_FEEDS",
        [
            lambda c: c.get("/feeds/alerts.rss"),
            lambda c: c.get("/api/v1/regions?q=utr"),
            lambda c: c.get("/alerts/1.cap.xml"),
            lambda c: c.get("/embed?region=NL"),
            lambda c: c.get("/api/v1/alerts?area=NL"),
            lambda c: c.get("/feeds/alerts.json"),
        ],
        True,
    ),
    "public alerts api": (
        "RATE_LIMIT_FEEDS",
        [
            lambda c: c.get("/feeds/alerts.rss"),
            lambda c: c.get("/api/v1/alerts"),
            lambda c: c.get("/api/v1/alerts/1"),
        ],
        True,
    ),
    "feeds page": (
        "RATE_LIMIT_FEEDS",
        [lambda c: c.get("/api/v1/openapi.json"), lambda c: c.get("/feeds/alerts.atom"), lambda c: c.get("/screen")],
        False,
    ),
}


@pytest.mark.parametrize("group", GROUPS)
def test_a_burst_over_a_groups_limit_gets_429_with_retry_after(app: Flask, client: FlaskClient, group: str) -> None:
    key, requests, wants_json = GROUPS[group]
    app.config[key] = f"{len(requests) - 1} per minute"
    client.get("/?lang=en")  # the page in English from here on (not limited)
    for send in requests[:-1]:
        answer = send(client)
        assert answer.status_code != 429, (group, answer.request.path)

    refused = requests[-1](client)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Cache-Control"] == "no-store"  # never kept by a CDN for everyone
    if wants_json:
        assert refused.mimetype == JSON_PAGE
        assert refused.json is not None and set(refused.json) == {"error", "description"}
        assert refused.json["error"] == "too_many_requests"
        assert "too many requests" in refused.json["description"]
    else:
        assert refused.mimetype == "text/html"
        page = refused.get_data(as_text=True)
        assert "<h1>Too many requests</h1>" in page and "Please try again in" in page

    # Another client is not affected.
    other = requests[-1](client_at(app, "192.0.2.7"))
    assert other.status_code != 429


def test_under_the_limit_every_request_is_served(app: Flask, client: FlaskClient) -> None:
    app.config["RATE_LIMIT_FEEDS"] = "5 per minute"
    answers = [client.get(path) for path in ["/feeds/alerts.json", "/feeds/alerts.rss", "/api/v1/regions"] * 2]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429]


def test_an_empty_limit_turns_it_off(app: Flask, client: FlaskClient) -> None:
    app.config["RATE_LIMIT_FEEDS"] = "1 per minute"
    assert client.get("/api/v1/regions").status_code == 200
    assert client.get("/api/v1/regions").status_code == 429
    app.config["RATE_LIMIT_FEEDS"] = ""
    assert client.get("/api/v1/regions").status_code == 200


def test_a_json_request_elsewhere_gets_json_and_a_dutch_browser_a_dutch_page(app: Flask, client: FlaskClient) -> None:
    app.config["RATE_LIMIT_MANAGE"] = "1 per minute"
    client.get("/manage/forged")
    as_json = client.get("/manage/forged", headers={"Accept": "application/json"})
    assert as_json.status_code == 429 and as_json.json is not None and as_json.json["error"] == "too_many_requests"
    dutch = client.get("/manage/forged", headers={"Accept-Language": "nl"})
    assert dutch.status_code == 429 and "<h1>Te veel verzoeken</h1>" in dutch.get_data(as_text=True)


def test_an_ipv6_client_is_counted_by_its_64_network(app: Flask) -> None:
    app.config["RATE_LIMIT_FEEDS"] = "2 per minute"

    def get(address: str) -> int:
        return client_at(app, address).get("/api/v1/regions").status_code

    assert get("2001:db8:1:2::1") == 200
    assert get("2001:db8:1:2:ffff::9") == 200  # same /64: one phone rotating its address
    assert get("2001:db8:1:2::abcd") == 429
    assert get("2001:db8:1:3::1") == 200  # the next /64 is someone else


def test_the_limiter_storage_holds_no_address(app: Flask) -> None:
    app.config["RATE_LIMIT_FEEDS"] = "100 per minute"
    addresses = ["198.51.100.23", "2001:db8:77::5"]
    for address in addresses:
        client_at(app, address).get("/api/v1/regions")
    keys = list(limiter.storage.storage)  # type: ignore[attr-defined]  # memory:// in tests
    assert len(keys) == 2
    for key in keys:
        assert not any(part in key for part in ["198.51", "2001", "db8"]), key
        assert "/client-" in key


def test_behind_a_proxy_the_forwarded_address_counts_only_when_configured(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    app.config["RATE_LIMIT_FEEDS"] = "1 per minute"

    def get(client: FlaskClient, forwarded_for: str) -> int:
        return client.get("/api/v1/regions", headers={"X-Forwarded-For": forwarded_for}).status_code

    # Not configured: a client cannot choose its own address by sending the header.
    direct = client_at(app, PROXY)
    assert [get(direct, "203.0.113.1"), get(direct, "203.0.113.2")] == [200, 429]

    proxied_app = create_app({**_base_config(database_url, tmp_path), "PROXY_FIX_X_FOR": 1})
    proxied_app.config["RATE_LIMIT_FEEDS"] = "1 per minute"
    proxied = client_at(proxied_app, PROXY)
    assert [get(proxied, "203.0.113.1"), get(proxied, "203.0.113.2"), get(proxied, "203.0.113.1")] == [200, 200, 429]
    # Only the last hop (the one our proxy appended) counts: a client's own entries are ignored.
    assert get(proxied, "203.0.113.9, 203.0.113.1") == 429
    with proxied_app.app_context():
        db.engine.dispose()


def test_login_and_unlisted_endpoints_keep_their_own_rules(app: Flask, client: FlaskClient) -> None:
    for key in ("RATE_LIMIT_SUBSCRIBE", "RATE_LIMIT_CONFIRM", "RATE_LIMIT_MANAGE", "RATE_LIMIT_FEEDS"):
        app.config[key] = "1 per minute"
    pages = [client.get(path).status_code for path in ["/subscribe", "/", "/sw.js", "/subscribe", "/", "/sw.js"]]
    assert pages == [200] * 6


def test_a_limit_that_cannot_be_read_stops_the_app_at_start(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="RATE_LIMIT_FEEDS = 'lots' is no limit"):
        create_app({**_base_config(database_url, tmp_path), "RATE_LIMIT_FEEDS": "lots"})
