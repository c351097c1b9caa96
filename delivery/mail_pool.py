"""A small pool of kept-open SMTP connections, one thread each, sharing one rate limit.

Each connection stays open across batches: a new connection per mail (TCP, EHLO, TLS, AUTH)
costs more than the mail. A batch is split over at most MAIL_POOL_SIZE lanes; a lane takes
mails from a shared queue and sends them one transaction at a time on its own connection.

What a reply means (the same rules as subscribers/mailer.py, by stage):

| stage          | 2xx  | 4xx, 421, dropped, timeout | 5xx                                              |
|----------------|------|----------------------------|--------------------------------------------------|
| connect, login |      | TransientMailError         | MailSetupError (our side: login, STARTTLS, TLS)  |
| MAIL FROM      |      | TransientMailError         | MailSetupError (our sender refused)              |
| RCPT TO        |      | TransientMailError         | RecipientRefused: the address is suppressed      |
| DATA           | sent | TransientMailError         | 5.1.x/5.2.x RecipientRefused, else MessageRefused |

A connection found closed at MAIL FROM (servers drop idle ones, often after a 421) is
reopened and the mail tried once more at once: nothing of it had reached the server.
"""

from __future__ import annotations

import logging
import queue
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from subscribers.mailer import MailError, MailSetupError, PermanentMailError, TransientMailError

log = logging.getLogger(__name__)
# An enhanced status code about the mailbox itself (RFC 3463: 5.1.x address, 5.2.1 disabled).
_MAILBOX_STATUS = re.compile(r"^\s*5\.(1\.\d+|2\.1)\b")
_ADDRESS_IN_REPLY = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


class RecipientRefused(PermanentMailError):
    """5xx about the recipient: the address does not take mail. Suppress it."""


class MessageRefused(PermanentMailError):
    """5xx about this message (content, policy): not resent, but the address stays."""


class _Dropped(Exception):
    """The connection is unusable (closed, reset, timed out, 421)."""

    def __init__(self, reason: str, at_start: bool) -> None:
        super().__init__(reason)
        self.at_start = at_start


class TokenBucket:
    """At most `rate` mails a second on average, in bursts of up to one second's worth; 0 = no limit.

    Each caller reserves a token and sleeps off its own debt outside the lock, so lanes wait
    their turn fairly. `clock` and `sleep` are injectable so tests control time.
    """

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.capacity = max(1.0, rate)
        self.tokens, self.stamp = self.capacity, clock()
        self.taken = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        if self.rate <= 0:
            return
        with self._lock:
            moment = self.clock()
            self.tokens = min(self.capacity, self.tokens + (moment - self.stamp) * self.rate) - 1
            self.stamp = moment
            self.taken += 1
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if wait > 0:
            self.sleep(wait)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # none | starttls | ssl
    envelope_from: str
    username: str = ""
    password: str = field(default="", repr=False)  # never in reprs, logs or tracebacks' locals
    timeout: float = 10


@dataclass(frozen=True)
class Envelope:
    to: str
    raw: bytes


class _Batch:
    """What the lanes of one send() share: the queue, the results, and a reason to stop early.

    The caller adds mails while the lanes already send the first ones, so making the next
    mail (our CPU) overlaps with the server taking the last one (its CPU, and the round trips).
    """

    def __init__(self) -> None:
        self.mails: list[Envelope] = []
        self.results: list[MailError | None] = []
        self.todo: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        # Set when the server cannot be reached or refuses our setup: the rest are not tried.
        self.halt: MailError | None = None

    def add(self, mail: Envelope) -> None:
        self.mails.append(mail)
        self.results.append(None)
        self.todo.put(len(self.mails) - 1)

    def close(self, lanes: int) -> None:
        """No more mails: each lane stops when it takes one of these."""
        for _ in range(lanes):
            self.todo.put(None)


class SmtpPool:
    def __init__(self, settings: SmtpSettings, size: int, bucket: TokenBucket) -> None:
        self.settings, self.size, self.bucket = settings, max(1, size), bucket
        self._connections: list[smtplib.SMTP | None] = [None] * self.size
        self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="smtp")
        self._tls = ssl.create_default_context()  # verifies certificates; loaded once (CA bundles are slow)

    def send(self, mails: Iterable[Envelope]) -> list[MailError | None]:
        """One result per mail, in order: None when the server accepted it.

        `mails` may be a generator: the lanes start sending as soon as it yields the first one.
        A lane opens its connection only when it gets a mail, so idle lanes cost nothing.
        """
        batch = _Batch()
        lanes = [self._executor.submit(self._lane, slot, batch) for slot in range(self.size)]
        try:
            for mail in mails:
                batch.add(mail)
        finally:
            batch.close(len(lanes))
            for lane in lanes:
                lane.result()
        return batch.results

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for slot in range(self.size):
            self._discard(slot, polite=True)

    def _lane(self, slot: int, batch: _Batch) -> None:
        while True:
            index = batch.todo.get()
            if index is None:
                return
            if batch.halt is not None:
                batch.results[index] = batch.halt
                continue
            self.bucket.take()
            try:
                batch.results[index] = self._deliver(slot, batch, batch.mails[index])
            except Exception:
                # One broken mail must not lose the batch (the others may be out already): retry it.
                log.exception("sending a mail failed unexpectedly")
                self._discard(slot)
                batch.results[index] = TransientMailError("unexpected error while sending")

    def _deliver(self, slot: int, batch: _Batch, mail: Envelope) -> MailError | None:
        for fresh_try in (False, True):
            connection = self._connections[slot]
            reused = connection is not None
            try:
                if connection is None:
                    connection = self._connections[slot] = self._connect()
                return self._transaction(connection, mail)
            except MailError as error:  # from connecting: the same for every mail now
                batch.halt = error
                return error
            except _Dropped as dropped:
                self._discard(slot)
                if not (reused and dropped.at_start) or fresh_try:
                    return TransientMailError(str(dropped))
        raise AssertionError("unreachable")

    def _transaction(self, smtp: smtplib.SMTP, mail: Envelope) -> MailError | None:
        reply: bytes | str
        try:
            code, reply = smtp.mail(self.settings.envelope_from)
        except (smtplib.SMTPException, OSError) as error:
            raise _Dropped(f"connection lost: {type(error).__name__}", at_start=True) from None
        if code == 421:
            raise _Dropped(_said(code, reply), at_start=True)
        try:
            if code != 250:
                self._reset(smtp)
                return _by_code(code, reply, permanent=MailSetupError)
            code, reply = smtp.rcpt(mail.to)
            _closing(code, reply)
            if code not in (250, 251):
                self._reset(smtp)
                return _by_code(code, reply, permanent=RecipientRefused)
            code, reply = smtp.data(mail.raw)
        except smtplib.SMTPDataError as error:  # DATA itself refused: no valid recipient, or 421
            code, reply = error.smtp_code, error.smtp_error
        except (smtplib.SMTPException, OSError) as error:
            raise _Dropped(f"connection lost: {type(error).__name__}", at_start=False) from None
        _closing(code, reply)
        if code == 250:
            return None
        permanent = RecipientRefused if _MAILBOX_STATUS.match(_text(reply)) else MessageRefused
        return _by_code(code, reply, permanent=permanent)

    def _reset(self, smtp: smtplib.SMTP) -> None:
        """End a refused transaction so the connection can carry the next mail."""
        try:
            code, reply = smtp.rset()
        except (smtplib.SMTPException, OSError) as error:
            raise _Dropped(f"connection lost: {type(error).__name__}", at_start=False) from None
        if code != 250:
            raise _Dropped(_said(code, reply), at_start=False)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP | None = None
        try:
            if s.tls == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            smtp.ehlo()
            if s.tls == "starttls":
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
            return smtp
        except BaseException as error:
            if smtp is not None:
                smtp.close()
            raise _connect_error(error) from None

    def _discard(self, slot: int, polite: bool = False) -> None:
        connection, self._connections[slot] = self._connections[slot], None
        if connection is None:
            return
        try:
            if polite:
                connection.quit()
        except (smtplib.SMTPException, OSError):
            pass  # closing anyway
        finally:
            connection.close()


def _connect_error(error: BaseException) -> BaseException:
    if isinstance(error, smtplib.SMTPResponseException):  # refused greeting, EHLO, AUTH, STARTTLS
        return _by_code(error.smtp_code, error.smtp_error, permanent=MailSetupError)
    if isinstance(error, smtplib.SMTPNotSupportedError):  # no STARTTLS or AUTH offered
        return MailSetupError(str(error))
    if isinstance(error, ssl.SSLCertVerificationError):
        return MailSetupError(f"TLS certificate not accepted: {error.verify_message}")
    if isinstance(error, smtplib.SMTPException | OSError):  # refused connections, timeouts, resets
        return TransientMailError(f"cannot reach the mail server: {type(error).__name__}")
    return error


def _by_code(code: int, reply: bytes | str, permanent: type[MailError]) -> MailError:
    if 500 <= code < 600:
        return permanent(scrub(reply), code)
    # 4xx, and replies outside the SMTP ranges (smtplib reports -1 for garbled ones): try again.
    return TransientMailError(scrub(reply), code)


def _closing(code: int, reply: bytes | str) -> None:
    if code == 421:  # the server is closing this connection; the mail goes again later
        raise _Dropped(_said(code, reply), at_start=False)


def _said(code: int, reply: bytes | str) -> str:
    return f"{code} {scrub(reply)}"


def scrub(reply: bytes | str) -> str:
    """A server's reply without addresses in it: it is stored on the row and logged."""
    return _ADDRESS_IN_REPLY.sub("<address>", " ".join(_text(reply).split()))[:160]


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
