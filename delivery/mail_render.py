"""Alert mails: rendered once per batch for each (message versions, language), filled in per recipient.

Building an `EmailMessage` for every mail is what makes a naive mail loop slow (about 290 a
second in /work/shared/guide/delivery.md). Here the templates, the subject, the encoded
headers and the MIME frame are made once per rendering; each recipient then costs two signed
tokens, a few string joins and, for non-ASCII bodies, one quoted-printable pass in C
(`binascii.b2a_qp`). Measured on a busy 2-core machine: about 3 µs for the bytes of one
mail with 7bit bodies and 30 µs with quoted-printable ones, against 1.5 to 3.7 ms for
`build_message(...).as_bytes()`; the two signed tokens add about 40 µs to either.

Per-recipient values enter the rendered text through placeholders that carry a random
nonce, so no text an editor writes can name one.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from flask import Flask, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from markupsafe import escape

from alerts.labels import LEVELS, MSG_TYPES, STATES, WITHDRAWAL_REASONS
from alerts.vocabulary import Level, MsgType, State
from core.i18n import format_moment
from subscribers.mailer import Mail, sender_domain
from subscribers.mails import _plain_templates, public_url
from subscribers.models import Subscription
from subscribers.tokens import manage_token, unsubscribe_token

from .channels import TEST_MARK, Job, Message

COLOURS = {"info": "#1f5fa8", "caution": "#8a5a00", "warning": "#b34700", "red_alert": "#b00020"}
# RFC 5322 allows 998; the links filled in later add at most a few hundred characters to a line.
MAX_TEMPLATE_LINE = 600
# What sign-up stores (subscribers/email_signup.py): a dot-atom local part and an ASCII domain.
ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[a-z0-9.-]{1,253}")


class UnsendableAddress(ValueError):
    """The stored address cannot go into a header as it is (it never passed sign-up's check)."""


@dataclass(frozen=True)
class Outgoing:
    """One mail for one job: its envelope recipient and its complete bytes."""

    job: Job
    to: str
    rendered: Rendered
    fields: dict[str, str]

    def raw(self) -> bytes:
        return self.rendered.raw(self.to, self.fields)

    def mail(self) -> Mail:
        """The same mail for a `subscribers.mailer` backend (the console one in development)."""
        return self.rendered.mail(self.to, self.fields)


class _Body:
    """One MIME part's text, split at its placeholders once, so filling in is a join."""

    def __init__(self, text: str, marks: re.Pattern[str]) -> None:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
        self.text = text
        self.pieces = marks.split(text)  # literal, field name, literal, field name, ...
        # 7bit keeps links whole for anyone reading a raw message; anything else is quoted-printable.
        self.seven_bit = text.isascii() and all(len(line) <= MAX_TEMPLATE_LINE for line in text.split("\r\n"))
        self.encoding = b"7bit" if self.seven_bit else b"quoted-printable"

    def fill(self, fields: dict[str, str]) -> str:
        pieces = self.pieces[:]
        pieces[1::2] = [fields[name] for name in pieces[1::2]]
        return "".join(pieces)

    def encoded(self, fields: dict[str, str]) -> bytes:
        text = self.fill(fields)
        if self.seven_bit:
            return text.encode("ascii")
        return binascii.b2a_qp(text.encode(), istext=True)


class Rendered:
    """One rendering: subject, both bodies and the header block, waiting for a recipient."""

    def __init__(self, kind: str, subject: str, text: str, html: str, sender: str, date: str, nonce: str) -> None:
        marks = re.compile(f"@@{nonce}-([a-z_]+)@@")
        self.kind, self.subject, self.sender, self.date = kind, subject, sender, date
        self.text, self.html = _Body(text, marks), _Body(html, marks)
        self.boundary = f"=_signaal_{nonce}"
        head = EmailMessage(policy=SMTP)
        # Folded and RFC 2047-encoded by the library, once; it refuses line breaks (no injection).
        head["From"] = sender
        head["Subject"] = subject
        shared = (
            f"Date: {date}\r\n"
            "Auto-Submitted: auto-generated\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n\r\n'
        )
        self._shared = bytes(head).rstrip(b"\r\n") + b"\r\n" + shared.encode()
        self._part_head = f'--{self.boundary}\r\nContent-Type: text/%s; charset="utf-8"\r\n'.encode()

    def raw(self, to: str, fields: dict[str, str]) -> bytes:
        return b"".join(
            (
                b"To: ",
                to.encode("ascii"),
                b"\r\nMessage-ID: ",
                fields["message_id"].encode("ascii"),
                b"\r\nList-Unsubscribe: <",
                fields["unsubscribe"].encode("ascii"),
                b">\r\n",
                self._shared,
                self._part(b"plain", self.text, fields),
                self._part(b"html", self.html, fields),
                f"--{self.boundary}--\r\n".encode(),
            )
        )

    def _part(self, subtype: bytes, body: _Body, fields: dict[str, str]) -> bytes:
        # The CRLF before a boundary belongs to the boundary (RFC 2046), so the body's own last one needs another.
        encoding = b"Content-Transfer-Encoding: " + body.encoding + b"\r\n\r\n"
        return self._part_head % subtype + encoding + body.encoded(fields) + b"\r\n"

    def mail(self, to: str, fields: dict[str, str]) -> Mail:
        return Mail(
            to,
            self.subject,
            self.text.fill(fields).replace("\r\n", "\n"),
            self.html.fill(fields).replace("\r\n", "\n"),
            unsubscribe_url=fields["unsubscribe"],
            message_id=fields["message_id"],
            kind=self.kind,
        )


class Renderer:
    """The renderings of one batch; made inside an app context (templates and links need it)."""

    def __init__(self, app: Flask, moment: datetime) -> None:
        config = app.config
        self.sender, self.sender_name = config["MAIL_FROM"], config["SENDER_NAME"]
        self.domain = sender_domain(self.sender)
        self.date = format_datetime(moment)
        self.nonce = secrets.token_hex(8)
        self._links = {name: _link_around(endpoint) for name, endpoint in LINKS.items()}
        self._cache: dict[tuple[tuple[int, ...], str], Rendered] = {}

    def outgoing(self, job: Job) -> Outgoing:
        recipient = job.recipient
        to = recipient.email or ""
        if not ADDRESS.fullmatch(to):
            raise UnsendableAddress("the stored address is not one sign-up accepts")
        messages = sorted([job.message, *(m for _, m in job.digest)], key=_digest_order)
        key = (tuple(m.version_id for m in messages), recipient.language)
        rendered = self._cache.get(key)
        if rendered is None:
            rendered = self._cache[key] = self._render(messages, recipient.language)
        # Only public_id goes into a token; a transient row is enough to sign it.
        subscription = Subscription(public_id=recipient.public_id)
        fields = {"message_id": message_id(job.delivery_id, self.domain)}
        for name, token in (("unsubscribe", unsubscribe_token(subscription)), ("manage", manage_token(subscription))):
            (before, after), (html_before, html_after) = self._links[name]
            fields[name] = before + token + after
            fields[f"{name}_html"] = html_before + token + html_after  # tokens are URL-safe base64 and dots
        return Outgoing(job, to, rendered, fields)

    def _render(self, messages: list[Message], language: str) -> Rendered:
        kind = "digest" if len(messages) > 1 else messages[0].kind
        with force_locale(language):
            items = [_item(message, language) for message in messages]
            subject = digest_subject(len(items), self.sender_name) if kind == "digest" else items[0]["subject"]
            context: dict[str, Any] = {
                "items": items,
                "subject": subject,
                "lang": language,
                "sender_name": self.sender_name,
                **{f"{name}_url": self._mark(name) for name in ("unsubscribe", "manage")},
            }
            text = _plain_templates().get_template(f"email/{kind}_text.html").render(**context).strip() + "\n"
            html_marks = {f"{name}_url": self._mark(f"{name}_html") for name in ("unsubscribe", "manage")}
            html = render_template(f"email/{kind}.html", **{**context, **html_marks})
        return Rendered(kind, subject, text, html, self.sender, self.date, self.nonce)

    def _mark(self, name: str) -> str:
        return f"@@{self.nonce}-{name}@@"


LINKS = {"unsubscribe": "selfservice.manage.unsubscribe_page", "manage": "selfservice.manage.page"}


def _link_around(endpoint: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """What comes before and after the token in a link, as text and HTML-escaped; built once."""
    probe = "TOKEN0PROBE"
    before, _probe, after = public_url(endpoint, token=probe).partition(probe)
    return (before, after), (str(escape(before)), str(escape(after)))


def message_id(delivery_id: int, domain: str) -> str:
    """Stable per delivery row: a resend of the same row is recognised as the same mail."""
    return f"<delivery-{delivery_id}@{domain}>"


def _digest_order(message: Message) -> tuple[int, int]:
    """The most serious first, then the oldest alert first."""
    return (-Level(message.level).rank, message.alert_id)


def subject_line(message: Message, label: str, headline: str) -> str:
    """The headline with its level in front (once: editors often start headlines with it)."""
    mark = TEST_MARK if message.test else ""
    if message.kind == MsgType.CANCEL:
        return f"{mark}{STATES[State.WITHDRAWN]}: {headline}"
    title = headline if headline.casefold().startswith(label.casefold()) else f"{label}: {headline}"
    return mark + (f"{MSG_TYPES[MsgType.UPDATE]}: {title}" if message.kind == MsgType.UPDATE else title)


def digest_subject(count: int, sender_name: str) -> str:
    return ngettext("%(name)s digest: %(num)d alert", "%(name)s digest: %(num)d alerts", count, name=sender_name)


def _item(message: Message, language: str) -> dict[str, Any]:
    """What the templates show of one message, in the forced locale."""
    _lang, texts = message.text(language)
    # Editors write plain text; a line break has no place in a subject or a headline.
    headline = " ".join(texts.get("headline", "").split())
    label = str(LEVELS.get(message.level, message.level))
    cancelled = message.kind == MsgType.CANCEL
    reason = message.withdrawal_reason
    return {
        "kind": message.kind,
        "label": str(STATES[State.WITHDRAWN]) if cancelled else label,
        "colour": "#555555" if cancelled else COLOURS.get(message.level, "#555555"),
        "headline": headline,
        "subject": subject_line(message, label, headline),
        "summary": texts.get("push_text", "").strip(),
        "instruction": texts.get("instruction", "").strip(),
        "until": _("This alert applies until %(moment)s.", moment=format_moment(message.expires)),
        "reason": str(WITHDRAWAL_REASONS.get(reason, reason)) if reason else "",
        "url": message.url,
    }
