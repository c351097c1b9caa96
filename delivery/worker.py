"""The worker: claim a batch, prepare it, send it per channel, record the outcome, repeat.

At-least-once: a worker that dies mid-batch leaves its rows leased; when the lease ends
another worker takes them over, so a subscriber gets at most one batch's worth of duplicates.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time
from collections import defaultdict
from datetime import timedelta

from flask import Flask

from core.clock import now
from core.db import db
from ops import instruments
from ops.heartbeat import Beating, worker_name
from subscribers.models import Channel

from . import claims, wakeup
from .channels import Job, Outcome, Result, Sender, make_sender
from .lease import LeaseKeeper
from .prepare import prepare

log = logging.getLogger(__name__)
SENDER_CRASH_BACKOFF = timedelta(seconds=30)


class Worker:
    def __init__(self, app: Flask, worker_id: str | None = None) -> None:
        self.app = app
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.batch_size: int = app.config["DELIVERY_BATCH_SIZE"]
        self.lease = timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"])
        self._senders: dict[Channel, Sender] = {}

    def sender(self, channel: Channel) -> Sender:
        if channel not in self._senders:
            self._senders[channel] = make_sender(self.app, channel)
        return self._senders[channel]

    def run_once(self) -> int:
        """Handle one batch; the number of rows claimed (0 when nothing was due)."""
        with self.app.app_context():
            try:
                rows = claims.claim(self.worker_id, self.batch_size, self.lease)
                if not rows:
                    return 0
                plan = prepare(rows)
                db.session.rollback()  # end the read transaction before any network I/O
                held = [row.delivery_id for row in rows]
                with LeaseKeeper(self.app, self.worker_id, held, self.lease):
                    results = self._send(plan.jobs)
                claims.record(results, plan.reschedules, plan.drops, plan.expiry)
                deferred = [item.delivery_id for item in plan.reschedules]
                instruments.finished({row.delivery_id: row.channel for row in rows}, results, deferred, plan.drops)
                return len(rows)
            finally:
                db.session.remove()

    def _send(self, jobs: list[Job]) -> list[Result]:
        by_channel: dict[Channel, list[Job]] = defaultdict(list)
        for job in jobs:
            by_channel[job.recipient.channel].append(job)
        results: list[Result] = []
        for channel, channel_jobs in by_channel.items():
            started = time.perf_counter()
            try:
                sent = self.sender(channel).send(channel_jobs)
            except Exception:
                # A broken channel must not lose the batch: every row goes back for a retry.
                log.exception("%s sender failed; its %d rows will be retried", channel.value, len(channel_jobs))
                sent = [
                    Result(row, Outcome.RETRY, "sender crashed", retry_at=now() + SENDER_CRASH_BACKOFF)
                    for job in channel_jobs
                    for row in job.delivery_ids
                ]
            instruments.sent_batch(channel, channel_jobs, sent, time.perf_counter() - started)
            results += sent
        return results

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; idle, wait for a wake-up or the poll interval."""
        poll = float(self.app.config["DELIVERY_POLL_SECONDS"])
        listener = wakeup.listener_for(self.app)
        self._warm_up()
        # What exists now (the app, the region tree, templates, models, senders) lives as long as the
        # process: out of the collector's sight, full collections scan only a batch's objects.
        # Otherwise each one walks some 136,000 objects (about 0.08 s); a big send triggers
        # one every few thousand pushes, 5 to 10% of the worker's CPU time (bench/push.py).
        gc.freeze()
        log.info("delivery worker %s started", self.worker_id)
        try:
            # /healthz and /metrics count the workers alive by these beats, from any machine.
            with Beating(self.app, worker_name(self.worker_id)):
                while not stop.is_set():
                    try:
                        busy = self.run_once() > 0
                    except Exception:
                        log.exception("delivery batch failed; its rows return when their lease ends")
                        busy = False
                    if not busy:
                        listener.wait(poll)
        finally:
            listener.close()
            self.close()

    def _warm_up(self) -> None:
        """Make the senders now (imports, TLS contexts: about 0.4 s), not when the first alert waits.

        A sender that cannot be made (web push without VAPID keys) is tried again, and its
        error reported, when a batch needs it.
        """
        for channel in Channel:
            try:
                self.sender(channel)
            except Exception as error:
                log.info("%s sender not ready (%s); made when first needed", channel.value, error)

    def close(self) -> None:
        for sender in self._senders.values():
            sender.close()
        self._senders.clear()


def start_in_background(app: Flask) -> tuple[threading.Thread, threading.Event]:
    """The embedded default: one worker thread inside the web process."""
    stop = threading.Event()
    thread = threading.Thread(target=Worker(app).run, args=(stop,), name="delivery-worker", daemon=True)
    thread.start()
    return thread, stop
