"""Switching two-step login on and off from the account page, forced enrolment, and the admin reset."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from core import clock
from core.db import db
from editors import totp
from editors.models import Editor, Role

from ..factories import DEFAULT_PASSWORD, make_editor
from ..helpers import csrf_from, login
from .two_step import CODE_PATH, LATER, START, TWO_STEP_PATH, code_at, enrol, enrolled_and_logged_in

SECRET_ON_PAGE = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
QR_ON_PAGE = re.compile(r'<img src="(data:image/svg\+xml[^"]+)"')


@pytest.fixture(autouse=True)
def english_and_unlimited(app: Flask, client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    clock.freeze(START)


def post(client: FlaskClient, path: str, **data: str) -> TestResponse:
    token = csrf_from(client.get(TWO_STEP_PATH).data)
    return client.post(path, data={"csrf_token": token, **data})


def reload(editor: Editor) -> Editor:
    db.session.refresh(editor)
    return editor


def test_a_publisher_enrols_by_scanning_and_confirming_a_code(client: FlaskClient) -> None:
    editor = make_editor("chief@example.org", role=Role.PUBLISHER)
    login(client, "chief@example.org")
    page = client.get(TWO_STEP_PATH)
    assert page.status_code == 200 and b"Set up two-step login" in page.data
    assert page.headers["Cache-Control"] == "no-store"

    assert post(client, TWO_STEP_PATH + "/start").status_code == 302
    page = client.get(TWO_STEP_PATH)
    text = page.get_data(as_text=True)
    shown = SECRET_ON_PAGE.search(text)
    qr = QR_ON_PAGE.search(text)
    assert shown and qr
    secret = shown.group(1).replace(" ", "")
    # The QR code is an inline image (CSP img-src allows data:) of the otpauth URI, issuer included.
    svg = unquote(html.unescape(qr.group(1)))
    assert svg.startswith("data:image/svg+xml") and "<svg" in svg
    uri = totp.provisioning_uri(reload(editor), secret)
    assert uri.startswith("otpauth://totp/Signaal:chief%40example.org?secret=" + secret)
    # Stored sealed: neither the secret nor its grouping is readable in the row.
    assert editor.totp_secret is not None and secret not in editor.totp_secret
    assert not editor.has_totp

    wrong = post(client, TWO_STEP_PATH + "/confirm", code="000000" if code_at(secret, START) != "000000" else "1")
    assert wrong.status_code == 422
    assert not reload(editor).has_totp

    done = post(client, TWO_STEP_PATH + "/confirm", code=code_at(secret, START))
    assert done.status_code == 302
    assert reload(editor).has_totp and editor.totp_enabled_at == START
    # The page no longer shows the secret once it is on.
    assert SECRET_ON_PAGE.search(client.get(TWO_STEP_PATH).get_data(as_text=True)) is None

    # The next login asks for a code.
    client.post("/editor/logout", data={"csrf_token": csrf_from(client.get(TWO_STEP_PATH).data)})
    assert login(client, "chief@example.org").headers["Location"] == CODE_PATH


def test_a_new_key_replaces_an_unconfirmed_one(client: FlaskClient) -> None:
    editor = make_editor("chief@example.org", role=Role.PUBLISHER)
    login(client, "chief@example.org")
    post(client, TWO_STEP_PATH + "/start")
    first = totp.pending_secret(reload(editor))
    post(client, TWO_STEP_PATH + "/start")
    second = totp.pending_secret(reload(editor))
    assert first and second and first != second
    assert post(client, TWO_STEP_PATH + "/confirm", code=code_at(first, START)).status_code == 422


def test_an_editor_role_cannot_enrol(client: FlaskClient) -> None:
    make_editor("ada@example.org", role=Role.EDITOR)
    login(client, "ada@example.org")
    assert client.get(TWO_STEP_PATH).status_code == 403
    assert post_without_page(client, TWO_STEP_PATH + "/start").status_code == 403
    assert b"Two-step login" not in client.get("/editor/account").data


def post_without_page(client: FlaskClient, path: str) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_from(client.get("/editor/account").data)})


def test_switching_off_needs_the_password_and_a_current_code(client: FlaskClient) -> None:
    editor = make_editor("chief@example.org", role=Role.PUBLISHER)
    code = code_at(enrolled_and_logged_in(client, editor), LATER)
    refused = post(client, TWO_STEP_PATH + "/off", password="not the password", code=code)
    assert refused.status_code == 422
    assert reload(editor).has_totp and editor.failed_logins == 1
    refused = post(client, TWO_STEP_PATH + "/off", password=DEFAULT_PASSWORD, code="123")
    assert refused.status_code == 422
    assert reload(editor).has_totp and editor.failed_logins == 2

    assert post(client, TWO_STEP_PATH + "/off", password=DEFAULT_PASSWORD, code=code).status_code == 302
    assert not reload(editor).has_totp and editor.totp_secret is None and editor.failed_logins == 0


def test_switching_off_without_csrf_is_refused(client: FlaskClient) -> None:
    editor = make_editor("chief@example.org", role=Role.PUBLISHER)
    code = code_at(enrolled_and_logged_in(client, editor), LATER)
    response = client.post(TWO_STEP_PATH + "/off", data={"password": DEFAULT_PASSWORD, "code": code})
    assert response.status_code == 400
    assert reload(editor).has_totp


def test_when_required_a_publisher_enrols_before_anything_else(app: Flask, client: FlaskClient) -> None:
    app.config["REQUIRE_TOTP_FOR_PUBLISHERS"] = True
    editor = make_editor("chief@example.org", role=Role.PUBLISHER)
    response = login(client, "chief@example.org", next_path="/editor/alerts/new")
    assert response.headers["Location"] == TWO_STEP_PATH
    for path in ["/editor/", "/editor/alerts/new", "/editor/audit", "/editor/account", "/editor/account/tokens"]:
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked.headers["Location"] == TWO_STEP_PATH, path
    assert b"Publishers must use two-step login" in client.get(TWO_STEP_PATH).data

    post(client, TWO_STEP_PATH + "/start")
    secret = totp.pending_secret(reload(editor))
    assert secret is not None
    post(client, TWO_STEP_PATH + "/confirm", code=code_at(secret, START))
    assert client.get("/editor/").status_code == 200


def test_when_required_editors_are_not_asked(app: Flask, client: FlaskClient) -> None:
    app.config["REQUIRE_TOTP_FOR_PUBLISHERS"] = True
    make_editor("ada@example.org", role=Role.EDITOR)
    assert login(client, "ada@example.org").headers["Location"] == "/editor/"
    assert client.get("/editor/").status_code == 200


def test_when_required_logging_out_still_works(app: Flask, client: FlaskClient) -> None:
    app.config["REQUIRE_TOTP_FOR_PUBLISHERS"] = True
    make_editor("root@example.org", role=Role.ADMIN)
    login(client, "root@example.org")
    response = post(client, "/editor/logout")
    assert response.headers["Location"] == "/editor/login"


def test_admin_resets_a_lost_second_factor_from_the_cli(app: Flask, client: FlaskClient) -> None:
    editor = make_editor("chief@example.org", role=Role.PUBLISHER)
    enrol(editor)
    result = app.test_cli_runner().invoke(args=["editors", "reset-totp", "Chief@example.org"])
    assert result.exit_code == 0, result.output
    assert not reload(editor).has_totp and editor.totp_secret is None
    assert login(client, "chief@example.org").headers["Location"] == "/editor/"
    listing = app.test_cli_runner().invoke(args=["editors", "list"])
    assert "chief@example.org\tpublisher\tyes\tno" in listing.output
    assert app.test_cli_runner().invoke(args=["editors", "reset-totp", "nobody@example.org"]).exit_code != 0


def test_a_sealed_secret_opens_only_for_its_editor_and_secret_key(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    chief = make_editor("chief@example.org", role=Role.PUBLISHER)
    deputy = make_editor("deputy@example.org", role=Role.PUBLISHER)
    secret = enrol(chief)
    code = code_at(secret, START)

    # Copied onto another account's row, it does not open.
    deputy.totp_secret, deputy.totp_enabled_at = chief.totp_secret, START
    assert not totp.check_code(deputy, code)

    # After SECRET_KEY changed it does not open either; the log names the account by id only.
    app.config["SECRET_KEY"] = "another-key"
    assert not totp.check_code(chief, code)
    assert f"editor {chief.id}:" in caplog.text
    assert "chief@example.org" not in caplog.text and secret not in caplog.text
    app.config["SECRET_KEY"] = "test-secret-key-not-for-production"
    assert totp.check_code(chief, code)
    assert db.session.scalars(select(Editor).where(Editor.totp_secret.contains(secret))).first() is None
