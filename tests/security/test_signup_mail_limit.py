"""One sign-up mail per mailbox and window (subscribers/mail_throttle.py), through a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from core import clock
from core.db import db
from core.extensions import limiter
from subscribers.mail_throttle import drop_expired, mailbox_key
from subscribers.models import SignupMailSent

from ..conftest import _base_config
from ..subscribers.email_flow import by_email, confirm, sign_up
from ..subscribers.smtp_server import SmtpServer

START = datetime(2026, 7, 3, 22, 0, tzinfo=UTC)
WINDOW = 600
# One mailbox, written five ways: what a script filling a stranger's inbox would try.
SPELLINGS = [" jan@example.org", "Jan@Example.org", "JAN@EXAMPLE.ORG ", "jan@EXAMPLE.org", "\tJan@example.ORG\n"]


@pytest.fixture
def windowed(mail_app: Flask) -> Flask:
    """The app sending through the test SMTP server, with the one-mail window on and the clock at START."""
    mail_app.config["SIGNUP_MAIL_WINDOW_SECONDS"] = WINDOW
    clock.freeze(START)
    return mail_app


def _recipients(server: SmtpServer) -> list[str]:
    return [address.lower() for received in server.messages for address in received.recipients]


def _api_sign_up(client: FlaskClient, email: str) -> tuple[int, object]:
    answer = client.post(
        "/api/v1/subscriptions/email", json={"email": email, "preferences": {"areas": ["NL-NH"], "language": "en"}}
    )
    return answer.status_code, answer.json


def test_a_burst_of_sign_ups_for_one_mailbox_sends_one_mail_a_window(
    windowed: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    answers = {(r.status_code, r.location) for r in (sign_up(client, email) for email in SPELLINGS[:3])}
    api_answers = {repr(_api_sign_up(client, email)) for email in SPELLINGS[3:]}
    assert answers == {(303, "/subscribe/email/sent")}  # the same page every time
    assert len(api_answers) == 1
    assert _recipients(smtp_server) == ["jan@example.org"]

    # Another address is not held back.
    assert sign_up(client, "piet@example.org").status_code == 303
    assert _recipients(smtp_server) == ["jan@example.org", "piet@example.org"]

    # Nothing but an HMAC of the mailbox is kept, and only for the window.
    stored = db.session.scalars(select(SignupMailSent.address_key)).all()
    assert sorted(stored) == sorted([mailbox_key("jan@example.org"), mailbox_key("piet@example.org")])
    assert all(len(key) == 64 and "@" not in key and "example" not in key for key in stored)

    clock.freeze(START + timedelta(seconds=WINDOW - 1))
    sign_up(client, "jan@example.org")
    assert len(smtp_server.messages) == 2

    clock.freeze(START + timedelta(seconds=WINDOW + 1))
    assert sign_up(client, "Jan@example.org").status_code == 303
    assert _recipients(smtp_server) == ["jan@example.org", "piet@example.org", "jan@example.org"]
    # Each claim deletes the rows whose window has ended (piet's); the sweep does it when no one signs up.
    assert db.session.scalars(select(SignupMailSent.address_key)).all() == [mailbox_key("jan@example.org")]
    assert drop_expired() == 0
    clock.freeze(START + timedelta(seconds=2 * WINDOW + 1))
    assert drop_expired() == 1
    assert db.session.scalars(select(SignupMailSent)).all() == []


def test_a_confirmed_address_gets_one_manage_link_mail_a_window(
    windowed: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    sign_up(client, "jan@example.org")
    confirm(client, smtp_server.messages[0])
    assert by_email("jan@example.org").active  # type: ignore[union-attr]

    clock.freeze(START + timedelta(seconds=WINDOW + 1))
    for email in SPELLINGS:
        assert sign_up(client, email).location == "/subscribe/email/sent"
    subjects = [received.message["Subject"] for received in smtp_server.messages]
    assert subjects == ["Confirm your Signaal alerts", "You already get Signaal alerts"]


def test_a_mail_that_fails_frees_the_window_for_a_retry(
    windowed: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse_recipients("451 4.3.0 Try again later")
    assert sign_up(client, "jan@example.org").status_code == 503
    assert db.session.scalars(select(SignupMailSent)).all() == []

    smtp_server.refuse_recipients(None)
    assert sign_up(client, "jan@example.org").status_code == 303
    assert _recipients(smtp_server) == ["jan@example.org"]


def test_the_window_holds_across_web_processes(
    windowed: Flask, client: FlaskClient, smtp_server: SmtpServer, database_url: str, tmp_path: Path
) -> None:
    """A second app on the same database stands for a second gunicorn worker: its own memory, its own limiter."""
    second = create_app({**_base_config(database_url, tmp_path), **_mail_settings(windowed)})
    assert sign_up(client, "jan@example.org").status_code == 303
    assert sign_up(second.test_client(), "JAN@example.org").status_code == 303
    assert _recipients(smtp_server) == ["jan@example.org"]
    with second.app_context():
        db.engine.dispose()
    limiter.init_app(windowed)  # the fixture's app counts in its own storage again


def test_a_window_of_zero_sends_every_time(mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer) -> None:
    mail_app.config["SIGNUP_MAIL_WINDOW_SECONDS"] = 0
    for _ in range(3):
        sign_up(client, "jan@example.org")
    assert len(smtp_server.messages) == 3
    assert db.session.scalars(select(SignupMailSent)).all() == []


def _mail_settings(app: Flask) -> dict[str, object]:
    keys = ["MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "MAIL_FROM", "SIGNUP_MAIL_WINDOW_SECONDS"]
    return {key: app.config[key] for key in keys}
