"""APScheduler runs the periodic sweeps; it never does the work of a request itself.

APScheduler 3 cannot share a job store between processes, so exactly one process runs the
triggers: the web process in the embedded default, `flask --app app scheduler` in
production. Every job is idempotent, so a second scheduler by mistake does no harm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from core.db import db

log = logging.getLogger(__name__)

Job = Callable[[], Any]


def add_jobs(scheduler: BaseScheduler, app: Flask, jobs: list[tuple[Job, int]]) -> None:
    for job, seconds in jobs:
        scheduler.add_job(
            in_context(app, job),
            "interval",
            seconds=seconds,
            id=f"{job.__module__}.{job.__name__}",
            max_instances=1,  # a slow sweep is never overlapped by the next one
            coalesce=True,
        )


def in_context(app: Flask, job: Job) -> Job:
    """`job` as the scheduler runs it: in an app context, its failure logged, its session removed."""

    def run() -> None:
        with app.app_context():
            try:
                done = job()
                if done:
                    log.info("%s: %s", job.__name__, done)
            except Exception:
                db.session.rollback()
                log.exception("periodic job %s failed; it runs again at its next interval", job.__name__)
            finally:
                db.session.remove()

    run.__name__ = job.__name__
    return run


def start_background(app: Flask, jobs: list[tuple[Job, int]]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, app, jobs)
    scheduler.start()
    return scheduler


def run_blocking(app: Flask, jobs: list[tuple[Job, int]]) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(scheduler, app, jobs)
    log.info("scheduler running %d jobs", len(jobs))
    scheduler.start()
