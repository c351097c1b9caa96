"""Who is asking in the HTML views: editor sessions, and the guard every editor view wears.

Accounts are made only with `flask editors ...`; nothing here creates one. Passwords, the
second factor and the lockout are in login.py; API tokens in tokens.py.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for

from core.db import db

from .models import Editor, Role
from .totp import must_enrol

P = ParamSpec("P")
R = TypeVar("R")

SESSION_KEY = "editor_id"
EPOCH_KEY = "session_epoch"  # Editor.session_epoch when the session began; logout bumps it
# Where an editor who must switch on the second factor is sent first.
ENROL_ENDPOINT = "account.two_step"


def normalise_email(email: str) -> str:
    return email.strip().lower()


# --- sessions -----------------------------------------------------------------------------


def current_editor() -> Editor | None:
    """The logged-in editor, or None; an account deactivated since login counts as logged out.

    Not cached in flask.g: db.session.get() answers repeat calls from the identity map anyway,
    and g outlives a request when tests hold an app context open around several requests.
    """
    editor_id = session.get(SESSION_KEY)
    if not isinstance(editor_id, int):
        return None
    editor = db.session.get(Editor, editor_id)
    if editor is None or not editor.active or session.get(EPOCH_KEY) != editor.session_epoch:
        session.pop(SESSION_KEY, None)
        return None
    return editor


def acting_editor() -> Editor:
    """The logged-in editor, inside a view that editor_required already guards."""
    editor = current_editor()
    if editor is None:
        abort(401)
    return editor


def start_session(editor: Editor) -> None:
    end_session()
    session[SESSION_KEY] = editor.id
    session[EPOCH_KEY] = editor.session_epoch
    session.permanent = True


def end_session() -> None:
    """An empty session, so nothing put there before (by anyone) survives into the next step."""
    session.clear()
    _forget_csrf_token()


def end_every_session(editor: Editor) -> None:
    """Log out: this session and every copy of any of the editor's session cookies.

    Cookies are signed, not stored, so clearing this one alone would leave a copied cookie
    working until it expires (and a replayed cookie is refreshed on every request).
    """
    editor.session_epoch += 1
    db.session.commit()
    end_session()


def _forget_csrf_token() -> None:
    # Flask-WTF keeps the signed token in g and its secret in the session; once the session
    # is cleared the cached token belongs to nothing, so let the next form make a new one.
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)


def safe_next_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (so no open redirect via ?next=)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read "\" as "/" and drop tabs and newlines, so "/\\evil.example" and
    # "/\t/evil.example" would leave the site.
    if "\\" in target or any(ord(char) < 0x21 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def editor_required(
    role: Role = Role.EDITOR, *, before_enrolment: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """For HTML views: anonymous visitors go to the login page, too small a role gets 403.

    While REQUIRE_TOTP_FOR_PUBLISHERS holds, a publisher without a second factor is sent to
    switch it on; only views marked `before_enrolment` (enrolling itself, logging out) open.
    """
    if not isinstance(role, Role):
        raise TypeError("use @editor_required() or @editor_required(Role.X), with parentheses")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            editor = current_editor()
            if editor is None:
                abort(redirect(url_for("auth.login", next=_here())))
            if not before_enrolment and must_enrol(editor):
                abort(redirect(url_for(ENROL_ENDPOINT)))
            if not editor.role.allows(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _here() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + ("?" + query if query else "")
