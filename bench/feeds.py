"""Requests per second for the JSON feed, full and conditional, beside a trivial route on the same server.

    .venv/bin/python -m bench.feeds [--alerts 200] [--workers 2] [--connections 4]
        [--seconds 5] [--rounds 3] [--photos-every 4]

A throwaway SQLite database migrated through the app gets --alerts alerts, each created,
approved and published through alerts.lifecycle (every fourth with a photo). gunicorn then
serves the app for real in its own process, with the production worker class (sync, as in
the Procfile) and --workers processes, and wrk, in another process, loads each route for
--seconds with --connections connections. Each round measures every route once, in turn,
so background load hits them alike; the best round per route counts.

Routes: a trivial route (the baseline; see TRIVIAL below), the full JSON feed, the JSON feed
with a matching If-None-Match (a 304), and /sw.js with a matching If-None-Match (the
cheapest real public route, for reference); then the other public reads a crowd hits during
a red alert: /api/v1/alerts (full and a 304), /api/v1/alerts/<id>, the iframe widget
/embed?region=NL (full and the 304 its self-refresh asks for), the venue screen /screen, and
the public pages / and /alerts/<id>. Cost = the trivial route's requests/s over the route's.
Targets: conditional feed ≤ 2x, full feed ≤ 5x.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from flask_migrate import upgrade
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from alerts import lifecycle
from alerts.models import Alert
from app import create_app
from core.clock import now
from core.db import db
from editors.models import Role
from tests.alert_payloads import audi_payload
from tests.factories import make_editor

from .harness import free_port, toml_value
from .matching import load_average

ROOT = Path(__file__).resolve().parent.parent
# The baseline: a view that returns two bytes, added only to the app this benchmark serves.
# It passes every hook a feed passes (security headers, locale, rate limiter) and reads no
# database, so it measures what any request to this app costs; nothing cheaper is served.
TRIVIAL = "/bench/trivial"
FEED = "/feeds/alerts.json"
API = "/api/v1/alerts"
EMBED = "/embed?region=NL"
SCREEN = "/screen"
AREAS = (["NL"], ["NL-NH"], ["GM0363"], ["NL-ZH", "NL-UT"], ["GM0599"], ["NL-NB"], ["BE"], ["GM0344"])
LEVELS = ("info", "caution", "warning", "red_alert")
TARGETS = {"conditional": 2.0, "full": 5.0}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def bench_app() -> Flask:
    """What gunicorn serves: the real app, plus the trivial route. Settings from SIGNAAL_CONFIG."""
    app = create_app()
    app.add_url_rule(TRIVIAL, "bench_trivial", lambda: ("ok", 200, {"Content-Type": "text/plain"}))
    return app


def settings(tmp: Path) -> dict[str, Any]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "UPLOAD_DIR": str(tmp / "photos"),
        "SCHEDULER_IN_WEB": False,
        "DELIVERY_IN_WEB": False,
        "SINGLE_PERSON_PUBLISHING": True,
        "PUBLIC_URL": "https://signaal.example",
        # The limiter stays in the path (its cost is part of every public read) but never
        # refuses: wrk is one client asking thousands of times a second.
        "RATE_LIMIT_FEEDS": "100000000 per minute",
    }


def photo(number: int) -> bytes:
    image = Image.new("RGB", (800, 600), (200 - number % 50, 180, 120))
    ImageDraw.Draw(image).ellipse((200, 100, 600, 500), fill=(240, 230 - number % 40, 200))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def publish_alerts(count: int, photos_every: int) -> None:
    """Alerts as editors make them: created, approved and published through the lifecycle."""
    chief = make_editor("bench@example.org", Role.PUBLISHER)
    moment = now()
    for number in range(count):
        payload = audi_payload(level=LEVELS[number % len(LEVELS)], areas=AREAS[number % len(AREAS)])
        for text in payload["texts"].values():
            text["headline"] = f"{text['headline']} #{number}"
        payload["effective"] = (moment - timedelta(hours=1)).isoformat()
        alert = lifecycle.create_alert(payload, chief)
        if photos_every and number % photos_every == 0:
            lifecycle.add_photo(alert, photo(number), chief, alt_text={"en": "A tablet"}, credit="Bench lab")
        lifecycle.submit(alert, chief)
        lifecycle.approve(alert, chief)
        lifecycle.publish(alert, chief)


@contextmanager
def server(config_path: Path, workers: int) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "bench.feeds:bench_app()",
    ]
    env = {**os.environ, "SIGNAAL_CONFIG": str(config_path)}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + TRIVIAL, process)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            requests.get(url, timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)  # polling a starting server: nothing to wait on but the socket
    raise SystemExit("gunicorn did not answer within 60 s")


def fetch(url: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(url, headers=headers or {}, timeout=30)


def wrk(url: str, args: argparse.Namespace, headers: dict[str, str]) -> tuple[float, int]:
    """Requests per second and the number of requests wrk completed."""
    command = ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{args.seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx" in output or "Socket errors" in output:
        raise SystemExit(f"wrk saw failed requests for {url}:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    done = re.search(r"(\d+) requests in", output)
    assert rate and done, output
    return float(rate.group(1)), int(done.group(1))


def conditional(url: str) -> str:
    """The ETag a first answer gives, for the If-None-Match of a conditional route."""
    etag: str = fetch(url).headers["ETag"]
    return etag


def cpu_seconds(master: int) -> float:
    """User and system CPU time of gunicorn's workers so far (children of the master, from /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended while we looked
        if int(fields[1]) == master:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=5, help="per route per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--photos-every", type=int, default=4)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    with tempfile.TemporaryDirectory(prefix="signaal-bench-feeds-") as tmp_name:
        tmp = Path(tmp_name)
        config = settings(tmp)
        config_path = tmp / "config.toml"
        config_path.write_text("".join(f"{key} = {toml_value(value)}\n" for key, value in config.items()))
        os.environ["SIGNAAL_CONFIG"] = str(config_path)
        app = create_app()
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            publish_alerts(args.alerts, args.photos_every)
            print(f"published {args.alerts} alerts through alerts.lifecycle in {time.perf_counter() - started:.1f} s")
            render_ms = {path: cold_render_ms(app, path) for path in cold_paths()}
            db.session.remove()
            db.engine.dispose()
        with server(config_path, args.workers) as (base, master):
            run(base, master, args, render_ms)


def cold_paths() -> list[str]:
    first = db.session.scalar(select(func.min(Alert.id)))
    return [FEED, API, f"{API}/{first}", EMBED, SCREEN, "/", f"/alerts/{first}"]


def cold_render_ms(app: Flask, path: str, repeats: int = 5) -> float:
    """One answer built from the database (body cache emptied first), best of a few, in this process."""
    from alerts.freshness import EXTENSION, Freshness

    client = app.test_client()
    best = float("inf")
    for _ in range(repeats):
        app.extensions[EXTENSION] = Freshness()
        started = time.perf_counter()
        response = client.get(path)
        best = min(best, time.perf_counter() - started)
        assert response.status_code == 200
    return best * 1000


def run(base: str, master: int, args: argparse.Namespace, render_ms: dict[str, float]) -> None:
    full = fetch(base + FEED)
    body, etag = full.content, full.headers["ETag"]
    items = len(full.json()["items"])
    assert full.status_code == 200 and items == args.alerts, (full.status_code, items)
    api = fetch(base + API)
    assert api.status_code == 200 and len(api.json()["alerts"]) == args.alerts, api.status_code
    first = min(alert["id"] for alert in api.json()["alerts"])
    routes = {
        "trivial": (TRIVIAL, {}),
        "full": (FEED, {}),
        "conditional": (FEED, {"If-None-Match": etag}),
        "sw.js 304": ("/sw.js", {"If-None-Match": conditional(base + "/sw.js")}),
        "api full": (API, {}),
        "api 304": (API, {"If-None-Match": conditional(base + API)}),
        "api alert": (f"{API}/{first}", {}),
        "embed NL": (EMBED, {}),
        "embed NL 304": (EMBED, {"If-None-Match": conditional(base + EMBED)}),
        "screen": (SCREEN, {}),
        "index": ("/", {}),
        "alert page": (f"/alerts/{first}", {}),
    }
    for name, (path, headers) in routes.items():
        answer = fetch(base + path, headers)
        assert answer.status_code == (304 if headers else 200), (name, answer.status_code)
    print(
        f"gunicorn sync, {args.workers} workers; wrk 1 thread, {args.connections} connections, "
        f"{args.seconds} s per route per round; {os.cpu_count()} cores; {load_average()}"
    )
    print(f"full feed: {items} items, {len(body):,} bytes; a cache-miss build in-process: {render_ms[FEED]:.1f} ms")
    print("cache-miss builds in-process: " + ", ".join(f"{path} {ms:.1f} ms" for path, ms in render_ms.items()))
    rates: dict[str, list[float]] = {name: [] for name in routes}
    cpu_ms: dict[str, list[float]] = {name: [] for name in routes}
    for number in range(1, args.rounds + 1):
        for name, (path, headers) in routes.items():
            before = cpu_seconds(master)
            rate, done = wrk(base + path, args, headers)
            rates[name].append(rate)
            cpu_ms[name].append((cpu_seconds(master) - before) * 1000 / done)
        print(
            f"round {number}: "
            + ", ".join(f"{name} {rates[name][-1]:,.0f}/s ({cpu_ms[name][-1]:.2f} ms CPU)" for name in routes)
        )
    report(rates, cpu_ms)


def report(rates: dict[str, list[float]], cpu_ms: dict[str, list[float]]) -> None:
    """Cost = the trivial route's requests/s over the route's, best round against best round.

    Beside it: the median of the rounds' own ratios, and the workers' CPU time per request
    (least CPU of the rounds), which waiting for a busy core does not inflate.
    """
    best = {name: max(values) for name, values in rates.items()}
    round_ratios = {
        name: [t / r for t, r in zip(rates["trivial"], values, strict=True)] for name, values in rates.items()
    }
    least_cpu = {name: min(values) for name, values in cpu_ms.items()}
    print(f"\n{'route':<14}{'best req/s':>12}{'cost vs trivial':>17}{'median of rounds':>18}{'CPU ms/req':>12}")
    for name in rates:
        cost, median = best["trivial"] / best[name], statistics.median(round_ratios[name])
        print(f"{name:<14}{best[name]:>12,.0f}{cost:>16.2f}x{median:>17.2f}x{least_cpu[name]:>12.2f}")
    print()
    for name, limit in TARGETS.items():
        cost = best["trivial"] / best[name]
        verdict = "met" if cost <= limit else "MISSED"
        print(
            f"target: {name} feed costs {cost:.2f}x the trivial route (<= {limit:g}x): {verdict}; "
            f"CPU per request {least_cpu[name] / least_cpu['trivial']:.2f}x"
        )
    print(f"at the end: {load_average()}")


if __name__ == "__main__":
    main()
