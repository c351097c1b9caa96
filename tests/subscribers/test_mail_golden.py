"""Golden files for the bodies of the subscription mails: a changed word shows up in review.

Regenerate after an intended change with `UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/subscribers/test_mail_golden.py` and read the diff before committing it. Tokens in
links change on every run, so they are written as <TOKEN>.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from subscribers.mailer import Mail
from subscribers.mails import already_subscribed_mail, confirmation_mail
from subscribers.models import Channel, Subscription

GOLDEN = Path(__file__).parent / "golden"
TOKEN = re.compile(r"(/subscribe/confirm/|/manage/|/unsubscribe/)[A-Za-z0-9_.\-]+")
MAILS: dict[str, Callable[[Subscription], Mail]] = {
    "confirm": confirmation_mail,
    "already_subscribed": already_subscribed_mail,
}


def _normalised(text: str) -> str:
    return TOKEN.sub(r"\1<TOKEN>", text)


@pytest.fixture
def golden_app(app: Flask) -> Flask:
    # Pinned, so a change to the test defaults does not show up as a change of the mails.
    app.config.update(PUBLIC_URL="https://signaal.test", SENDER_NAME="Signaal", CONFIRM_TOKEN_HOURS=48)
    return app


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("name", MAILS)
def test_mail_bodies_match_their_golden_files(golden_app: Flask, name: str, lang: str) -> None:
    subscription = Subscription(public_id="golden", channel=Channel.EMAIL, email="jan@example.org", language=lang)
    mail = MAILS[name](subscription)
    for suffix, body in (("txt", mail.text), ("html", mail.html)):
        path = GOLDEN / f"{name}.{lang}.{suffix}"
        actual = _normalised(body)
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.parent.mkdir(exist_ok=True)
            path.write_text(actual)
        assert path.exists(), f"{path.name} is missing; run with UPDATE_GOLDEN=1 to write it"
        assert actual == path.read_text(), f"{path.name} differs; if intended, regenerate with UPDATE_GOLDEN=1"
    assert "<TOKEN>" in _normalised(mail.text)
