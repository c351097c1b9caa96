"""Helpers for two-step login tests: enrol an editor for real, and compute codes as a phone would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core import clock
from core.db import db
from editors import totp
from editors.models import Editor

from ..helpers import csrf_from, login

CODE_PATH = "/editor/login/code"
TWO_STEP_PATH = "/editor/account/two-step"
START = datetime(2025, 6, 1, 22, 0, tzinfo=UTC)
# Long before START, so the code that confirmed the enrolment is not "the last one used" at START.
ENROLLED_AT = START - timedelta(days=1)
LATER = START + timedelta(minutes=5)


def code_at(secret: str, moment: datetime, steps: int = 0) -> str:
    """What an authenticator app shows at `moment`, shifted by whole 30-second steps."""
    return pyotp.TOTP(secret).at(moment + timedelta(seconds=30 * steps))


def enrol(editor: Editor) -> str:
    """Switch two-step login on for `editor` through totp.py, as the account page does; the secret."""
    clock.freeze(ENROLLED_AT)
    totp.start_enrolment(editor)
    secret = totp.pending_secret(editor)
    assert secret is not None
    assert totp.confirm_enrolment(editor, code_at(secret, ENROLLED_AT))
    db.session.commit()
    clock.freeze(START)
    return secret


def send_code(client: FlaskClient, code: str) -> TestResponse:
    page = client.get(CODE_PATH)
    assert page.status_code == 200, page.status_code
    return client.post(CODE_PATH, data={"csrf_token": csrf_from(page.data), "code": code})


def enrolled_and_logged_in(client: FlaskClient, editor: Editor) -> str:
    """Enrol `editor`, log in with password and code at START, then move the clock past that code."""
    secret = enrol(editor)
    login(client, editor.email)
    assert send_code(client, code_at(secret, START)).status_code == 302
    clock.freeze(LATER)
    return secret
