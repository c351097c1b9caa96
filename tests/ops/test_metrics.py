"""GET /metrics: figures from the database after deliveries made by the real worker, this
process's worker counters (push errors from a real push service on loopback), who may scrape it,
and the worker's own metrics port."""

from __future__ import annotations

import socket
import urllib.request
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from alerts.sweeps import expire_due
from core import clock
from core.db import db
from delivery.models import Delivery
from delivery.retention import purge_deliveries
from delivery.worker import Worker
from editors.models import Editor, Role
from ops.instruments import serve_worker_metrics
from tests.delivery.test_engine import AFTERNOON, drain, publish
from tests.delivery.test_webpush import drain as drain_worker
from tests.delivery.test_webpush import push_id, subscriber
from tests.factories import make_editor, make_subscription
from tests.pushservice.server import PushService

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample by (name, labels); the parser refuses anything not in the exposition format."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.content_type.startswith("text/plain; version=")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    clock.freeze(AFTERNOON)
    return make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)


def test_outbox_figures_and_worker_counters_after_a_real_delivery(
    app: Flask, client: FlaskClient, people: tuple[Editor, Editor]
) -> None:
    for _ in range(3):
        make_subscription(["NL"])
    make_subscription(["NL"], channel="email")
    before = scrape(client)  # the worker counters live as long as the process: compare with before
    publish(people)
    clock.freeze(AFTERNOON + timedelta(seconds=30))
    queued = scrape(client)
    assert value(queued, "signaal_deliveries", channel="push", status="pending") == 3
    assert value(queued, "signaal_deliveries", channel="email", status="pending") == 1
    assert value(queued, "signaal_delivery_queue", channel="push", state="due") == 3
    assert value(queued, "signaal_delivery_queue", channel="email", state="due") == 1
    assert value(queued, "signaal_oldest_due_delivery_lag_seconds") == 30

    drain(app)  # the real worker, with the recording senders of the test configuration
    after = scrape(client)
    assert value(after, "signaal_deliveries", channel="push", status="sent") == 3
    assert value(after, "signaal_deliveries", channel="email", status="sent") == 1
    assert value(after, "signaal_deliveries", channel="push", status="pending") == 0
    assert value(after, "signaal_delivery_queue", channel="push", state="due") == 0
    assert value(after, "signaal_oldest_due_delivery_lag_seconds") == 0

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("signaal_worker_deliveries_total", channel="push", outcome="sent") == 3
    assert grew("signaal_worker_deliveries_total", channel="email", outcome="sent") == 1
    assert grew("signaal_send_seconds_count", channel="push") == 1  # one batch held all three
    assert grew("signaal_send_seconds_count", channel="email") == 1
    assert grew("signaal_send_seconds_sum", channel="push") > 0


def test_deliveries_the_retention_purge_deleted_still_count(
    app: Flask, client: FlaskClient, people: tuple[Editor, Editor]
) -> None:
    for _ in range(2):
        make_subscription(["NL"])
    publish(people)
    drain(app)
    clock.freeze(AFTERNOON + timedelta(days=app.config["DELIVERY_RETENTION_DAYS"] + 1))
    expire_due()  # the alert (30 days) is over
    assert purge_deliveries() == 2
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert value(scrape(client), "signaal_deliveries", channel="push", status="sent") == 2


def test_push_errors_are_counted_by_origin_and_reason(
    app: Flask, client: FlaskClient, people: tuple[Editor, Editor], push_service: PushService
) -> None:
    push = push_service  # a push service on loopback, and the web push channel set up to use it
    _fine, gone, broken, busy = (subscriber(push) for _ in range(4))
    push.answer(push_id(gone), 410)
    push.answer(push_id(broken), 500)
    push.answer(push_id(busy), 500)
    before = scrape(client)
    publish(people)
    worker = Worker(app, "metrics-test")
    try:
        drain_worker(worker)
    finally:
        worker.close()
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    origin = push.origin  # scheme://host:port, never a path
    assert grew("signaal_push_errors_total", origin=origin, reason="http_410") == 1
    assert grew("signaal_push_errors_total", origin=origin, reason="http_500") == 2
    assert grew("signaal_worker_deliveries_total", channel="push", outcome="sent") == 1
    assert grew("signaal_worker_deliveries_total", channel="push", outcome="pruned") == 1
    assert grew("signaal_worker_deliveries_total", channel="push", outcome="retry") == 2
    assert not any("/push/" in dict(labels).get("origin", "") for _, labels in after)
    assert value(after, "signaal_deliveries", channel="push", status="pending") == 2  # retried later


def test_a_token_is_required_when_one_is_set(app: Flask, client: FlaskClient) -> None:
    app.config["METRICS_TOKEN"] = "scrape-token-0123456789abcdef"
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic scrape-token-0123456789abcdef"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789abcdef"})
    assert ok.status_code == 200
    assert value(parse(ok.text), "signaal_oldest_due_delivery_lag_seconds") == 0


def test_without_a_token_only_this_machine_without_a_proxy(app: Flask, client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 403
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        # A proxy on this machine forwards a visitor from anywhere: not local.
        assert client.get("/metrics", headers={header: "203.0.113.7"}).status_code == 403


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_worker_serves_its_own_counters_on_its_port(app: Flask) -> None:
    assert serve_worker_metrics(app) is None  # METRICS_WORKER_PORT = 0: off
    app.config["METRICS_WORKER_PORT"] = free_port()
    server = serve_worker_metrics(app)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{app.config['METRICS_WORKER_PORT']}/metrics") as answer:
            families = {family.name for family in text_string_to_metric_families(answer.read().decode())}
    finally:
        server.shutdown()
        server.server_close()
    assert {"signaal_worker_deliveries", "signaal_send_seconds", "signaal_push_errors"} <= families
    assert "signaal_deliveries" not in families  # database figures come from the web app only
