"""Logging in: the password, then (for accounts that have one) the second factor, and the lockout.

Between the two steps the signed session holds only a short-lived "password passed" note;
current_editor() does not read it, so nothing behind editor_required opens until the code
has passed too. Wrong passwords and wrong codes count toward the same lockout, and a right
password alone does not reset the count for an account with a second factor: otherwise the
password would buy an endless run of code guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, session
from sqlalchemy import select

from core import clock
from core.db import db

from . import totp
from .auth import end_session, normalise_email
from .models import Editor
from .passwords import needs_rehash, upgraded_hash, verify_dummy, verify_password

MAX_FAILED_LOGINS = 10
LOCKOUT = timedelta(minutes=15)
PENDING_KEY = "login_pending"
# Long enough to open the app and type a code, short enough that a forgotten tab is useless.
PENDING_LIFETIME = timedelta(minutes=5)


def login_rate_limit() -> str:
    """Attempts per client address for every form that checks a password or a code.

    Read per request, so tests and operators can change it without rebuilding the app.
    """
    limit: str = current_app.config["LOGIN_RATE_LIMIT"]
    return limit


def authenticate(email: str, password: str) -> Editor | None:
    """Check a login attempt's password and keep the failure count; None for every kind of refusal.

    Every path verifies one argon2 hash, so the answer time does not reveal whether the
    email exists, the account is locked or the account is inactive.
    """
    editor = db.session.scalar(select(Editor).where(Editor.email == normalise_email(email)))
    if editor is None:
        verify_dummy(password)
        return None
    moment = clock.now()
    if is_locked(editor, moment):
        verify_dummy(password)
        return None
    if not verify_password(editor.password_hash, password):
        _count_failure(editor, moment)
        return None
    if not editor.active:
        return None
    if not editor.has_totp:
        _clear_failures(editor)
    if needs_rehash(editor.password_hash):
        editor.password_hash = upgraded_hash(password)
    db.session.commit()
    return editor


def is_locked(editor: Editor, moment: datetime) -> bool:
    return editor.locked_until is not None and editor.locked_until > moment


# --- the second step ----------------------------------------------------------------------


@dataclass(frozen=True)
class PendingLogin:
    editor: Editor
    next_path: str | None


def begin_second_step(editor: Editor, next_path: str | None) -> None:
    """Remember, for a few minutes, that `editor` gave the right password; not logged in yet."""
    end_session()
    until = clock.now() + PENDING_LIFETIME
    session[PENDING_KEY] = {"editor": editor.id, "until": until.timestamp(), "next": next_path}


def pending_login() -> PendingLogin | None:
    """The login waiting for its code, or None when there is none, it expired or its account went."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    editor_id, until, next_path = pending.get("editor"), pending.get("until"), pending.get("next")
    if not isinstance(editor_id, int) or not isinstance(until, float) or until <= clock.now().timestamp():
        session.pop(PENDING_KEY, None)
        return None
    editor = db.session.get(Editor, editor_id)
    if editor is None or not editor.active or not editor.has_totp:
        session.pop(PENDING_KEY, None)
        return None
    return PendingLogin(editor, next_path if isinstance(next_path, str) else None)


def pass_second_step(pending: PendingLogin, code: str) -> bool:
    """Check the code of a pending login; a wrong one counts toward the lockout. Commits."""
    editor, moment = pending.editor, clock.now()
    if is_locked(editor, moment):
        return False
    if totp.check_code(editor, code):
        _clear_failures(editor)
        db.session.commit()
        return True
    _count_failure(editor, moment)
    return False


def confirm_identity(editor: Editor, password: str, code: str) -> bool:
    """Password and current code again, before switching the second factor off. Commits.

    Failures count toward the lockout: a session left open must not become a way to guess
    the password without limit.
    """
    moment = clock.now()
    if is_locked(editor, moment):
        verify_dummy(password)
        return False
    if verify_password(editor.password_hash, password) and totp.check_code(editor, code):
        _clear_failures(editor)
        db.session.commit()
        return True
    _count_failure(editor, moment)
    return False


# --- the lockout --------------------------------------------------------------------------


def _count_failure(editor: Editor, moment: datetime) -> None:
    editor.failed_logins += 1
    if editor.failed_logins >= MAX_FAILED_LOGINS:
        editor.locked_until = moment + LOCKOUT
        editor.failed_logins = 0
    db.session.commit()


def _clear_failures(editor: Editor) -> None:
    editor.failed_logins = 0
    editor.locked_until = None
