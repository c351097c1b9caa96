"""At most one sign-up mail per mailbox in SIGNUP_MAIL_WINDOW_SECONDS, whoever asks and how often.

Anyone can type anyone's address into the sign-up form, so without this a script could fill a
stranger's mailbox with our confirmation (or "you are already subscribed") mails. The per-client
rate limit does not stop a script that changes addresses; this does.

The mailbox is named by an HMAC (with SECRET_KEY) of the address with its local part lower-cased
too: "Jan@Example.org" and "jan@example.org" reach the same person on every real mail server,
though we store them as written. The row lives in the database, so every web process sees it,
and its primary key decides races: of two processes claiming the same mailbox, one insert
fails. Rows whose window has ended are deleted on every claim and by the scheduler's sweep,
so nothing about an address stays longer than its window.

The visitor's answer does not change when no mail is sent (email_signup.py explains why).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from core import clock
from core.db import db

from .mailer import Mail, MailError, current_mailer
from .models import SignupMailSent


def send_once(address: str, build: Callable[[], Mail]) -> bool:
    """Send the mail `build` makes unless this mailbox had one within the window; True if sent.

    A MailError frees the window again (the visitor may retry at once) and is raised.
    """
    if not _claim(address):
        return False
    try:
        current_mailer().send(build())
    except MailError:
        _release(address)
        raise
    return True


def mailbox_key(address: str) -> str:
    """The HMAC that stands for the mailbox `address` (already normalised) reaches."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    message = b"signaal.signup-mail\0" + address.strip().lower().encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def drop_expired() -> int:
    """Delete the rows whose window has ended (a periodic job; claims do it too). Idempotent."""
    window = _window()
    cutoff = clock.now() - (window or timedelta(0))
    deleted = _delete_older_than(cutoff)
    db.session.commit()
    return deleted


def _claim(address: str) -> bool:
    window = _window()
    if window is None:
        return True
    moment = clock.now()
    _delete_older_than(moment - window)
    try:
        # A plain INSERT, not session.add: the database's primary key must be what says no.
        db.session.execute(insert(SignupMailSent).values(address_key=mailbox_key(address), sent_at=moment))
        db.session.commit()
    except IntegrityError:
        # A mail went to this mailbox within the window (perhaps from another process just now).
        db.session.rollback()
        return False
    return True


def _release(address: str) -> None:
    if _window() is None:
        return
    db.session.execute(delete(SignupMailSent).where(SignupMailSent.address_key == mailbox_key(address)))
    db.session.commit()


def _delete_older_than(cutoff: datetime) -> int:
    result = db.session.execute(
        delete(SignupMailSent).where(SignupMailSent.sent_at <= cutoff).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _window() -> timedelta | None:
    """The window, or None when SIGNUP_MAIL_WINDOW_SECONDS is 0 (no limit)."""
    seconds = int(current_app.config["SIGNUP_MAIL_WINDOW_SECONDS"] or 0)
    return timedelta(seconds=seconds) if seconds > 0 else None
