"""Golden files for the alert mails' bodies, and the bytes those bodies travel in.

The bodies are read back from the exact bytes the SMTP pool sends, so encoding is covered too.
Regenerate after an intended change with `UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/delivery/test_mail_golden.py` and read the diff before committing it. Tokens in links
change on every run, so they are written as <TOKEN>.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from flask import Flask

from delivery.channels import Job, Message, Recipient
from delivery.mail_render import Renderer
from subscribers.models import Channel
from tests.alert_payloads import audi_payload

GOLDEN = Path(__file__).parent / "golden"
TOKEN = re.compile(r"(/manage/|/unsubscribe/)[A-Za-z0-9_.\-]+")
MOMENT = datetime(2027, 1, 9, 13, 0, tzinfo=UTC)


def message(version_id: int, level: str = "red_alert", kind: str = "alert", pill: str = "") -> Message:
    texts = {
        lang: {
            "headline": f"{pill}{t['headline']}",
            "push_text": t["push_text"],
            "instruction": t["instruction"],
        }
        for lang, t in audi_payload()["texts"].items()
    }
    return Message(
        version_id=version_id,
        alert_id=version_id,
        number=1,
        kind=kind,
        level=level,
        texts=texts,
        expires=datetime(2027, 2, 8, 13, 0, tzinfo=UTC),
        url=f"https://signaal.test/alerts/{version_id}",
        topic=f"signaal-alert-{version_id}",
        withdrawal_reason="error" if kind == "cancel" else None,
    )


def job(language: str, *messages: Message, address: str = "jan@example.org") -> Job:
    recipient = Recipient(1, "golden-public-id", Channel.EMAIL, language, email=address)
    first, *rest = messages
    return Job(41, recipient, first, 0, digest=[(42 + n, m) for n, m in enumerate(rest)])


def sent(app: Flask, the_job: Job) -> EmailMessage:
    raw = Renderer(app, MOMENT).outgoing(the_job).raw()
    parsed = message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(mail: EmailMessage, subtype: str) -> str:
    part = mail.get_body(preferencelist=(subtype,))
    assert part is not None
    return TOKEN.sub(r"\1<TOKEN>", part.get_content().replace("\r\n", "\n"))


@pytest.fixture
def golden_app(app: Flask) -> Flask:
    # Pinned, so a change to the test defaults does not show up as a change of the mails.
    app.config.update(PUBLIC_URL="https://signaal.test", SENDER_NAME="Signaal", MAIL_FROM="Signaal <a@signaal.test>")
    return app


CASES = {
    "alert": lambda lang: job(lang, message(7)),
    "digest": lambda lang: job(lang, message(8, "info", pill="Tesla: "), message(9, "caution", pill="Rolex: ")),
}


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("name", CASES)
def test_alert_mail_bodies_match_their_golden_files(golden_app: Flask, name: str, lang: str) -> None:
    mail = sent(golden_app, CASES[name](lang))
    for suffix, subtype in (("txt", "plain"), ("html", "html")):
        path = GOLDEN / f"{name}.{lang}.{suffix}"
        actual = body(mail, subtype)
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.parent.mkdir(exist_ok=True)
            path.write_text(actual)
        assert path.exists(), f"{path.name} is missing; run with UPDATE_GOLDEN=1 to write it"
        assert actual == path.read_text(), f"{path.name} differs; if intended, regenerate with UPDATE_GOLDEN=1"


def test_headers_are_encoded_and_cannot_be_injected(golden_app: Flask) -> None:
    evil = message(7, pill="Café\r\nBcc: everyone@example.org\n")
    mail = sent(golden_app, job("nl", evil))
    assert mail["Bcc"] is None and len(mail.get_all("Subject") or []) == 1
    headline = "Café Bcc: everyone@example.org Rode alert: beige-gouden Audi-pil met meer dan 300 mg MDMA"
    assert mail["Subject"] == f"Rode alert: {headline}"  # one line: the line breaks became spaces
    raw = Renderer(golden_app, MOMENT).outgoing(job("nl", evil)).raw()
    assert raw.isascii() and b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]  # RFC 2047 for the non-ASCII subject
    assert b"\nBcc:" not in raw


def test_bodies_stay_7bit_when_ascii_and_use_quoted_printable_otherwise(golden_app: Flask) -> None:
    english = Renderer(golden_app, MOMENT).outgoing(job("en", message(7))).raw()
    dutch = Renderer(golden_app, MOMENT).outgoing(job("nl", message(7, pill="Café: "))).raw()
    assert english.count(b"Content-Transfer-Encoding: 7bit") == 2
    assert b"Content-Transfer-Encoding: quoted-printable" in dutch and dutch.isascii()
    assert all(len(line) <= 998 for line in english.split(b"\r\n") + dutch.split(b"\r\n"))


def test_one_rendering_serves_every_recipient_of_a_version(golden_app: Flask) -> None:
    renderer = Renderer(golden_app, MOMENT)
    a = renderer.outgoing(job("nl", message(7), address="a@example.org"))
    b = renderer.outgoing(job("nl", message(7), address="b@example.org"))
    c = renderer.outgoing(job("en", message(7), address="c@example.org"))
    assert a.rendered is b.rendered and a.rendered is not c.rendered
    assert b"To: b@example.org\r\n" in b.raw() and b"a@example.org" not in b.raw()
