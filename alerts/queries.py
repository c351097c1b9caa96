"""The public read side: which versions the public sees, and in what order."""

from __future__ import annotations

import enum

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.clock import now
from core.db import db
from regions.reach import reach

from .models import Alert, AlertVersion
from .vocabulary import Level, MsgType, State, Status

_WITH_PARTS = (
    selectinload(AlertVersion.texts),
    selectinload(AlertVersion.photos),
    selectinload(AlertVersion.areas),
    selectinload(AlertVersion.components),
)


class PublicStatus(enum.StrEnum):
    ACTIVE = "active"
    NOT_YET_EFFECTIVE = "not_yet_effective"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


def active_versions() -> list[AlertVersion]:
    """Published, effective, unexpired alerts: most severe first, then newest first."""
    moment = now()
    versions = db.session.scalars(
        select(AlertVersion)
        .where(
            AlertVersion.state == State.PUBLISHED,
            AlertVersion.msg_type != MsgType.CANCEL,
            # Test and exercise messages are for the people running the system, not the public.
            AlertVersion.status == Status.ACTUAL,
            AlertVersion.effective <= moment,
            AlertVersion.expires > moment,
        )
        .options(*_WITH_PARTS)
    ).all()
    return sorted(versions, key=lambda v: (-Level(v.level).rank, -(v.published_at or moment).timestamp()))


def recent_withdrawals() -> list[AlertVersion]:
    """Cancel versions still within their notice period (lifecycle.CANCEL_NOTICE): newest first.

    Feeds show them for a while so readers who saw an alert learn it was withdrawn; once the
    cancel version expires the notice goes too.
    """
    moment = now()
    versions = db.session.scalars(
        select(AlertVersion)
        .where(
            AlertVersion.state == State.PUBLISHED,
            AlertVersion.msg_type == MsgType.CANCEL,
            AlertVersion.status == Status.ACTUAL,
            AlertVersion.effective <= moment,
            AlertVersion.expires > moment,
        )
        .options(*_WITH_PARTS)
    ).all()
    return sorted(versions, key=lambda v: -(v.published_at or moment).timestamp())


def public_version(alert_id: int) -> AlertVersion | None:
    """The newest published version of an alert (a cancel notice if it was withdrawn), or None."""
    return db.session.scalars(
        select(AlertVersion)
        .join(Alert)
        .where(Alert.id == alert_id, AlertVersion.published_at.is_not(None))
        .order_by(AlertVersion.number.desc())
        .limit(1)
        .options(*_WITH_PARTS)
    ).first()


def published_version(alert_id: int, number: int) -> AlertVersion | None:
    """Version `number` of an alert if it was ever published (superseded ones too), else None.

    Every published version stays readable, since CAP messages refer to each other by version;
    drafts and versions closed unpublished answer None, the same as numbers that never existed.
    """
    return db.session.scalars(
        select(AlertVersion)
        .where(
            AlertVersion.alert_id == alert_id,
            AlertVersion.number == number,
            AlertVersion.published_at.is_not(None),
        )
        .options(*_WITH_PARTS)
    ).first()


def public_status(version: AlertVersion) -> PublicStatus:
    if version.msg_type == MsgType.CANCEL:
        return PublicStatus.WITHDRAWN
    moment = now()
    if version.state == State.EXPIRED or version.expires <= moment:
        return PublicStatus.EXPIRED
    if version.effective > moment:
        return PublicStatus.NOT_YET_EFFECTIVE
    return PublicStatus.ACTIVE


def withdrawn_original(cancel: AlertVersion) -> AlertVersion | None:
    """What a cancel version withdrew (for showing what the warning was about)."""
    return cancel.references


def reach_of(version: AlertVersion) -> frozenset[str]:
    """Every region code this version concerns: its regions, what lies in them and what they lie in.

    An alert is "for NL-NH" when NL-NH is in this set, the same rule subscriber matching uses.
    """
    circle = None
    if version.circle_lat is not None and version.circle_lon is not None and version.circle_radius_km is not None:
        circle = (version.circle_lat, version.circle_lon, version.circle_radius_km)
    return reach(tuple(sorted(version.area_codes)), circle)
