"""The email channel: alert, update, withdrawal and digest mails, registered as "email".

With MAIL_BACKEND "smtp" mails go through a small pool of kept-open SMTP connections
(mail_pool.py) as bytes made from one rendering per message and language (mail_render.py).
Any other MAIL_BACKEND is a `subscribers.mailer` backend and gets one `Mail` at a time: the
console one (the development default) writes each mail as an .eml file, so `make run` shows
what subscribers would get.

| what happened                              | row                                        |
|--------------------------------------------|--------------------------------------------|
| accepted                                   | SENT                                       |
| 4xx, dropped connection, timeout           | RETRY with backoff and jitter              |
| 5xx for the recipient                      | PRUNE: the subscription is deleted         |
| 5xx for the message (content, policy)      | FAIL: not resent, the address stays        |
| our setup refused (login, STARTTLS, MAIL)  | RETRY after SETUP_RETRY, error for operator |
| the stored address cannot be sent to       | FAIL                                       |

A retry never outlives the alert: the engine drops a row whose retry falls after its expiry.
Logs count outcomes per batch and never name an address.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parseaddr

from flask import Flask

from core.clock import now
from subscribers.mailer import TLS_MODES, MailError, MailSetupError, PermanentMailError, current_mailer

from .channels import Job, Outcome, Result, register
from .mail_pool import Envelope, MessageRefused, SmtpPool, SmtpSettings, TokenBucket, scrub
from .mail_render import Outgoing, Renderer, UnsendableAddress

log = logging.getLogger(__name__)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
# Our own setup is wrong: try again after an operator had time to look, not in a tight loop.
SETUP_RETRY = timedelta(minutes=10)
_random = secrets.SystemRandom()


class EmailSender:
    def __init__(self, app: Flask) -> None:
        config = app.config
        self.app = app
        self.backend: str = config["MAIL_BACKEND"]
        self.bucket = TokenBucket(float(config["MAIL_RATE_PER_SECOND"]))
        self.pool: SmtpPool | None = None
        if self.backend == "smtp":
            if config["SMTP_TLS"] not in TLS_MODES:
                raise MailSetupError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {config['SMTP_TLS']!r}")
            settings = SmtpSettings(
                host=config["SMTP_HOST"],
                port=int(config["SMTP_PORT"]),
                tls=config["SMTP_TLS"],
                envelope_from=parseaddr(config["MAIL_FROM"])[1],
                username=config["SMTP_USERNAME"] or "",
                password=config["SMTP_PASSWORD"] or "",
                timeout=float(config["SMTP_TIMEOUT_SECONDS"]),
            )
            self.pool = SmtpPool(settings, int(config["MAIL_POOL_SIZE"]), self.bucket)

    def send(self, jobs: list[Job]) -> list[Result]:
        """Called by the worker inside an app context, with no database transaction open."""
        renderer = Renderer(self.app, now())
        outgoing: list[Outgoing] = []
        results: list[Result] = []
        notes: Counter[str] = Counter()

        def rendered() -> Iterator[tuple[Outgoing, Envelope | None]]:
            # A generator: the SMTP lanes send the first mails while the next ones are made.
            for job in jobs:
                try:
                    mail = renderer.outgoing(job)
                    envelope = Envelope(mail.to, mail.raw()) if self.pool is not None else None
                except UnsendableAddress as unsendable:
                    notes[f"failed: {unsendable}"] += 1
                    results.extend(_results(job, Outcome.FAIL, str(unsendable)))
                    continue
                except Exception:
                    # Mails of this batch may be out already: one broken job must not make the
                    # worker resend them all. This one is tried again later.
                    log.exception("making an alert mail failed unexpectedly")
                    notes["retry: unexpected error while making the mail"] += 1
                    retry_at = backoff(job.attempts, now())
                    results.extend(_results(job, Outcome.RETRY, "unexpected error while making the mail", retry_at))
                    continue
                outgoing.append(mail)
                yield mail, envelope

        errors = self._deliver(rendered())
        moment = now()
        for mail, error in zip(outgoing, errors, strict=True):
            outcome, said, retry_at = verdict(error, mail.job.attempts, moment)
            gone = mail.to if outcome == Outcome.PRUNE else None
            results += _results(mail.job, outcome, said, retry_at, gone)
            if error is not None:
                notes[f"{outcome.value}: {said}"] += 1
            if isinstance(error, MailSetupError):
                notes["setup"] += 1
        self._log(len(outgoing), notes)
        return results

    def _deliver(self, outgoing: Iterator[tuple[Outgoing, Envelope | None]]) -> list[MailError | None]:
        if self.pool is not None:
            return self.pool.send(envelope for _, envelope in outgoing if envelope is not None)
        mailer = current_mailer()  # MailSetupError for an unknown MAIL_BACKEND: the worker retries the batch
        errors: list[MailError | None] = []
        for mail, _ in outgoing:
            self.bucket.take()
            try:
                mailer.send(mail.mail())
                errors.append(None)
            except MailError as error:
                errors.append(error)
        return errors

    def _log(self, count: int, notes: Counter[str]) -> None:
        setup = notes.pop("setup", 0)
        if setup:
            log.error(
                "email: the mail server refused our setup for %d mails; check SMTP_* and MAIL_FROM. They are retried",
                setup,
            )
        for what, times in sorted(notes.items()):
            log.warning("email: %s (%d times)", what, times)
        log.info("email: %d mails handed over, %d problems", count, sum(notes.values()))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def verdict(error: MailError | None, attempts: int, moment: datetime) -> tuple[Outcome, str, datetime | None]:
    """What a mail's fate means for its rows: (outcome, error to store, when to retry)."""
    if error is None:
        return Outcome.SENT, "", None
    said = scrub(str(error))
    if isinstance(error, MailSetupError):
        return Outcome.RETRY, f"our mail setup was refused: {said}", _spread(moment + SETUP_RETRY, SETUP_RETRY)
    if isinstance(error, MessageRefused):
        return Outcome.FAIL, f"the mail server refused this message: {said}", None
    if isinstance(error, PermanentMailError):
        # RecipientRefused from the pool; other mailer backends cannot tell and promise "suppress".
        return Outcome.PRUNE, f"the address does not take mail: {said}", None
    return Outcome.RETRY, said, backoff(attempts, moment)


def backoff(attempts: int, moment: datetime) -> datetime:
    """Exponential in the attempts so far, half fixed and half random, so retries do not bunch up."""
    step = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempts, 20))
    return _spread(moment + step / 2, step / 2)


def _spread(moment: datetime, width: timedelta) -> datetime:
    return moment + width * _random.random()


def _results(
    job: Job, outcome: Outcome, error: str, retry_at: datetime | None = None, gone: str | None = None
) -> list[Result]:
    """A digest mail's fate is that of every row it carries."""
    return [Result(row, outcome, error, retry_at, gone) for row in job.delivery_ids]


register("email", EmailSender)
