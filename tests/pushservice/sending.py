"""What a test needs to send real pushes to the loopback push service: settings and a running one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from subscribers.vapid import generate_pair

from .server import PushService


def loopback_push_settings() -> dict[str, Any]:
    """The real web-push sender, allowed to reach 127.0.0.1, with a fresh VAPID key."""
    return {
        "DELIVERY_PUSH_BACKEND": "webpush",
        "PUSH_ALLOW_PRIVATE_ENDPOINTS": True,
        "PUSH_ALLOWED_HOSTS": [],
        "VAPID_PRIVATE_KEY": generate_pair()[0],
        "VAPID_SUBJECT": "mailto:push-admin@example.org",
    }


@contextmanager
def running_push_service() -> Iterator[PushService]:
    service = PushService().start()
    try:
        yield service
    finally:
        service.stop()
