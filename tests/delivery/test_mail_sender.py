"""The email channel end to end: publish, run the worker, and read what a real SMTP server got."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from alerts import lifecycle
from core import clock
from core.db import db
from delivery.channels import Job, Message, Outcome, Recipient
from delivery.mail_sender import EmailSender
from delivery.models import Delivery, Status
from delivery.worker import Worker
from editors.models import Editor, Role
from subscribers.models import Channel, Subscription
from tests.alert_payloads import audi_payload
from tests.delivery.test_engine import AFTERNOON, publish
from tests.delivery.test_engine import update as publish_update
from tests.factories import make_editor, make_subscription
from tests.subscribers.smtp_server import Received, SmtpServer


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def people(app: Flask, server: SmtpServer) -> tuple[Editor, Editor]:
    clock.freeze(AFTERNOON)
    app.config.update(
        DELIVERY_EMAIL_BACKEND="email",
        MAIL_BACKEND="smtp",
        SMTP_HOST=server.host,
        SMTP_PORT=server.port,
        SMTP_TLS="none",
        SMTP_TIMEOUT_SECONDS=5,
        MAIL_FROM="Signaal <alerts@signaal.test>",
        MAIL_POOL_SIZE=2,
    )
    return make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)


@pytest.fixture
def worker(app: Flask) -> Iterator[Worker]:
    worker = Worker(app, "mail-worker")
    yield worker
    worker.close()  # the SMTP connections and their threads


def drain(worker: Worker) -> None:
    while worker.run_once():
        pass


def rows() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def to(server: SmtpServer, address: str | None) -> list[Received]:
    return [m for m in server.messages if m.recipients == [address]]


def test_each_subscriber_gets_one_multipart_mail_in_their_language(
    people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    dutch = make_subscription(["NL"], channel="email")
    english = make_subscription(["NL"], channel="email", language="en")
    publish(people)
    drain(worker)
    assert sorted(r.recipients[0] for r in server.messages) == sorted([dutch.email, english.email])
    (nl,), (en,) = to(server, dutch.email), to(server, english.email)
    assert nl.message["Subject"] == "Rode alert: beige-gouden Audi-pil met meer dan 300 mg MDMA"
    assert en.message["Subject"] == "Red alert: beige-gold Audi pill with over 300 mg MDMA"
    assert "Gebruik deze pil niet." in nl.body("plain") and "Gebruik deze pil niet." in nl.body("html")
    assert "Do not use this pill." in en.body("plain") and 'lang="en"' in en.body("html")
    row = {r.subscription_id: r for r in rows()}
    for received, subscription in ((nl, dutch), (en, english)):
        headers = received.message
        assert headers.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in headers.iter_parts()] == ["text/plain", "text/html"]
        assert headers["From"] == "Signaal <alerts@signaal.test>" and received.mail_from == "alerts@signaal.test"
        assert headers["Message-ID"] == f"<delivery-{row[subscription.id].id}@signaal.test>"
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["Auto-Submitted"] == "auto-generated"
        assert parsedate_to_datetime(headers["Date"]) == AFTERNOON
    assert [r.status for r in rows()] == [Status.SENT, Status.SENT]


def test_the_list_unsubscribe_link_unsubscribes_in_one_click(
    people: tuple[Editor, Editor], server: SmtpServer, worker: Worker, client: FlaskClient
) -> None:
    leaving = make_subscription(["NL"], channel="email")
    publish(people)
    drain(worker)
    (received,) = server.messages
    url = received.message["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://signaal.test/unsubscribe/") and url in received.body("plain")
    assert client.get(urlsplit(url).path).status_code == 200  # a GET (a mail scanner) changes nothing
    assert db.session.get(Subscription, leaving.id) is not None
    answer = client.post(urlsplit(url).path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    db.session.expire_all()
    assert db.session.get(Subscription, leaving.id) is None


def test_connections_are_kept_open_across_mails_and_batches(
    people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    for _ in range(6):
        make_subscription(["NL"], channel="email")
    publish(people)
    drain(worker)
    publish(people, level="warning")
    drain(worker)
    assert len(server.messages) == 12
    assert server.sessions <= 2  # MAIL_POOL_SIZE


def test_a_resent_row_keeps_its_message_id(people: tuple[Editor, Editor], server: SmtpServer, worker: Worker) -> None:
    make_subscription(["NL"], channel="email")
    publish(people)
    drain(worker)
    # As if the worker died before recording the outcome: the row comes back and goes again.
    db.session.execute(update(Delivery).values(status=Status.PENDING))
    db.session.commit()
    drain(worker)
    first, second = server.messages
    assert first.message["Message-ID"] == second.message["Message-ID"] == f"<delivery-{rows()[0].id}@signaal.test>"


def test_a_4xx_keeps_the_row_pending_for_a_later_try(
    people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    make_subscription(["NL"], channel="email")
    publish(people)
    server.refuse_recipients("450 4.2.1 Mailbox busy")
    drain(worker)
    (row,) = rows()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert row.not_before > AFTERNOON and "450" in row.last_error
    server.refuse_recipients(None)
    clock.freeze(row.not_before)
    drain(worker)
    assert [r.status for r in rows()] == [Status.SENT] and len(server.messages) == 1


def test_a_5xx_for_the_recipient_prunes_the_subscription(
    people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    gone = make_subscription(["NL"], channel="email")
    gone_id = gone.id
    publish(people)
    server.refuse_recipients(f"550 5.1.1 <{gone.email}>: Recipient address rejected")
    drain(worker)
    (row,) = rows()
    assert row.status == Status.PRUNED and row.subscription_id is None
    assert db.session.get(Subscription, gone_id) is None
    assert "550" in row.last_error and "@" not in row.last_error  # the address is not kept


def test_a_5xx_for_the_message_fails_it_but_keeps_the_address(
    people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    kept = make_subscription(["NL"], channel="email")
    publish(people)
    server.refuse_data("554 5.7.1 Message rejected as spam")
    drain(worker)
    assert [r.status for r in rows()] == [Status.FAILED]
    assert db.session.get(Subscription, kept.id) is not None


def test_a_dropped_connection_is_retried_and_delivered_on_the_next_run(
    people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    make_subscription(["NL"], channel="email")
    publish(people)
    server.drop_data(True)
    drain(worker)
    (row,) = rows()
    assert (row.status, row.attempts) == (Status.PENDING, 1) and row.not_before > AFTERNOON
    server.drop_data(False)
    clock.freeze(row.not_before)
    drain(worker)
    assert [r.status for r in rows()] == [Status.SENT] and len(server.messages) == 1


def test_a_connection_the_server_closed_while_idle_is_reopened_at_once(
    app: Flask, people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    # One lane, so the second mail meets the idle connection. With more, any lane may take it,
    # and one without a connection opens a fresh one: a 421 there is rightly a retry for later.
    app.config["MAIL_POOL_SIZE"] = 1  # read when the worker makes its sender, at the first batch
    make_subscription(["NL"], channel="email")
    publish(people)
    drain(worker)
    server.hang_up_on_next_mail()
    publish(people, level="warning")
    drain(worker)
    assert [r.status for r in rows()] == [Status.SENT, Status.SENT]
    assert len(server.messages) == 2 and server.sessions == 2


def test_a_digest_is_one_mail_listing_every_alert(
    people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    reader = make_subscription(["NL"], channel="email", digest="daily", digest_hour=18, language="en")
    texts = audi_payload()["texts"]
    for level, pill in (("info", "Tesla"), ("caution", "Rolex")):
        headlines = {lang: {**t, "headline": f"{pill}: {t['headline']}"} for lang, t in texts.items()}
        publish(people, level=level, texts=headlines)
    drain(worker)
    assert server.messages == []
    clock.freeze(AFTERNOON.replace(hour=17))  # 18:00 in Amsterdam
    drain(worker)
    (digest,) = to(server, reader.email)
    assert digest.message["Subject"] == "Signaal digest: 2 alerts"
    text = digest.body("plain")
    assert text.index("Rolex: Red alert") < text.index("Tesla: Red alert")  # the more serious first
    assert "CAUTION" in text and "INFORMATION" in text
    assert [r.status for r in rows()] == [Status.SENT, Status.SENT]


def test_updates_and_withdrawals_say_what_they_are(
    people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    reader = make_subscription(["NL"], channel="email", language="en")
    alert = publish(people)
    drain(worker)
    publish_update(people, alert, area_description="Heel Nederland")
    drain(worker)
    lifecycle.withdraw(alert, people[1], "error", "Wrong lab result")
    drain(worker)
    first, changed, withdrawn = to(server, reader.email)
    assert changed.message["Subject"] == "Update: Red alert: beige-gold Audi pill with over 300 mg MDMA"
    assert "has changed" in changed.body("plain") and "has changed" not in first.body("plain")
    assert withdrawn.message["Subject"] == "Withdrawn: Red alert: beige-gold Audi pill with over 300 mg MDMA"
    assert "has withdrawn an alert" in withdrawn.body("plain")
    assert "Reason: Published in error" in withdrawn.body("html")
    assert len({m.message["Message-ID"] for m in server.messages}) == 3


class FakeTime:
    """Time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.naps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.now += seconds


def test_the_rate_limit_spaces_mails_out(
    app: Flask, people: tuple[Editor, Editor], server: SmtpServer, worker: Worker
) -> None:
    app.config.update(MAIL_RATE_PER_SECOND=2, MAIL_POOL_SIZE=1)
    for _ in range(6):
        make_subscription(["NL"], channel="email")
    publish(people)
    sender = worker.sender(Channel.EMAIL)
    assert isinstance(sender, EmailSender)
    time = FakeTime()
    sender.bucket.clock, sender.bucket.sleep, sender.bucket.stamp = time.clock, time.sleep, 0.0
    drain(worker)
    assert len(server.messages) == 6 and sender.bucket.taken == 6
    # A burst of one second's worth (2), then one mail every half second.
    assert time.naps == [0.5] * 4 and time.now == 2.0


def test_a_refused_setup_retries_later_and_tells_the_operator(
    app: Flask, people: tuple[Editor, Editor], server: SmtpServer, worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    app.config.update(SMTP_TLS="starttls")  # the test server offers no STARTTLS
    kept = [make_subscription(["NL"], channel="email") for _ in range(3)]
    publish(people)
    with caplog.at_level(logging.ERROR, logger="delivery.mail_sender"):
        drain(worker)
    assert {(r.status, r.attempts) for r in rows()} == {(Status.PENDING, 1)}
    assert all(r.not_before >= AFTERNOON + timedelta(minutes=10) for r in rows())
    assert all(db.session.get(Subscription, s.id) for s in kept) and server.messages == []
    assert "check SMTP_" in caplog.text and not any(s.email in caplog.text for s in kept if s.email)


def test_the_console_backend_writes_one_eml_file_per_mail(
    app: Flask, people: tuple[Editor, Editor], worker: Worker, tmp_path: Path
) -> None:
    app.config.update(MAIL_BACKEND="console", MAIL_CONSOLE_DIR=str(tmp_path))
    make_subscription(["NL"], channel="email")
    make_subscription(["NL"], channel="email", language="en")
    publish(people)
    drain(worker)
    files = sorted(tmp_path.glob("*-alert-*.eml"))
    assert len(files) == 2 and [r.status for r in rows()] == [Status.SENT, Status.SENT]
    assert all(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in f.read_bytes() for f in files)


def test_a_mail_that_cannot_be_made_is_retried_while_the_others_go_out(
    app: Flask, people: tuple[Editor, Editor], server: SmtpServer
) -> None:
    # Mails go out while the next ones are made, so a broken one must not fail (and later
    # resend) the whole batch. A version without texts cannot be made into a mail.
    good = Message(
        1,
        1,
        1,
        "alert",
        "warning",
        {"en": {"title": "High dose", "summary": "Red pill"}},
        AFTERNOON + timedelta(days=7),
        "https://signaal.test/alerts/1",
        "alert-1",
    )
    broken = dataclasses.replace(good, version_id=2, texts={})
    jobs = [
        Job(row, Recipient(row, f"sub{row}", Channel.EMAIL, "en", email=f"reader{row}@example.org"), message, 0)
        for row, message in [(1, good), (2, broken), (3, good)]
    ]
    sender = EmailSender(app)
    try:
        results = {result.delivery_id: result for result in sender.send(jobs)}
    finally:
        sender.close()
    assert [results[row].outcome for row in (1, 2, 3)] == [Outcome.SENT, Outcome.RETRY, Outcome.SENT]
    assert results[2].retry_at is not None and results[2].retry_at > AFTERNOON
    assert sorted(m.recipients[0] for m in server.messages) == ["reader1@example.org", "reader3@example.org"]
