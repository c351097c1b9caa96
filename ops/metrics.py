"""GET /metrics: Prometheus text format.

Figures from the database, taken at scrape time, so the same from whichever web process answers:
deliveries by channel and status (with those the retention purge has deleted), the queue by
channel and state, how long the oldest due row has waited, and heartbeat ages. After them this
process's own delivery counters (ops/instruments.py), which have values only where a worker
runs inside the web process.

Who may read it: with METRICS_TOKEN set, whoever sends `Authorization: Bearer <token>`; without,
only a client on this machine that came through no proxy (no forwarding headers), since a proxy
on the same machine makes every visitor look local. `flask check` reports a missing token.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.clock import now

from . import instruments, outbox
from .heartbeat import ages

bp = Blueprint("metrics", __name__)
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


@bp.get("/metrics")
def metrics() -> Response:
    refusal = _refusal()
    if refusal is not None:
        return refusal
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OutboxCollector())
    body = generate_latest(registry) + generate_latest(instruments.REGISTRY)
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _refusal() -> Response | None:
    token = str(current_app.config["METRICS_TOKEN"] or "")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return Response("a valid bearer token is required\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'})
    if _is_loopback(request.remote_addr) and not any(h in request.headers for h in FORWARDING_HEADERS):
        return None
    return Response("metrics are served to this machine only unless METRICS_TOKEN is set\n", 403)


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


class OutboxCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        moment = now()
        rows = GaugeMetricFamily(
            "signaal_deliveries",
            "Deliveries by channel and status (pending, sent, failed, pruned, dropped): outbox rows at scrape "
            "time, with those the retention purge deleted.",
            labels=["channel", "status"],
        )
        for (channel, status), count in sorted(outbox.deliveries_by_status().items()):
            rows.add_metric([channel, status], count)
        yield rows
        queue = GaugeMetricFamily(
            "signaal_delivery_queue",
            "Pending rows by channel and state: due (waiting for a worker), leased (being sent), "
            "scheduled (later: quiet hours, digests, retries).",
            labels=["channel", "state"],
        )
        for (channel, state), count in sorted(outbox.queue_depth(moment).items()):
            queue.add_metric([channel, state], count)
        yield queue
        yield GaugeMetricFamily(
            "signaal_oldest_due_delivery_lag_seconds",
            "Seconds the longest-waiting due row has been due (0 when none is).",
            value=outbox.oldest_due_lag(moment),
        )
        beats = GaugeMetricFamily(
            "signaal_heartbeat_age_seconds", "Seconds since a process's last heartbeat, by name.", labels=["name"]
        )
        for name, age in sorted(ages(moment).items()):
            beats.add_metric([name], age)
        yield beats
