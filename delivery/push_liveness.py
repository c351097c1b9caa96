"""When a push subscription last showed it is alive, and deleting those that stopped.

A dead endpoint usually announces itself (404 or 410: the row is pruned at once), but some never
do: the push service keeps refusing (a permanent error, or retries until the alert expires),
or the browser went without telling anyone. Such a row keeps an endpoint and keys we cannot use.

Signs of life are the browser vouching for the endpoint (subscribing or moving it sets
confirmed_at) and a push service accepting a push (the latest sent_at of its outbox rows: read
here, by the hourly purge, rather than written on the subscription by the worker, which would
cost every batch an UPDATE of up to a batch of subscription rows, some 50 µs a push). A push
subscription is stale, and deleted, when it showed neither for STALE_PUSH_RETENTION_DAYS and
since then an alert that reached other push subscribers failed to reach it. Silence alone is
not enough: in a region without alerts a healthy subscription has nothing to prove itself
with, and deleting it would quietly stop its warnings. Nor is failure alone: when our own
side is broken (bad VAPID keys, a payload bug) every push fails, and that must not cost us
every subscriber. What remains: a push service refusing all our pushes for the whole window
(it is logged as an operator error at every batch) costs its subscribers.

The evidence lives in outbox rows, so it lasts as long as they do (DELIVERY_RETENTION_DAYS);
after that a subscription is kept until it fails again.
"""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from core.purge import BATCH_SIZE, cutoff, delete_in_batches
from subscribers.models import Channel, Subscription

from .models import Delivery, Status


def purge_stale_pushes(batch_size: int = BATCH_SIZE) -> int:
    """Delete push subscriptions silent for STALE_PUSH_RETENTION_DAYS that alerts since failed to reach."""
    before = cutoff("STALE_PUSH_RETENTION_DAYS")
    if before is None:
        return 0
    s = Subscription
    accepted = aliased(Delivery)
    last_success = (
        select(func.max(accepted.sent_at))
        .where(accepted.subscription_id == s.id, accepted.status == Status.SENT)
        .correlate(s)  # also where it is used inside the EXISTS below, two levels down
        .scalar_subquery()
    )
    # Each sign of life, or the row's creation when there was none (SQLite has no greatest()).
    signs_of_life = [
        s.created_at,
        func.coalesce(s.confirmed_at, s.created_at),
        func.coalesce(last_success, s.created_at),
    ]
    others = aliased(Delivery)
    reached_others = exists().where(
        others.version_id == Delivery.version_id, others.channel == Channel.PUSH, others.status == Status.SENT
    )
    failed_since = exists().where(
        Delivery.subscription_id == s.id,
        Delivery.attempts > 0,
        Delivery.status != Status.SENT,
        *(Delivery.created_at > sign for sign in signs_of_life),
        reached_others,
    )
    where = [s.channel == Channel.PUSH, *(sign < before for sign in signs_of_life), failed_since]
    # Their areas go with them; their outbox rows stay, anonymised (ON DELETE SET NULL), for the counts.
    return delete_in_batches(Subscription, where, batch_size=batch_size)
