"""Outgoing mail behind one small interface, with the backend chosen by MAIL_BACKEND.

- "console" (the development default) writes each message as an .eml file and logs where,
  so `make run` works without a mail server and the confirmation link can be opened;
- "smtp" sends through SMTP_HOST with smtplib.

A caller builds a `Mail` (subscribers/mails.py renders them from templates/email/) and
hands it to `current_mailer().send(mail)`. Failures come as three exception types, because
each calls for a different reaction:

- TransientMailError: 4xx replies, refused connections, timeouts. Retry later.
- PermanentMailError: 5xx for this recipient or message. Retrying will not help; the
  delivery work suppresses the address.
- MailSetupError: our side is wrong (login refused, STARTTLS missing, sender refused).
  Tell an operator; never suppress recipients for it.

The delivery work will add a pooled sender that reuses connections; it can register itself
as another backend and keep `send()`.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from core import clock

log = logging.getLogger(__name__)

TLS_MODES = ("none", "starttls", "ssl")
MAX_LINE = 998  # RFC 5322's hard limit on a line, CRLF not counted


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    # Every mail but the sign-up confirmation carries one (RFC 2369 and RFC 8058).
    unsubscribe_url: str | None = None
    # The delivery work passes a stable id per delivery row, so clients drop duplicates.
    message_id: str | None = None
    # What kind of mail this is; logs name the kind, never the address.
    kind: str = "mail"


class MailError(Exception):
    def __init__(self, reason: str, code: int | None = None):
        super().__init__(f"{code} {reason}" if code else reason)
        self.reason = reason
        self.code = code


class TransientMailError(MailError):
    """Try again later: the server or the network had a temporary problem."""


class PermanentMailError(MailError):
    """The server refused this recipient or message for good."""


class MailSetupError(MailError):
    """Our configuration is wrong; no recipient is at fault."""


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Deliver one message or raise a MailError subclass."""


# RFC 5322 allows lines of 998 characters. At the default 78, a long List-Unsubscribe URL (no
# spaces to fold at) would be turned into RFC 2047 encoded words, which mail clients cannot use.
HEADER_POLICY = SMTP.clone(max_line_length=998)


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message: multipart/alternative with a plain-text and an HTML part."""
    for value in (mail.to, mail.subject, mail.unsubscribe_url or "", mail.message_id or ""):
        # Addresses are validated on sign-up; this guards every other way a value gets here.
        if "\r" in value or "\n" in value:
            raise ValueError("line breaks are not allowed in mail headers")
    message = EmailMessage(policy=HEADER_POLICY)
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = mail.message_id or make_msgid(domain=sender_domain(sender))
    # RFC 3834: tells autoresponders (holiday replies) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text, cte=_transfer_encoding(mail.text))
    message.add_alternative(mail.html, subtype="html", cte=_transfer_encoding(mail.html))
    return message


def _transfer_encoding(body: str) -> str | None:
    """7bit for plain ASCII, so links stay whole in the raw message (a newcomer reads the console
    backend's .eml files in a text editor); quoted-printable would cut them every 76 characters.
    Anything else is left to the library's choice."""
    if body.isascii() and all(len(line) <= MAX_LINE for line in body.splitlines()):
        return "7bit"
    return None


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


class ConsoleMailer:
    """Development: each message becomes an .eml file any mail program (or a text editor) opens."""

    def __init__(self, directory: Path, sender: str):
        self.directory = directory
        self.sender = sender

    def send(self, mail: Mail) -> None:
        message = build_message(mail, self.sender)
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = clock.now().strftime("%Y%m%dT%H%M%S")
        path = self.directory / f"{stamp}-{mail.kind}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(message.as_bytes())
        # A warning, not info: nothing was sent, which in production would be a mistake.
        log.warning("console mail backend: %s mail written to %s (nothing was sent)", mail.kind, path)


@dataclass
class SmtpMailer:
    """One connection per message for now; the delivery work replaces this with a pool."""

    host: str
    port: int
    tls: str
    sender: str
    username: str = ""
    password: str = field(default="", repr=False)  # never in reprs, logs or tracebacks' locals
    timeout: float = 10

    def __post_init__(self) -> None:
        if self.tls not in TLS_MODES:
            raise MailSetupError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {self.tls!r}")

    def send(self, mail: Mail) -> None:
        message = build_message(mail, self.sender)
        envelope_from = parseaddr(self.sender)[1]
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message, from_addr=envelope_from, to_addrs=[mail.to])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()), (550, b"recipient refused"))
            raise _by_code(code, reply) from None
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused, smtplib.SMTPHeloError) as error:
            raise _by_code(error.smtp_code, error.smtp_error, ours=True) from None
        except smtplib.SMTPConnectError as error:
            raise _by_code(error.smtp_code, error.smtp_error, ours=True) from None
        except smtplib.SMTPResponseException as error:  # DATA refused, and the rest
            raise _by_code(error.smtp_code, error.smtp_error) from None
        except smtplib.SMTPNotSupportedError as error:  # no STARTTLS or AUTH offered
            raise MailSetupError(str(error)) from None
        except ssl.SSLCertVerificationError as error:
            raise MailSetupError(f"TLS certificate not accepted: {error.verify_message}") from None
        except (smtplib.SMTPException, OSError) as error:  # disconnects, refused connections, timeouts
            raise TransientMailError(f"{type(error).__name__}: {error}") from None

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.tls == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp


def _by_code(code: int, reply: bytes | str, ours: bool = False) -> MailError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if 400 <= code < 500:
        return TransientMailError(text, code)
    if 500 <= code < 600:
        return MailSetupError(text, code) if ours else PermanentMailError(text, code)
    # A reply outside the SMTP ranges (smtplib reports -1 for garbled ones): try again.
    return TransientMailError(text, code)


MailerFactory = Callable[[Flask], Mailer]


def _console(app: Flask) -> Mailer:
    directory = app.config["MAIL_CONSOLE_DIR"] or Path(app.instance_path) / "mail"
    return ConsoleMailer(Path(directory), app.config["MAIL_FROM"])


def _smtp(app: Flask) -> Mailer:
    c = app.config
    return SmtpMailer(
        host=c["SMTP_HOST"],
        port=int(c["SMTP_PORT"]),
        tls=c["SMTP_TLS"],
        sender=c["MAIL_FROM"],
        username=c["SMTP_USERNAME"] or "",
        password=c["SMTP_PASSWORD"] or "",
        timeout=float(c["SMTP_TIMEOUT_SECONDS"]),
    )


BACKENDS: dict[str, MailerFactory] = {"console": _console, "smtp": _smtp}


def register_backend(name: str, factory: MailerFactory) -> None:
    BACKENDS[name] = factory


def current_mailer() -> Mailer:
    """The backend MAIL_BACKEND names, built from the current config (cheap: no connection yet)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    name = app.config["MAIL_BACKEND"]
    if name not in BACKENDS:
        raise MailSetupError(f"MAIL_BACKEND must be one of {', '.join(sorted(BACKENDS))}, not {name!r}")
    return BACKENDS[name](app)
