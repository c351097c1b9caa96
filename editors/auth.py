"""Who is asking: editor sessions for HTML views, bearer tokens for the JSON API.

Accounts are made only with `flask editors ...`; nothing here creates one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import NoReturn, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g, jsonify, make_response, redirect, request, session, url_for
from sqlalchemy import select

from core import clock
from core.db import db
from core.extensions import csrf

from .models import ApiToken, Editor, Role
from .passwords import needs_rehash, upgraded_hash, verify_dummy, verify_password

P = ParamSpec("P")
R = TypeVar("R")

SESSION_KEY = "editor_id"
MAX_FAILED_LOGINS = 10
LOCKOUT = timedelta(minutes=15)
TOKEN_PREFIX = "sgl_"  # noqa: S105 -- a public marker that makes leaked tokens easy to spot
# "sgl_" plus 8 random characters: enough to tell tokens apart, far too little to guess one.
SHOWN_PREFIX_LENGTH = 12


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
    if editor is None or not editor.active:
        session.pop(SESSION_KEY, None)
        return None
    return editor


def start_session(editor: Editor) -> None:
    # A fresh session, so nothing put there before login (by anyone) survives into it.
    session.clear()
    _forget_csrf_token()
    session[SESSION_KEY] = editor.id
    session.permanent = True


def end_session() -> None:
    session.clear()
    _forget_csrf_token()


def _forget_csrf_token() -> None:
    # Flask-WTF keeps the signed token in g and its secret in the session; once the session
    # is cleared the cached token belongs to nothing, so let the next form make a new one.
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)


def authenticate(email: str, password: str) -> Editor | None:
    """Check a login attempt and keep the failure count; None for every kind of refusal.

    Every path verifies one argon2 hash, so the answer time does not reveal whether the
    email exists, the account is locked or the account is inactive.
    """
    editor = db.session.scalar(select(Editor).where(Editor.email == normalise_email(email)))
    if editor is None:
        verify_dummy(password)
        return None
    moment = clock.now()
    if editor.locked_until is not None and editor.locked_until > moment:
        verify_dummy(password)
        return None
    if not verify_password(editor.password_hash, password):
        editor.failed_logins += 1
        if editor.failed_logins >= MAX_FAILED_LOGINS:
            editor.locked_until = moment + LOCKOUT
            editor.failed_logins = 0
        db.session.commit()
        return None
    if not editor.active:
        return None
    editor.failed_logins = 0
    editor.locked_until = None
    if needs_rehash(editor.password_hash):
        editor.password_hash = upgraded_hash(password)
    db.session.commit()
    return editor


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


def editor_required(role: Role = Role.EDITOR) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """For HTML views: anonymous visitors go to the login page, too small a role gets 403."""
    if not isinstance(role, Role):
        raise TypeError("use @editor_required() or @editor_required(Role.X), with parentheses")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            editor = current_editor()
            if editor is None:
                abort(redirect(url_for("auth.login", next=_here())))
            if not editor.role.allows(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _here() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + ("?" + query if query else "")


# --- API tokens ---------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(editor: Editor, name: str = "") -> str:
    """Store a new token for `editor` and return its secret, which is not kept anywhere."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(editor=editor, token_hash=hash_token(token), prefix=token[:SHOWN_PREFIX_LENGTH], name=name))
    db.session.commit()
    return token


def token_required(role: Role = Role.EDITOR) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """For JSON API views: a valid `Authorization: Bearer` token of an active editor.

    Missing or unknown tokens get 401 with WWW-Authenticate, too small a role 403, both as JSON.
    The view is exempt from CSRF: browsers never attach a bearer token on their own, so a
    forged cross-site request cannot carry one.
    """
    if not isinstance(role, Role):
        raise TypeError("use @token_required() or @token_required(Role.X), with parentheses")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            token = _bearer_token()
            if token is None:
                _refuse(401, "missing_token", "Send an API token as 'Authorization: Bearer <token>'.")
            api_token = _find_token(token)
            if api_token is None:
                _refuse(401, "invalid_token", "The API token is unknown, revoked or of an inactive account.")
            if not api_token.editor.role.allows(role):
                _refuse(403, "insufficient_role", f"This needs the {role.value} role or higher.")
            api_token.last_used_at = clock.now()
            db.session.commit()
            g.api_actor = api_token.editor
            return view(*args, **kwargs)

        csrf.exempt(wrapper)
        return wrapper

    return decorate


def api_actor() -> Editor:
    """The editor whose token authorised this request; only inside a @token_required view."""
    editor: Editor | None = g.get("api_actor")
    if editor is None:
        raise RuntimeError("api_actor() called outside a @token_required view")
    return editor


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def _find_token(token: str) -> ApiToken | None:
    # Looking up by SHA-256 means the database never holds a usable secret, and the
    # comparison happens on a hash an attacker cannot steer byte by byte.
    return db.session.scalar(
        select(ApiToken)
        .join(ApiToken.editor)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None), Editor.active)
    )


def _refuse(status: int, error: str, description: str) -> NoReturn:
    response = make_response(jsonify(error=error, description=description), status)
    if status == 401:
        challenge = 'Bearer realm="signaal"'
        if error == "invalid_token":
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    abort(response)
