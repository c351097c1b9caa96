"""Headers on every route: a strict CSP, no framing but /embed, no referrer, HSTS over https
only; cookies that stay on https and away from scripts and other sites; no open redirects."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from core.db import db
from tests.conftest import _base_config
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import csrf_from

from .site import CHIEF, World, rules

FRAMABLE = {"/embed"}
ONE_YEAR = 365 * 24 * 3600
OFF_SITE = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    " //evil.example",
    "https:evil.example",
    "https://evil.example/editor/",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "http://localhost@evil.example/",
]


def csp(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def header_problems(path: str, response: TestResponse, https: bool) -> list[str]:
    problems = []
    policy = csp(response)
    scripts = policy.get("script-src", policy.get("default-src", []))
    if not scripts or {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts):
        problems.append(f"script-src {scripts}")
    if policy.get("object-src") != ["'none'"] or "base-uri" not in policy:
        problems.append(f"object-src/base-uri {policy}")
    framable = urlsplit(path).path in FRAMABLE
    if not framable and (
        policy.get("frame-ancestors") != ["'none'"] or response.headers.get("X-Frame-Options") != "DENY"
    ):
        problems.append(f"framable: {policy.get('frame-ancestors')} {response.headers.get('X-Frame-Options')}")
    if framable and ("X-Frame-Options" in response.headers or policy.get("frame-ancestors") == ["'none'"]):
        problems.append("/embed cannot be framed")
    if response.headers.get("Referrer-Policy") != "no-referrer":
        problems.append(f"Referrer-Policy {response.headers.get('Referrer-Policy')}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    hsts = response.headers.get("Strict-Transport-Security", "")
    if https and not (hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= ONE_YEAR):
        problems.append(f"HSTS over https: {hsts!r}")
    if not https and hsts:
        problems.append("HSTS over plain http")
    for cookie in response.headers.getlist("Set-Cookie"):
        flags = cookie.lower()
        if "; secure" not in flags or "; httponly" not in flags or "samesite=" not in flags:
            problems.append(f"cookie without Secure, HttpOnly and SameSite: {cookie.split('=')[0]}")
    return [f"{path}: {problem}" for problem in problems]


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_every_route_and_error_carries_the_headers(world: World, https: bool) -> None:
    base = "https://signaal.test" if https else "http://localhost"
    client = world.app.test_client()
    failures = []
    for logged_in in (False, True):
        if logged_in:
            assert _log_in(client, base).status_code == 302
        for rule, _method in rules(world.app, {"GET"}):
            path = world.path(rule)
            response = client.get(path + "?lang=en", base_url=base)
            failures += header_problems(path, response, https)
            response.close()
    for method, path in (("GET", "/no-such-page"), ("POST", "/feeds/alerts.json"), ("GET", "/api/v1/alerts/x")):
        response = client.open(path, method=method, base_url=base)
        failures += header_problems(path, response, https)
    assert failures == [], "\n".join(failures)


def test_forms_work_over_https_without_a_referer(world: World) -> None:
    """Browsers send no Referer under our own no-referrer policy; a login must not need one."""
    client = world.app.test_client()
    response = _log_in(client, "https://signaal.test")
    assert response.status_code == 302, response.get_data(as_text=True)
    cookie = SimpleCookie(response.headers["Set-Cookie"])["session"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    page = client.get(f"/editor/alerts/{world.draft.id}", base_url="https://signaal.test")
    submitted = client.post(
        f"/editor/alerts/{world.draft.id}/submit",
        base_url="https://signaal.test",
        data={"csrf_token": csrf_from(page.data)},
    )
    assert submitted.status_code == 303


def test_hsts_behind_the_documented_tls_proxy(app: Flask, database_url: str, tmp_path: Path) -> None:
    """The proxy terminates TLS and says so in X-Forwarded-Proto (docs/deployment.md)."""
    behind = create_app({**_base_config(database_url, tmp_path), "PROXY_FIX_X_FOR": 1})
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    response = behind.test_client().get("/", headers=headers)
    assert response.headers.get("Strict-Transport-Security", "").startswith("max-age=")
    # Facing clients directly, the header is theirs to invent: it counts for nothing.
    assert "Strict-Transport-Security" not in app.test_client().get("/", headers=headers).headers
    with behind.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("target", OFF_SITE)
def test_no_open_redirect_through_next(world: World, target: str) -> None:
    client = world.app.test_client()
    page = client.get("/editor/login", query_string={"next": target})
    assert target not in page.headers.get("Location", "")
    response = _log_in(client, "http://localhost", next_path=target)
    assert _stays_on_site(response), response.headers["Location"]
    for path in ("/", "/subscribe", "/editor/"):  # the language switch and everything else take no next
        assert _stays_on_site(client.get(path, query_string={"lang": "en", "next": target}))
    logout = client.post("/editor/logout", query_string={"next": target}, data={"csrf_token": csrf_from(page.data)})
    assert _stays_on_site(logout)


def test_the_host_header_cannot_redirect_elsewhere(world: World) -> None:
    client = world.app.test_client()
    for path in ("/editor", "/editor//alerts/new", "/api/v1//regions"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code in (301, 302, 307, 308) and _stays_on_site(response), response.headers


def _stays_on_site(response: TestResponse) -> bool:
    location = response.headers.get("Location")
    if location is None:
        return True
    parts = urlsplit(location)
    return parts.scheme == "" and parts.netloc == "" and location.startswith("/") and location[1:2] not in ("/", "\\")


def _log_in(client: FlaskClient, base: str, next_path: str | None = None) -> TestResponse:
    query = {"next": next_path} if next_path else {}
    page = client.get("/editor/login", base_url=base, query_string=query)
    data = {"csrf_token": csrf_from(page.data), "email": CHIEF, "password": DEFAULT_PASSWORD}
    return client.post("/editor/login", base_url=base, query_string=query, data=data)
