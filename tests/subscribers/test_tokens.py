"""Signed subscriber links: each kind works only as itself, confirm links expire, deletion kills them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from core import clock
from core.db import db
from subscribers import tokens
from subscribers.models import Channel, Subscription


def _subscription() -> Subscription:
    subscription = Subscription(public_id=tokens.new_public_id(), channel=Channel.EMAIL, language="nl")
    subscription.email = f"{subscription.public_id.lower()}@example.org"
    db.session.add(subscription)
    db.session.commit()
    return subscription


def test_each_kind_of_token_opens_only_its_own_door(app: Flask) -> None:
    subscription = _subscription()
    manage, unsubscribe, confirm = (
        tokens.manage_token(subscription),
        tokens.unsubscribe_token(subscription),
        tokens.confirm_token(subscription),
    )
    assert tokens.subscription_from_manage_token(manage) == subscription
    assert tokens.subscription_from_unsubscribe_token(unsubscribe) == subscription
    assert tokens.subscription_from_confirm_token(confirm) == subscription
    for wrong in (unsubscribe, confirm):
        assert tokens.subscription_from_manage_token(wrong) is None
    for wrong in (manage, confirm):
        assert tokens.subscription_from_unsubscribe_token(wrong) is None
    for wrong in (manage, unsubscribe):
        assert tokens.subscription_from_confirm_token(wrong) is None
    assert subscription.public_id not in manage  # opaque: base64, not the raw id
    assert tokens.subscription_from_manage_token(manage[:-2] + "xx") is None
    assert tokens.subscription_from_manage_token("") is None


def test_confirm_tokens_expire_and_manage_tokens_do_not(app: Flask) -> None:
    start = datetime(2026, 6, 1, 12, tzinfo=UTC)
    clock.freeze(start)
    subscription = _subscription()
    confirm, manage = tokens.confirm_token(subscription), tokens.manage_token(subscription)
    clock.freeze(start + timedelta(hours=47, minutes=59))
    assert tokens.subscription_from_confirm_token(confirm) == subscription
    clock.freeze(start + timedelta(hours=48, seconds=1))
    assert tokens.subscription_from_confirm_token(confirm) is None
    assert tokens.subscription_from_confirm_token(confirm, max_age=49 * 3600) == subscription
    app.config["CONFIRM_TOKEN_HOURS"] = 72
    assert tokens.subscription_from_confirm_token(confirm) == subscription
    clock.freeze(start + timedelta(days=3650))
    assert tokens.subscription_from_manage_token(manage) == subscription


def test_tokens_of_a_deleted_subscription_are_dead(app: Flask) -> None:
    subscription = _subscription()
    manage = tokens.manage_token(subscription)
    unsubscribe = tokens.unsubscribe_token(subscription)
    public_id = subscription.public_id
    db.session.delete(subscription)
    db.session.commit()
    assert tokens.subscription_from_manage_token(manage) is None
    assert tokens.subscription_from_unsubscribe_token(unsubscribe) is None
    # Still recognisably genuine, so one-click unsubscribe can answer "already gone".
    assert tokens.public_id_from_unsubscribe_token(unsubscribe) == public_id


def test_another_secret_key_invalidates_every_token(app: Flask) -> None:
    subscription = _subscription()
    manage = tokens.manage_token(subscription)
    app.config["SECRET_KEY"] = "another-key"
    assert tokens.subscription_from_manage_token(manage) is None
