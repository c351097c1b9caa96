"""Counters and timings a delivery worker keeps in its own process: outcomes per channel, how
long each channel took to send a batch, and push services' errors by origin.

They live in a registry of their own. /metrics serves it beside the database's figures (for the
worker inside `flask serve`); a `flask worker` process serves it on METRICS_WORKER_PORT. Counts
that must hold across processes (deliveries by channel and status) come from the database
instead (ops/metrics.py).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from delivery.channels import Job, Outcome, Result
from delivery.push_status import reason_of
from subscribers.models import Channel

log = logging.getLogger(__name__)
REGISTRY = CollectorRegistry()
# Origins are a handful of push services; a label per origin beyond this many goes to "other".
MAX_ORIGINS = 50
OUTCOME_NAMES = {Outcome.SENT: "sent", Outcome.RETRY: "retry", Outcome.PRUNE: "pruned", Outcome.FAIL: "failed"}

DELIVERIES = Counter(
    "signaal_worker_deliveries",
    "Rows this process's delivery workers finished a round with, by channel and outcome "
    "(sent, retry, pruned, failed, dropped, deferred).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
SEND_SECONDS = Histogram(
    "signaal_send_seconds",
    "Seconds a channel took to send one batch (a batch's rows of that channel).",
    ["channel"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
PUSH_ERRORS = Counter(
    "signaal_push_errors",
    "Pushes that did not go through, by push service origin (scheme://host[:port]) and reason "
    "(http_<status>, unreachable, paused, refused).",
    ["origin", "reason"],
    registry=REGISTRY,
)
_origins: set[str] = set()


def sent_batch(channel: Channel, jobs: list[Job], results: list[Result], seconds: float) -> None:
    """After a channel's sender returned: its time, and for push each failure by origin."""
    SEND_SECONDS.labels(channel.value).observe(seconds)
    if channel != Channel.PUSH:
        return
    failed = [r for r in results if r.outcome != Outcome.SENT]
    if not failed:
        return
    endpoints = {row: job.recipient.endpoint or "" for job in jobs for row in job.delivery_ids}
    for result in failed:
        PUSH_ERRORS.labels(_origin(endpoints.get(result.delivery_id, "")), reason_of(result.error)).inc()


def finished(
    channels: Mapping[int, Channel],
    results: Iterable[Result],
    deferred: Iterable[int],
    dropped: Iterable[int],
) -> None:
    """After a batch was recorded: each row once, by what finally happened to it this round."""
    outcome = {r.delivery_id: OUTCOME_NAMES[r.outcome] for r in results}
    outcome.update((row, "deferred") for row in deferred)
    outcome.update((row, "dropped") for row in dropped)  # a retry given up at expiry counts as dropped
    # Counted first: a labelled child's lookup takes a lock, and a batch holds thousands of rows.
    tally = collections.Counter((channels[row].value, name) for row, name in outcome.items() if row in channels)
    for (channel, name), count in tally.items():
        DELIVERIES.labels(channel, name).inc(count)


def _origin(endpoint: str) -> str:
    """scheme://host[:port]: never the path, which is the subscription's secret."""
    try:
        parts = urlsplit(endpoint)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "invalid"
    if not host:
        return "invalid"
    origin = f"{parts.scheme}://" + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    if origin not in _origins:
        if len(_origins) >= MAX_ORIGINS:
            return "other"
        _origins.add(origin)
    return origin


def serve_worker_metrics(app: Flask) -> Any:
    """Serve this registry on METRICS_WORKER_HOST:METRICS_WORKER_PORT (0 = off); the server, or None."""
    port = int(app.config["METRICS_WORKER_PORT"] or 0)
    if port <= 0:
        return None
    server, _thread = start_http_server(port, addr=str(app.config["METRICS_WORKER_HOST"]), registry=REGISTRY)
    log.info("worker metrics served on port %d", port)
    return server
