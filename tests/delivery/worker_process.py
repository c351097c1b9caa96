"""Real processes for the crash and scale-out tests: `flask --app app worker` and the loopback push service.

`Fleet` starts the push service (tests/pushservice) as a process of its own, and delivery
workers as the operator's guide runs them: `flask --app app worker --id NAME`, configured only
through SIGNAAL_* environment variables, against the test session's (already migrated)
database. Leaving the `with` block kills whatever is still running, so a failing test leaves
no process behind.

Nothing here sleeps for a fixed time: `wait_until` polls a condition with a short pause and a
deadline, and fails early, with the process's output, when a process it watches has died.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

from sqlalchemy import false, func, insert, literal, select

from alerts import lifecycle
from alerts.models import Alert
from core.db import db
from delivery.models import Delivery, Status
from editors.models import Role
from subscribers.models import Channel, Subscription, SubscriptionArea
from subscribers.vapid import write_key_file
from tests.alert_payloads import audi_payload
from tests.factories import make_editor
from tests.pushservice.keys import subscription_keys

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")
# Requests to the push service's control endpoints go straight to loopback, never via a proxy.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ProcessDied(AssertionError):
    pass


class Process:
    """A child process whose output goes to a file, read back when something goes wrong."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path, *, pipe: bool = False) -> None:
        """`pipe`: keep stdout readable (self.popen.stdout); else stdout and stderr both go to `log`."""
        self.name, self.log = name, log
        self._log_file = log.open("w")
        stdout: int | IO[str] = subprocess.PIPE if pipe else self._log_file
        stderr: int | IO[str] = self._log_file if pipe else subprocess.STDOUT
        self.popen = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=stdout, stderr=stderr, text=True, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text()

    def check_alive(self) -> None:
        if not self.alive():
            raise ProcessDied(f"{self.name} exited with {self.popen.returncode}:\n{self.output()}")

    def kill(self) -> None:
        """kill -9: no clean-up, no finishing the batch."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self._reap(timeout=10)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as an operator stops it; the exit code once it has ended."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
        return self._reap(timeout)

    def _reap(self, timeout: float) -> int:
        try:
            code = self.popen.wait(timeout)
        finally:
            if self.popen.stdout is not None:
                self.popen.stdout.close()
            self._log_file.close()
        return code


class PushServiceProcess(Process):
    """`python -m tests.pushservice.server --port 0`, spoken to over its control endpoints."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        args = [sys.executable, "-m", "tests.pushservice.server", "--port", "0"]
        super().__init__("push service", args, env, log, pipe=True)
        assert self.popen.stdout is not None
        # It prints one line once it listens (or ends, and the line is empty).
        line = self.popen.stdout.readline()
        if not line.startswith("push service listening on "):
            self.kill()
            raise ProcessDied(f"the push service did not start: {line!r}\n{self.output()}")
        self.origin = line.rsplit(" ", 1)[1].strip()

    def endpoint(self, push_id: str) -> str:
        return f"{self.origin}/push/{push_id}"

    def _call(self, path: str, data: dict[str, Any] | None = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        method = "GET" if body is None else "POST"
        request = urllib.request.Request(self.origin + path, data=body, method=method)  # noqa: S310 (http://127.0.0.1)
        with _opener.open(request, timeout=60) as answer:
            return json.loads(answer.read())

    def requests(self) -> int:
        return int(self._call("/_stats")["requests"])

    def answer(self, push_id: str | None, status: int = 201, delay: float = 0) -> None:
        self._call("/_answer", {"push_id": push_id, "status": status, "delay": delay})

    def received(self) -> list[dict[str, Any]]:
        """Every push it got: push_id, status, headers and the decrypted payload."""
        return list(self._call("/_received"))


class Fleet:
    """The push service and the workers of one test, all ended when the block is left."""

    def __init__(self, database_url: str, tmp: Path, **settings: Any) -> None:
        self.database_url, self.tmp = database_url, tmp
        self.settings = settings
        self.workers: list[Process] = []
        self.push: PushServiceProcess | None = None

    def __enter__(self) -> Fleet:
        self.vapid_file = self.tmp / "vapid.json"
        write_key_file(self.vapid_file, replace=True)
        self.push = PushServiceProcess(self.base_env(), self.tmp / "pushservice.log")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for worker in self.workers:
            worker.kill()
        if self.push is not None:
            self.push.stop()

    @property
    def service(self) -> PushServiceProcess:
        assert self.push is not None, "use the fleet in a with block"
        return self.push

    def base_env(self) -> dict[str, str]:
        """This environment without any SIGNAAL_* setting of the caller's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNAAL_", "FLASK_"))}
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def worker_env(self, **settings: Any) -> dict[str, str]:
        values: dict[str, Any] = {
            # No config.toml of the developer's: every setting comes from here.
            "CONFIG": str(self.tmp / "no-config.toml"),
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "UPLOAD_DIR": str(self.tmp / "photos"),
            "PUBLIC_URL": "https://signaal.test",
            "SCHEDULER_IN_WEB": False,
            "DELIVERY_IN_WEB": False,
            "DELIVERY_PUSH_BACKEND": "webpush",
            "DELIVERY_EMAIL_BACKEND": "email",
            "DELIVERY_POLL_SECONDS": 0.2,
            "PUSH_ALLOW_PRIVATE_ENDPOINTS": True,
            "PUSH_ALLOWED_HOSTS": [],
            "VAPID_FILE": str(self.vapid_file),
            "VAPID_SUBJECT": "mailto:push-admin@example.org",
            **self.settings,
            **settings,
        }
        env = self.base_env()
        for key, value in values.items():
            # core/config.py reads SIGNAAL_* as JSON when it parses, else as a string.
            env[f"SIGNAAL_{key}"] = value if isinstance(value, str) else json.dumps(value)
        return env

    def start_worker(self, name: str, **settings: Any) -> Process:
        """`flask --app app worker --id NAME`; `settings` override the fleet's for this one."""
        args = [sys.executable, "-m", "flask", "--app", "app", "worker", "--id", name]
        worker = Process(name, args, self.worker_env(**settings), self.tmp / f"{name}.log")
        self.workers.append(worker)
        return worker


def wait_until(condition: Callable[[], T], what: str, *, timeout: float = 120, watch: Iterable[Process] = ()) -> T:
    """Poll `condition` until it is truthy; fail after `timeout` seconds or when a watched process dies."""
    watched = list(watch)
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for process in watched:
            process.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.01)  # between polls only: the wait itself is bounded by the condition


def push_subscribers(
    service: PushServiceProcess, count: int, *, prefix: str = "p", english_every: int = 5
) -> list[str]:
    """`count` active push subscriptions for all of NL on `service`, inserted in bulk; their push ids.

    Every `english_every`-th subscriber reads English, the others Dutch. The keys are the ones
    the service derives from the push id, so it can decrypt what it gets.
    """
    ids = [f"{prefix}{n}" for n in range(count)]
    rows = []
    for n, push_id in enumerate(ids):
        p256dh, auth = subscription_keys(push_id)
        language = "en" if english_every and n % english_every == 0 else "nl"
        rows.append(
            {
                "public_id": secrets.token_hex(8),
                "channel": Channel.PUSH,
                "active": True,
                "language": language,
                "endpoint": service.endpoint(push_id),
                "p256dh": p256dh,
                "auth": auth,
            }
        )
    db.session.execute(insert(Subscription), rows)
    areas = select(Subscription.id, literal("NL"), false()).where(Subscription.endpoint.like(f"{service.origin}/%"))
    db.session.execute(insert(SubscriptionArea).from_select(["subscription_id", "code", "derived"], areas))
    db.session.commit()
    return ids


def push_id_of(endpoint: str | None) -> str:
    return (endpoint or "").rsplit("/", 1)[1]


def publish_red_alert() -> Alert:
    """The Audi red alert for all of NL, written, approved and published by two editors."""
    writer, chief = make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)
    alert = lifecycle.create_alert(audi_payload(), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    return alert


def expected_payload(alert_id: int, lang: str) -> dict[str, str]:
    """What a subscriber reading `lang` must find in the decrypted push of publish_red_alert()."""
    texts = audi_payload()["texts"][lang]
    return {
        "title": texts["headline"],  # it starts with the level already: said once
        "body": texts["push_text"],
        "url": f"/alerts/{alert_id}",
        "tag": f"signaal-alert-{alert_id}",
        "level": "red_alert",
        "lang": lang,
        "kind": "alert",
    }


def statuses(version_id: int) -> dict[Status, int]:
    """How many of a version's rows are in each status, read afresh on a connection of its own."""
    query = select(Delivery.status, func.count()).where(Delivery.version_id == version_id).group_by(Delivery.status)
    with db.engine.connect() as connection:
        return {Status(status): count for status, count in connection.execute(query)}
