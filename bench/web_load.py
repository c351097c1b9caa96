"""The public site served by gunicorn on loopback, and wrk loading it over a rotation of paths.

wrk runs bench/load_paths.lua, which asks for the paths in turn and prints its figures as one
JSON line at the end (no parsing of wrk's human-readable report). The gunicorn workers' CPU
time comes from /proc, so a phase's CPU per request is the site's own, whatever else runs.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from core.config import DEFAULTS

from .feeds import cpu_seconds as web_cpu_seconds
from .feeds import wait_until_up
from .harness import free_port, load
from .processes import ROOT, Helper

SCRIPT = ROOT / "bench" / "load_paths.lua"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
WRK_TIMEOUT = "10s"  # wrk's default (2 s) would drop the slowest answers from the latencies
# For the gunicorn process only: one client on loopback is not to be refused. Flask-Limiter's
# switch for every limit, and each public group's limit (core/rate_limits.py) set to "" (none).
WEB_ENV = {"SIGNAAL_RATELIMIT_ENABLED": "false"} | {
    f"SIGNAAL_{key}": "" for key in DEFAULTS if key.startswith("RATE_LIMIT_")
}


def public_paths(alert_ids: list[int], photo: str | None) -> list[str]:
    """What readers and organisers' sites fetch: pages, feeds in every format and filter, widgets."""
    paths = ["/", "/feeds/alerts.json", "/feeds/alerts.json?region=GM0363&lang=en", "/feeds/alerts.rss"]
    paths += ["/feeds/alerts.atom?level=warning", "/feeds/alerts.cap.atom", "/api/v1/alerts"]
    paths += ["/embed?region=NL-NH", "/embed.js", "/screen?region=NL", "/subscribe", "/sw.js"]
    for alert_id in alert_ids:
        paths += [f"/alerts/{alert_id}", f"/alerts/{alert_id}.cap.xml"]
    return paths + ([f"/photos/{photo}"] if photo else [])


@dataclass
class Load:
    """wrk's figures for one phase (bench/load_paths.lua's JSON line), and the web workers' CPU."""

    figures: dict[str, Any]
    web_cpu: float  # seconds the gunicorn workers spent on the CPU during the phase
    load: str  # the load average at its end

    @property
    def seconds(self) -> float:
        return float(self.figures["duration_us"]) / 1e6

    @property
    def rate(self) -> float:
        return float(self.figures["requests"]) / self.seconds

    def ms(self, name: str) -> float:
        return float(self.figures[f"{name}_us"]) / 1000

    @property
    def socket_errors(self) -> int:
        kinds = ("connect_errors", "read_errors", "write_errors", "timeouts")
        return sum(int(self.figures[kind]) for kind in kinds)

    def row(self, name: str) -> str:
        cpu_ms = self.web_cpu * 1000 / max(int(self.figures["requests"]), 1)
        latencies = "".join(f"{self.ms(p):>9.1f}" for p in ("p50", "p90", "p99", "max"))
        errors = f"{self.figures['status_errors']:>13}{self.socket_errors:>12}"
        return f"{name:<16}{self.rate:>8,.0f}{latencies}{errors}{cpu_ms:>12.2f}  {self.load}"


HEADER = (
    f"{'phase':<16}{'req/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    f"{'non-2xx/3xx':>13}{'socket err':>12}{'CPU ms/req':>12}  load at end"
)


class Web:
    """gunicorn (the Procfile's sync workers) serving the app on loopback, and wrk loading it."""

    def __init__(self, logs: Path, workers: int, connections: int) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.command = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--worker-class", "sync"]
        self.command += ["--workers", str(workers), "--log-level", "warning", "app:create_app()"]
        self.helper = Helper("gunicorn", self.command, logs / "gunicorn.log", env=WEB_ENV)
        self.connections = connections
        self.paths: list[str] = []

    def check(self, paths: list[str]) -> None:
        """Up, and every path answers 200: a 404 or 429 would make the load test measure errors."""
        wait_until_up(self.base + "/sw.js", self.helper.process)
        for path in paths:
            status = requests.get(self.base + path, timeout=30, allow_redirects=False).status_code
            if status != 200:
                raise SystemExit(f"{path} answered {status}, not 200:\n{self.helper.tail()}")
        self.paths = paths

    def cpu(self) -> float:
        return web_cpu_seconds(self.helper.pid)

    @contextmanager
    def wrk(self, seconds: int) -> Iterator[subprocess.Popen[str]]:
        """wrk running for `seconds`; stopped if the run ends early (an error, Ctrl-C)."""
        command = ["wrk", "--threads", "1", "--connections", str(self.connections), "--duration", f"{seconds}s"]
        command += ["--timeout", WRK_TIMEOUT, "--script", str(SCRIPT), self.base, "--", *self.paths]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    def finish(self, process: subprocess.Popen[str], cpu_before: float, seconds: int) -> Load:
        out, err = process.communicate(timeout=seconds + 60)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if process.returncode != 0 or not lines:
            raise SystemExit(f"wrk failed ({process.returncode}):\n{out}\n{err}")
        return Load(json.loads(lines[-1]), self.cpu() - cpu_before, load())

    def measure(self, seconds: int) -> Load:
        before = self.cpu()
        with self.wrk(seconds) as process:
            return self.finish(process, before, seconds)
