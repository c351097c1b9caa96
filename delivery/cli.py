"""`flask --app app worker`: a delivery worker process (production runs N of them)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext

from ops.instruments import serve_worker_metrics

from .worker import Worker


@click.command("worker")
@click.option("--id", "worker_id", default=None, help="Name in leases and logs (default host:pid:thread).")
@with_appcontext
def worker_command(worker_id: str | None) -> None:
    """Send due deliveries until stopped (SIGTERM or Ctrl-C finish the current batch first)."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"worker: signal {signum}, stopping after this batch")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    serve_worker_metrics(app)  # on METRICS_WORKER_PORT, when set
    Worker(app, worker_id).run(stop)
