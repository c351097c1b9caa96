"""The JSON shapes of /api/v1/alerts: what the public sees of a published version, what editors see.

The public shape is built only from versions that were published (the caller gets them from
alerts.queries), and its history lists published versions only, so a draft never shows up in
it. Fields and formats follow content_of(), so the public and the editor shape read alike.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, url_for
from sqlalchemy import select

from core.db import db

from .content import content_of
from .models import Alert, AlertComponent, AlertPhoto, AlertVersion
from .presentation import dose_ratio
from .queries import public_status
from .vocabulary import Level, MsgType


@dataclass(frozen=True)
class Published:
    """One published version, as far as another version's history needs it."""

    id: int
    number: int
    msg_type: MsgType
    published_at: datetime
    references_id: int | None


@dataclass
class History:
    incident_key: str
    published: list[Published] = field(default_factory=list)


def histories(alert_ids: Iterable[int]) -> dict[int, History]:
    """The published history of several alerts in one query (the list would otherwise ask per alert)."""
    ids = set(alert_ids)
    if not ids:
        return {}
    found: dict[int, History] = {
        alert_id: History(key)
        for alert_id, key in db.session.execute(select(Alert.id, Alert.incident_key).where(Alert.id.in_(ids)))
    }
    rows = db.session.execute(
        select(
            AlertVersion.alert_id,
            AlertVersion.id,
            AlertVersion.number,
            AlertVersion.msg_type,
            AlertVersion.published_at,
            AlertVersion.references_id,
        )
        .where(AlertVersion.alert_id.in_(ids), AlertVersion.published_at.is_not(None))
        .order_by(AlertVersion.alert_id, AlertVersion.number)
    )
    for alert_id, *rest in rows:
        found[alert_id].published.append(Published(*rest))
    return found


def history_of(alert: Alert) -> History:
    """The same as histories() for an alert whose versions are loaded already."""
    return History(
        alert.incident_key,
        [
            Published(v.id, v.number, v.msg_type, v.published_at, v.references_id)
            for v in alert.versions
            if v.published_at is not None
        ],
    )


def public_alert(version: AlertVersion, history: History, languages: Collection[str] | None = None) -> dict[str, Any]:
    """A published version for everyone; `languages` limits the texts (None: all of them)."""
    content = content_of(version)
    del content["publish_at"]  # scheduling is editorial business
    if languages is not None:
        content["texts"] = {lang: text for lang, text in content["texts"].items() if lang in languages}
    by_id = {p.id: p for p in history.published}
    return {
        **content,
        "id": version.alert_id,
        "incident_key": history.incident_key,
        "version": version.number,
        "msg_type": version.msg_type.value,
        # "status" tells readers whether to act on it; CAP's actual/test/exercise moves aside.
        "status": public_status(version).value,
        "message_status": content["status"],
        "severity": Level(version.level).cap_severity,
        "published_at": _iso(version.published_at),
        "references": [_published(p) for p in _chain(version.references_id, by_id)],
        "versions": [_published(p) for p in history.published],
        "withdrawal": _withdrawal(version),
        "components": [_component(c, version) for c in version.components],
        "photos": [photo_json(p, languages) for p in version.photos],
        "links": {"self": absolute(url_for("alerts_api.get_alert", alert_id=version.alert_id))},
    }


def editor_alert(alert: Alert) -> dict[str, Any]:
    """Everything a token holder works with: every version's state, the open draft, the public side."""
    open_ = alert.open_version
    public = alert.public_version
    return {
        "id": alert.id,
        "incident_key": alert.incident_key,
        "created_at": _iso(alert.created_at),
        # The newest version's state: "draft" while an update is being written, even though
        # the previous version is still public (see "public").
        "state": alert.latest.state.value,
        "public_status": public_status(public).value if public else None,
        "versions": [
            {
                "number": v.number,
                "state": v.state.value,
                "msg_type": v.msg_type.value,
                "created_at": _iso(v.created_at),
                "submitted_at": _iso(v.submitted_at),
                "approved_at": _iso(v.approved_at),
                "published_at": _iso(v.published_at),
            }
            for v in alert.versions
        ],
        "open_version": (
            {
                "number": open_.number,
                "state": open_.state.value,
                "msg_type": open_.msg_type.value,
                "review_note": open_.review_note,
                "content": content_of(open_),
                "photos": [{"id": p.id, **photo_json(p)} for p in open_.photos],
            }
            if open_
            else None
        ),
        "public": public_alert(public, history_of(alert)) if public else None,
        "links": {
            "self": absolute(url_for("alerts_api.get_draft", alert_id=alert.id)),
            "public": absolute(url_for("alerts_api.get_alert", alert_id=alert.id)),
        },
    }


def photo_json(photo: AlertPhoto, languages: Collection[str] | None = None) -> dict[str, Any]:
    alt = {lang: text for lang, text in photo.alt_text.items() if languages is None or lang in languages}
    return {
        "url": absolute(url_for("photos.photo", name=photo.file_name)),
        "thumbnail_url": absolute(url_for("photos.photo", name=photo.thumb_name)),
        "width": photo.width,
        "height": photo.height,
        "side": photo.side,
        "alt": alt,
        "credit": photo.credit,
    }


def absolute(path: str) -> str:
    """Links built from PUBLIC_URL, not from the request's Host header, which a client chooses."""
    base: str = current_app.config["PUBLIC_URL"]
    return base.rstrip("/") + path


def _component(component: AlertComponent, version: AlertVersion) -> dict[str, Any]:
    ratio = dose_ratio(component, version)
    return {
        "substance": component.substance,
        "amount": component.amount,
        "unit": component.unit,
        "expected": component.expected,
        "quantified": component.quantified,
        # 2.21 for 300 mg MDMA against the 136 mg average; None when the two do not compare.
        "times_reference": round(ratio, 2) if ratio is not None else None,
    }


def _withdrawal(version: AlertVersion) -> dict[str, Any] | None:
    """Why a cancel withdrew the alert; None for every other kind of version."""
    if version.msg_type != MsgType.CANCEL:
        return None
    reason = version.withdrawal_reason
    return {"reason": reason.value if reason else None, "note": version.withdrawal_note}


def _chain(first_id: int | None, by_id: dict[int, Published]) -> list[Published]:
    """The published versions this one replaces, oldest first (CAP references)."""
    chain: list[Published] = []
    current = by_id.get(first_id) if first_id is not None else None
    while current is not None and current not in chain:
        chain.append(current)
        current = by_id.get(current.references_id) if current.references_id is not None else None
    return chain[::-1]


def _published(p: Published) -> dict[str, Any]:
    return {"number": p.number, "msg_type": p.msg_type.value, "published_at": _iso(p.published_at)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
