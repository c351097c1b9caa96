"""The alert page in a real browser: live delivery numbers, and a test push to this browser.

SQLite only, like the other browser tests: the same requests run on both databases in
tests/alerts/test_delivery_views.py and tests/alerts/test_test_send.py. The page's timers run
on Playwright's clock, so a poll happens exactly when the test moves time on, not after a sleep.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from alerts import lifecycle
from alerts.models import Alert
from core import clock
from delivery.worker import Worker
from editors.models import Role
from subscribers.vapid import generate_pair
from tests.alert_payloads import audi_payload
from tests.factories import DEFAULT_PASSWORD, make_editor, make_subscription
from tests.pushservice.server import PushService

from .conftest import LiveServer
from .test_subscribe_push import FAKE_PUSH_MANAGER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

WRITER, CHIEF = "writer@lab.test", "chief@lab.test"
AFTERNOON = datetime(2027, 1, 9, 13, 0, tzinfo=UTC)
STATS = "/deliveries.json"


@pytest.fixture
def alert(live_server: LiveServer) -> Alert:
    clock.freeze(AFTERNOON)
    writer, chief = make_editor(WRITER, Role.EDITOR), make_editor(CHIEF, Role.PUBLISHER)
    for _ in range(3):
        make_subscription(["NL"])
    alert = lifecycle.create_alert(audi_payload(), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    return alert


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, alert: Alert) -> Iterator[tuple[Page, list[str]]]:
    """A logged-in editor's page, and its script errors and failed responses (but for the favicon)."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.grant_permissions(["notifications"], origin=live_server.url)
    problems: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.goto("/editor/login?lang=en")
    page.get_by_label("Email address").fill(WRITER)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    yield page, problems
    context.close()


def test_the_numbers_update_in_place_and_polling_stops_when_nothing_waits(
    page: tuple[Page, list[str]], live_server: LiveServer, alert: Alert
) -> None:
    browser_page, problems = page
    polls: list[str] = []
    browser_page.on("request", lambda r: polls.append(r.url) if r.url.endswith(STATS) else None)
    browser_page.clock.install()
    browser_page.goto(f"/editor/alerts/{alert.id}")
    row = browser_page.locator('#delivery tr[data-version="1"]')
    expect(row.locator('[data-stat="pending"]')).to_have_text("3")
    expect(row.locator('[data-stat="sent"]')).to_have_text("0")

    worker = Worker(live_server.app, "browser-test")
    while worker.run_once():
        pass
    browser_page.clock.run_for(2000)  # the next poll
    expect(row.locator('[data-stat="sent"]')).to_have_text("3")
    expect(row.locator('[data-stat="pending"]')).to_have_text("0")
    expect(row.locator('[data-stat="push.targeted"]')).to_have_text("3")
    expect(browser_page.locator("#delivery-live")).to_have_text("Delivery finished: nothing is waiting any more.")
    assert len(polls) == 1
    browser_page.clock.run_for(5 * 60 * 1000)
    assert len(polls) == 1  # nothing waits: no more polls
    assert problems == []


def test_a_test_push_goes_from_this_browser_to_its_push_service(
    page: tuple[Page, list[str]], live_server: LiveServer, alert: Alert
) -> None:
    browser_page, problems = page
    service = PushService().start()
    try:
        live_server.app.config.update(
            DELIVERY_PUSH_BACKEND="webpush",
            PUSH_ALLOW_PRIVATE_ENDPOINTS=True,
            PUSH_ALLOWED_HOSTS=[],
            VAPID_PRIVATE_KEY=generate_pair()[0],
            VAPID_SUBJECT="mailto:push-admin@example.org",
        )
        p256dh, auth = service.keys("editor")
        fake = {"endpoint": service.endpoint("editor"), "keys": {"p256dh": p256dh, "auth": auth}}
        browser_page.context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(fake))
        browser_page.goto(f"/editor/alerts/{alert.id}")
        browser_page.get_by_label("This browser (push notification)").check()
        browser_page.get_by_role("button", name="Send the test").click()
        expect(browser_page.locator("#test-send-status")).to_have_text(
            "The test of version 1 was sent to this browser; it appears in a moment."
        )
        [record] = service.received
        assert "[TEST] " in record.payload()["title"]
        assert record.headers["Topic"] == f"signaal-test-{alert.id}"
    finally:
        service.stop()
    assert problems == []
