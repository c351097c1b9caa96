"""A form post the CSRF check refuses gets a page in the visitor's language, not Werkzeug's bare
400: what happened, that nothing changed, and a link back that stays on this site. Under /api
the refusal stays the API's JSON error (core/csrf_refusal.py)."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from werkzeug.test import TestResponse

from core.routing import nearest_page
from core.security import CSP
from editors.models import Role
from subscribers.tokens import manage_token

from ..alerts.test_editor_ui import Browser
from ..factories import make_editor
from ..helpers import csrf_from
from ..subscribers.email_flow import FORM, by_email, make_subscriber
from .attacks import changed_tables, snapshot

TITLE = {"en": "Your form was not sent", "nl": "Je formulier is niet verstuurd"}
NOTHING_CHANGED = {"en": "Nothing was changed.", "nl": "Er is niets veranderd."}
ADDRESS = "sam@example.org"


def assert_refusal_page(response: TestResponse, language: str, way_back: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert f'<html lang="{language}">' in html
    assert TITLE[language] in html and NOTHING_CHANGED[language] in html
    assert f'href="{way_back}"' in html
    assert "Bad Request" not in html and "token is missing" not in html  # no Werkzeug page, no English reason
    assert response.headers["Cache-Control"] == "no-store"
    # The app-wide hooks still ran: security headers, and caches keyed on the language.
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert {"Accept-Language", "Cookie"} <= set(response.vary)
    return html


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_sign_up_without_a_token_gets_a_page_in_the_visitors_language(
    app: Flask, client: FlaskClient, language: str
) -> None:
    before = snapshot()
    response = client.post(
        "/subscribe/email", data={**FORM, "email": ADDRESS}, headers={"Accept-Language": f"{language},de;q=0.5"}
    )
    assert_refusal_page(response, language, way_back="/subscribe")
    assert changed_tables(before) == []


def test_the_language_cookie_outranks_the_browser_header(app: Flask, client: FlaskClient) -> None:
    client.set_cookie("lang", "en")
    response = client.post("/subscribe/email", data={**FORM, "email": ADDRESS}, headers={"Accept-Language": "nl"})
    assert_refusal_page(response, "en", way_back="/subscribe")


def test_a_form_left_open_for_hours_is_refused_as_expired(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = csrf_from(client.get("/subscribe").data)  # a real token, for this very session
    two_hours_later = int(time.time()) + 2 * 3600  # WTF_CSRF_TIME_LIMIT is one hour
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: two_hours_later)
    before = snapshot()
    response = client.post("/subscribe/email", data={**FORM, "email": ADDRESS, "csrf_token": token})
    html = assert_refusal_page(response, "nl", way_back="/subscribe")
    assert token not in html
    assert changed_tables(before) == [] and by_email(ADDRESS) is None


def test_a_manage_action_links_back_to_the_manage_page_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    subscription = make_subscriber(ADDRESS)
    path = f"/manage/{manage_token(subscription)}"
    before = snapshot()
    response = client.post(path + "/pause", headers={"Accept-Language": "en"})
    assert_refusal_page(response, "en", way_back=path)
    assert changed_tables(before) == []
    assert not by_email(ADDRESS).paused  # type: ignore[union-attr]


def test_an_editor_whose_session_ended_is_sent_back_to_the_form(app: Flask) -> None:
    make_editor("ada@example.org", role=Role.EDITOR)
    editor = Browser(app, "ada@example.org")
    editor.client.delete_cookie(app.config["SESSION_COOKIE_NAME"])  # the browser dropped the session
    before = snapshot()
    response = editor.post("/editor/alerts/new", data={"headline": "Dangerous pills"})
    assert_refusal_page(response, "en", way_back="/editor/alerts/new")
    assert changed_tables(before) == []


def test_a_forged_post_from_another_site_gets_a_link_on_this_site_only(app: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/editor/login?next=https://evil.example/next",
        data={"email": "ada@example.org", "password": "x"},
        headers={"Referer": "https://evil.example/phish", "Origin": "https://evil.example"},
    )
    html = assert_refusal_page(response, "nl", way_back="/editor/login")
    assert "evil.example" not in html


@pytest.mark.parametrize(
    ("refused", "expected"),
    [
        ("/subscribe/confirm/abc.def", "/subscribe/confirm/abc.def"),  # the form's own page
        ("/subscribe/email", "/subscribe"),  # POST only: the page above it
        ("/editor/alerts/7/photos/3/remove", "/editor/alerts/7"),
        ("/editor/account/tokens/3/revoke", "/editor/account/tokens"),
        ("/editor/logout", "/editor/"),  # the page is "/editor/", not "/editor"
        ("//evil.example/x", "/"),  # a protocol-relative path names no page here
        ("/nothing/here", "/"),
        ("/", "/"),
    ],
)
def test_the_way_back_is_the_nearest_page_at_or_above_the_path(app: Flask, refused: str, expected: str) -> None:
    with app.test_request_context(refused, method="POST"):
        assert nearest_page() == expected


def test_under_the_api_the_refusal_stays_a_json_error(app: Flask, client: FlaskClient) -> None:
    # Every API route is exempt from the check; this one stands for a new route that forgot it.
    app.add_url_rule("/api/v1/forgot-exemption", "forgot_exemption", lambda: "done", methods=["POST"])
    for body in ({"json": {"email": ADDRESS}}, {"data": {"email": ADDRESS}}):
        response = client.post("/api/v1/forgot-exemption", headers={"Accept-Language": "nl"}, **body)
        assert response.status_code == 400 and response.mimetype == "application/json"
        assert response.json == {
            "error": "The CSRF check refused this request and nothing was changed: The CSRF token is missing."
        }
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_pages_own_script_asking_for_json_gets_the_explanation_as_json(
    app: Flask, client: FlaskClient, language: str
) -> None:
    """static/js/test-push.js posts the test-send form with fetch and shows `error` as it is."""
    headers = {"Accept": "application/json", "Accept-Language": language}
    response = client.post("/editor/alerts/1/test-send", data={"target": "push"}, headers=headers)
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert response.json is not None and set(response.json) == {"error"}
    assert NOTHING_CHANGED[language] in response.json["error"]
    assert response.headers["Cache-Control"] == "no-store"
