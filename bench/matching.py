"""How long the matching statement takes over a million subscriptions, beside a plain Python loop.

    .venv/bin/python -m bench.matching [--subscriptions N] [--loop-sample N]
        [--database sqlite|postgresql|both] [--repeats N] [--seed N] [--explain]

For each database: a throwaway database (an SQLite file in a temporary directory, or a
PostgreSQL database of our own, dropped afterwards), the schema through the app's migrations,
a seeded population (bench/population.py), ANALYZE, then per alert the best of --repeats
runs of matching_ids(version) executed and fully fetched. The baseline is matches() over
the first --loop-sample subscriptions loaded as ORM objects with their areas; its rate is
extrapolated to the whole population. For the sample rows both must select the same ids.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import selectinload

from alerts.models import AlertArea, AlertComponent, AlertText, AlertVersion
from alerts.vocabulary import Level, Status
from app import create_app
from core.clock import now
from core.db import db
from subscribers.matching import matches, matching_ids
from subscribers.models import Subscription
from tests.databases import temporary_pg_database

from .population import load

TARGET_SECONDS = 5.0
# (label, alert areas, level); the target applies to the national ones.
ALERTS = (
    ("national NL red_alert", ["NL"], "red_alert"),
    ("national NL warning", ["NL"], "warning"),
    ("provincial NL-NH warning", ["NL-NH"], "warning"),
    ("municipal GM0363 warning", ["GM0363"], "warning"),
)
T = TypeVar("T")


class Timing(NamedTuple):
    """Wall-clock seconds, and CPU seconds of this process (SQLite's work, PostgreSQL's client side)."""

    wall: float
    cpu: float


@dataclass
class Measure:
    database: str
    alert: str
    total: int  # subscriptions in the database
    matched: int
    sql: Timing
    sample: int  # subscriptions the loop went over
    loop: Timing

    @property
    def sql_rate(self) -> float:
        return self.total / self.sql.wall

    @property
    def loop_rate(self) -> float:
        return self.sample / self.loop.wall

    @property
    def loop_extrapolated(self) -> float:
        return self.total / self.loop_rate

    @property
    def ratio(self) -> float:
        return self.sql_rate / self.loop_rate


def make_alert(areas: list[str], level: str) -> AlertVersion:
    """An alert version in memory, as tests/subscribers/test_matching.py builds them."""
    moment = now()
    version = AlertVersion(
        number=1,
        status=Status.ACTUAL,
        level=Level(level),
        form="tablet",
        sold_as="XTC",
        effective=moment,
        expires=moment + timedelta(days=1),
    )
    version.texts = [AlertText(lang=lang, headline="h", push_text="p") for lang in ("nl", "en")]
    version.components = [AlertComponent(substance="MDMA")]
    version.areas = [AlertArea(code=code) for code in areas]
    return version


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    with temporary_pg_database() as url:
        yield url


def best_of(repeats: int, run: Callable[[], T]) -> tuple[Timing, T]:
    """The fastest of `repeats` runs by wall clock, with that run's CPU time."""
    best, result = Timing(float("inf"), 0.0), None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        best = min(best, Timing(time.perf_counter() - wall, time.process_time() - cpu))
    assert result is not None
    return best, result


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def analyse(engine: sa.Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        with engine.connect() as conn:
            conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))


def explain(engine: sa.Engine, version: AlertVersion) -> None:
    sql = str(matching_ids(version).compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        for row in conn.execute(sa.text(prefix + sql)):
            print("    " + " | ".join(str(value) for value in row))


def sql_ids(engine: sa.Engine, version: AlertVersion) -> list[int]:
    """The statement built, executed and every id fetched."""
    with engine.connect() as conn:
        return list(conn.execute(matching_ids(version)).scalars().all())


def load_sample(size: int) -> list[Subscription]:
    statement = (
        sa.select(Subscription)
        .where(Subscription.id <= size)
        .order_by(Subscription.id)
        .options(selectinload(Subscription.areas))
    )
    return list(db.session.scalars(statement))


def bench_database(kind: str, args: argparse.Namespace) -> list[Measure]:
    with tempfile.TemporaryDirectory(prefix="signaal-bench-") as tmp, database(kind, Path(tmp)) as url:
        config: dict[str, Any] = {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "UPLOAD_DIR": str(Path(tmp) / "photos"),
            "SCHEDULER_IN_WEB": False,
        }
        app = create_app(config)
        with app.app_context():
            try:
                return _bench(kind, args)
            finally:
                db.session.remove()
                db.engine.dispose()


def _bench(kind: str, args: argparse.Namespace) -> list[Measure]:
    upgrade()
    engine = db.engine
    with engine.connect() as conn:
        version_sql = "SELECT version()" if kind == "postgresql" else "SELECT 'SQLite ' || sqlite_version()"
        print(f"\n== {kind}: {conn.execute(sa.text(version_sql)).scalar_one()}")
    started = time.perf_counter()
    area_rows, drawing = load(engine, args.subscriptions, args.seed)
    loading = time.perf_counter() - started
    started = time.perf_counter()
    analyse(engine)
    print(
        f"generated {args.subscriptions:,} subscriptions and {area_rows:,} area rows in {loading:.1f} s "
        f"({drawing:.1f} s drawing rows, {loading - drawing:.1f} s inserting), "
        f"{'VACUUM ANALYZE' if kind == 'postgresql' else 'ANALYZE'} {time.perf_counter() - started:.1f} s "
        "(none of this is part of the measure)"
    )
    versions = [(label, make_alert(areas, level)) for label, areas, level in ALERTS]
    if args.explain:
        print(f"plan for the {versions[0][0]} alert:")
        explain(engine, versions[0][1])
    print(load_average())
    sql_results: dict[str, tuple[Timing, list[int]]] = {}
    for label, version in versions:
        sql_results[label] = best_of(args.repeats, lambda v=version: sql_ids(engine, v))  # type: ignore[misc]
        timing, ids = sql_results[label]
        assert ids, f"the {label} alert matched nobody: the benchmark's alert or population is wrong"
        print(
            f"SQL   {label:<26} {len(ids):>10,} matched in {timing.wall:7.3f} s "
            f"(CPU {timing.cpu:.3f} s; best of {args.repeats})"
        )

    started = time.perf_counter()
    sample = load_sample(args.loop_sample)
    loading = time.perf_counter() - started
    print(f"loaded {len(sample):,} subscriptions with their areas as ORM objects in {loading:.1f} s (not timed)")
    sample_ids = {s.id for s in sample}
    measures = []
    for label, version in versions:
        loop, matched = best_of(args.repeats, lambda v=version: {s.id for s in sample if matches(v, s)})  # type: ignore[misc]
        sql, ids = sql_results[label]
        assert set(ids) & sample_ids == matched, f"SQL and matches() disagree on the sample for {label}"
        measure = Measure(kind, label, args.subscriptions, len(ids), sql, len(sample), loop)
        print(
            f"loop  {label:<26} {len(matched):>10,} of {len(sample):,} sampled in {loop.wall:7.3f} s "
            f"(CPU {loop.cpu:.3f} s); agrees with SQL on the sample; {measure.loop_rate:,.0f} rows/s"
        )
        measures.append(measure)
    print(load_average())
    return measures


def report(measures: list[Measure]) -> None:
    print(
        "\nSQL s: wall clock, statement built, executed and every id fetched; CPU s: this process's CPU time\n"
        "in that run (all of SQLite's work; for PostgreSQL only the client's). rows/s: subscriptions considered\n"
        "per second, not matches. loop s*: the plain loop's time for the whole population, EXTRAPOLATED from\n"
        "its sample's rate, not measured. ratio: SQL rows/s over loop rows/s."
    )
    header = (
        f"{'database':<11}{'alert':<26}{'matched':>9}{'SQL s':>8}{'CPU s':>7}{'SQL rows/s':>12}"
        f"{'loop rows/s':>12}{'loop s*':>9}{'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    for m in measures:
        print(
            f"{m.database:<11}{m.alert:<26}{m.matched:>9,}{m.sql.wall:>8.3f}{m.sql.cpu:>7.3f}{m.sql_rate:>12,.0f}"
            f"{m.loop_rate:>12,.0f}{m.loop_extrapolated:>9.1f}{m.ratio:>6.0f}x"
        )
    print()
    for kind in dict.fromkeys(m.database for m in measures):
        national = [m for m in measures if m.database == kind and m.alert.startswith("national")]
        worst = max(national, key=lambda m: m.sql.wall)
        verdict = "met" if worst.sql.wall < TARGET_SECONDS else "MISSED"
        print(
            f"target ({kind}): national alert over {worst.total:,} subscriptions in {worst.sql.wall:.3f} s "
            f"(< {TARGET_SECONDS:g} s): {verdict}"
        )
    print(f"at the end: {load_average()}; a load above the core count slows every figure above")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.matching", description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--loop-sample", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measure; the best counts")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--explain", action="store_true", help="print the national alert's query plan")
    args = parser.parse_args(argv)
    args.loop_sample = min(args.loop_sample, args.subscriptions)
    print(f"{args.subscriptions:,} subscriptions, seed {args.seed}, loop sample {args.loop_sample:,}", end=", ")
    print(f"{os.cpu_count()} cores")
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    measures = [measure for kind in kinds for measure in bench_database(kind, args)]
    report(measures)


if __name__ == "__main__":
    main()
