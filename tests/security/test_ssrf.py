"""SSRF through push endpoints: what a visitor (or an editor's test send) may register, and what
the delivery worker will connect to when a name has since been pointed inwards (DNS rebinding).

Names are resolved by the system resolver, unmocked: /etc/hosts maps this machine's own
names (localhost, its host name) to loopback, which is what a hostile DNS answer would do.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core.db import db
from delivery.models import Delivery, Status
from subscribers.endpoints import _public as public_address
from tests.factories import make_subscription
from tests.feeds.made_alerts import publish_new
from tests.subscribers.test_endpoints import browser_keys

from .attacks import changed_tables, snapshot
from .outputs import send_pending
from .site import World

ANY_HOST: list[str] = []
INWARD = [
    "https://127.0.0.1/x",
    "https://10.0.0.1/x",
    "https://172.16.0.1/x",
    "https://192.168.0.1/x",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://100.64.0.1/x",
    "https://0.0.0.0/x",
    "https://[::1]/x",
    "https://[::]/x",
    "https://[fe80::1]/x",
    "https://[fc00::1]/x",
    "https://[fd00:ec2::254]/x",  # AWS metadata over IPv6
    "https://[::ffff:127.0.0.1]/x",  # IPv4-mapped
    "https://[::ffff:7f00:1]/x",
    "https://[0:0:0:0:0:ffff:a00:1]/x",
    "https://[64:ff9b::7f00:1]/x",  # NAT64
    "https://2130706433/x",  # decimal
    "https://017700000001/x",  # octal
    "https://0x7f000001/x",  # hex
    "https://0x7f.0.0.1/x",
    "https://0177.0.0.1/x",
    "https://127.1/x",
    "https://127.0.0.1./x",
    "https://localhost/x",
    "https://LOCALHOST./x",
    "https://push.localhost/x",
    "https://metadata.google.internal/computeMetadata/v1/",
]
TRICKS = [
    "http://fcm.googleapis.com/fcm/send/x",
    "https://fcm.googleapis.com@127.0.0.1/x",
    "https://fcm.googleapis.com:443@127.0.0.1/x",
    "https://user:pw@fcm.googleapis.com/fcm/send/x",
    "https://127.0.0.1\\@fcm.googleapis.com/x",
    "https://127.0.0.1#@fcm.googleapis.com/x",
    "https://127.0.0.1%2f@fcm.googleapis.com/x",
    "https://fcm.googleapis.com:6379/fcm/send/x",  # another port of an allowed host
    "https://fcm.googleapis.com:22/fcm/send/x",
    "https://fcm.googleapis.com:0/x",
    "https://fcm.googleapis.com.evil.example/x",
    "https://evilfcm.googleapis.com/x",
    "https://fcm.googleapis.com\t.evil.example/x",
    "https://fcm.googleapis.com\n/x",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "//fcm.googleapis.com/x",
    "fcm.googleapis.com/x",
]


def inward_names() -> list[str]:
    """Names this machine's resolver maps to non-public addresses (from /etc/hosts and its own name)."""
    names = set()
    hosts = Path("/etc/hosts")
    if hosts.exists():
        for line in hosts.read_text().splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) > 1 and not public_address(ipaddress.ip_address(fields[0].split("%")[0])):
                names.update(name.lower() for name in fields[1:])
    names.add(socket.gethostname().lower())
    found = []
    for name in sorted(names):
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(name, 443, proto=socket.IPPROTO_TCP)}
        except OSError:
            continue
        if addresses and not any(public_address(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
            found.append(name)
    return found


def subscribe(app: Flask, endpoint: str) -> Any:
    client = app.test_client()
    body = {"subscription": {"endpoint": endpoint, "keys": browser_keys()}, "preferences": {"areas": ["NL"]}}
    return client.post("/api/v1/subscriptions/push", json=body)


def refused(app: Flask, endpoint: str) -> str:
    """The reason a sign-up with this endpoint was refused, having checked it stored nothing."""
    before = snapshot()
    response = subscribe(app, endpoint)
    assert response.status_code == 422, (endpoint, response.status_code)
    assert changed_tables(before) == []
    return str(response.json["fields"]["subscription.endpoint"])  # type: ignore[index]


@pytest.mark.parametrize("allowed", [None, ANY_HOST], ids=["default allowlist", "any host"])
def test_inward_and_disguised_endpoints_are_refused(app: Flask, allowed: list[str] | None) -> None:
    assert app.config["PUSH_ALLOW_PRIVATE_ENDPOINTS"] is False
    if allowed is not None:
        app.config["PUSH_ALLOWED_HOSTS"] = allowed
    for endpoint in INWARD + TRICKS:
        refused(app, endpoint)


def test_names_the_resolver_points_inwards_are_refused_even_when_allowlisted(app: Flask) -> None:
    names = inward_names()
    assert "localhost" in names
    for name in names:
        for allowed in ([name], ANY_HOST):
            app.config["PUSH_ALLOWED_HOSTS"] = allowed
            reason = refused(app, f"https://{name}/push/1")
            assert "private" in reason or "this machine" in reason or "invalid host" in reason, (name, reason)


def test_a_real_push_service_endpoint_is_still_accepted(app: Flask) -> None:
    """The control: an allowlisted service on port 443 (explicit or not) passes, DNS or no DNS."""
    for endpoint in ("https://fcm.googleapis.com/fcm/send/abc", "https://fcm.googleapis.com:443/fcm/send/def"):
        assert subscribe(app, endpoint).status_code == 201


def test_an_editors_test_send_is_held_to_the_same_rules(world: World) -> None:
    chief = world.chief()
    for endpoint in ("https://169.254.169.254/latest/meta-data/", "https://fcm.googleapis.com:6379/x"):
        subscription = {"endpoint": endpoint, "keys": browser_keys()}
        before = snapshot()
        response = chief.post(
            f"/editor/alerts/{world.published.id}/test-send",
            {"channel": "push", "version": "1", "subscription": json.dumps(subscription)},
        )
        assert response.status_code == 422 and b"was refused" in response.data
        assert changed_tables(before) == []


class Listener:
    """A TCP port on loopback that counts the connections made to it (and drops them at once)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        self.server.close()
        self._thread.join()


@pytest.fixture
def listener() -> Iterator[Listener]:
    opened = Listener()
    yield opened
    opened.close()


@pytest.mark.parametrize("private", [False, True], ids=["production", "control: private allowed"])
def test_the_worker_does_not_connect_to_a_name_rebound_inwards(world: World, listener: Listener, private: bool) -> None:
    """A name that was public at sign-up and now resolves to loopback: the row exists, the worker
    checks the address it would connect to. The control shows the listener would see it."""
    name = next(n for n in inward_names() if n != "localhost" and not n.endswith(".localhost"))
    world.app.config.update(
        DELIVERY_PUSH_BACKEND="webpush", PUSH_ALLOWED_HOSTS=[name], PUSH_ALLOW_PRIVATE_ENDPOINTS=private
    )
    keys = browser_keys()
    rebound = make_subscription(
        ["NL"], endpoint=f"https://{name}:{listener.port}/push/1", p256dh=keys["p256dh"], auth=keys["auth"]
    )
    alert = publish_new(world.team)
    send_pending(world.app)
    assert _outcome(alert.latest.id, rebound.id) != Status.SENT
    assert listener.connections == (1 if private else 0)


def _outcome(version_id: int, subscription_id: int) -> Status:
    db.session.expire_all()
    query = select(Delivery.status).where(
        Delivery.version_id == version_id, Delivery.subscription_id == subscription_id
    )
    return Status(db.session.scalars(query).one())
