"""Processes the delivery benchmarks start and watch: workers, the push service, the SMTP sink.

CPU time and peak RSS come from /proc, so a figure is the process's own, whatever else runs.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its reaped children), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def memory_kib(pid: int) -> dict[str, int]:
    """VmHWM (peak resident set) and VmRSS of a live process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0])
    return found


class Helper:
    """A process of ours (a sink, a worker): started, watched, stopped by its own pid only."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        """`env`: variables for this process only, on top of ours."""
        self.name, self.log = name, log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def check(self) -> None:
        if not self.alive():
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            self.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not say {text!r} within {timeout} s:\n{self.tail()}")
            time.sleep(0.05)

    def wait_idle(self, timeout: float = 90, window: float = 1.0, busy: float = 0.1) -> None:
        """Wait until start-up is over: under `busy` of a core used over `window` seconds.

        An idle worker still polls (a claim every DELIVERY_POLL_SECONDS), so its CPU time
        never stands quite still; start-up (imports, the app, the senders) keeps a core busy.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            before, started = cpu_seconds(self.pid), time.monotonic()
            time.sleep(window)
            used = (cpu_seconds(self.pid) - before) / (time.monotonic() - started)
            if used < busy:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} kept busy for {timeout} s after starting:\n{self.tail()}")

    def stop(self, timeout: float = 30) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
        return self.process.returncode


def start_workers(count: int, logs: Path, nice: int = 0) -> list[Helper]:
    """`flask --app app worker` processes, idle and listening once this returns; `nice`: their niceness."""
    prefix = ["nice", "-n", str(nice)] if nice else []  # exec'd, so the pid is the worker's
    workers = [
        Helper(
            f"worker {k}",
            [*prefix, sys.executable, "-m", "flask", "--app", "app", "worker", "--id", f"bench-{k}"],
            logs / f"worker-{k}.log",
        )
        for k in range(1, count + 1)
    ]
    try:
        for worker in workers:
            worker.wait_idle()
    except BaseException:  # one that fails to start (or Ctrl-C) must not leave the others running
        for worker in workers:
            worker.stop()
        raise
    return workers


@dataclass
class WorkerFigures:
    cpu: list[float]  # seconds each worker spent on the CPU during the measure
    peak_kib: list[int]  # VmHWM of each worker at the end


def stop_workers(workers: list[Helper], cpu_before: list[float]) -> WorkerFigures:
    figures = WorkerFigures(
        [cpu_seconds(w.pid) - before for w, before in zip(workers, cpu_before, strict=True)],
        [memory_kib(w.pid)["VmHWM"] for w in workers],
    )
    for worker in workers:
        code = worker.stop()
        if code not in (0, -signal.SIGTERM):
            print(f"warning: {worker.name} exited with {code}:\n{worker.tail()}")
    return figures


def wait_until(done: Callable[[], bool], timeout: float, interval: float, watched: list[Helper]) -> float | None:
    """Poll `done` every `interval` s; the monotonic time it first held, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return time.monotonic()
        for helper in watched:
            helper.check()
        time.sleep(interval)
    return None


class Controlled:
    """A helper process with a JSON control port on loopback (/_stats and friends)."""

    def __init__(self, helper: Helper, control_port: int) -> None:
        self.helper = helper
        self._connection = http.client.HTTPConnection("127.0.0.1", control_port, timeout=600)

    def call(self, method: str, path: str) -> Any:
        self._connection.request(method, path)
        answer = self._connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{method} {path}: {answer.status} {body[:200]!r}")
        return json.loads(body)

    def close(self) -> None:
        self._connection.close()
        self.helper.stop()
