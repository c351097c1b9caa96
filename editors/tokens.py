"""API tokens: bearer secrets stored as SHA-256 hashes, each with scopes, listed and revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import wraps
from typing import NoReturn, ParamSpec, TypeVar

from flask import abort, g, jsonify, make_response, request
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from core import clock
from core.db import db
from core.extensions import csrf

from .models import ApiToken, Editor, Role
from .scopes import Scope, join_scopes, parse_scopes

P = ParamSpec("P")
R = TypeVar("R")

TOKEN_PREFIX = "sgl_"  # noqa: S105 -- a public marker that makes leaked tokens easy to spot
# "sgl_" plus 8 random characters: enough to tell tokens apart, far too little to guess one.
SHOWN_PREFIX_LENGTH = 12
LAST_USED_PRECISION = timedelta(minutes=1)
NAME_MAX = 100


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(editor: Editor, name: str = "", scopes: Iterable[Scope] = ()) -> str:
    """Store a new token for `editor` and return its secret, which is not kept anywhere."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            editor=editor,
            token_hash=hash_token(token),
            prefix=token[:SHOWN_PREFIX_LENGTH],
            name=name[:NAME_MAX],
            scopes=join_scopes(scopes),
        )
    )
    db.session.commit()
    return token


def token_scopes(token: ApiToken) -> frozenset[Scope]:
    return parse_scopes(token.scopes)


def tokens_query(editor: Editor | None = None) -> Select[tuple[ApiToken]]:
    """Tokens newest first, of one editor or (None) of everyone; secrets are not in there to list."""
    query = select(ApiToken).options(joinedload(ApiToken.editor)).order_by(ApiToken.id.desc())
    return query if editor is None else query.where(ApiToken.editor_id == editor.id)


def revoke(token: ApiToken) -> bool:
    """Revoke `token` now; False if it already was. Commits."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = clock.now()
    db.session.commit()
    return True


def token_required(role: Role = Role.EDITOR, *, scope: Scope) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """For JSON API views: a valid `Authorization: Bearer` token of an active editor, with `scope`.

    Missing or unknown tokens get 401 with WWW-Authenticate, too small a role or a missing
    scope 403 (RFC 6750's insufficient_scope), all as JSON. The view is exempt from CSRF:
    browsers never attach a bearer token on their own, so a forged cross-site request cannot
    carry one.
    """
    if not isinstance(role, Role) or not isinstance(scope, Scope):
        raise TypeError("use @token_required(scope=Scope.X) or @token_required(Role.X, scope=Scope.X)")

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
            if scope not in token_scopes(api_token):
                _refuse(403, "insufficient_scope", f"This needs a token with the {scope.value} scope.", scope)
            moment = clock.now()
            # To the minute is enough for "last used", and a busy import then commits once a
            # minute rather than on every request (the commit was about 40% of a read's CPU).
            if api_token.last_used_at is None or moment - api_token.last_used_at >= LAST_USED_PRECISION:
                api_token.last_used_at = moment
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


def _refuse(status: int, error: str, description: str, scope: Scope | None = None) -> NoReturn:
    body = {"error": error, "description": description}
    if scope is not None:
        body["scope"] = scope.value
    response = make_response(jsonify(body), status)
    if status == 401:
        challenge = 'Bearer realm="signaal"'
        if error == "invalid_token":
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    elif scope is not None:
        challenge = f'Bearer realm="signaal", error="insufficient_scope", scope="{scope.value}"'
        response.headers["WWW-Authenticate"] = challenge
    abort(response)
