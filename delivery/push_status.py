"""What a push service's answer means for the delivery row and for the push service itself.

The rules are those of /work/shared/guide/delivery.md (RFC 8030 and the push services' own
documentation): a pure function of the status, so each rule is easy to test and read.

| status            | row                                 | origin                                   |
|-------------------|-------------------------------------|------------------------------------------|
| 2xx               | SENT                                |                                          |
| 404, 410          | PRUNE this endpoint only            |                                          |
| 413               | FAIL: our payload is too big (bug)  | operator log                             |
| 400, other 4xx    | FAIL: our request is wrong (bug)    | operator log                             |
| 429               | RETRY at Retry-After (default 60 s) | paused until then, fewer requests at once |
| 401, 403          | RETRY after AUTH_PAUSE              | paused, operator error: our VAPID is bad |
| 408, 5xx, timeout | RETRY with backoff and jitter       |                                          |

A retry never outlives the alert: the engine drops a row whose retry falls after its expiry.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from .channels import Outcome

DEFAULT_RETRY_AFTER = timedelta(seconds=60)
MAX_RETRY_AFTER = timedelta(days=1)  # a push service's Retry-After beyond this is not believed
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
_random = secrets.SystemRandom()
# How every verdict on a push service's answer starts: "<status> from the push service".
FROM_SERVICE = " from the push service"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    error: str
    retry_at: datetime | None = None
    # Stop sending to this push service until then (429, 401/403).
    pause_until: datetime | None = None
    slow_down: bool = False
    # Something an operator must fix (our VAPID keys, our payloads): logged as an error.
    operator: bool = False


def judge(status: int, retry_after: str | None, attempts: int, moment: datetime, auth_pause: timedelta) -> Verdict:
    """The verdict on an HTTP answer `status` to a row sent `attempts` times before."""
    said = f"{status}{FROM_SERVICE}"
    if 200 <= status < 300:
        return Verdict(Outcome.SENT, "")
    if status in (404, 410):
        return Verdict(Outcome.PRUNE, f"{said}: the subscription is gone")
    if status == 429:
        until = parse_retry_after(retry_after, moment) or moment + DEFAULT_RETRY_AFTER
        return Verdict(Outcome.RETRY, f"{said}: too many requests", until, pause_until=until, slow_down=True)
    if status in (401, 403):
        until = moment + auth_pause
        return Verdict(Outcome.RETRY, f"{said}: our VAPID signature was refused", until, until, operator=True)
    if status == 413:
        return Verdict(Outcome.FAIL, f"{said}: payload too large (our bug, not resent)", operator=True)
    if status == 408 or status >= 500:
        return Verdict(Outcome.RETRY, said, backoff(attempts, moment))
    return Verdict(Outcome.FAIL, f"{said}: the request was refused (our bug, not resent)", operator=True)


def unreachable(error: str, attempts: int, moment: datetime) -> Verdict:
    """A timeout or a connection that failed: as transient as a 5xx."""
    return Verdict(Outcome.RETRY, error, backoff(attempts, moment))


def reason_of(error: str) -> str:
    """A short label for a failed push's error, for metrics: "http_<status>" for an answer,
    "unreachable" for a timeout or a failed connection, "paused", or "refused" (we did not send)."""
    status = error.split(" ", 1)[0]
    if status.isdigit() and error.startswith(status + FROM_SERVICE):
        return f"http_{status}"
    if error.startswith(("timed out", "connection failed", "unexpected error")):
        return "unreachable"
    if error.startswith("push service paused"):
        return "paused"
    return "refused"


def backoff(attempts: int, moment: datetime) -> datetime:
    """Exponential in the attempts so far, with jitter so retries of one batch do not arrive together.

    Half the delay is fixed and half random ("equal jitter"): never sooner than half the step.
    """
    step = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempts, 20))
    return spread(moment + step / 2, step / 2)


def spread(moment: datetime, width: timedelta) -> datetime:
    """A random moment in [moment, moment + width)."""
    return moment + width * _random.random()


def parse_retry_after(value: str | None, moment: datetime) -> datetime | None:
    """Retry-After as seconds or as an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        until = moment + timedelta(seconds=min(int(value), int(MAX_RETRY_AFTER.total_seconds())))
    else:
        try:
            until = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if until.tzinfo is None:
            return None
    return min(max(until, moment), moment + MAX_RETRY_AFTER)
