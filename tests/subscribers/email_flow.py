"""Driving email sign-up the way a visitor does: the real form, the real mail, the link in it."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from core import clock
from core.db import db
from subscribers.models import Channel, Subscription, SubscriptionArea
from subscribers.preferences import apply_preferences, validate_preferences
from subscribers.tokens import new_public_id

from ..helpers import csrf_from
from .smtp_server import Received

FORM = {"areas": "NL-NH", "min_level": "info", "language": "en", "accept_fallback": "on", "digest": "off"}
PUBLIC = "https://signaal.test"  # PUBLIC_URL in tests/conftest.py


def csrf(client: FlaskClient) -> str:
    # ?lang=en leaves the language cookie behind: later pages come in English, as tests expect.
    page = client.get("/subscribe?lang=en")
    assert page.status_code == 200, page.status_code
    return csrf_from(page.data)


def sign_up(client: FlaskClient, email: str | None, **fields: str | list[str]) -> TestResponse:
    """Post the subscribe page's form to the email sign-up, CSRF token included."""
    data: dict[str, str | list[str]] = {**FORM, **fields, "csrf_token": csrf(client)}
    if email is not None:
        data["email"] = email
    return client.post("/subscribe/email", data=data)


def link(received: Received, path: str) -> str:
    """The path of the first link to PUBLIC_URL + `path` in a mail's text part (the same in the HTML)."""
    text, html = received.body("plain"), received.body("html")
    match = re.search(re.escape(PUBLIC + path) + r"[A-Za-z0-9_.\-]+", text)
    assert match, f"no link to {path} in:\n{text}"
    assert match.group(0) in html, "the HTML part lacks the link of the text part"
    return match.group(0).removeprefix(PUBLIC)


def confirm(client: FlaskClient, received: Received) -> TestResponse:
    path = link(received, "/subscribe/confirm/")
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_from(page.data)})


def counts() -> tuple[int, int]:
    """Rows in subscriptions and subscription_areas."""
    return (
        db.session.scalar(select(func.count()).select_from(Subscription)) or 0,
        db.session.scalar(select(func.count()).select_from(SubscriptionArea)) or 0,
    )


def by_email(email: str) -> Subscription | None:
    db.session.expire_all()  # the views committed in their own request; read fresh rows
    return db.session.scalar(select(Subscription).where(Subscription.email == email))


def make_subscriber(email: str = "jan@example.org", **preferences: Any) -> Subscription:
    """A confirmed email subscription, straight into the database."""
    subscription = Subscription(public_id=new_public_id(), channel=Channel.EMAIL, email=email)
    apply_preferences(subscription, validate_preferences({"areas": ["NL-NH"], **preferences}, ["nl", "en"]))
    subscription.active, subscription.confirmed_at = True, clock.now()
    db.session.add(subscription)
    db.session.commit()
    return subscription
