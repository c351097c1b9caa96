"""The web push channel's rules one by one: payload, padding, headers, status verdicts, encryption,
VAPID reuse, where we send, and the loopback push service as a process of its own."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import http_ece
import pytest
from flask import Flask

from core.config import DEFAULTS
from delivery.channels import Job, Message, Outcome, Recipient
from delivery.push_crypto import Receiver, encrypt
from delivery.push_origins import BadEndpoint, Origin, PublicResolver, origin_of
from delivery.push_payload import BODY_SIZES, MAX_TTL_SECONDS, PayloadError, headers, prepare
from delivery.push_status import backoff, judge, parse_retry_after
from delivery.vapid_cache import VapidCache
from delivery.webpush import WebPushSender
from subscribers.models import Channel
from subscribers.vapid import VapidKeys, generate_pair, public_from_private
from tests.pushservice.keys import auth_secret, private_key, subscription_keys

MOMENT = datetime(2027, 1, 9, 13, 0, tzinfo=UTC)
PAUSE = timedelta(minutes=15)


def message(kind: str = "alert", level: str = "warning", headline: str = "Orange pills", **changes: object) -> Message:
    fields: dict[str, object] = {
        "version_id": 7,
        "alert_id": 42,
        "number": 1,
        "kind": kind,
        "level": level,
        "texts": {"en": {"headline": headline, "push_text": "Test them first."}},
        "expires": MOMENT + timedelta(hours=3),
        "url": "https://signaal.example/alerts/42",
        "topic": "signaal-alert-42",
        **changes,
    }
    return Message(**fields)  # type: ignore[arg-type]


def test_longest_texts_in_four_byte_characters_still_fit_the_largest_body() -> None:
    huge = message(headline="🚨" * 160, texts={"en": {"headline": "🚨" * 160, "push_text": "💊" * 120}})
    prepared = prepare(huge, "en", MOMENT)
    assert prepared.body_size == BODY_SIZES[-1] <= 2560
    short = prepare(message(), "en", MOMENT)
    assert short.body_size == BODY_SIZES[0]


def test_a_payload_that_cannot_fit_is_refused_as_our_bug() -> None:
    with pytest.raises(PayloadError):
        prepare(message(texts={"en": {"headline": "x" * 3000, "push_text": ""}}), "en", MOMENT)


def test_headers_ttl_is_bounded_and_topic_checked() -> None:
    assert headers(message(), MOMENT)["TTL"] == str(3 * 3600)
    assert headers(message(), MOMENT + timedelta(days=1))["TTL"] == "0"
    assert headers(message(expires=MOMENT + timedelta(days=90)), MOMENT)["TTL"] == str(MAX_TTL_SECONDS)
    with pytest.raises(PayloadError):
        headers(message(topic="signaal alert 42"), MOMENT)


def test_the_level_is_said_once_and_a_language_without_words_gets_english_ones() -> None:
    payload = json.loads(prepare(message(headline="Warning: orange pills"), "fr", MOMENT).plaintext)
    assert (payload["title"], payload["lang"], payload["url"]) == ("Warning: orange pills", "en", "/alerts/42")
    german = message(texts={"de": {"headline": "Orange Pillen", "push_text": "Testen."}})
    assert json.loads(prepare(german, "de", MOMENT).plaintext)["title"] == "Warning: Orange Pillen"


@pytest.mark.parametrize(
    ("status", "outcome", "pauses"),
    [
        (201, Outcome.SENT, False),
        (202, Outcome.SENT, False),
        (404, Outcome.PRUNE, False),
        (410, Outcome.PRUNE, False),
        (413, Outcome.FAIL, False),
        (400, Outcome.FAIL, False),
        (429, Outcome.RETRY, True),
        (401, Outcome.RETRY, True),
        (403, Outcome.RETRY, True),
        (500, Outcome.RETRY, False),
        (503, Outcome.RETRY, False),
        (408, Outcome.RETRY, False),
    ],
)
def test_each_status_has_its_verdict(status: int, outcome: Outcome, pauses: bool) -> None:
    verdict = judge(status, None, 0, MOMENT, PAUSE)
    assert verdict.outcome == outcome
    assert (verdict.pause_until is not None) == pauses
    assert verdict.operator == (status in (400, 401, 403, 413))


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120", MOMENT) == MOMENT + timedelta(seconds=120)
    assert parse_retry_after(format_datetime(MOMENT + timedelta(hours=1), usegmt=True), MOMENT) == MOMENT + timedelta(
        hours=1
    )
    assert parse_retry_after("soon", MOMENT) is None
    assert parse_retry_after("9" * 40, MOMENT) == MOMENT + timedelta(days=1)  # not believed beyond a day
    assert judge(429, None, 0, MOMENT, PAUSE).retry_at == MOMENT + timedelta(seconds=60)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    for attempts in range(8):
        step = min(timedelta(seconds=30) * 2**attempts, timedelta(hours=1))
        delays = {backoff(attempts, MOMENT) - MOMENT for _ in range(20)}
        assert all(step / 2 <= delay <= step for delay in delays) and len(delays) > 1


def test_encryption_is_rfc8291_with_a_fresh_key_per_message() -> None:
    p256dh, auth = subscription_keys("rfc")
    receiver = Receiver(p256dh, auth)
    first, second = encrypt(b"hello", receiver, 1024), encrypt(b"hello", receiver, 1024)
    assert len(first) == len(second) == 1024
    assert first[21:86] != second[21:86]  # the sender's public key (key id) differs every time
    plain = http_ece.decrypt(first, private_key=private_key("rfc"), auth_secret=auth_secret("rfc"), version="aes128gcm")
    assert plain == b"hello"


def test_vapid_is_signed_once_per_origin_until_forgotten() -> None:
    private = generate_pair()[0]
    cache = VapidCache(VapidKeys(private, public_from_private(private), "mailto:ops@example.org"))
    a, b = "https://fcm.googleapis.com", "https://updates.push.services.mozilla.com"
    assert cache.header(a) == cache.header(a) != cache.header(b)
    assert cache.signatures == 2 and f"k={public_from_private(private)}" in cache.header(a)
    cache.forget(a)
    cache.header(a)
    assert cache.signatures == 3


@pytest.mark.parametrize(
    ("endpoint", "private", "allowed"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", False, []),
        ("https://127.0.0.1/push/x", False, []),
        ("https://localhost:8443/push/x", False, []),
        ("http://10.0.0.1/push/x", True, []),  # plain http only to this machine, even in tests
        ("https://push.example.net/x", False, ["fcm.googleapis.com"]),
        ("https://user@fcm.googleapis.com/x", False, []),
        ("", False, []),
    ],
)
def test_endpoints_we_do_not_send_to(endpoint: str, private: bool, allowed: list[str]) -> None:
    with pytest.raises(BadEndpoint):
        origin_of(endpoint, allowed_hosts=allowed, allow_private=private)


def test_the_origin_is_the_vapid_audience() -> None:
    assert origin_of("https://FCM.googleapis.com/fcm/send/abc", allowed_hosts=[], allow_private=False) == (
        "https://fcm.googleapis.com"
    )
    assert origin_of("http://127.0.0.1:8123/push/1", allowed_hosts=[], allow_private=True) == "http://127.0.0.1:8123"


def test_names_resolving_inwards_are_not_connected_to() -> None:
    async def resolve() -> None:
        resolver = PublicResolver()
        try:
            await resolver.resolve("localhost", 443)
        finally:
            await resolver.close()

    # In a thread of its own: in a full run Playwright's sync API keeps a loop running in this one.
    with ThreadPoolExecutor(1) as pool, pytest.raises(OSError, match="private"):
        pool.submit(asyncio.run, resolve()).result()


def test_a_429_halves_the_requests_in_flight_and_successes_restore_them() -> None:
    origin = Origin("https://push.example", session=None, cap=8)  # type: ignore[arg-type]
    origin.slow_down()
    origin.slow_down()
    assert origin.limit == 2
    for _ in range(2 + 3 + 4 + 5):
        origin.succeeded()
    assert origin.limit == 6
    for _ in range(100):
        origin.succeeded()
    assert origin.limit == 8


def test_the_push_service_runs_as_a_process_of_its_own() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.pushservice.server", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        origin = server.stdout.readline().split()[-1]  # "push service listening on http://127.0.0.1:N"
        app = Flask(__name__)
        app.config.update(DEFAULTS)
        app.config.update(PUSH_ALLOW_PRIVATE_ENDPOINTS=True, PUSH_ALLOWED_HOSTS=[])
        app.config["VAPID_PRIVATE_KEY"] = generate_pair()[0]
        sender = WebPushSender(app)
        p256dh, auth = subscription_keys("own")
        recipient = Recipient(1, "p", Channel.PUSH, "en", f"{origin}/push/own", p256dh, auth)
        try:
            moment = datetime.now(UTC)
            results = sender.send([Job(1, recipient, message(expires=moment + timedelta(hours=1)), 0)])
        finally:
            sender.close()
        assert [result.outcome for result in results] == [Outcome.SENT]
        with urllib.request.urlopen(f"{origin}/_received?push_id=own") as answer:  # noqa: S310 (our own loopback)
            (record,) = json.load(answer)
        assert record["payload"]["title"] == "Warning: Orange pills" and record["headers"]["Urgency"] == "high"
        with urllib.request.urlopen(f"{origin}/_stats") as answer:  # noqa: S310
            assert json.load(answer) == {"requests": 1, "statuses": {"201": 1}, "vapid": 1}
    finally:
        server.terminate()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
