"""The subscribe page in a real browser: web push end to end (but for the browser's own push
service, which headless Chromium lacks), notifications from the service worker, and email.

Runs on SQLite only: the database side of the same requests is tested on both databases in
tests/subscribers/test_push_api.py, and a second browser run would double the time for
nothing the browser could tell apart.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from core.db import db
from subscribers.models import Channel, Subscription
from subscribers.preferences import preferences_of
from subscribers.vapid import generate_pair, vapid_keys

from .conftest import LiveServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Replaces the browser's push service, which headless Chromium does not have: subscribe()
# answers with a subscription on a loopback endpoint whose keys the test made. The options
# the page passed are kept so the test can check the applicationServerKey.
FAKE_PUSH_MANAGER = """
(() => {
  const fake = %s;
  let current = null;
  const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const text = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  PushManager.prototype.subscribe = async function (options) {
    window.__applicationServerKey = text(options.applicationServerKey);
    current = {
      endpoint: fake.endpoint,
      expirationTime: null,
      options: options,
      getKey: (name) => bytes(fake.keys[name]).buffer,
      toJSON: () => ({ endpoint: fake.endpoint, expirationTime: null, keys: fake.keys }),
      unsubscribe: async () => { current = null; return true; },
    };
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""
NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map((n) => (
    { title: n.title, body: n.body, tag: n.tag, icon: n.icon, url: n.data && n.data.url }));
}"""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_subscription(server: LiveServer) -> dict[str, Any]:
    point = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = point.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {
        "endpoint": f"{server.url}/push-service/{b64(os.urandom(12))}",
        "keys": {"p256dh": b64(raw), "auth": b64(os.urandom(16))},
    }


@pytest.fixture
def server(live_server: LiveServer, tmp_path: Path) -> LiveServer:
    live_server.app.config.update(
        VAPID_PRIVATE_KEY=generate_pair()[0],
        PUSH_ALLOW_PRIVATE_ENDPOINTS=True,  # the endpoint is on loopback
        PUSH_ALLOWED_HOSTS=[],
        MAIL_CONSOLE_DIR=str(tmp_path / "mail"),
    )
    return live_server


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[tuple[Page, list[str]]]:
    """A fresh profile with notifications allowed, and a list of everything that went wrong."""
    context = browser.new_context(base_url=server.url, locale="en-GB")
    context.grant_permissions(["notifications"], origin=server.url)
    problems: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    yield page, problems
    context.close()


def test_push_subscription_end_to_end(page: tuple[Page, list[str]], server: LiveServer) -> None:
    browser_page, problems = page
    fake = browser_subscription(server)
    browser_page.context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(fake))
    browser_page.goto("/subscribe")

    # The page registers the service worker at the root, without asking anything yet.
    script = browser_page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)")
    assert script == f"{server.url}/sw.js"
    expect(browser_page.get_by_role("button", name="Turn on push notifications")).to_be_visible()

    # Region suggestions from /api/v1/regions turn a name into a code.
    browser_page.get_by_label("Other regions").fill("Amsterd")
    browser_page.get_by_role("button", name=re.compile(r"^Amsterdam .*GM0363")).click()
    expect(browser_page.get_by_label("Other regions")).to_have_value(re.compile(r"^GM0363, $"))

    browser_page.get_by_label("Utrecht").check()
    browser_page.get_by_label("Lowest level to hear about").select_option("warning")
    browser_page.get_by_label("Tablet (pill)").check()
    browser_page.get_by_label("MDMA / XTC").check()
    browser_page.get_by_label("Alerts in").select_option("en")
    browser_page.get_by_label("Quiet from").fill("23:30")
    browser_page.get_by_label("Quiet until").fill("07:00")
    browser_page.get_by_role("button", name="Turn on push notifications").click()

    manage = browser_page.locator("#manage-link")
    expect(manage).to_be_visible()
    assert browser_page.evaluate("window.__applicationServerKey") == vapid_keys(server.app).public_key

    db.session.expire_all()
    stored = db.session.scalars(select(Subscription)).one()
    assert stored.channel == Channel.PUSH and stored.active
    assert (stored.endpoint, stored.p256dh, stored.auth) == (
        fake["endpoint"],
        fake["keys"]["p256dh"],
        fake["keys"]["auth"],
    )
    preferences = preferences_of(stored)
    assert preferences["areas"] == ["GM0363", "NL-UT"]
    assert (preferences["min_level"], preferences["forms"], preferences["substances"]) == (
        "warning",
        ["tablet"],
        ["mdma"],
    )
    assert preferences["language"] == "en"
    assert preferences["quiet_hours"] == {"start": "23:30", "end": "07:00", "timezone": "Europe/Amsterdam"}
    assert manage.get_attribute("href", timeout=1000).startswith(f"{server.url}/manage/")  # type: ignore[union-attr]

    deliver = push_delivery(browser_page, server)
    alert = {
        "title": "Warning: orange 'Tesla' pills",
        "body": "Very high dose of MDMA.",
        "url": "/alerts/42",
        "tag": "signaal-alert-42",
        "level": "warning",
        "lang": "en",
        "kind": "alert",
    }
    deliver(json.dumps(alert))
    shown = notifications(browser_page)
    assert shown == [
        {
            "title": alert["title"],
            "body": alert["body"],
            "tag": "signaal-alert-42",
            "icon": f"{server.url}/static/icon-192.png",
            "url": f"{server.url}/alerts/42",
        }
    ]

    # An update replaces the notification with the same tag instead of adding one.
    deliver(json.dumps({**alert, "title": "Update: orange 'Tesla' pills", "kind": "update"}))
    assert [n["title"] for n in notifications(browser_page)] == ["Update: orange 'Tesla' pills"]

    # A payload that is not ours still shows a notification, and links only to this site.
    deliver("not json")
    deliver(json.dumps({**alert, "tag": "signaal-alert-43", "url": "https://evil.example/phish"}))
    by_tag = {n["tag"]: n for n in notifications(browser_page)}
    assert sorted(by_tag) == ["", "signaal-alert-42", "signaal-alert-43"], by_tag
    assert by_tag[""]["title"] == "Signaal" and "New alert" in by_tag[""]["body"]
    assert by_tag["signaal-alert-43"]["url"] == f"{server.url}/"

    # Turning push off deletes the subscription.
    browser_page.get_by_role("button", name="Turn off push notifications").click()
    expect(browser_page.get_by_text("Push notifications are off for this browser.")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalars(select(Subscription)).all() == []
    assert problems == []


def test_bad_preferences_are_shown_and_nothing_is_stored(page: tuple[Page, list[str]], server: LiveServer) -> None:
    browser_page, problems = page
    browser_page.context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(browser_subscription(server)))
    browser_page.goto("/subscribe")
    browser_page.get_by_role("button", name="Turn on push notifications").click()  # no region chosen
    expect(browser_page.locator("#push-status")).to_contain_text("areas: choose at least one region")
    db.session.expire_all()
    assert db.session.scalars(select(Subscription)).all() == []
    # The 422 is the expected answer; nothing else may have gone wrong.
    assert problems and all("422" in p for p in problems), problems


def test_email_sign_up_without_javascript(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(base_url=server.url, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/subscribe")
        expect(page.get_by_role("button", name="Turn on push notifications")).to_be_hidden()
        page.get_by_label("Noord-Holland").check()
        page.get_by_label("Email address").fill("visitor@example.org")
        page.get_by_role("button", name="Subscribe by email").click()
        expect(page.get_by_role("heading", name="Check your mailbox")).to_be_visible()
    finally:
        context.close()
    db.session.expire_all()
    stored = db.session.scalars(select(Subscription)).one()
    assert stored.channel == Channel.EMAIL and stored.email == "visitor@example.org" and not stored.active
    assert stored.chosen_areas == ["NL-NH"]


# --- pushing to the service worker through the DevTools protocol --------------------------


def push_delivery(page: Page, server: LiveServer) -> Callable[[str], None]:
    """A function that hands a decrypted payload to the page's service worker, as a push would,
    and returns once the worker's push event has finished: its showNotification() has settled.

    ServiceWorker.deliverPushMessage answers as soon as the push is dispatched, before the
    worker has run. The end of the push event comes from the BackgroundService domain (the
    "Push event completed" entry DevTools shows under Application > Push messaging), which
    Chromium only sends while it records push messaging for this context.
    """
    session = page.context.new_cdp_session(page)
    scope = f"{server.url}/"
    registrations: set[str] = set()
    completed: list[dict[str, Any]] = []

    def updated(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not registration.get("isDeleted"):
                registrations.add(registration["registrationId"])

    def background_service_event(event: dict[str, Any]) -> None:
        logged = event["backgroundServiceEvent"]
        if logged["eventName"] == "Push event completed" and logged["origin"] == scope:
            completed.append(logged)

    session.on("ServiceWorker.workerRegistrationUpdated", updated)
    session.on("BackgroundService.backgroundServiceEventReceived", background_service_event)
    session.send("BackgroundService.startObserving", {"service": "pushMessaging"})
    session.send("BackgroundService.setRecording", {"shouldRecord": True, "service": "pushMessaging"})
    session.send("ServiceWorker.enable")
    # Chromium reports existing registrations while handling enable.
    wait_for_cdp(page, lambda: bool(registrations), "no service worker registration reported")
    [registration_id] = registrations  # one context, one worker at the root: never two

    def deliver(data: str) -> None:
        before = len(completed)
        session.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": server.url, "registrationId": registration_id, "data": data},
        )
        wait_for_cdp(page, lambda: len(completed) > before, f"the push event for {data!r} never completed")
        [logged] = completed[before:]
        status = {item["key"]: item["value"] for item in logged["eventMetadata"]}.get("Status")
        assert (logged["serviceWorkerRegistrationId"], status) == (registration_id, "Success"), logged

    return deliver


def wait_for_cdp(page: Page, condition: Callable[[], bool], failure: str) -> None:
    """Wait until `condition` holds, as CDP events arrive.

    The sync API dispatches events only while it waits on Playwright, so each round trip to
    the page lets the ones on their way through.
    """
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, failure
        page.evaluate("0")


def notifications(page: Page) -> list[dict[str, Any]]:
    """The service worker's notifications on screen, read once.

    Only read when no showNotification() is in flight (push_delivery's deliver returns after
    it has settled), and never polled while one is: Chromium's getNotifications() keeps a
    stored notification only if the platform already reports it as displayed or it was stored
    after the call began, and deletes every other one from its database
    (PlatformNotificationContextImpl::DoReadAllNotificationDataForServiceWorkerRegistration).
    A read that falls between the worker storing a notification and the platform showing it
    drops it for good: it stays on screen, but no later getNotifications() lists it. Polling
    here once per animation frame lost a push in about one run in three.
    """
    result: list[dict[str, Any]] = page.evaluate(NOTIFICATIONS)
    return result
