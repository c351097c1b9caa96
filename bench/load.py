"""The public site and feeds under load while one alert fans out to 100,000 push subscribers.

    .venv/bin/python -m bench.load [--subscribers N] [--duration S] [--connections C] [--web-workers W]
        [--alerts A] [--batch-size B] [--worker-nice K] [--fanout-timeout S]

In order, on PostgreSQL (a throwaway database of our own, dropped afterwards):
1. the loopback push service (tests/pushservice/server.py, counting only) starts in its own
   process; the schema comes from the app's migrations; --alerts alerts are created, approved
   and published through alerts.lifecycle (bench/feeds.py's: levels, regions, photos), so the
   pages and feeds have content; then N push subscriptions that the fan-out alert reaches (as
   bench/push.py makes them) and that alert, approved but not yet published;
2. gunicorn serves the app on loopback (bench/web_load.py: the Procfile's sync workers,
   --web-workers of them) with every rate limit off for its process only; two `flask worker`
   processes start and go idle, so the baseline has them polling as in production;
3. a warm-up (3 s of wrk, not reported), then the idle baseline: wrk for --duration seconds
   with --connections connections, asking for public pages and feeds in turn (bench/load_paths.lua);
4. the alert is published (the planner's INSERT … SELECT of N rows included); wrk starts at
   once with the same settings, and the push service is polled until it has N requests or
   --fanout-timeout seconds have passed (then the run reports what it has and fails);
5. checks: N requests, all answered 201, N delivery rows sent; and the share of wrk's window
   that the fan-out (publish commit to N-th push: the workers wake at the commit) covered.

Printed: requests/s, latency p50, p90, p99 and max, failed requests and the web workers' CPU
per request, idle beside during; p99 during over idle; the fan-out's times, rate and CPU; the
load average. wrk keeps --connections requests in flight (a closed loop), so the site runs
flat out in both phases and its latency includes the wait for a free gunicorn worker.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from alerts.models import Alert, AlertPhoto
from core.db import db
from subscribers.vapid import generate_pair

from . import harness
from .feeds import publish_alerts
from .processes import Helper, cpu_seconds, start_workers, stop_workers
from .push import SUBJECT, PushService, rows
from .web_load import HEADER, WEB_ENV, Load, Web, public_paths

WORKERS = 2  # delivery workers: the two-worker fan-out
WARM_UP_SECONDS = 3


@dataclass
class Fanout:
    publish_seconds: float  # lifecycle.publish, the planner's INSERT … SELECT of N rows included
    sent: int  # pushes the service had when the watch ended (N unless it timed out)
    first: float | None  # seconds from the publish commit to the push service's first request
    last: float | None  # … to its N-th; None if the watch timed out
    watched: float  # … to the end of the watch
    overlap: float  # the share of wrk's window the fan-out (publish commit to N-th push) covered
    worker_cpu: list[float]

    @property
    def rate(self) -> float:
        return self.sent / ((self.last or self.watched) - (self.first or 0))


def content(alerts: int) -> list[str]:
    """Published alerts for the pages and feeds; the paths that show them."""
    publish_alerts(alerts, photos_every=4)
    ids = list(db.session.scalars(sa.select(Alert.id).order_by(Alert.id).limit(3)))
    photo = db.session.scalar(sa.select(AlertPhoto.thumb_name).limit(1))
    return public_paths(ids, photo)


def during_fanout(
    web: Web, staged: harness.Staged, service: PushService, workers: list[Helper], args: argparse.Namespace
) -> tuple[Load, Fanout, int]:
    """Publish, load the site at once, and watch the push service until it has N requests (or time is up)."""
    cpu_before = [cpu_seconds(w.pid) for w in workers]
    n, web_before = args.subscribers, web.cpu()
    started, committed, version_id = harness.publish(staged)
    first = last = None
    deadline = committed + max(args.fanout_timeout, args.duration + 30)
    with web.wrk(args.duration) as process:
        wrk_started = time.monotonic()
        while last is None and (moment := time.monotonic()) < deadline:
            for helper in (*workers, service.helper, web.helper):
                helper.check()
            count = service.requests()
            first = first or (moment if count else None)
            last = moment if count >= n else None
            time.sleep(0.05)  # polling the service's counter: a 50 ms step in the fan-out's end
        ended = time.monotonic()
        load = web.finish(process, web_before, args.duration)
    worker_cpu = [cpu_seconds(w.pid) - before for w, before in zip(workers, cpu_before, strict=True)]
    window = (wrk_started, wrk_started + load.seconds)
    covered = min(window[1], last or ended) - max(window[0], committed)  # the workers start at the commit
    fanout = Fanout(
        committed - started,
        service.requests(),
        None if first is None else first - committed,
        None if last is None else last - committed,
        ended - committed,
        max(0.0, covered) / load.seconds,
        worker_cpu,
    )
    return load, fanout, version_id


def verify(service: PushService, version_id: int, n: int) -> None:
    """Every subscription got its push: N requests answered 201 and N rows recorded sent."""
    if harness.wait_recorded(version_id, 120) is None:
        raise SystemExit(f"CHECK FAILED: rows still pending: {harness.row_counts(version_id)}")
    stats, counts = service.call("GET", "/_stats"), harness.row_counts(version_id)
    if stats["requests"] != n or stats["statuses"] != {"201": n} or counts != {"sent": n}:
        raise SystemExit(f"CHECK FAILED: push service {stats}, rows {counts}")
    print(f"checked: {n:,} pushes answered 201 by the push service, {n:,} delivery rows sent")


def run(args: argparse.Namespace) -> None:
    n = args.subscribers
    vapid_private, _public = generate_pair()
    settings = {
        "VAPID_PRIVATE_KEY": vapid_private,
        "VAPID_SUBJECT": SUBJECT,
        "PUSH_ALLOW_PRIVATE_ENDPOINTS": True,
        "PUSH_ALLOWED_HOSTS": [],
        "DELIVERY_BATCH_SIZE": args.batch_size,
        "SINGLE_PERSON_PUBLISHING": True,  # bench/feeds.py's alerts are approved by their author
        "PUBLIC_URL": "https://signaal.example",
    }
    with tempfile.TemporaryDirectory(prefix="signaal-bench-load-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        service = PushService(tmp, count_only=True)
        stack.callback(service.close)
        stack.enter_context(harness.bench_app("postgresql", tmp, settings))
        helpers = [service.helper]
        try:
            harness.banner(
                f"load: {n:,} push subscribers, PostgreSQL ({harness.database_version()}), {args.alerts} alerts"
            )
            started = time.perf_counter()
            paths = content(args.alerts)
            harness.insert_subscriptions(rows(n, service))
            staged = harness.stage_alert()
            print(f"set-up: alerts published, {n:,} subscriptions inserted in {time.perf_counter() - started:.1f} s")

            web = Web(tmp, args.web_workers, args.connections)
            helpers.append(web.helper)
            stack.callback(web.helper.stop)
            web.check(paths)
            workers = start_workers(WORKERS, tmp, nice=args.worker_nice)
            helpers += workers
            stack.callback(lambda: [worker.stop() for worker in workers])
            print(f"web: {' '.join(f'{k}={v!r}' for k, v in WEB_ENV.items())} {shlex.join(web.command)}")
            print(
                f"delivery: {WORKERS} `flask --app app worker` processes, niceness {args.worker_nice}, "
                f"DELIVERY_BATCH_SIZE {args.batch_size}"
            )
            print(f"wrk: 1 thread, {args.connections} connections, {args.duration} s, {len(paths)} paths in turn:")
            print("  " + " ".join(paths))

            web.measure(WARM_UP_SECONDS)
            print(f"idle baseline: {args.duration} s; {harness.load()}", flush=True)
            idle = web.measure(args.duration)
            print(f"during the fan-out: publishing to {n:,}; {harness.load()}", flush=True)
            busy, fanout, version_id = during_fanout(web, staged, service, workers, args)
            if fanout.last is not None:
                verify(service, version_id, n)
            peaks = stop_workers(workers, [0.0] * WORKERS).peak_kib
            report(args, idle, busy, fanout, peaks)
            if fanout.last is None:
                raise SystemExit(
                    f"INCOMPLETE: the fan-out did not finish within --fanout-timeout {args.fanout_timeout} s "
                    f"({fanout.sent:,} of {n:,} pushes); rows {harness.row_counts(version_id)}"
                )
        except BaseException:
            for helper in helpers:  # what the processes said, before the temporary directory goes
                print(f"--- {helper.name}, last lines of its output:\n{helper.tail()}")
            raise


def report(args: argparse.Namespace, idle: Load, busy: Load, fanout: Fanout, peaks: list[int]) -> None:
    n = args.subscribers
    cpu, rss = ", ".join(f"{c:.1f}" for c in fanout.worker_cpu), ", ".join(f"{k / 1024:.0f}" for k in peaks)
    first = "none" if fanout.first is None else f"{fanout.first:.2f} s"
    last = (
        f"NOT REACHED ({fanout.sent:,} of {n:,} at {fanout.watched:.0f} s)"
        if fanout.last is None
        else f"{fanout.last:.2f} s"
    )
    print(
        f"fan-out: publish {fanout.publish_seconds:.2f} s; after its commit first push {first}, N-th {last}; "
        f"{fanout.rate:,.0f} msg/s from first push to last; workers' CPU {cpu} s "
        f"({sum(fanout.worker_cpu) / max(fanout.sent, 1) * 1e6:,.0f} µs a message), peak RSS {rss} MiB"
    )
    print(f"wrk's window covered by the fan-out (publish commit to N-th push): {fanout.overlap:.0%}")
    if fanout.overlap < 0.995 and fanout.last is not None:
        print("  (the fan-out ended first: raise --subscribers or lower --duration for full cover)")
    print(f"\n{HEADER}\n{idle.row('idle')}\n{busy.row('during fan-out')}")
    print(
        f"\nRESULT load N={n:,} {args.duration} s x {args.connections} connections: p99 during/idle "
        f"{busy.ms('p99') / idle.ms('p99'):.1f}x ({idle.ms('p99'):.1f} → {busy.ms('p99'):.1f} ms), "
        f"requests/s during/idle {busy.rate / idle.rate:.2f}, fan-out {fanout.rate:,.0f} msg/s "
        f"covering {fanout.overlap:.0%} of the window; {harness.load()}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per phase")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--alerts", type=int, default=20, help="published alerts for pages and feeds")
    parser.add_argument("--batch-size", type=int, default=500, help="DELIVERY_BATCH_SIZE (the app's default)")
    parser.add_argument("--worker-nice", type=int, default=0, help="niceness of the delivery workers (nice -n)")
    parser.add_argument(
        "--fanout-timeout", type=int, default=150, help="seconds from the publish to give up waiting for N pushes"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench.load needs wrk on PATH; install it first (Debian/Ubuntu: apt-get install -y wrk)")
    # SIGTERM unwinds like Ctrl-C, so the processes and the throwaway database go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run(args)


if __name__ == "__main__":
    main()
