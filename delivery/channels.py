"""What a worker hands a channel, what it gets back, and the registry of channel senders.

Jobs are plain snapshots loaded before the sending starts, so no database session or
transaction is open while a channel talks to the network.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flask import Flask

from subscribers.models import Channel

log = logging.getLogger(__name__)

# In front of the title or subject of a test send, whatever else the channel puts there.
TEST_MARK = "[TEST] "


@dataclass(frozen=True)
class Recipient:
    subscription_id: int
    public_id: str
    channel: Channel
    language: str
    endpoint: str | None = None
    p256dh: str | None = None
    auth: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Message:
    """One alert version as subscribers get it, with its texts in every language it has."""

    version_id: int
    alert_id: int
    number: int
    kind: str  # alert | update | cancel
    level: str
    texts: dict[str, dict[str, str]]
    expires: datetime
    url: str
    topic: str
    withdrawal_reason: str | None = None
    # A test an editor sends to themself (delivery/trial.py): never a subscriber, no outbox row.
    # Its texts already carry the "[TEST] " marker, so senders must not add another.
    test: bool = False

    def text(self, language: str) -> tuple[str, dict[str, str]]:
        """The language to use for this subscriber, and its texts (English, then any, as fallback)."""
        for lang in (language, "en", *self.texts):
            if lang in self.texts:
                return lang, self.texts[lang]
        raise ValueError(f"version {self.version_id} has no texts")


@dataclass
class Job:
    delivery_id: int
    recipient: Recipient
    message: Message
    attempts: int
    # For an email digest: the other messages gathered into the same mail, with their row ids.
    digest: list[tuple[int, Message]] = field(default_factory=list)

    @property
    def delivery_ids(self) -> list[int]:
        return [self.delivery_id, *(row for row, _ in self.digest)]


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"  # transient: try again at retry_at (bounded by the alert's expiry)
    PRUNE = "prune"  # the subscription is gone: delete it (if it still has this endpoint)
    FAIL = "fail"  # permanent for this message; never resent


@dataclass(frozen=True)
class Result:
    delivery_id: int
    outcome: Outcome
    error: str = ""
    retry_at: datetime | None = None
    # For PRUNE: the endpoint or address that failed, so only that one is deleted.
    gone: str | None = None


class Sender(Protocol):
    def send(self, jobs: list[Job]) -> list[Result]: ...

    def close(self) -> None: ...


SenderFactory = Callable[[Flask], Sender]
_REGISTRY: dict[str, SenderFactory] = {}


def register(name: str, factory: SenderFactory) -> None:
    _REGISTRY[name] = factory


def make_sender(app: Flask, channel: Channel) -> Sender:
    """The sender configured for a channel: DELIVERY_PUSH_BACKEND / DELIVERY_EMAIL_BACKEND."""
    name = app.config[f"DELIVERY_{channel.name}_BACKEND"]
    _builtin_senders()
    if name not in _REGISTRY:
        raise RuntimeError(f"unknown {channel.value} backend {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](app)


def _builtin_senders() -> None:
    """Import the real channels so they register; imported only when a sender is made, since
    they bring aiohttp and SMTP clients that the web pages never need."""
    from . import mail_sender, webpush  # noqa: F401


class RecordingSender:
    """Keeps what it was asked to send; for development and tests of the engine itself."""

    def __init__(self, app: Flask | None = None) -> None:
        self.sent: list[Job] = []

    def send(self, jobs: list[Job]) -> list[Result]:
        self.sent.extend(jobs)
        for job in jobs:
            log.info("recording sender: delivery %s (%s)", job.delivery_id, job.message.kind)
        return [Result(row, Outcome.SENT) for job in jobs for row in job.delivery_ids]

    def close(self) -> None:
        pass


def recording_factory(app: Flask) -> Any:
    """One shared RecordingSender per app, so tests can look at what was sent."""
    return app.extensions.setdefault("signaal_recording_sender", RecordingSender(app))


register("recording", recording_factory)
