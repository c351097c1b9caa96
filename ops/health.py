"""GET /healthz for load balancers: is the database reachable, are the scheduler and a delivery
worker alive, how far behind is delivery.

200 when the database answers in time and the heartbeats of the scheduler and of at least one
worker are fresh, else 503. The
answer names states and ages only: no versions, hosts or error texts. Two indexed queries; no rate limit
(load balancers ask often) and no cache.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from core.clock import now
from core.db import db

from . import outbox
from .heartbeat import SCHEDULER, ages, workers_alive

bp = Blueprint("health", __name__)
QUERY_CANCELED = "57014"  # SQLSTATE of a statement that statement_timeout stopped
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    report = check()
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def check() -> dict[str, Any]:
    moment = now()
    report: dict[str, Any] = {
        "status": "ok",
        "database": "ok",
        "scheduler": "unknown",
        "scheduler_heartbeat_age_seconds": None,
        "workers": "unknown",
        "workers_alive": None,
        "oldest_due_delivery_lag_seconds": None,
    }
    try:
        _bound_statements()
        heartbeat_ages = ages(moment)
        report["oldest_due_delivery_lag_seconds"] = round(outbox.oldest_due_lag(moment), 1)
    except OperationalError as error:
        db.session.rollback()
        # PostgreSQL's query_canceled, read from the error rather than imported: a SQLite
        # installation never loads psycopg (libpq costs each process some 10 MiB).
        slow = getattr(error.orig, "sqlstate", None) == QUERY_CANCELED
        what = "was too slow" if slow else "did not answer"
        log.warning("health check: the database %s (%s)", what, type(error).__name__)
        report.update(status="unavailable", database="slow" if slow else "unreachable")
        return report
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("health check: the database did not answer (%s)", type(error).__name__)
        report.update(status="unavailable", database="unreachable")
        return report
    _judge_scheduler(report, heartbeat_ages.get(SCHEDULER))
    _judge_workers(report, heartbeat_ages)
    return report


def _judge_scheduler(report: dict[str, Any], age: float | None) -> None:
    max_age = float(current_app.config["HEALTH_SCHEDULER_MAX_AGE_SECONDS"])
    if age is not None:
        report["scheduler_heartbeat_age_seconds"] = round(age, 1)
    if max_age <= 0:
        report["scheduler"] = "not checked"
    elif age is None:
        report.update(status="unavailable", scheduler="missing")
    elif age > max_age:
        report.update(status="unavailable", scheduler="stale")
    else:
        report["scheduler"] = "ok"


def _judge_workers(report: dict[str, Any], heartbeat_ages: dict[str, float]) -> None:
    """No worker alive means a published alert reaches nobody: as serious as a dead scheduler."""
    max_age = float(current_app.config["HEALTH_WORKER_MAX_AGE_SECONDS"])
    if max_age <= 0:
        report["workers"] = "not checked"
        return
    report["workers_alive"] = workers_alive(heartbeat_ages, max_age)
    if report["workers_alive"]:
        report["workers"] = "ok"
    else:
        report.update(status="unavailable", workers="none")


def _bound_statements() -> None:
    """On PostgreSQL, cancel this check's queries when they wait longer than the configured time.

    A load balancer that gets no answer in time takes the instance out anyway; a prompt 503 at
    least says why. The setting ends with the check's transaction (set_config's is_local).
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    milliseconds = int(float(current_app.config["HEALTH_DATABASE_TIMEOUT_SECONDS"]) * 1000)
    db.session.execute(
        text("SELECT set_config('statement_timeout', :timeout, true)"), {"timeout": str(max(1, milliseconds))}
    )
