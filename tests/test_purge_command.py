"""`flask purge` runs every retention job once and says how many rows each deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from alerts import audit
from alerts.audit import AuditEntry
from core import clock
from core.db import db
from editors.models import Role
from ops.heartbeat import beat, worker_name
from subscribers.models import Subscription
from tests.factories import make_editor, make_subscription

START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def test_purge_runs_every_job_once_and_prints_counts(app: Flask) -> None:
    clock.freeze(START)
    audit.record("settings_changed", make_editor(role=Role.ADMIN))
    db.session.commit()
    make_subscription(["NL"], channel="email", active=False)  # never confirmed
    make_subscription(["NL"], channel="email", confirmed_at=START)
    beat(worker_name("killed-host:1:1"))  # a worker killed without a goodbye
    clock.freeze(START + timedelta(days=400))

    first = app.test_cli_runner().invoke(args=["purge"])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "delivery.push_liveness.purge_stale_pushes: 0 deleted",
        "delivery.retention.purge_deliveries: 0 deleted",
        "alerts.retention.purge_audit: 1 deleted",
        "subscribers.retention.purge_unconfirmed_emails: 1 deleted",
        "ops.heartbeat.purge_dead_workers: 1 deleted",
    ]
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
    again = app.test_cli_runner().invoke(args=["purge"])
    assert again.exit_code == 0 and again.output.count(": 0 deleted") == 5
