"""A subscriber who leaves leaves nothing behind: every table of the database is searched.

Two subscribers sign up as people do (the push API with a browser's subscription, the email
form and its confirmation link), receive two alert versions through the real worker, web-push
sender and SMTP sender, and leave through the routes a user has (DELETE with the manage token;
the manage page's leave button). Then every column of every table, those the models know and
any other the database holds, is searched for their address, endpoint, keys, public ids, the
HMAC standing for their mailbox, and their subscription ids in columns that refer to subscriptions.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core import clock
from core.db import db
from delivery.stats import version_stats
from delivery.worker import Worker
from editors.models import Editor, Role
from subscribers.mail_throttle import mailbox_key
from subscribers.models import Subscription
from tests.delivery.test_engine import AFTERNOON, publish, update
from tests.factories import make_editor, make_subscription
from tests.pushservice.sending import loopback_push_settings, running_push_service
from tests.pushservice.server import PushService

from ..helpers import csrf_from
from .email_flow import by_email, confirm, link, sign_up
from .smtp_server import SmtpServer

ADDRESS = "erasure.probe.q7xk@example.org"
PUSH_ID = "erasure-probe-endpoint-k3v9"


@pytest.fixture
def push(app: Flask) -> Iterator[PushService]:
    with running_push_service() as service:
        yield service


@pytest.fixture
def people(mail_app: Flask) -> tuple[Editor, Editor]:
    clock.freeze(AFTERNOON)
    mail_app.config.update(
        loopback_push_settings(),
        DELIVERY_EMAIL_BACKEND="email",
        SIGNUP_MAIL_WINDOW_SECONDS=600,  # on, so its row for the address exists to be searched for
    )
    return make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)


def drain(app: Flask) -> None:
    worker = Worker(app, "erasure-test")
    try:
        while worker.run_once():
            pass
    finally:
        worker.close()


def table_names(connection: sa.Connection) -> set[str]:
    """Every table in the database, not only those in db.metadata."""
    if connection.dialect.name == "postgresql":
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        found = set(connection.execute(sa.text(query + " AND table_type = 'BASE TABLE'")).scalars())
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        found = set(connection.execute(sa.text(query)).scalars())
    return found | {table.name for table in db.metadata.sorted_tables}


def columns_referring_to_subscriptions(connection: sa.Connection, table: str) -> set[str]:
    """Columns with a foreign key to subscriptions, as the database has them, or named like one."""
    inspector = sa.inspect(connection)
    keys = [fk for fk in inspector.get_foreign_keys(table) if fk["referred_table"] == "subscriptions"]
    found = {column for fk in keys for column in fk["constrained_columns"]}
    return found | {c["name"] for c in inspector.get_columns(table) if c["name"] == "subscription_id"}


def traces(needles: set[str], subscription_ids: set[int]) -> list[str]:
    """Where any needle appears in any column of any row, or a subscription id in a reference to one."""
    found = []
    with db.engine.connect() as connection:
        for table in sorted(table_names(connection)):
            references = columns_referring_to_subscriptions(connection, table)
            result = connection.execute(sa.select(sa.literal_column("*")).select_from(sa.table(table)))
            for row in result.mappings():
                for column, value in row.items():
                    text = str(value)
                    found += [f"{table}.{column} holds {needle!r}" for needle in needles if needle in text]
                    if column in references and value in subscription_ids:
                        found.append(f"{table}.{column} refers to subscription {value}")
    return found


def test_leaving_leaves_no_trace_in_any_table(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer, push: PushService, people: tuple[Editor, Editor]
) -> None:
    bystander = make_subscription(["NL"], channel="email")  # someone who stays: their rows must stay
    p256dh, auth = push.keys(PUSH_ID)
    browser = {"endpoint": push.endpoint(PUSH_ID), "keys": {"p256dh": p256dh, "auth": auth}}
    subscribed = client.post(
        "/api/v1/subscriptions/push", json={"subscription": browser, "preferences": {"areas": ["NL"]}}
    )
    assert subscribed.status_code == 201
    push_token = subscribed.json["manage_token"]
    assert sign_up(client, ADDRESS).status_code == 303
    confirm(client, smtp_server.messages[-1])

    alert = publish(people)
    drain(mail_app)
    update(people, alert, area_description="Heel Nederland, bijgewerkt")
    drain(mail_app)
    assert len(push.for_id(PUSH_ID)) == 2
    alert_mails = [m for m in smtp_server.messages if m.recipients == [ADDRESS] and m.message["List-Unsubscribe"]]
    assert len(alert_mails) == 2
    mine = db.session.scalars(select(Subscription).where(Subscription.id != bystander.id)).all()
    ids = {s.id for s in mine}
    needles = {ADDRESS, PUSH_ID, p256dh, auth, mailbox_key(ADDRESS), *(s.public_id for s in mine)}
    assert len(ids) == 2
    # The search finds them everywhere they are before they leave, or it could not be trusted.
    where = {trace.split(" ", 1)[0] for trace in traces(needles, ids)}
    assert where == {
        "subscriptions.email",
        "subscriptions.endpoint",
        "subscriptions.p256dh",
        "subscriptions.auth",
        "subscriptions.public_id",
        "subscription_areas.subscription_id",
        "deliveries.subscription_id",
        "signup_mails_sent.address_key",
    }
    before = {k: v.as_json() for k, v in version_stats(v.id for v in alert.versions).items()}

    gone = client.delete(
        "/api/v1/subscriptions/push", json={"endpoint": browser["endpoint"]}, headers={"X-Manage-Token": push_token}
    )
    assert gone.status_code == 204
    manage = link(alert_mails[-1], "/manage/")
    page = client.get(manage)
    left = client.post(f"{manage}/leave", data={"csrf_token": csrf_from(page.data)})
    assert left.status_code == 200 and b"deleted" in left.data
    assert by_email(ADDRESS) is None

    assert traces(needles, ids) == []
    db.session.expire_all()
    # Editors' counts are unchanged: the outbox rows stay, anonymised.
    assert {k: v.as_json() for k, v in version_stats(v.id for v in alert.versions).items()} == before
    assert db.session.get(Subscription, bystander.id) is not None
