"""Audit retention: entries past AUDIT_RETENTION_DAYS go, unless their alert is still going."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from alerts import audit, lifecycle
from alerts.audit import AuditEntry
from alerts.retention import purge_audit
from alerts.sweeps import expire_due
from core import clock
from core.db import db
from editors.models import Role
from tests.alert_payloads import audi_payload
from tests.delivery.test_engine import publish
from tests.factories import make_editor

START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def entries() -> set[tuple[str, int | None, datetime]]:
    db.session.expire_all()
    return {(e.action, e.alert_id, e.at) for e in db.session.scalars(select(AuditEntry))}


def test_old_entries_of_alerts_that_are_over_go_and_nothing_else(app: Flask) -> None:
    app.config["AUDIT_RETENTION_DAYS"] = 365
    clock.freeze(START)
    writer, chief = make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)
    over = publish((writer, chief))  # expires after 30 days
    lasting = publish((writer, chief), expires=(START + 800 * DAY).isoformat())
    draft = lifecycle.create_alert(audi_payload(), writer)  # never published: still in the works
    audit.record("settings_changed", chief)  # about no alert
    db.session.commit()
    clock.freeze(START + 300 * DAY)
    publish((writer, chief))  # over, but within the window
    clock.freeze(START + 366 * DAY)
    expire_due()  # `over` and `later` expire: entries of today

    everything = entries()
    old_and_over = {e for e in everything if e[2] == START and e[1] in (over.id, None)}
    assert {action for action, _, _ in old_and_over} == {"create", "submit", "approve", "publish", "settings_changed"}
    assert purge_audit(batch_size=2) == len(old_and_over)
    assert entries() == everything - old_and_over
    # Kept whatever their age: the histories of an alert still published and of one in the works.
    assert {e[1] for e in entries() if e[2] == START} == {lasting.id, draft.id}
    assert purge_audit(batch_size=2) == 0  # running it again changes nothing


def test_zero_keeps_the_audit_trail_for_ever(app: Flask) -> None:
    clock.freeze(START)
    audit.record("settings_changed", make_editor(role=Role.ADMIN))
    db.session.commit()
    clock.freeze(START + 5000 * DAY)
    app.config["AUDIT_RETENTION_DAYS"] = 0
    assert purge_audit() == 0
    assert len(entries()) == 1
