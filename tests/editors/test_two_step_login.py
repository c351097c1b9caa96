"""Logging in with a password and a code: the half-logged-in state, replay, drift, lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core import clock
from core.db import db
from editors.auth import SESSION_KEY
from editors.login import LOCKOUT, MAX_FAILED_LOGINS, PENDING_LIFETIME
from editors.models import Editor, Role

from ..factories import make_editor
from ..helpers import LOGIN_PATH, csrf_from, login
from .two_step import CODE_PATH, START, code_at, enrol, send_code

WRONG = b"Wrong code."


@pytest.fixture(autouse=True)
def english_and_unlimited(app: Flask, client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    # The lockout is under test here, not the per-address rate limit.
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"


@pytest.fixture
def chief() -> tuple[Editor, str]:
    editor = make_editor("chief@example.org", role=Role.PUBLISHER)
    return editor, enrol(editor)


def logged_in_as(client: FlaskClient) -> object:
    with client.session_transaction() as session:
        return session.get(SESSION_KEY)


def test_the_password_alone_logs_nobody_in(client: FlaskClient, chief: tuple[Editor, str]) -> None:
    response = login(client, "chief@example.org", next_path="/editor/alerts/new")
    assert response.status_code == 302
    assert response.headers["Location"] == CODE_PATH
    assert logged_in_as(client) is None
    # Nothing behind the login opens in the half-logged-in state.
    assert client.get("/editor/").headers["Location"].startswith(LOGIN_PATH)
    assert client.get("/editor/account/tokens").headers["Location"].startswith(LOGIN_PATH)


def test_the_right_code_logs_in_and_goes_where_the_login_was_headed(
    client: FlaskClient, chief: tuple[Editor, str]
) -> None:
    editor, secret = chief
    login(client, "chief@example.org", next_path="/editor/alerts/new")
    response = send_code(client, code_at(secret, START))
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/alerts/new"
    assert logged_in_as(client) == editor.id
    assert client.get("/editor/").status_code == 200


def test_a_wrong_code_is_refused_and_counts_as_a_failed_login(client: FlaskClient, chief: tuple[Editor, str]) -> None:
    editor, secret = chief
    login(client, "chief@example.org")
    wrong = str((int(code_at(secret, START)) + 1) % 1_000_000).zfill(6)
    response = send_code(client, wrong)
    assert response.status_code == 200 and WRONG in response.data
    assert logged_in_as(client) is None
    db.session.refresh(editor)
    assert editor.failed_logins == 1
    # Not digits at all: refused the same way.
    assert WRONG in send_code(client, "abcdef").data


def test_a_code_is_accepted_once(client: FlaskClient, chief: tuple[Editor, str]) -> None:
    _, secret = chief
    code = code_at(secret, START)
    login(client, "chief@example.org")
    assert send_code(client, code).status_code == 302
    client.post("/editor/logout", data={"csrf_token": _csrf(client)})

    # The same code, still inside its 30 seconds: someone who watched it being typed.
    login(client, "chief@example.org")
    assert WRONG in send_code(client, code).data
    # So is the code of the step before, although it is within the drift window.
    assert WRONG in send_code(client, code_at(secret, START, steps=-1)).data
    assert logged_in_as(client) is None
    # The next step's code still works.
    clock.freeze(START + timedelta(seconds=30))
    assert send_code(client, code_at(secret, START, steps=1)).status_code == 302


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_one_step_of_clock_drift_either_way(
    client: FlaskClient, chief: tuple[Editor, str], steps: int, accepted: bool
) -> None:
    _, secret = chief
    login(client, "chief@example.org")
    response = send_code(client, code_at(secret, START, steps=steps))
    assert (response.status_code == 302) is accepted
    assert (logged_in_as(client) is not None) is accepted


def test_the_half_login_expires(client: FlaskClient, chief: tuple[Editor, str]) -> None:
    _, secret = chief
    login(client, "chief@example.org")
    later = START + PENDING_LIFETIME + timedelta(seconds=1)
    clock.freeze(later)
    response = client.get(CODE_PATH)
    assert response.status_code == 302 and response.headers["Location"] == LOGIN_PATH
    # Even a correct code (a fresh one) no longer completes it.
    response = client.post(CODE_PATH, data={"csrf_token": _csrf(client), "code": code_at(secret, later)})
    assert response.status_code == 302 and response.headers["Location"] == LOGIN_PATH
    assert logged_in_as(client) is None


def test_the_code_page_without_a_password_first_sends_to_login(client: FlaskClient) -> None:
    response = client.get(CODE_PATH)
    assert response.status_code == 302 and response.headers["Location"] == LOGIN_PATH


def test_wrong_codes_lock_the_account_like_wrong_passwords(client: FlaskClient, chief: tuple[Editor, str]) -> None:
    editor, secret = chief
    login(client, "chief@example.org")
    for _ in range(MAX_FAILED_LOGINS):
        assert WRONG in send_code(client, "000000" if code_at(secret, START) != "000000" else "111111").data
    db.session.refresh(editor)
    assert editor.locked_until == START + LOCKOUT

    # Locked: the right code does nothing, and neither does the right password.
    assert WRONG in send_code(client, code_at(secret, START)).data
    assert b"Wrong email or password." in login(client, "chief@example.org").data
    assert logged_in_as(client) is None

    after = START + LOCKOUT + timedelta(seconds=1)
    clock.freeze(after)
    assert login(client, "chief@example.org").headers["Location"] == CODE_PATH
    assert send_code(client, code_at(secret, after)).status_code == 302


def test_the_right_password_does_not_reset_the_count_of_wrong_codes(
    client: FlaskClient, chief: tuple[Editor, str]
) -> None:
    editor, secret = chief
    wrong = "000000" if code_at(secret, START) != "000000" else "111111"
    for _ in range(MAX_FAILED_LOGINS):
        # A fresh password step before every guess must not buy fresh guesses.
        login(client, "chief@example.org")
        send_code(client, wrong)
    db.session.refresh(editor)
    assert editor.locked_until == START + LOCKOUT


def test_an_account_without_two_step_login_logs_in_with_the_password(client: FlaskClient) -> None:
    editor = make_editor("ada@example.org", role=Role.PUBLISHER)
    response = login(client, "ada@example.org")
    assert response.headers["Location"] == "/editor/"
    assert logged_in_as(client) == editor.id


def _csrf(client: FlaskClient) -> str:
    return csrf_from(client.get(LOGIN_PATH).data)
