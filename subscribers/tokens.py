"""Signed links for subscribers, who have no account: the link is the key.

Each purpose signs with its own salt, so a token made for one purpose never verifies as
another (an old unsubscribe link cannot confirm an address, a confirmation link cannot
manage). Tokens carry only the subscription's random public_id, never the address or the
numeric id; a deleted subscription has no row for its public_id, so its links die with it.

- manage: no expiry (it sits in every mail and on the confirmation page);
- unsubscribe: no expiry (List-Unsubscribe headers, RFC 8058);
- confirm: expires after CONFIRM_TOKEN_HOURS (default 48).

Timestamps come from core.clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from core import clock
from core.db import db

from .models import Subscription

MANAGE_SALT = "signaal.subscription.manage"
UNSUBSCRIBE_SALT = "signaal.subscription.unsubscribe"
CONFIRM_SALT = "signaal.subscription.confirm"


def new_public_id() -> str:
    """A fresh public_id for a new subscription: 32 URL-safe characters, 192 random bits."""
    return secrets.token_urlsafe(24)


class _ClockSigner(TimestampSigner):
    """Reads the time from core.clock, which tests can freeze, instead of time.time()."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=_ClockSigner)


def _dump(salt: str, subscription: Subscription) -> str:
    if not subscription.public_id:
        raise ValueError("the subscription has no public_id yet")
    return _serializer(salt).dumps(subscription.public_id)


def _public_id(salt: str, token: str, max_age: int | None) -> str | None:
    try:
        # loads_unsafe is never used: a bad signature or an old timestamp is simply "no".
        value = _serializer(salt).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return value if isinstance(value, str) else None


def _by_public_id(public_id: str | None) -> Subscription | None:
    if public_id is None:
        return None
    return db.session.scalar(select(Subscription).where(Subscription.public_id == public_id))


def manage_token(subscription: Subscription) -> str:
    return _dump(MANAGE_SALT, subscription)


def subscription_from_manage_token(token: str) -> Subscription | None:
    return _by_public_id(_public_id(MANAGE_SALT, token, None))


def unsubscribe_token(subscription: Subscription) -> str:
    return _dump(UNSUBSCRIBE_SALT, subscription)


def public_id_from_unsubscribe_token(token: str) -> str | None:
    """The public_id a genuine unsubscribe token names, whether or not it still exists.

    One-click unsubscribe must answer 200 again for a subscription already gone, and tell
    that apart from a forged token, so the caller needs the id, not only the row.
    """
    return _public_id(UNSUBSCRIBE_SALT, token, None)


def subscription_from_unsubscribe_token(token: str) -> Subscription | None:
    return _by_public_id(public_id_from_unsubscribe_token(token))


def confirm_token(subscription: Subscription) -> str:
    return _dump(CONFIRM_SALT, subscription)


def subscription_from_confirm_token(token: str, max_age: int | None = None) -> Subscription | None:
    """The subscription a confirmation link names, if the link is genuine and young enough.

    max_age in seconds; default CONFIRM_TOKEN_HOURS from the config.
    """
    if max_age is None:
        max_age = int(current_app.config["CONFIRM_TOKEN_HOURS"] * 3600)
    return _by_public_id(_public_id(CONFIRM_SALT, token, max_age))
