"""What the delivery benchmarks (bench/push.py, bench/email.py) share.

A throwaway database migrated through the app, settings in a TOML file that the benchmark
and its `flask --app app worker` processes both read (SIGNAAL_CONFIG), subscriptions
bulk-inserted with SQLAlchemy Core, an alert created and approved through alerts.lifecycle
and published at the moment that counts, worker processes started and watched (CPU time and
peak RSS from /proc), and helper processes (the loopback push service, the SMTP sink).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from alerts import lifecycle
from alerts.models import Alert
from app import create_app
from core.db import db
from delivery.models import Delivery, Status
from editors.models import Editor, Role
from subscribers.models import Subscription, SubscriptionArea
from tests.alert_payloads import audi_payload

from .matching import database, load_average
from .processes import Helper, WorkerFigures, cpu_seconds, start_workers, stop_workers, wait_until

CREATED = datetime(2025, 1, 1, tzinfo=UTC)
INSERT_BATCH = 10_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of printable characters is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


@contextmanager
def bench_app(kind: str, tmp: Path, settings: dict[str, Any]) -> Iterator[Flask]:
    """A throwaway database with the app's schema, and the app reading the same settings file as the workers."""
    with database(kind, tmp) as url:
        config = {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "UPLOAD_DIR": str(tmp / "photos"),
            "SCHEDULER_IN_WEB": False,
            "DELIVERY_IN_WEB": False,
            **settings,
        }
        path = tmp / "config.toml"
        path.write_text("".join(f"{key} = {toml_value(value)}\n" for key, value in config.items()))
        os.environ["SIGNAAL_CONFIG"] = str(path)
        app = create_app()
        with app.app_context():
            try:
                upgrade()
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()


def database_version() -> str:
    sql = "SELECT version()" if db.engine.dialect.name == "postgresql" else "SELECT 'SQLite ' || sqlite_version()"
    with db.engine.connect() as conn:
        return str(conn.execute(sa.text(sql)).scalar_one()).split(" on ")[0]


def subscription_row(sub_id: int, language: str, **fields: object) -> dict[str, Any]:
    """An active subscription that every national red alert reaches: no filters, no quiet hours, no digest."""
    row: dict[str, Any] = {
        "id": sub_id,
        "public_id": f"{sub_id:032x}",
        "active": True,
        "paused": False,
        "created_at": CREATED,
        "updated_at": CREATED,
        "confirmed_at": CREATED,
        "language": language,
        "accept_fallback": True,
        "min_level_rank": 0,
        "forms_mask": 0,
        "substances_mask": 0,
        "quiet_start": 0,
        "quiet_end": 0,
        "timezone": "Europe/Amsterdam",
        "digest": "off",
        "digest_hour": 9,
        "digest_weekday": 0,
        "endpoint": None,
        "p256dh": None,
        "auth": None,
        "email": None,
    }
    row.update(dict.fromkeys(("circle_lat", "circle_lon", "circle_radius_km"), None))
    row.update(dict.fromkeys(("circle_x", "circle_y", "circle_z", "circle_cos_r", "circle_sin_r"), None))
    row.update(fields)
    return row


def insert_subscriptions(rows: Iterable[dict[str, Any]]) -> int:
    """Bulk insert (Core executemany in batches), each subscription with the one area NL."""
    count, batch = 0, []
    engine = db.engine

    def flush() -> None:
        with engine.begin() as conn:
            conn.execute(sa.insert(Subscription.__table__), batch)
            areas = [{"subscription_id": row["id"], "code": "NL", "derived": False} for row in batch]
            conn.execute(sa.insert(SubscriptionArea.__table__), areas)

    for row in rows:
        batch.append(row)
        count += 1
        if len(batch) >= INSERT_BATCH:
            flush()
            batch = []
    if batch:
        flush()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('subscriptions', 'id'), :n)"), {"n": count})
            conn.execute(sa.text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    return count


@dataclass
class Staged:
    alert: Alert
    publisher: Editor
    texts: dict[str, dict[str, str]]


def stage_alert() -> Staged:
    """A national red alert (the Audi pill), created, submitted and approved: publishing is what the benchmark times."""
    # Nobody logs in: a hash that matches no password.
    writer = Editor(email="writer@example.org", password_hash="!", role=Role.EDITOR, active=True)  # noqa: S106
    chief = Editor(email="chief@example.org", password_hash="!", role=Role.PUBLISHER, active=True)  # noqa: S106
    db.session.add_all([writer, chief])
    db.session.commit()
    payload = audi_payload()
    alert = lifecycle.create_alert(payload, writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    return Staged(alert, chief, payload["texts"])


def publish(staged: Staged) -> tuple[float, float, int]:
    """Publish (the planner's INSERT … SELECT included); (monotonic start, monotonic commit, version id)."""
    started = time.monotonic()
    version = lifecycle.publish(staged.alert, staged.publisher)
    committed = time.monotonic()
    version_id = version.id
    db.session.remove()  # hold no connection (SQLite: no read snapshot) while the workers run
    return started, committed, version_id


def row_counts(version_id: int) -> dict[str, int]:
    query = (
        sa.select(Delivery.status, sa.func.count()).where(Delivery.version_id == version_id).group_by(Delivery.status)
    )
    with db.engine.connect() as conn:
        return {str(Status(status).value): int(n) for status, n in conn.execute(query)}


def wait_recorded(version_id: int, timeout: float) -> float | None:
    """The monotonic time when no row of the version is pending any more (polled every 0.1 s); None on timeout."""
    deadline = time.monotonic() + timeout
    query = sa.select(sa.func.count()).where(Delivery.version_id == version_id, Delivery.status == Status.PENDING)
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            pending = conn.execute(query).scalar_one()
        if not pending:
            return time.monotonic()
        time.sleep(0.1)
    return None


# --- processes ---------------------------------------------------------------------------


def load() -> str:
    return load_average()


@dataclass
class Measured:
    """One publish delivered by K worker processes, timed from the publish commit."""

    count: int
    publish_seconds: float  # lifecycle.publish: the planner's INSERT … SELECT and the commit
    first: float  # seconds from the commit to the sink's first receipt
    last: float  # … to its last (N-th) receipt
    recorded: float | None  # … to no row pending any more
    workers: WorkerFigures
    sink_cpu: float
    load_before: str
    load_after: str
    version_id: int
    logs: list[Path]  # the workers' output

    @property
    def rate(self) -> float:
        return self.count / self.last

    def worker_output(self, lines: int = 40) -> str:
        parts = []
        for path in self.logs:
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name} (last {lines} lines)\n" + "\n".join(tail))
        return "\n".join(parts)

    def describe(self) -> str:
        cpu = ", ".join(f"{c:.1f}" for c in self.workers.cpu)
        per_message = sum(self.workers.cpu) / self.count * 1e6
        peaks = ", ".join(f"{kib / 1024:.0f} MiB" for kib in self.workers.peak_kib)
        recorded = "?" if self.recorded is None else f"{self.recorded:.2f}"
        return (
            f"publish (lifecycle.publish: planner INSERT … SELECT, commit) {self.publish_seconds:.2f} s; after the "
            f"commit: first receipt {self.first:.2f} s, last {self.last:.2f} s, every row recorded sent {recorded} s\n"
            f"worker CPU s: {cpu} ({per_message:.0f} µs a message); sink CPU s: {self.sink_cpu:.1f}; "
            f"peak RSS (VmHWM) per worker: {peaks}\n"
            f"load before: {self.load_before}; after: {self.load_after}"
        )


def deliver(
    staged: Staged, count: int, workers_wanted: int, logs: Path, sink: Helper, received: Callable[[], int]
) -> Measured:
    """Start the workers, publish, and wait until the sink has `count` messages and no row is pending."""
    workers = start_workers(workers_wanted, logs)
    try:
        cpu_before = [cpu_seconds(w.pid) for w in workers]
        sink_cpu = cpu_seconds(sink.pid)
        load_before = load()
        publish_start, committed, version_id = publish(staged)
        first: list[float] = []

        def done() -> bool:
            got = received()
            if got and not first:
                first.append(time.monotonic())
            return got >= count

        last = wait_until(done, 60 + count / 100, 0.02, [*workers, sink])
        if last is None:
            raise SystemExit(f"TIMEOUT: {received():,} of {count:,} received; rows {row_counts(version_id)}")
        recorded = wait_recorded(version_id, 120)
        sink_cpu = cpu_seconds(sink.pid) - sink_cpu
        load_after = load()
        figures = stop_workers(workers, cpu_before)
    finally:
        for worker in workers:
            worker.stop()
    return Measured(
        count,
        committed - publish_start,
        first[0] - committed,
        last - committed,
        None if recorded is None else recorded - committed,
        figures,
        sink_cpu,
        load_before,
        load_after,
        version_id,
        [worker.log for worker in workers],
    )


def banner(title: str) -> None:
    print(f"\n== {title}", flush=True)
