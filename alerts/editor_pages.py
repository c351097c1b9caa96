"""Read-only editor pages: the alert list, one alert with its history, one version, the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from core.db import db
from editors.auth import current_editor, editor_required
from editors.models import Editor, Role

from . import editor_labels as labels
from . import labels as vocabulary_labels
from .audit import AuditEntry
from .editor_forms import EDITOR_ZONE, plain_number
from .models import Alert, AlertText, AlertVersion
from .queries import public_status
from .vocabulary import PHOTO_SIDES, Level, MsgType, State, WithdrawalReason

ALERTS_PER_PAGE = 50
AUDIT_PER_PAGE = 100


def template_helpers() -> dict[str, Any]:
    """What every editor template may use (installed as the blueprint's context processor)."""
    return {
        "labels": labels,
        "label": vocabulary_labels.label,
        "choices": vocabulary_labels.choices,
        "field_label": labels.field_label,
        "public_status": public_status,
        "local_time": local_time,
        "plain_number": plain_number,
        "me": current_editor(),
        "Role": Role,
    }


def local_time(value: datetime | date | None) -> str:
    """Times as editors think of them: Amsterdam wall-clock time with its zone (CET or CEST)."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    return value.astimezone(EDITOR_ZONE).strftime("%Y-%m-%d %H:%M %Z")


def acting_editor() -> Editor:
    """The logged-in editor, inside a view that editor_required already guards."""
    editor = current_editor()
    if editor is None:
        abort(401)
    return editor


@editor_required()
def index() -> ResponseReturnValue:
    state = request.args.get("state", "")
    level = request.args.get("level", "")
    search = request.args.get("q", "").strip()[:100]
    query = _latest_versions()
    if state in tuple(State):
        query = query.where(AlertVersion.state == state)
    if level in tuple(Level):
        query = query.where(AlertVersion.level == level)
    if search:
        query = query.where(_matches(search))
    page = db.paginate(
        query.order_by(AlertVersion.updated_at.desc(), AlertVersion.id.desc()),
        per_page=ALERTS_PER_PAGE,
        error_out=False,
    )
    filters = {key: value for key, value in (("state", state), ("level", level), ("q", search)) if value}
    return render_template("editor/index.html", page=page, filters=filters, states=State, levels=Level)


def _latest_versions() -> Select[tuple[AlertVersion]]:
    newest = (
        select(func.max(AlertVersion.number))
        .where(AlertVersion.alert_id == Alert.id)
        .correlate(Alert)
        .scalar_subquery()
    )
    return (
        select(AlertVersion)
        .join(Alert, AlertVersion.alert_id == Alert.id)
        .where(AlertVersion.number == newest)
        .options(joinedload(AlertVersion.alert), selectinload(AlertVersion.texts))
    )


def _matches(search: str) -> Any:
    # Escape LIKE's wildcards so "100%" or "a_b" mean themselves.
    escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    headline = (
        select(AlertText.id)
        .where(AlertText.version_id == AlertVersion.id, func.lower(AlertText.headline).like(pattern, escape="\\"))
        .exists()
    )
    return or_(func.lower(Alert.incident_key).like(pattern, escape="\\"), headline)


@editor_required()
def alert_page(alert_id: int) -> ResponseReturnValue:
    return render_alert(db.get_or_404(Alert, alert_id))


def render_alert(alert: Alert, status: int = 200, **extra: Any) -> ResponseReturnValue:
    """The alert's editor page; actions re-show it with an error status and their message."""
    editor = acting_editor()
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.alert_id == alert.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .options(joinedload(AuditEntry.actor))
    ).all()
    open_version = alert.open_version
    context = {
        "alert": alert,
        "open_version": open_version,
        "public_version": alert.public_version,
        "actions": available_actions(alert, editor, current_app.config["SINGLE_PERSON_PUBLISHING"]),
        "entries": entries,
        "withdrawal_reasons": WithdrawalReason,
        "photo_sides": PHOTO_SIDES,
        "languages": current_app.config["LANGUAGES"],
        "photo_values": {},
        "photo_errors": {},
        **extra,
    }
    return render_template("editor/alert.html", **context), status


def available_actions(alert: Alert, editor: Editor, single_person: bool) -> frozenset[str]:
    """The buttons to offer. Only a courtesy: the lifecycle checks every rule again on POST."""
    actions: set[str] = set()
    publisher = editor.role.allows(Role.PUBLISHER)
    version = alert.open_version
    public = alert.public_version
    if version is not None:
        if version.state == State.DRAFT:
            actions |= {"edit", "submit", "photos"}
        if publisher and version.state in (State.IN_REVIEW, State.APPROVED, State.SCHEDULED):
            actions.add("send_back")
        if publisher and version.state == State.IN_REVIEW:
            own = editor.id in (version.author_id, version.updated_by_id)
            # Shown as an explanation instead of a button that can only be refused.
            actions.add("approve_own" if own and not single_person else "approve")
        if publisher and version.state == State.APPROVED:
            actions.add("publish")
    elif public is not None and public.msg_type != MsgType.CANCEL:
        actions |= {"edit", "start_update"}
    if publisher and any(v.state == State.PUBLISHED and v.msg_type != MsgType.CANCEL for v in alert.versions):
        actions.add("withdraw")
    return frozenset(actions)


@editor_required()
def version_page(alert_id: int, number: int) -> ResponseReturnValue:
    alert = db.get_or_404(Alert, alert_id)
    version = next((v for v in alert.versions if v.number == number), None)
    if version is None:
        abort(404)
    languages = current_app.config["LANGUAGES"]
    return render_template("editor/version.html", alert=alert, version=version, languages=languages)


@editor_required(Role.PUBLISHER)
def audit_log() -> ResponseReturnValue:
    page = db.paginate(
        select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).options(joinedload(AuditEntry.actor)),
        per_page=AUDIT_PER_PAGE,
        error_out=False,
    )
    alert_ids = {entry.alert_id for entry in page.items if entry.alert_id is not None}
    rows = db.session.execute(select(Alert.id, Alert.incident_key).where(Alert.id.in_(alert_ids))).tuples()
    keys = {alert_id: key for alert_id, key in rows}
    return render_template("editor/audit.html", page=page, incident_keys=keys)
