"""The web push channel: encrypt (RFC 8291), sign (RFC 8292) and POST to browser push services.

The worker calls `send(jobs)` synchronously; inside, an asyncio loop this sender owns (in a
thread of its own) keeps one pooled aiohttp session per push service alive across batches and has many requests in
flight at once. Only an async client reaches the throughput we need: a plain
`pywebpush.webpush()` loop manages about 590 pushes a second, a requests session about 800,
this about 3,500 on one core (measured in /work/shared/guide/delivery.md). Over a real
network a sequential sender is bound by round trips, so concurrency matters even more there.

What each answer means is decided in push_status.py; what a push says in push_payload.py.
Logs name the push service's origin, never an endpoint or a key: endpoints are capabilities.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from flask import Flask

from core.clock import now
from subscribers.endpoints import allowed_hosts
from subscribers.vapid import vapid_keys

from . import push_status
from .channels import Job, Message, Outcome, Recipient, Result, register
from .push_crypto import InvalidKeys, Receiver, encrypt
from .push_origins import BadEndpoint, Origin, make_session, origin_of
from .push_payload import PayloadError, Prepared, prepare
from .push_status import Verdict
from .vapid_cache import VapidCache

log = logging.getLogger(__name__)
# Push services answer with a few bytes; never read more than this of an answer.
MAX_ANSWER_BYTES = 64 * 1024
# Rows held back by a paused push service come back spread over this much after the pause.
PAUSE_SPREAD = timedelta(seconds=30)


@dataclass(frozen=True)
class Push:
    index: int  # of the job in the batch
    job: Job
    receiver: Receiver
    prepared: Prepared


class WebPushSender:
    def __init__(self, app: Flask) -> None:
        config = app.config
        self.vapid = VapidCache(vapid_keys(app))  # VapidError (how to fix it) when there are no keys
        self.allowed_hosts = allowed_hosts(config)
        self.allow_private = bool(config["PUSH_ALLOW_PRIVATE_ENDPOINTS"])
        self.cap = max(1, int(config["PUSH_MAX_IN_FLIGHT_PER_ORIGIN"]))
        self.connect_timeout = float(config["PUSH_CONNECT_TIMEOUT_SECONDS"])
        self.read_timeout = float(config["PUSH_READ_TIMEOUT_SECONDS"])
        self.auth_pause = timedelta(seconds=float(config["PUSH_AUTH_PAUSE_SECONDS"]))
        self.origins: dict[str, Origin] = {}
        self._origin_names: dict[str, str | BadEndpoint] = {}
        self._ssl = ssl.create_default_context()  # loaded once: CA bundles are slow to read
        # The loop runs in a thread of its own: the calling thread may already run a loop of
        # its own (an async web server, Playwright's sync API in tests), and then no second
        # loop can run there.
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._notes: Counter[tuple[str, str, int]] = Counter()  # (origin, what, log level)

    def send(self, jobs: list[Job]) -> list[Result]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop.run_forever, name="webpush", daemon=True)
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(self._send(jobs), self._loop).result()

    def close(self) -> None:
        if self._thread is not None:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._thread = None
        if not self._loop.is_closed():
            self._loop.close()

    async def _close(self) -> None:
        for origin in self.origins.values():
            await origin.session.close()
        self.origins.clear()
        await self._loop.shutdown_default_executor()  # the resolver's threads

    async def _send(self, jobs: list[Job]) -> list[Result]:
        # One payload per alert version and language, shared by everyone who reads it.
        prepared: dict[tuple[int, str], Prepared | PayloadError] = {}
        verdicts: list[Verdict | None] = [None] * len(jobs)
        names: list[str] = [""] * len(jobs)
        queues: dict[str, deque[Push]] = defaultdict(deque)
        for index, job in enumerate(jobs):
            recipient, message = job.recipient, job.message
            try:
                name = self._origin_name(recipient.endpoint or "")
                receiver = Receiver(recipient.p256dh, recipient.auth)
                payload = prepared.get((message.version_id, recipient.language))
                if payload is None:
                    payload = prepared[(message.version_id, recipient.language)] = self._prepare(message, recipient)
                if isinstance(payload, PayloadError):
                    raise payload
            except (BadEndpoint, InvalidKeys, PayloadError) as error:
                verdicts[index] = Verdict(Outcome.FAIL, str(error))
                continue
            names[index] = name
            queues[name].append(Push(index, job, receiver, payload))
        await asyncio.gather(*(self._drain(self._origin(name), queue, verdicts) for name, queue in queues.items()))
        results: list[Result] = []
        for job, name, verdict in zip(jobs, names, verdicts, strict=True):
            assert verdict is not None
            said = f"{verdict.error} ({name})" if name and verdict.error else verdict.error
            gone = job.recipient.endpoint if verdict.outcome == Outcome.PRUNE else None
            results += [Result(row, verdict.outcome, said, verdict.retry_at, gone) for row in job.delivery_ids]
        self._log_notes()
        return results

    def _prepare(self, message: Message, recipient: Recipient) -> Prepared | PayloadError:
        try:
            return prepare(message, recipient.language, now())
        except PayloadError as error:
            log.error("push payload of alert version %s (%s): %s", message.version_id, recipient.language, error)
            return error

    def _origin_name(self, endpoint: str) -> str:
        """origin_of, remembered per scheme and host: thousands of endpoints share a few of them."""
        scheme_end = endpoint.find("://")
        path = endpoint.find("/", scheme_end + 3) if scheme_end >= 0 else -1
        head = endpoint if path < 0 else endpoint[:path]
        known = self._origin_names.get(head)
        if known is None:
            try:
                known = origin_of(head, allowed_hosts=self.allowed_hosts, allow_private=self.allow_private)
            except BadEndpoint as refused:
                known = refused
            self._origin_names[head] = known
        if isinstance(known, BadEndpoint):
            raise known
        return known

    def _origin(self, name: str) -> Origin:
        if name not in self.origins:
            session = make_session(
                cap=self.cap,
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                ssl_context=self._ssl,
                private=self.allow_private,
            )
            self.origins[name] = Origin(name, session, self.cap)
        return self.origins[name]

    async def _drain(self, origin: Origin, queue: deque[Push], verdicts: list[Verdict | None]) -> None:
        """Send one origin's pushes with at most its current cap in flight."""
        await asyncio.gather(*(self._work(origin, queue, verdicts) for _ in range(min(origin.limit, len(queue)))))

    async def _work(self, origin: Origin, queue: deque[Push], verdicts: list[Verdict | None]) -> None:
        # A pool of workers taking from one queue costs less than a task and a lock per push.
        while queue and origin.in_flight < origin.limit:  # a 429 lowers the limit: workers retire
            push = queue.popleft()
            origin.in_flight += 1
            try:
                verdicts[push.index] = await self._push(origin, push)
            finally:
                origin.in_flight -= 1

    async def _push(self, origin: Origin, push: Push) -> Verdict:
        try:
            moment = now()
            if origin.paused(moment):
                return self._held(origin, moment)
            verdict = await self._post(push.job, origin, push.receiver, push.prepared)
            self._learn(origin, verdict)
            return verdict
        except Exception:
            # One broken push must not lose the batch; the rest go on, this one is retried.
            log.exception("pushing to %s failed unexpectedly", origin.name)
            return push_status.unreachable("unexpected error while sending", push.job.attempts, now())

    async def _post(self, job: Job, origin: Origin, receiver: Receiver, prepared: Prepared) -> Verdict:
        body = encrypt(prepared.plaintext, receiver, prepared.body_size)
        headers = {**prepared.headers, "Authorization": self.vapid.header(origin.name)}
        endpoint = job.recipient.endpoint or ""
        try:
            # Never follow redirects: the endpoint is the only address a subscriber gave us.
            async with origin.session.post(endpoint, data=body, headers=headers, allow_redirects=False) as answer:
                status, retry_after = answer.status, answer.headers.get("Retry-After")
                await answer.content.read(MAX_ANSWER_BYTES)  # drained, the connection is reused
        except TimeoutError:
            return push_status.unreachable("timed out", job.attempts, now())
        except (aiohttp.ClientError, OSError) as error:
            return push_status.unreachable(f"connection failed: {type(error).__name__}", job.attempts, now())
        return push_status.judge(status, retry_after, job.attempts, now(), self.auth_pause)

    def _learn(self, origin: Origin, verdict: Verdict) -> None:
        if verdict.outcome == Outcome.SENT:
            origin.succeeded()
            return
        if verdict.pause_until is not None:
            origin.pause(verdict.pause_until, verdict.error)
        if verdict.slow_down:
            origin.slow_down()
        what = verdict.error
        if verdict.operator and verdict.pause_until is not None:
            self.vapid.forget(origin.name)  # signed anew when the pause ends
            what += (
                "; check the VAPID keys (VAPID_PRIVATE_KEY or VAPID_FILE) and VAPID_SUBJECT."
                f" Nothing is sent to it until {verdict.pause_until:%Y-%m-%d %H:%M} UTC"
            )
        # Gone subscriptions are business as usual; trouble with the push service is not.
        level = logging.INFO if verdict.outcome == Outcome.PRUNE else logging.WARNING
        self._notes[(origin.name, what, logging.ERROR if verdict.operator else level)] += 1

    def _held(self, origin: Origin, moment: datetime) -> Verdict:
        until = origin.paused_until or moment
        self._notes[(origin.name, f"held back while paused ({origin.pause_reason})", logging.WARNING)] += 1
        # Spread out, so the held rows do not all return in the same second.
        retry_at = push_status.spread(until, PAUSE_SPREAD)
        return Verdict(Outcome.RETRY, f"push service paused: {origin.pause_reason}", retry_at)

    def _log_notes(self) -> None:
        """One line per push service and kind of trouble per batch, not one per subscriber."""
        for (name, what, level), count in sorted(self._notes.items()):
            needed = "; an operator must look at this" if level >= logging.ERROR else ""
            log.log(level, "push service %s: %s, %d times%s", name, what, count, needed)
        self._notes.clear()


register("webpush", WebPushSender)
