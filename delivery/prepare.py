"""From claimed rows to jobs: load what sending needs, and decide what waits or is dropped.

Runs inside the claiming worker before any network I/O, on data loaded in two queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Row, select
from sqlalchemy.orm import selectinload

from alerts.models import AlertVersion
from alerts.vocabulary import Level, State
from core.clock import now
from core.db import db
from subscribers.models import Channel, Digest, Subscription

from .channels import Job, Message, Recipient
from .claims import Claimed, Reschedule, among
from .timing import DEFERRABLE, next_digest, quiet_until


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    reschedules: list[Reschedule] = field(default_factory=list)
    drops: dict[int, str] = field(default_factory=dict)
    expiry: dict[int, datetime] = field(default_factory=dict)


def prepare(rows: list[Claimed]) -> Plan:
    moment = now()
    plan = Plan()
    versions = _versions({row.version_id for row in rows})
    subscriptions = _subscriptions({row.subscription_id for row in rows if row.subscription_id is not None})
    digests: dict[int, list[tuple[Claimed, Message]]] = defaultdict(list)
    base_url = current_app.config["PUBLIC_URL"].rstrip("/")
    messages = {vid: message_of(v, base_url) for vid, v in versions.items()}
    for row in rows:
        version, subscription = versions.get(row.version_id), subscriptions.get(row.subscription_id or -1)
        if subscription is None or version is None:
            plan.drops[row.delivery_id] = "the subscription is gone"
            continue
        plan.expiry[row.delivery_id] = version.expires
        if version.state != State.PUBLISHED or version.expires <= moment:
            plan.drops[row.delivery_id] = f"the alert is {version.state.value}, no longer sent"
            continue
        level = Level(version.level)
        if row.digest:
            digests[subscription.id].append((row, messages[version.id]))
            continue
        if level in DEFERRABLE and row.channel == Channel.EMAIL and subscription.digest != Digest.OFF:
            weekday = subscription.digest_weekday if subscription.digest == Digest.WEEKLY else None
            when = next_digest(subscription.digest_hour, weekday, subscription.timezone, moment)
            plan.reschedules.append(Reschedule(row.delivery_id, when, digest=True))
            continue
        quiet_end = (
            quiet_until(subscription.quiet_start, subscription.quiet_end, subscription.timezone, moment)
            if level in DEFERRABLE
            else None  # warnings and red alerts go at once: no time zone arithmetic for them
        )
        if quiet_end is not None:
            plan.reschedules.append(Reschedule(row.delivery_id, quiet_end, deferred=True))
            continue
        plan.jobs.append(Job(row.delivery_id, recipient_of(subscription), messages[version.id], row.attempts))
    for subscription_id, items in digests.items():
        (first, message), rest = items[0], items[1:]
        job = Job(first.delivery_id, recipient_of(subscriptions[subscription_id]), message, first.attempts)
        job.digest = [(row.delivery_id, other) for row, other in rest]
        plan.jobs.append(job)
    return plan


def message_of(version: AlertVersion, base_url: str) -> Message:
    return Message(
        version_id=version.id,
        alert_id=version.alert_id,
        number=version.number,
        kind=version.msg_type.value,
        level=Level(version.level).value,
        texts={
            t.lang: {"headline": t.headline, "push_text": t.push_text, "instruction": t.instruction}
            for t in version.texts
        },
        expires=version.expires,
        url=f"{base_url}/alerts/{version.alert_id}",
        # Stable per alert, so a push service replaces a queued earlier version (RFC 8030 Topic).
        topic=f"signaal-alert-{version.alert_id}",
        withdrawal_reason=version.withdrawal_reason.value if version.withdrawal_reason else None,
    )


def recipient_of(subscription: Subscription | Row[Any]) -> Recipient:
    return Recipient(
        subscription_id=subscription.id,
        public_id=subscription.public_id,
        channel=Channel(subscription.channel),
        language=subscription.language,
        endpoint=subscription.endpoint,
        p256dh=subscription.p256dh,
        auth=subscription.auth,
        email=subscription.email,
    )


def _versions(ids: set[int]) -> dict[int, AlertVersion]:
    query = select(AlertVersion).where(AlertVersion.id.in_(ids)).options(selectinload(AlertVersion.texts))
    return {v.id: v for v in db.session.scalars(query)}


# What preparing and sending need of a subscription: plain rows, not ORM objects (a batch has hundreds).
_FIELDS = (
    Subscription.id,
    Subscription.public_id,
    Subscription.channel,
    Subscription.language,
    Subscription.endpoint,
    Subscription.p256dh,
    Subscription.auth,
    Subscription.email,
    Subscription.digest,
    Subscription.digest_hour,
    Subscription.digest_weekday,
    Subscription.timezone,
    Subscription.quiet_start,
    Subscription.quiet_end,
)


def _subscriptions(ids: set[int]) -> dict[int, Row[Any]]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.execute(select(*_FIELDS).where(among(Subscription.id, ids)))}
