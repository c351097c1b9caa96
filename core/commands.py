"""Process entry points: `flask --app app serve` (everything in one process) and `scheduler`."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from core.scheduler import Job, in_context, run_blocking, start_background
from ops.heartbeat import beat_interval, scheduler_beat

JobList = Callable[[Flask], list[tuple[Job, int]]]


def register(app: Flask, jobs: JobList) -> None:
    """`jobs` is called only when a command runs, so plain app start-up imports no feature code."""

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True)
    @with_appcontext
    def serve(host: str, port: int) -> None:
        """Run the web app, and the scheduler in the same process (the embedded default)."""
        web = current_app._get_current_object()  # type: ignore[attr-defined]
        if web.config["SCHEDULER_IN_WEB"]:
            start_background(web, scheduled_jobs(web, jobs))
            click.echo("scheduler: running inside the web process")
        if web.config["DELIVERY_IN_WEB"]:
            from delivery.worker import start_in_background

            start_in_background(web)
            click.echo("delivery: one worker running inside the web process")
        from ops.request_log import QuietRequestHandler  # the app logs each request, without addresses

        click.echo(f"Signaal is serving on http://{host}:{port}/")
        run_simple(host, port, web, threaded=True, use_reloader=False, request_handler=QuietRequestHandler)

    @app.cli.command("scheduler")
    @with_appcontext
    def scheduler() -> None:
        """Run the periodic sweeps (production: exactly one such process; set SCHEDULER_IN_WEB = false)."""
        app_ = current_app._get_current_object()  # type: ignore[attr-defined]
        run_blocking(app_, scheduled_jobs(app_, jobs))


def scheduled_jobs(app: Flask, jobs: JobList) -> list[tuple[Job, int]]:
    """The periodic jobs and the scheduler's own heartbeat (/healthz reads it from any machine).

    The first beat is given now: a scheduler just started is alive, not stale for an interval.
    """
    in_context(app, scheduler_beat)()
    return [*jobs(app), (scheduler_beat, beat_interval(app.config))]
