"""The email channel's pure parts: what each failure means for a row, and the shared rate limit."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from delivery.channels import Outcome
from delivery.mail_pool import MessageRefused, RecipientRefused, TokenBucket, scrub
from delivery.mail_sender import SETUP_RETRY, verdict
from subscribers.mailer import MailError, MailSetupError, PermanentMailError, TransientMailError

MOMENT = datetime(2027, 1, 9, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, Outcome.SENT),
        (TransientMailError("Mailbox busy", 450), Outcome.RETRY),
        (TransientMailError("cannot reach the mail server: ConnectionRefusedError"), Outcome.RETRY),
        (RecipientRefused("5.1.1 no such user", 550), Outcome.PRUNE),
        (PermanentMailError("refused", 550), Outcome.PRUNE),  # other backends promise "suppress"
        (MessageRefused("5.7.1 spam", 554), Outcome.FAIL),
        (MailSetupError("5.7.8 authentication failed", 535), Outcome.RETRY),
    ],
)
def test_what_each_mail_failure_means_for_the_row(error: MailError | None, outcome: Outcome) -> None:
    assert verdict(error, 0, MOMENT)[0] == outcome


def test_retries_back_off_with_jitter_and_setup_errors_wait_longer() -> None:
    first = [verdict(TransientMailError("busy", 451), 0, MOMENT)[2] for _ in range(50)]
    later = [verdict(TransientMailError("busy", 451), 3, MOMENT)[2] for _ in range(50)]
    assert all(r is not None and MOMENT + timedelta(seconds=30) <= r < MOMENT + timedelta(minutes=1) for r in first)
    assert all(r is not None and MOMENT + timedelta(minutes=4) <= r < MOMENT + timedelta(minutes=8) for r in later)
    assert len(set(first)) > 1  # jitter: one batch's retries do not all come back at once
    setup = verdict(MailSetupError("auth failed", 535), 0, MOMENT)[2]
    assert setup is not None and setup >= MOMENT + SETUP_RETRY


def test_server_replies_lose_any_address_before_they_are_stored_or_logged() -> None:
    said = scrub(b"550 5.1.1 <Jan.Jansen@example.org>: Recipient address rejected:\r\n user unknown")
    assert said == "550 5.1.1 <address>: Recipient address rejected: user unknown"


class FrozenTime:
    """Time that stands still; sleeping only records how long each caller would wait."""

    def __init__(self) -> None:
        self.naps: list[float] = []
        self.lock = threading.Lock()

    def clock(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.naps.append(seconds)


def test_the_bucket_is_shared_fairly_by_the_pools_threads() -> None:
    time = FrozenTime()
    bucket = TokenBucket(4, clock=time.clock, sleep=time.sleep)

    def lane() -> None:
        for _ in range(5):
            bucket.take()

    lanes = [threading.Thread(target=lane) for _ in range(4)]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()
    # 20 mails at 4 a second: 4 at once, then each waits a quarter second longer than the one before.
    assert bucket.taken == 20
    assert sorted(time.naps) == pytest.approx([k / 4 for k in range(1, 17)])


def test_no_rate_limit_means_no_waiting() -> None:
    time = FrozenTime()
    bucket = TokenBucket(0, clock=time.clock, sleep=time.sleep)
    for _ in range(100):
        bucket.take()
    assert time.naps == []
