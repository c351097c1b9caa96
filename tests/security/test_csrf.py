"""CSRF: every state-changing route a browser session can reach refuses a request without the
session's own token, and changes nothing.

The exceptions are exactly the documented ones: the JSON API under /api/v1/ (bearer tokens,
manage tokens or nothing a browser sends by itself; JSON only) and RFC 8058 one-click
unsubscribe, whose signed link is its key. A new route outside both that skips the check
fails here.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from core.extensions import csrf
from tests.alerts.test_editor_ui import Browser

from .attacks import changed_tables, snapshot
from .site import STATE_CHANGING, SUBSCRIBER, World, make_world, rules

ONE_CLICK_UNSUBSCRIBE = "selfservice.manage.unsubscribe"


def is_documented_exemption(rule: Rule) -> bool:
    return rule.rule.startswith("/api/v1/") or rule.endpoint == ONE_CLICK_UNSUBSCRIBE


def refused_for_csrf(response: TestResponse) -> bool:
    return response.status_code == 400 and b"CSRF" in response.data


def browser_requests(world: World) -> list[tuple[Rule, str, str]]:
    """(rule, method, path) of every state-changing route, with real objects in the path."""
    return [(rule, method, world.path(rule)) for rule, method in rules(world.app, STATE_CHANGING)]


def test_the_walk_covers_the_editor_and_the_subscriber_forms(app: Flask, world: World) -> None:
    endpoints = {rule.endpoint for rule, _m, _p in browser_requests(world)}
    assert {"editor.publish", "editor.withdraw", "auth.logout", "selfservice.manage.leave"} <= endpoints
    assert {"selfservice.email.signup_form", "selfservice.email.confirm_subscription"} <= endpoints


def unchecked(world: World) -> tuple[set[str], list[str]]:
    """Endpoints that took a request without a valid token, and refusals that still changed rows."""
    chief = world.chief()
    chief.client.environ_base.pop("HTTP_AUTHORIZATION")  # a browser session alone, as a forged form has
    strangers_token = Browser(world.app, "writer@attack.test").token  # valid, but for another session
    exempt, failures = set(), []
    for rule, method, path in browser_requests(world):
        for token in (None, "", "forged-token", strangers_token):
            data = {} if token is None else {"csrf_token": token}
            before = snapshot()
            with world.app.app_context():
                response = chief.client.open(path, method=method, data=data, headers={"Origin": "https://evil.example"})
            if not refused_for_csrf(response):
                exempt.add(rule.endpoint)
                break
            if changed := changed_tables(before):
                failures.append(f"{method} {path} refused but changed {changed}")
    return exempt, failures


def test_no_token_or_a_wrong_one_is_refused_and_changes_nothing(world: World) -> None:
    exempt, failures = unchecked(world)
    documented = {rule.endpoint for rule, _m, _p in browser_requests(world) if is_documented_exemption(rule)}
    assert exempt == documented, f"not checked for CSRF: {sorted(exempt - documented)}"
    assert failures == []


def test_the_walk_would_catch_a_form_route_without_the_check(app: Flask) -> None:
    app.add_url_rule("/editor/leak", "leak", csrf.exempt(lambda: "done"), methods=["POST"])
    exempt, _failures = unchecked(make_world(app))
    assert "leak" in exempt


def test_the_right_token_gets_past_the_check(world: World) -> None:
    """The control: the refusals above are the CSRF check's, not some other 400."""
    chief = world.chief()
    chief.client.environ_base.pop("HTTP_AUTHORIZATION")
    walk = [(r, m, p) for r, m, p in browser_requests(world) if not is_documented_exemption(r)]
    walk.sort(key=lambda item: item[0].endpoint == "auth.logout")  # logging out ends the session: last
    for _rule, method, path in walk:
        response = chief.post(path) if method == "POST" else chief.client.open(path, method=method)
        assert not refused_for_csrf(response), f"{method} {path}"


def test_exempt_routes_ignore_the_session_and_refuse_a_cross_site_form(world: World) -> None:
    """What a forged form can send (urlencoded, cookies, no token of any kind) changes nothing."""
    chief = world.chief()
    chief.client.environ_base.pop("HTTP_AUTHORIZATION")
    for rule, method, path in browser_requests(world):
        if not is_documented_exemption(rule) or rule.endpoint == ONE_CLICK_UNSUBSCRIBE:
            continue
        before = snapshot()
        form = {"email": SUBSCRIBER, "endpoint": world.push.endpoint or "", "reason": "error", "areas": "NL"}
        with world.app.app_context():
            response = chief.client.open(path, method=method, data=form)
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert changed_tables(before) == [], (method, path)


def test_one_click_unsubscribe_needs_its_signed_link(world: World) -> None:
    client = world.app.test_client()
    genuine = world.token_for(ONE_CLICK_UNSUBSCRIBE)
    before = snapshot()
    # The third character from the end: the last one of base64url also holds unused padding
    # bits, so changing it can decode to the same signature and pass (it did, now and then).
    flipped = genuine[:-3] + ("A" if genuine[-3] != "A" else "B") + genuine[-2:]
    for forged in (flipped, world.token_for("manage"), "x"):
        response = client.post(f"/unsubscribe/{forged}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 404
    assert changed_tables(before) == []
    assert client.post(f"/unsubscribe/{genuine}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert "subscriptions" in changed_tables(before)
