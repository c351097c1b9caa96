from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from core import clock
from core.db import db
from editors.auth import SESSION_KEY
from editors.login import LOCKOUT, MAX_FAILED_LOGINS
from editors.models import Editor, Role

from ..factories import DEFAULT_PASSWORD, make_editor
from ..helpers import LOGIN_PATH, csrf_from, login

GENERIC = b"Wrong email or password."
START = datetime(2025, 6, 1, 22, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def english(client: FlaskClient) -> None:
    # The messages below are checked in English; the default language is Dutch.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def session_editor_id(client: FlaskClient) -> object:
    with client.session_transaction() as session:
        return session.get(SESSION_KEY)


def test_login_page_has_labelled_fields_and_a_csrf_token(client: FlaskClient) -> None:
    page = client.get(LOGIN_PATH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<label for="email">' in html
    assert '<label for="password">' in html
    assert csrf_from(html)


def test_successful_login_starts_a_session_and_goes_to_the_editor_home(client: FlaskClient) -> None:
    editor = make_editor("ada@example.org")
    response = login(client, "Ada@Example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/"
    assert session_editor_id(client) == editor.id


def test_login_follows_a_local_next_path(client: FlaskClient) -> None:
    make_editor("ada@example.org")
    response = login(client, "ada@example.org", next_path="/editor/alerts?state=draft")
    assert response.headers["Location"] == "/editor/alerts?state=draft"


def test_login_ignores_a_next_that_leaves_the_site(client: FlaskClient) -> None:
    make_editor("ada@example.org")
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example"]:
        response = login(client, "ada@example.org", next_path=target)
        assert response.headers["Location"] == "/editor/", target


def test_wrong_password_and_unknown_email_get_the_same_answer(client: FlaskClient) -> None:
    make_editor("ada@example.org")
    wrong = login(client, "ada@example.org", "not the right password")
    unknown = login(client, "nobody@example.org", "not the right password")
    assert wrong.status_code == unknown.status_code == 200
    assert GENERIC in wrong.data
    assert GENERIC in unknown.data
    assert session_editor_id(client) is None


def test_inactive_account_cannot_log_in(client: FlaskClient) -> None:
    make_editor("gone@example.org", active=False)
    response = login(client, "gone@example.org")
    assert GENERIC in response.data
    assert session_editor_id(client) is None


def test_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    make_editor("ada@example.org")
    response = client.post(LOGIN_PATH, data={"email": "ada@example.org", "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert session_editor_id(client) is None


def test_login_attempts_are_rate_limited(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert login(client, "nobody@example.org", "not the right password").status_code == 200
    assert login(client, "nobody@example.org", "not the right password").status_code == 429


def test_ten_failures_lock_the_account_for_fifteen_minutes(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    clock.freeze(START)
    editor = make_editor("ada@example.org")
    for _ in range(MAX_FAILED_LOGINS):
        assert GENERIC in login(client, "ada@example.org", "not the right password").data
    db.session.refresh(editor)
    assert editor.locked_until == START + LOCKOUT

    # The right password does not help while locked, and the answer gives nothing away.
    locked = login(client, "ada@example.org")
    assert GENERIC in locked.data
    assert session_editor_id(client) is None

    clock.freeze(START + LOCKOUT + timedelta(seconds=1))
    assert login(client, "ada@example.org").status_code == 302
    db.session.refresh(editor)
    assert editor.failed_logins == 0
    assert editor.locked_until is None


def test_success_resets_the_failure_count(app: Flask, client: FlaskClient) -> None:
    editor = make_editor("ada@example.org")
    login(client, "ada@example.org", "not the right password")
    db.session.refresh(editor)
    assert editor.failed_logins == 1
    login(client, "ada@example.org")
    db.session.refresh(editor)
    assert editor.failed_logins == 0


@pytest.mark.parametrize("password", [DEFAULT_PASSWORD, "short old"])
def test_login_upgrades_a_hash_made_with_old_parameters(client: FlaskClient, password: str) -> None:
    # Also for a password from before the length rule: the upgrade must not lock it out.
    old_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(password)
    editor = Editor(email="ada@example.org", password_hash=old_hash, role=Role.EDITOR)
    db.session.add(editor)
    db.session.commit()
    assert login(client, "ada@example.org", password).status_code == 302
    db.session.refresh(editor)
    assert editor.password_hash != old_hash
    assert editor.password_hash.startswith("$argon2id$")


def test_session_cookie_is_secure_httponly_and_samesite_lax(client: FlaskClient) -> None:
    make_editor("ada@example.org")
    response = login(client, "ada@example.org")
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert cookies
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookies[-1].split(";")}
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"
    # session.permanent: the cookie expires with PERMANENT_SESSION_LIFETIME, not at browser exit.
    assert "expires" in attributes


def test_logout_ends_the_session(client: FlaskClient) -> None:
    make_editor("ada@example.org")
    login(client, "ada@example.org")
    page = client.get(LOGIN_PATH)
    response = client.post("/editor/logout", data={"csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    assert response.headers["Location"] == LOGIN_PATH
    assert session_editor_id(client) is None


def test_logout_without_csrf_token_is_refused(client: FlaskClient) -> None:
    make_editor("ada@example.org")
    login(client, "ada@example.org")
    assert client.post("/editor/logout").status_code == 400
    assert session_editor_id(client) is not None


def test_a_session_of_a_deactivated_account_stops_working(client: FlaskClient) -> None:
    editor = make_editor("ada@example.org")
    login(client, "ada@example.org")
    editor.active = False
    db.session.commit()
    page = client.get(LOGIN_PATH)
    response = client.post("/editor/logout", data={"csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith(LOGIN_PATH + "?next=")
