"""Unconfirmed email sign-ups are deleted once past the window, never while their link works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core import clock
from core.db import db
from subscribers.models import SubscriptionArea
from subscribers.retention import purge_unconfirmed_emails

from .email_flow import by_email, confirm, sign_up
from .smtp_server import Received, SmtpServer

START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def last_mail_to(server: SmtpServer, address: str) -> Received:
    return [m for m in server.messages if m.recipients == [address]][-1]


def area_owners() -> set[int]:
    return set(db.session.scalars(select(SubscriptionArea.subscription_id)))


def test_sign_ups_nobody_confirmed_go_after_the_window(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    mail_app.config.update(UNCONFIRMED_EMAIL_RETENTION_HOURS=72, CONFIRM_TOKEN_HOURS=48)
    clock.freeze(START)
    for address in ("forgotten@example.org", "again@example.org", "confirmed@example.org"):
        assert sign_up(client, address).status_code == 303
    confirm(client, last_mail_to(smtp_server, "confirmed@example.org"))
    clock.freeze(START + 40 * HOUR)
    sign_up(client, "again@example.org")  # a second confirmation mail, with a fresh link
    forgotten = by_email("forgotten@example.org")
    assert forgotten is not None and forgotten.id in area_owners()
    forgotten_id = forgotten.id

    clock.freeze(START + 73 * HOUR)
    assert purge_unconfirmed_emails(batch_size=1) == 1
    assert by_email("forgotten@example.org") is None
    assert forgotten_id not in area_owners()  # its areas went with it
    assert by_email("confirmed@example.org") is not None
    # The newer link of the address signed up again still works after the purge.
    confirm(client, last_mail_to(smtp_server, "again@example.org"))
    again = by_email("again@example.org")
    assert again is not None and again.active
    assert purge_unconfirmed_emails() == 0


def test_a_sign_up_stays_while_its_link_works_whatever_the_window(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    mail_app.config.update(UNCONFIRMED_EMAIL_RETENTION_HOURS=1, CONFIRM_TOKEN_HOURS=48)
    clock.freeze(START)
    sign_up(client, "slow@example.org")
    clock.freeze(START + 47 * HOUR)
    assert purge_unconfirmed_emails() == 0
    clock.freeze(START + 49 * HOUR)
    assert purge_unconfirmed_emails() == 1
    assert by_email("slow@example.org") is None
