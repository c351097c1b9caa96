"""The Mailer interface against a real SMTP server: message shape, and failures sorted by kind."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from core import clock
from subscribers.mailer import (
    ConsoleMailer,
    Mail,
    MailSetupError,
    PermanentMailError,
    SmtpMailer,
    TransientMailError,
    build_message,
    current_mailer,
)

from .smtp_server import SmtpServer, free_port

MAIL = Mail(
    to="jan@example.org",
    subject="Testbericht",
    text="Platte tekst: één regel.\n",
    html="<p>HTML: één regel.</p>\n",
    unsubscribe_url="https://signaal.test/unsubscribe/TOKEN",
    kind="test",
)


def _smtp(server: SmtpServer, **settings: object) -> SmtpMailer:
    options: dict[str, object] = {"host": server.host, "port": server.port, "tls": "none"}
    options.update(settings)
    return SmtpMailer(sender="Signaal <alerts@signaal.test>", timeout=5, **options)  # type: ignore[arg-type]


def test_a_message_is_multipart_with_the_headers_mail_clients_need(smtp_server: SmtpServer) -> None:
    clock.freeze(datetime(2026, 6, 1, 12, tzinfo=UTC))
    try:
        _smtp(smtp_server).send(MAIL)
    finally:
        clock.freeze(None)
    [received] = smtp_server.messages
    assert received.mail_from == "alerts@signaal.test" and received.recipients == ["jan@example.org"]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert received.body("plain") == MAIL.text and received.body("html") == MAIL.html
    assert message["Subject"] == "Testbericht" and message["To"] == "jan@example.org"
    assert message["From"] == "Signaal <alerts@signaal.test>"
    assert message["Date"] == "Mon, 01 Jun 2026 12:00:00 +0000"
    assert message["Message-ID"].endswith("@signaal.test>")
    assert message["List-Unsubscribe"] == "<https://signaal.test/unsubscribe/TOKEN>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"


def test_without_an_unsubscribe_url_there_are_no_list_headers() -> None:
    message = build_message(Mail("jan@example.org", "s", "t", "<p>h</p>", message_id="<row-1@signaal.test>"), "x@y.org")
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message
    assert message["Message-ID"] == "<row-1@signaal.test>"  # a stable id, as the delivery rows will pass


@pytest.mark.parametrize("field", ["to", "subject"])
def test_line_breaks_never_reach_a_header(field: str) -> None:
    values = {"to": "jan@example.org", "subject": "s", "text": "t", "html": "h"}
    values[field] += "\r\nBcc: victim@example.org"
    with pytest.raises(ValueError, match="line breaks"):
        build_message(Mail(**values), "x@y.org")


@pytest.mark.parametrize("reply", ["450 4.2.1 Mailbox busy", "421 4.3.2 Try again later"])
def test_a_4xx_on_the_recipient_is_transient(smtp_server: SmtpServer, reply: str) -> None:
    smtp_server.refuse_recipients(reply)
    with pytest.raises(TransientMailError) as caught:
        _smtp(smtp_server).send(MAIL)
    assert caught.value.code == int(reply[:3])


def test_a_5xx_on_the_recipient_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_recipients("550 5.1.1 No such user")
    with pytest.raises(PermanentMailError) as caught:
        _smtp(smtp_server).send(MAIL)
    assert caught.value.code == 550 and "No such user" in caught.value.reason
    assert smtp_server.messages == []


def test_refusals_at_the_end_of_data_are_sorted_the_same_way(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_data("451 4.3.0 Queue full")
    with pytest.raises(TransientMailError):
        _smtp(smtp_server).send(MAIL)
    smtp_server.refuse_data("554 5.7.1 Rejected as spam")
    with pytest.raises(PermanentMailError):
        _smtp(smtp_server).send(MAIL)


def test_no_server_listening_is_transient() -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=free_port(), tls="none", sender="a@signaal.test", timeout=5)
    with pytest.raises(TransientMailError, match="ConnectionRefused"):
        mailer.send(MAIL)


def test_starttls_missing_is_our_setup_and_nothing_goes_out_in_plain_text(smtp_server: SmtpServer) -> None:
    # The test server offers no STARTTLS: sending anyway would leak the mail unencrypted.
    with pytest.raises(MailSetupError):
        _smtp(smtp_server, tls="starttls").send(MAIL)
    assert smtp_server.messages == []


def test_a_login_the_server_cannot_do_is_our_setup(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailSetupError):
        _smtp(smtp_server, username="signaal", password="hunter2-secret").send(MAIL)


def test_the_password_never_shows_in_a_repr(smtp_server: SmtpServer) -> None:
    assert "hunter2-secret" not in repr(_smtp(smtp_server, username="u", password="hunter2-secret"))


def test_an_unknown_tls_mode_is_refused() -> None:
    with pytest.raises(MailSetupError, match="SMTP_TLS"):
        SmtpMailer(host="h", port=25, tls="yes", sender="a@b.org")


def test_the_console_backend_writes_eml_files_and_logs_no_address(
    app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app.config.update(MAIL_BACKEND="console", MAIL_CONSOLE_DIR=str(tmp_path / "mail"))
    mailer = current_mailer()
    assert isinstance(mailer, ConsoleMailer)
    with caplog.at_level(logging.WARNING, logger="subscribers.mailer"):
        mailer.send(MAIL)
    [written] = list((tmp_path / "mail").glob("*.eml"))
    raw = written.read_bytes()
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert str(written) in caplog.text and "nothing was sent" in caplog.text
    assert "jan@example.org" not in caplog.text


def test_the_console_backend_defaults_to_instance_mail(app: Flask) -> None:
    mailer = current_mailer()
    assert isinstance(mailer, ConsoleMailer)
    assert mailer.directory == Path(app.instance_path) / "mail"


def test_the_backend_comes_from_the_config(mail_app: Flask, smtp_server: SmtpServer) -> None:
    mailer = current_mailer()
    assert isinstance(mailer, SmtpMailer) and mailer.port == smtp_server.port
    mail_app.config["MAIL_BACKEND"] = "pigeon"
    with pytest.raises(MailSetupError, match="MAIL_BACKEND"):
        current_mailer()


def test_links_stay_whole_in_the_raw_message() -> None:
    url = "http://127.0.0.1:5000/subscribe/confirm/" + "A" * 90  # as long as a real confirmation link
    raw = build_message(Mail("jan@example.org", "s", f"Open:\n{url}\n", f'<a href="{url}">{url}</a>'), "x@y.org")
    assert raw.as_bytes().count(url.encode()) == 3  # once in the text part, twice in the HTML part


def test_a_long_unsubscribe_link_stays_a_plain_header() -> None:
    """Mail clients need the URL itself; RFC 2047 encoded words would make it unusable."""
    url = "https://signaal.test/unsubscribe/" + "T" * 120
    raw = build_message(dataclasses.replace(MAIL, unsubscribe_url=url), "Signaal <a@signaal.test>").as_bytes()
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in raw
