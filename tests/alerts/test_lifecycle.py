"""The editorial workflow: states, roles, four-eyes, versions, scheduling and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from alerts import lifecycle, sweeps
from alerts.audit import AuditEntry
from alerts.models import Alert, AlertVersion
from alerts.schema import ValidationError
from alerts.vocabulary import MsgType, ResponseType, State
from core import clock
from core.db import db
from editors.models import Editor, Role
from tests.alert_payloads import audi_payload


def _editor(email: str, role: Role) -> Editor:
    editor = Editor(email=email, password_hash="unused", role=role)
    db.session.add(editor)
    db.session.commit()
    return editor


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    return _editor("writer@lab.test", Role.EDITOR), _editor("chief@lab.test", Role.PUBLISHER)


def _published(writer: Editor, chief: Editor, **overrides: object) -> Alert:
    alert = lifecycle.create_alert(audi_payload(**overrides), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    return alert


def _actions(alert: Alert) -> list[str]:
    query = select(AuditEntry.action).where(AuditEntry.alert_id == alert.id).order_by(AuditEntry.id)
    return list(db.session.scalars(query))


def test_draft_to_published_records_every_step(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    alert = _published(writer, chief)
    version = alert.latest
    assert version.state == State.PUBLISHED and version.is_active
    assert version.msg_type == MsgType.ALERT
    assert version.published_by_id == chief.id and version.approved_by_id == chief.id
    assert alert.public_version is version
    assert _actions(alert) == ["create", "submit", "approve", "publish"]


def test_publisher_cannot_approve_own_draft(people: tuple[Editor, Editor]) -> None:
    _, chief = people
    alert = lifecycle.create_alert(audi_payload(), chief)
    lifecycle.submit(alert, chief)
    with pytest.raises(lifecycle.NotAllowed, match="four-eyes"):
        lifecycle.approve(alert, chief)
    assert alert.latest.state == State.IN_REVIEW


def test_publisher_who_last_edited_cannot_approve(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    alert = lifecycle.create_alert(audi_payload(), writer)
    lifecycle.edit(alert, {"area_description": "Heel Nederland"}, chief, partial=True)
    lifecycle.submit(alert, writer)
    with pytest.raises(lifecycle.NotAllowed):
        lifecycle.approve(alert, chief)


def test_single_person_publishing_when_configured(app: Flask, people: tuple[Editor, Editor]) -> None:
    _, chief = people
    app.config["SINGLE_PERSON_PUBLISHING"] = True
    alert = lifecycle.create_alert(audi_payload(), chief)
    lifecycle.submit(alert, chief)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    assert alert.latest.state == State.PUBLISHED


@pytest.mark.parametrize("action", ["approve", "publish", "withdraw", "send_back"])
def test_editor_role_cannot_review_or_publish(people: tuple[Editor, Editor], action: str) -> None:
    writer, _ = people
    alert = lifecycle.create_alert(audi_payload(), writer)
    lifecycle.submit(alert, writer)
    args = ("error",) if action == "withdraw" else ()
    with pytest.raises(lifecycle.NotAllowed, match="publisher"):
        getattr(lifecycle, action)(alert, writer, *args)
    assert alert.latest.state == State.IN_REVIEW


def test_wrong_order_is_refused(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    alert = lifecycle.create_alert(audi_payload(), writer)
    with pytest.raises(lifecycle.WorkflowError):
        lifecycle.publish(alert, chief)  # not approved
    with pytest.raises(lifecycle.WorkflowError):
        lifecycle.approve(alert, chief)  # not submitted
    lifecycle.submit(alert, writer)
    with pytest.raises(lifecycle.WorkflowError, match="draft"):
        lifecycle.edit(alert, {"contact": "x"}, writer, partial=True)  # in review: send it back first
    assert alert.latest.state == State.IN_REVIEW


def test_send_back_returns_to_draft_with_note(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    alert = lifecycle.create_alert(audi_payload(), writer)
    lifecycle.submit(alert, writer)
    lifecycle.send_back(alert, chief, "Dose missing in the English text")
    assert alert.latest.state == State.DRAFT
    assert alert.latest.review_note == "Dose missing in the English text"


def test_update_is_a_new_version_and_leaves_the_published_one_untouched(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    alert = _published(writer, chief)
    first = alert.latest
    before = first.texts[0].headline
    update = lifecycle.edit(alert, {"areas": ["NL", "BE"], "area_description": "NL en BE"}, writer, partial=True)
    assert update.number == 2 and update.msg_type == MsgType.UPDATE and update.references_id == first.id
    assert first.state == State.PUBLISHED and first.area_codes == ["NL"] and first.texts[0].headline == before
    assert update.state == State.DRAFT and update.area_codes == ["BE", "NL"]
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    assert first.state == State.SUPERSEDED and update.state == State.PUBLISHED
    assert alert.public_version is update


def test_withdrawal_publishes_a_cancel_version(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    alert = _published(writer, chief)
    original = alert.latest
    lifecycle.start_update(alert, writer)  # an open draft is closed by the withdrawal
    cancel = lifecycle.withdraw(alert, chief, "no_longer_circulating", "No further samples")
    assert cancel.msg_type == MsgType.CANCEL and cancel.references_id == original.id
    assert cancel.response_type == ResponseType.ALL_CLEAR and cancel.withdrawal_note == "No further samples"
    assert original.state == State.WITHDRAWN and alert.versions[1].state == State.WITHDRAWN
    assert alert.versions[1].published_at is None
    assert alert.public_version is cancel and not cancel.is_active
    assert [v.number for v in alert.versions] == [1, 2, 3]
    with pytest.raises(lifecycle.WorkflowError):
        lifecycle.start_update(alert, writer)
    with pytest.raises(lifecycle.WorkflowError):
        lifecycle.withdraw(alert, chief, "error")


def test_withdraw_needs_a_known_reason(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    alert = _published(writer, chief)
    with pytest.raises(ValidationError):
        lifecycle.withdraw(alert, chief, "bored")
    assert alert.latest.state == State.PUBLISHED and len(alert.versions) == 1


def test_scheduled_publication_happens_once_when_due(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    start = clock.now()
    clock.freeze(start)
    alert = lifecycle.create_alert(audi_payload(publish_at=(start + timedelta(hours=2)).isoformat()), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    assert lifecycle.publish(alert, chief).state == State.SCHEDULED
    assert sweeps.publish_due() == 0
    clock.freeze(start + timedelta(hours=2, seconds=1))
    assert sweeps.publish_due() == 1
    assert sweeps.publish_due() == 0
    db.session.expire_all()
    assert alert.latest.state == State.PUBLISHED and alert.latest.published_by_id is None
    assert _actions(alert).count("publish") == 1


def test_expiry_sweep_is_idempotent(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    alert = _published(writer, chief)
    assert sweeps.expire_due() == 0
    clock.freeze(alert.latest.expires + timedelta(seconds=1))
    assert sweeps.expire_due() == 1
    assert sweeps.expire_due() == 0
    assert alert.latest.state == State.EXPIRED and not alert.latest.is_active


def test_invalid_content_changes_nothing(people: tuple[Editor, Editor]) -> None:
    writer, _ = people
    bad = audi_payload(areas=["XX-NOWHERE"])
    bad["texts"]["nl"]["push_text"] = "x" * 121
    bad["texts"]["en"]["description"] = "<script>alert(1)</script>"
    bad["expires"] = bad["effective"]
    with pytest.raises(ValidationError) as caught:
        lifecycle.create_alert(bad, writer)
    assert set(caught.value.errors) == {"areas", "texts.nl.push_text", "texts.en.description", "expires"}
    assert db.session.scalar(select(func.count()).select_from(AlertVersion)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_required_languages(people: tuple[Editor, Editor]) -> None:
    writer, _ = people
    payload = audi_payload()
    del payload["texts"]["en"]
    with pytest.raises(ValidationError) as caught:
        lifecycle.create_alert(payload, writer)
    assert caught.value.errors == {"texts.en": "this language is required"}


def test_incident_key_must_be_unique(people: tuple[Editor, Editor]) -> None:
    writer, _ = people
    lifecycle.create_alert(audi_payload(), writer, incident_key="2023-12-audi")
    with pytest.raises(ValidationError, match="already"):
        lifecycle.create_alert(audi_payload(), writer, incident_key="2023-12-audi")


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 170, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_photos_belong_to_drafts_and_are_carried_into_updates(people: tuple[Editor, Editor]) -> None:
    writer, chief = people
    alert = lifecycle.create_alert(audi_payload(), writer)
    photo = lifecycle.add_photo(alert, _jpeg(), writer, side="front", alt_text={"en": "Beige pill"}, credit="DIMS")
    lifecycle.submit(alert, writer)
    with pytest.raises(lifecycle.WorkflowError):
        lifecycle.add_photo(alert, _jpeg(), writer)  # in review: no changes
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    update = lifecycle.start_update(alert, writer)
    assert [p.file_name for p in update.photos] == [photo.file_name]
    lifecycle.remove_photo(alert, update.photos[0].id, writer)
    assert update.photos == [] and [p.file_name for p in alert.versions[0].photos] == [photo.file_name]


def test_photo_with_bad_side_or_markup_is_refused_before_storing(app: Flask, people: tuple[Editor, Editor]) -> None:
    from pathlib import Path

    writer, _ = people
    alert = lifecycle.create_alert(audi_payload(), writer)
    with pytest.raises(ValidationError) as caught:
        lifecycle.add_photo(alert, _jpeg(), writer, side="top", alt_text={"en": "<b>x</b>"})
    assert set(caught.value.errors) == {"side", "alt_en"}
    upload_dir = Path(app.config["UPLOAD_DIR"])
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


def test_bad_key_and_bad_content_are_reported_together(people: tuple[Editor, Editor]) -> None:
    writer, _ = people
    with pytest.raises(ValidationError) as caught:
        lifecycle.create_alert(audi_payload(areas=["XX-NOPE"]), writer, incident_key="Not A Key!")
    assert set(caught.value.errors) == {"areas", "incident_key"}
