"""The scheduler wiring: every periodic job is registered once and runs inside an app context."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from alerts import lifecycle
from alerts.models import Alert
from alerts.vocabulary import State
from app import periodic_jobs
from core import clock
from core.db import db
from core.scheduler import add_jobs
from editors.models import Role
from tests.alert_payloads import audi_payload
from tests.factories import make_editor


def test_jobs_are_registered_and_run_in_an_app_context(app: Flask) -> None:
    writer, chief = make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)
    start = clock.now()
    alert = lifecycle.create_alert(audi_payload(publish_at=(start + timedelta(minutes=5)).isoformat()), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, app, periodic_jobs(app))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "alerts.sweeps.publish_due",
        "alerts.sweeps.expire_due",
        "delivery.claims.drop_stale",
        "subscribers.mail_throttle.drop_expired",
        "delivery.push_liveness.purge_stale_pushes",
        "subscribers.retention.purge_unconfirmed_emails",
        "delivery.retention.purge_deliveries",
        "alerts.retention.purge_audit",
        "ops.heartbeat.purge_dead_workers",
    }
    clock.freeze(start + timedelta(minutes=6))
    jobs["alerts.sweeps.publish_due"].func()  # what the scheduler thread calls, context and all
    db.session.expire_all()  # the job ran in its own app context and session
    assert db.session.get_one(Alert, alert.id).latest.state == State.PUBLISHED
