"""One alert to N push subscriptions through the real engine, beside a plain pywebpush loop.

    .venv/bin/python -m bench.push [--subscriptions N] [--database sqlite|postgresql] [--workers K]
        [--baseline-sample M] [--batch-size B]

In order:
1. the loopback push service (tests/pushservice/server.py) starts in a process of its own; it
   checks every request's VAPID JWT and headers as it arrives and keeps the bodies;
2. a throwaway database gets the app's schema (migrations) and N push subscriptions
   (bulk-inserted, area NL, endpoints /push/<id> on that service, keys derived from the id as
   tests/pushservice/keys.py does, one in four in English); an alert is created, submitted
   and approved through alerts.lifecycle;
3. the baseline: a plain loop of pywebpush.webpush() over the first M of those subscriptions,
   same payload, TTL, Urgency and Topic; every body is then decrypted by the service and
   checked, and the service is reset;
4. K `flask --app app worker` processes start (always processes, K=1 too) and go idle, with
   DELIVERY_BATCH_SIZE 2,000 (the app's default is 500; --batch-size) and, on SQLite, where
   no NOTIFY wakes them, DELIVERY_POLL_SECONDS 0.1 (--poll);
5. the alert is published (lifecycle.publish: the planner's INSERT … SELECT runs in that
   transaction); the clock starts at its commit and stops when the service's /_stats,
   polled every 20 ms, has counted N requests. Then: until every row is recorded sent;
6. checks: N requests, all answered 201, each subscription exactly once, every body
   decrypted by the service (http_ece, independent of our encryption) into exactly the
   payload the subscriber's language calls for, with TTL, Urgency and Topic; N rows sent.

Printed: messages a second (N over publish commit → last receipt), the times, CPU seconds
and peak RSS (VmHWM) of each worker, the baseline's rate and the ratio, and the load
average: on a shared 2-core machine every wall-clock figure depends on it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pywebpush import webpush

from subscribers.vapid import generate_pair
from tests.pushservice.keys import subscription_keys

from . import harness
from .processes import Controlled

TARGETS = {1: 5.0, 2: 8.0}  # times the plain loop, by number of workers
SUBJECT = "mailto:bench@example.org"


def push_id(sub_id: int) -> str:
    return f"b{sub_id}"


def language(sub_id: int) -> str:
    return "en" if sub_id % 4 == 0 else "nl"


class PushService(Controlled):
    """The loopback push service in a process of its own, and its control endpoints."""

    def __init__(self, logs: Path, count_only: bool = False) -> None:
        """`count_only`: keep counts, not bodies (a big fan-out; /_received is then empty)."""
        self.port = harness.free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "tests.pushservice.server", "--port", str(self.port)]
        helper = harness.Helper("push service", argv + ["--count-only"] * count_only, logs / "push.log")
        helper.wait_for_output("listening")
        super().__init__(helper, self.port)

    def endpoint(self, sub_id: int) -> str:
        return f"{self.origin}/push/{push_id(sub_id)}"

    def requests(self) -> int:
        return int(self.call("GET", "/_stats")["requests"])


def expected_payloads(alert_id: int, texts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """What each language's subscribers must read (docs/push-payload.md); the headlines already start with the level."""
    return {
        lang: {
            "title": texts[lang]["headline"],
            "body": texts[lang]["push_text"],
            "url": f"/alerts/{alert_id}",
            "tag": f"signaal-alert-{alert_id}",
            "level": "red_alert",
            "lang": lang,
            "kind": "alert",
        }
        for lang in ("nl", "en")
    }


def verify(service: PushService, ids: range, expected: dict[str, dict[str, str]]) -> int:
    """Every body the service holds decrypted and checked; each subscription in `ids` exactly once."""
    records = service.call("GET", "/_received")
    wanted = {push_id(i): language(i) for i in ids}
    seen: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    for record in records:
        pid, payload = record["push_id"], record["payload"]
        headers = {name.lower(): value for name, value in record["headers"].items()}
        seen[pid] += 1
        lang = wanted.get(pid)
        if record["status"] != 201:
            problems[f"answered {record['status']}"] += 1
        elif lang is None:
            problems["not one of the subscriptions"] += 1
        elif payload != expected[lang]:
            problems[f"payload differs: {str(payload)[:160]}"] += 1
        elif not (
            headers.get("ttl", "0").isdigit()
            and int(headers["ttl"]) > 0
            and headers.get("urgency") == "high"
            and headers.get("topic") == expected[lang]["tag"]
        ):
            problems["TTL, Urgency or Topic wrong"] += 1
    missing = len(wanted.keys() - seen.keys())
    twice = sum(1 for n in seen.values() if n > 1)
    if missing or twice or problems:
        raise SystemExit(f"CHECK FAILED: {missing} never received, {twice} received twice, problems {dict(problems)}")
    return len(records)


@dataclass
class Baseline:
    count: int
    seconds: float
    cpu: float  # seconds on the CPU of the process running the loop

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def baseline(service: PushService, sample: int, vapid_key: str, expected: dict[str, dict[str, str]]) -> Baseline:
    """pywebpush's one-call API in a plain loop: what a simple sender does."""
    ttl = str(int(timedelta(days=28).total_seconds()))
    data = {lang: json.dumps(p, ensure_ascii=False, separators=(",", ":")) for lang, p in expected.items()}
    headers = {"Urgency": "high", "Topic": expected["nl"]["tag"]}
    subscriptions = []
    for sub_id in range(1, sample + 1):
        p256dh, auth = subscription_keys(push_id(sub_id))
        subscriptions.append((sub_id, {"endpoint": service.endpoint(sub_id), "keys": {"p256dh": p256dh, "auth": auth}}))
    started, cpu = time.perf_counter(), time.process_time()
    for sub_id, info in subscriptions:
        # A fresh claims dict each call: pywebpush writes aud and exp into the one it is given.
        webpush(info, data[language(sub_id)], vapid_key, {"sub": SUBJECT}, ttl=int(ttl), headers=headers)
    return Baseline(sample, time.perf_counter() - started, time.process_time() - cpu)


def rows(count: int, service: PushService) -> Any:
    for sub_id in range(1, count + 1):
        p256dh, auth = subscription_keys(push_id(sub_id))
        yield harness.subscription_row(
            sub_id, language(sub_id), channel="push", endpoint=service.endpoint(sub_id), p256dh=p256dh, auth=auth
        )


def run(args: argparse.Namespace) -> None:
    n, k = args.subscriptions, args.workers
    if k > 1 and args.database == "sqlite":
        raise SystemExit("SQLite has one worker (see docs): use --database postgresql for --workers 2")
    vapid_private, _public = generate_pair()
    with tempfile.TemporaryDirectory(prefix="signaal-bench-push-") as tmp_name:
        tmp = Path(tmp_name)
        service = PushService(tmp)
        settings = {
            "VAPID_PRIVATE_KEY": vapid_private,
            "VAPID_SUBJECT": SUBJECT,
            "PUSH_ALLOW_PRIVATE_ENDPOINTS": True,
            "PUSH_ALLOWED_HOSTS": [],
            "DELIVERY_BATCH_SIZE": args.batch_size,
            # Idle workers on SQLite find new rows by polling (PostgreSQL wakes them with NOTIFY).
            "DELIVERY_POLL_SECONDS": args.poll or (0.1 if args.database == "sqlite" else 2),
        }
        try:
            with harness.bench_app(args.database, tmp, settings):
                harness.banner(
                    f"push: {n:,} subscriptions, {args.database} ({harness.database_version()}), "
                    f"{k} worker process(es), DELIVERY_BATCH_SIZE {args.batch_size}"
                )
                started = time.perf_counter()
                harness.insert_subscriptions(rows(n, service))
                staged = harness.stage_alert()
                setup = time.perf_counter() - started
                print(f"set-up: {n:,} subscriptions inserted and the alert approved in {setup:.1f} s (not measured)")
                expected = expected_payloads(staged.alert.id, staged.texts)

                print(f"baseline: pywebpush.webpush() in a plain loop over {args.baseline_sample:,}; {harness.load()}")
                base = baseline(service, args.baseline_sample, vapid_private, expected)
                checked = verify(service, range(1, args.baseline_sample + 1), expected)
                service.call("POST", "/_reset")
                print(
                    f"baseline: {base.count:,} pushes in {base.seconds:.2f} s = {base.rate:,.0f}/s "
                    f"(CPU {base.cpu / base.count * 1e6:,.0f} µs a push); "
                    f"{checked:,} bodies decrypted and checked; {harness.load()}"
                )

                measured = harness.deliver(staged, n, k, tmp, service.helper, service.requests)
                stats = service.call("GET", "/_stats")
                counts = harness.row_counts(measured.version_id)
                print(f"checking: /_stats {stats}; rows {counts}; decrypting every body …")
                try:
                    checked = verify(service, range(1, n + 1), expected)
                    if stats["requests"] != n or stats["statuses"] != {"201": n} or counts != {"sent": n}:
                        raise SystemExit(f"CHECK FAILED: /_stats {stats}, rows {counts}")
                except SystemExit:
                    print(measured.describe())
                    print(measured.worker_output())
                    raise
                print(f"checked: {checked:,} pushes, each subscription once, every body decrypted to its payload")
                print(measured.describe())
                report(args, measured, base)
        finally:
            service.close()


def report(args: argparse.Namespace, measured: harness.Measured, base: Baseline) -> None:
    ratio = measured.rate / base.rate
    target = TARGETS.get(args.workers)
    verdict = "" if target is None else f" (target {target:.0f}x: {'met' if ratio >= target else 'MISSED'})"
    print(
        f"RESULT push {args.database} workers={args.workers} N={measured.count:,} batch={args.batch_size}: "
        f"{measured.rate:,.0f} msg/s ({measured.last:.2f} s publish commit → last receipt), "
        f"baseline {base.rate:,.0f}/s over {base.count:,}, ratio {ratio:.1f}x{verdict}, "
        f"peak RSS {max(measured.workers.peak_kib) / 1024:.0f} MiB; {measured.load_after}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subscriptions", type=int, default=50_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--baseline-sample", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=2000, help="DELIVERY_BATCH_SIZE for the workers (app: 500)")
    parser.add_argument(
        "--poll", type=float, default=None, help="DELIVERY_POLL_SECONDS (default 0.1 on SQLite, 2 on PostgreSQL)"
    )
    args = parser.parse_args(argv)
    run(args)


if __name__ == "__main__":
    main()
