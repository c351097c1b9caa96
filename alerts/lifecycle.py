"""The editorial workflow: the only code that changes an alert's versions.

draft → in_review → approved → (scheduled) → published → superseded | withdrawn | expired

Every function here is one transaction: it checks the rules, changes rows, writes an audit
entry and commits, or raises and changes nothing. The UI and the API both call these, so the
rules (roles, four-eyes, immutability of published versions) hold the same way for both.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from core.clock import now
from core.db import db
from delivery.planner import plan as plan_deliveries
from editors.models import Editor, Role

from . import audit
from .content import apply_content, content_of, copy_photos
from .models import Alert, AlertPhoto, AlertVersion
from .photos import store_photo
from .schema import ValidationError, validate_content, validate_photo_texts
from .vocabulary import PHOTO_SIDES, MsgType, ResponseType, State, WithdrawalReason

INCIDENT_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{2,79}$")
CANCEL_NOTICE = timedelta(days=7)
MAX_PHOTOS = 6


class WorkflowError(Exception):
    """The action does not fit the alert's current state (HTTP 409)."""

    status = 409


class NotAllowed(WorkflowError):
    """The actor's role or the four-eyes rule forbids the action (HTTP 403)."""

    status = 403


def create_alert(payload: Any, actor: Editor, incident_key: str | None = None) -> Alert:
    _require(actor, Role.EDITOR)
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    key = ""
    # Check the content and the key together, so a form shows every problem at once.
    for check in ("content", "key"):
        try:
            if check == "content":
                clean = _validate(payload)
            else:
                key = _incident_key(incident_key)
        except ValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    alert = Alert(incident_key=key, created_by_id=actor.id)
    version = AlertVersion(number=1, msg_type=MsgType.ALERT, author_id=actor.id, updated_by_id=actor.id)
    apply_content(version, clean)
    alert.versions.append(version)
    db.session.add(alert)
    db.session.flush()
    audit.record("create", actor, alert_id=alert.id, version_id=version.id, incident_key=key)
    db.session.commit()
    return alert


def edit(alert: Alert, payload: Any, actor: Editor, *, partial: bool = False) -> AlertVersion:
    """Change the open draft, or start an update of a published alert with these changes.

    With partial=True, top-level keys missing from the payload keep their current values.
    """
    _require(actor, Role.EDITOR)
    lock_alert(alert)
    version = alert.open_version
    if version is None:
        version = _start_update(alert, actor)
    elif version.state != State.DRAFT:
        raise WorkflowError(f"version {version.number} is {version.state.value}; send it back to draft first")
    if partial:
        if not isinstance(payload, dict):
            raise ValidationError({"": "the body must be a JSON object"})
        payload = {**content_of(version), **payload}
    clean = _validate(payload)
    apply_content(version, clean)
    version.updated_by_id = actor.id
    db.session.flush()
    audit.record("edit", actor, alert_id=alert.id, version_id=version.id, number=version.number)
    db.session.commit()
    return version


def start_update(alert: Alert, actor: Editor) -> AlertVersion:
    """Open a new draft that copies the published version; it will replace it when published."""
    _require(actor, Role.EDITOR)
    lock_alert(alert)
    if alert.open_version is not None:
        raise WorkflowError("this alert already has a version in progress")
    version = _start_update(alert, actor)
    audit.record("start_update", actor, alert_id=alert.id, version_id=version.id, number=version.number)
    db.session.commit()
    return version


def submit(alert: Alert, actor: Editor) -> AlertVersion:
    _require(actor, Role.EDITOR)
    version = _open_in(alert, {State.DRAFT})
    _validate(content_of(version))  # drafts made before a rule changed must still pass now
    version.state, version.submitted_at, version.review_note = State.IN_REVIEW, now(), ""
    return commit_action("submit", actor, version)


def send_back(alert: Alert, actor: Editor, note: str = "") -> AlertVersion:
    """A reviewer returns the version to draft (also unschedules it)."""
    _require(actor, Role.PUBLISHER)
    version = _open_in(alert, {State.IN_REVIEW, State.APPROVED, State.SCHEDULED})
    version.state, version.approved_by_id, version.approved_at = State.DRAFT, None, None
    version.review_note = note.strip()[:2000]
    return commit_action("send_back", actor, version, note=version.review_note)


def approve(alert: Alert, actor: Editor) -> AlertVersion:
    _require(actor, Role.PUBLISHER)
    version = _open_in(alert, {State.IN_REVIEW})
    if not current_app.config["SINGLE_PERSON_PUBLISHING"] and actor.id in {
        version.author_id,
        version.updated_by_id,
    }:
        raise NotAllowed("four-eyes rule: someone other than its author or last editor must approve it")
    version.state, version.approved_by_id, version.approved_at = State.APPROVED, actor.id, now()
    return commit_action("approve", actor, version)


def publish(alert: Alert, actor: Editor) -> AlertVersion:
    """Publish an approved version now, or schedule it if its publish_at lies ahead."""
    _require(actor, Role.PUBLISHER)
    version = _open_in(alert, {State.APPROVED})
    if version.expires <= now():
        raise WorkflowError("this version has already expired; change its expiry first")
    if version.publish_at is not None and version.publish_at > now():
        version.state = State.SCHEDULED
        return commit_action("schedule", actor, version, publish_at=version.publish_at.isoformat())
    make_public(version, actor)
    return commit_action("publish", actor, version)


def withdraw(alert: Alert, actor: Editor, reason: str, note: str = "") -> AlertVersion:
    """Publish a cancel version in place of the active one; open drafts are closed unpublished."""
    _require(actor, Role.PUBLISHER)
    if reason not in tuple(WithdrawalReason):
        raise ValidationError({"reason": f"must be one of: {', '.join(WithdrawalReason)}"})
    lock_alert(alert)
    active = [v for v in alert.versions if v.state == State.PUBLISHED and v.msg_type != MsgType.CANCEL]
    if not active:
        raise WorkflowError("only a published, unexpired alert can be withdrawn")
    replaced = active[-1]
    for version in alert.versions:
        if version.state in (State.DRAFT, State.IN_REVIEW, State.APPROVED, State.SCHEDULED):
            version.state = State.WITHDRAWN
    cancel = _copy(replaced, alert, MsgType.CANCEL, actor)
    moment = now()
    cancel.response_type = ResponseType.ALL_CLEAR
    cancel.withdrawal_reason = WithdrawalReason(reason)
    cancel.withdrawal_note = note.strip()[:2000]
    # The cancel notice stays visible for a while so people who saw the alert learn it was withdrawn.
    cancel.effective, cancel.expires, cancel.publish_at = moment, moment + CANCEL_NOTICE, None
    cancel.approved_by_id, cancel.approved_at = actor.id, moment
    make_public(cancel, actor)
    return commit_action("withdraw", actor, cancel, reason=reason)


def add_photo(
    alert: Alert,
    data: bytes,
    actor: Editor,
    side: str = "front",
    alt_text: dict[str, str] | None = None,
    credit: str = "",
) -> AlertPhoto:
    """Store a photo (re-encoded, metadata stripped) on the draft. Raises PhotoError or WorkflowError."""
    _require(actor, Role.EDITOR)
    version = _open_in(alert, {State.DRAFT})
    errors = {}
    if side not in PHOTO_SIDES:
        errors["side"] = f"must be one of: {', '.join(PHOTO_SIDES)}"
    check = validate_photo_texts(alt_text or {}, credit)
    errors.update(check)
    if len(version.photos) >= MAX_PHOTOS:
        errors["file"] = f"an alert has at most {MAX_PHOTOS} photos"
    if errors:
        raise ValidationError(errors)
    stored = store_photo(data)  # files are written only once everything else has passed
    photo = AlertPhoto(
        position=len(version.photos),
        file_name=stored.file_name,
        thumb_name=stored.thumb_name,
        width=stored.width,
        height=stored.height,
        side=side,
        alt_text={lang: text.strip() for lang, text in (alt_text or {}).items() if text.strip()},
        credit=credit.strip(),
    )
    version.photos.append(photo)
    version.updated_by_id = actor.id
    commit_action("add_photo", actor, version, photo=stored.file_name)
    return photo


def remove_photo(alert: Alert, photo_id: int, actor: Editor) -> None:
    """Take a photo off the draft. Its files stay: published versions may share them."""
    _require(actor, Role.EDITOR)
    version = _open_in(alert, {State.DRAFT})
    photo = next((p for p in version.photos if p.id == photo_id), None)
    if photo is None:
        raise WorkflowError("this photo is not on the draft")
    version.photos.remove(photo)
    version.updated_by_id = actor.id
    commit_action("remove_photo", actor, version, photo=photo.file_name)


# --- internals -------------------------------------------------------------------------


def make_public(version: AlertVersion, actor: Editor | None) -> None:
    for other in version.alert.versions:
        if other is not version and other.state == State.PUBLISHED:
            other.state = State.WITHDRAWN if version.msg_type == MsgType.CANCEL else State.SUPERSEDED
    version.state = State.PUBLISHED
    version.published_at = now()
    version.published_by_id = actor.id if actor else None
    db.session.flush()
    # The outbox rows are written in this same transaction: published means queued for sending.
    plan_deliveries(version)


def _start_update(alert: Alert, actor: Editor) -> AlertVersion:
    published = alert.public_version
    if published is None:
        raise WorkflowError("nothing to update: this alert has no published version yet")
    if published.msg_type == MsgType.CANCEL:
        raise WorkflowError("a withdrawn alert cannot be updated; create a new alert")
    return _copy(published, alert, MsgType.UPDATE, actor)


def _copy(source: AlertVersion, alert: Alert, msg_type: MsgType, actor: Editor) -> AlertVersion:
    version = AlertVersion(
        number=alert.latest.number + 1,
        msg_type=msg_type,
        references_id=source.id,
        author_id=actor.id,
        updated_by_id=actor.id,
    )
    apply_content(version, _validate(content_of(source), required=False))
    version.publish_at = None
    version.photos = copy_photos(source)
    alert.versions.append(version)
    db.session.flush()
    return version


def _open_in(alert: Alert, states: set[State]) -> AlertVersion:
    lock_alert(alert)
    version = alert.open_version
    if version is None or version.state not in states:
        current = version.state.value if version else "no version in progress"
        wanted = ", ".join(sorted(s.value for s in states))
        raise WorkflowError(f"this needs a version that is {wanted}; the alert has {current}")
    return version


def commit_action(action: str, actor: Editor | None, version: AlertVersion, **detail: Any) -> AlertVersion:
    db.session.flush()
    audit.record(action, actor, alert_id=version.alert_id, version_id=version.id, number=version.number, **detail)
    db.session.commit()
    return version


def lock_alert(alert: Alert) -> Alert:
    """Serialise actions on one alert across processes (row lock on PostgreSQL, file lock on SQLite)."""
    db.session.execute(select(Alert.id).where(Alert.id == alert.id).with_for_update())
    # What this session read before taking the lock may be stale: read it again under the lock.
    db.session.expire_all()
    return alert


def _require(actor: Editor, role: Role) -> None:
    if not actor.active or not actor.role.allows(role):
        raise NotAllowed(f"this needs the {role.value} role")


def _validate(payload: Any, required: bool = True) -> dict[str, Any]:
    config = current_app.config
    required_languages = config["REQUIRED_LANGUAGES"] if required else []
    return validate_content(payload, config["LANGUAGES"], required_languages)


def _incident_key(given: str | None) -> str:
    if given:
        key = given.strip().lower()
        if not INCIDENT_KEY.match(key):
            raise ValidationError({"incident_key": "use 3-80 lowercase letters, digits and dashes"})
        if db.session.scalar(select(Alert.id).where(Alert.incident_key == key)) is not None:
            raise ValidationError({"incident_key": "another alert already uses this key"})
        return key
    return f"{now():%Y%m%d}-{secrets.token_hex(4)}"
