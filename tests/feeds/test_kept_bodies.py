"""Public reads answered from the bodies kept per process (alerts/freshness.py public_body):
/api/v1/alerts, /api/v1/alerts/<id>, /embed, /screen, / and /alerts/<id>.

A kept body must be the very bytes a build from the database gives for the same request, with
the same headers; it must go when an alert is published, updated, withdrawn, expires or takes
effect; and a conditional request for a kept body reads no alert at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, update
from werkzeug.test import TestResponse

from alerts import lifecycle
from alerts.freshness import EXTENSION, REUSE, BodyCache, Freshness, Rendered
from alerts.models import Alert, AlertVersion
from alerts.vocabulary import State
from core import clock
from core.db import db
from ops.request_log import HEADER as REQUEST_ID
from tests.alert_payloads import audi_payload
from tests.feeds.made_alerts import Team, make_team, publish_new, publish_update, withdraw

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# Whatever a request may use to choose its language, or that changes the links in a body.
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "english browser": {"headers": {"Accept-Language": "en"}},
    "dutch browser": {"headers": {"Accept-Language": "nl;q=1, en;q=0.5"}},
    "english cookie": {"headers": {"Cookie": "lang=en", "Accept-Language": "nl"}},
    "mounted under a path": {"base_url": "http://localhost/signaal"},
}


@pytest.fixture(autouse=True)
def no_rate_limit(app: Flask) -> None:
    # These tests ask the same reads many hundreds of times from one address.
    app.config["RATE_LIMIT_FEEDS"] = ""


def paths(alert_ids: list[int]) -> list[str]:
    first = alert_ids[0]
    return [
        "/api/v1/alerts",
        "/api/v1/alerts?lang=en",
        "/api/v1/alerts?level_min=warning&area=NL-NH",
        f"/api/v1/alerts/{first}",
        f"/api/v1/alerts/{first}?lang=nl",
        "/embed?region=NL",
        "/embed?region=NL-NH&lang=en&level=warning",
        "/embed?region=NL&lang=NL",  # the list in Dutch, the page's own words as negotiated
        "/embed?lang=en&utm_source=poster",
        "/screen",
        "/screen?region=NL-UT&seconds=30",
        "/screen?seconds=7&lang=en",
        "/",
        "/?lang=en",
        *(f"/alerts/{alert_id}" for alert_id in alert_ids),
        f"/alerts/{first}?lang=nl",
    ]


def get(app: Flask, path: str, variant: str, headers: dict[str, str] | None = None) -> TestResponse:
    """One request as a new visitor (no cookie kept from an earlier answer)."""
    options = VARIANTS[variant]
    client = app.test_client(use_cookies=False)
    return client.get(path, headers={**options.get("headers", {}), **(headers or {})}, base_url=options.get("base_url"))


def forget(app: Flask) -> None:
    """A new Freshness: what a process that has built nothing yet answers."""
    app.extensions[EXTENSION] = Freshness()


def answer(response: TestResponse) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Status, body and every header but the request's own id and the time it was answered."""
    headers = sorted(
        (name, re.sub(r"Expires=[^;]+; ", "", value))  # a cookie's expiry counts from the wall clock
        for name, value in response.headers.items()
        if name not in (REQUEST_ID, "Date")
    )
    return response.status_code, response.data, headers


def assert_kept_equals_built(app: Flask, alert_ids: list[int]) -> None:
    """Every path in every variant through one shared cache, then each built afresh: the same answers."""
    forget(app)
    kept = {(path, variant): answer(get(app, path, variant)) for path in paths(alert_ids) for variant in VARIANTS}
    for (path, variant), expected in kept.items():
        forget(app)
        assert answer(get(app, path, variant)) == expected, (path, variant)
    # And the kept ones really were kept: asked again, the same, read from the cache.
    for (path, variant), expected in kept.items():
        assert answer(get(app, path, variant)) == expected, (path, variant)


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def alerts_for_every_page(team: Team) -> list[Alert]:
    clock.freeze(START)
    north = publish_new(team, photo=True, level="red_alert", areas=["NL-NH"])
    utrecht = publish_new(team, level="warning", areas=["NL-UT"])
    test_alert = publish_new(team, status="test", areas=["NL"])
    return [north, utrecht, test_alert]


def test_kept_bodies_are_the_bytes_a_build_gives_through_every_change(app: Flask) -> None:
    team = make_team()
    alerts = alerts_for_every_page(team)
    ids = [alert.id for alert in alerts]
    assert_kept_equals_built(app, ids)

    clock.freeze(START + timedelta(minutes=5))
    publish_update(alerts[0], team, level="warning")
    assert_kept_equals_built(app, ids)

    clock.freeze(START + timedelta(minutes=10))
    withdraw(alerts[1], team)
    assert_kept_equals_built(app, ids)

    clock.freeze(START + timedelta(days=31))  # everything expired, the withdrawal notice too
    assert_kept_equals_built(app, ids)


def test_the_etag_changes_when_an_alert_is_published_updated_withdrawn_or_expires(app: Flask) -> None:
    team = make_team()
    clock.freeze(START)
    first = publish_new(team, areas=["NL-NH"])
    reads = ["/api/v1/alerts", f"/api/v1/alerts/{first.id}", "/embed?region=NL", "/screen", "/", f"/alerts/{first.id}"]

    def etags() -> dict[str, str]:
        return {path: get(app, path, "plain").headers["ETag"] for path in reads}

    def assert_changed(before: dict[str, str], paths: list[str]) -> None:
        for path in paths:
            response = get(app, path, "plain", {"If-None-Match": before[path]})
            assert response.status_code == 200 and response.headers["ETag"] != before[path], path

    before = etags()
    for path in reads:  # nothing changed: a 304
        assert get(app, path, "plain", {"If-None-Match": before[path]}).status_code == 304, path

    clock.freeze(START + timedelta(minutes=1))
    second = publish_new(team, areas=["NL-UT"], expires=(START + timedelta(hours=1)).isoformat())
    lists = ["/api/v1/alerts", "/embed?region=NL", "/screen", "/"]
    assert_changed(before, lists)
    # The ETag is of the body: an alert that did not change keeps its own, and its readers their copy.
    for path in (f"/api/v1/alerts/{first.id}", f"/alerts/{first.id}"):
        assert get(app, path, "plain", {"If-None-Match": before[path]}).status_code == 304, path

    before = etags()
    publish_update(first, team, level="info")  # visible everywhere; the body's ETag follows what shows
    assert_changed(before, reads)

    before = etags()
    withdraw(first, team)
    assert_changed(before, reads)

    before = etags()
    clock.freeze(START + timedelta(hours=1))  # the second alert expires; no sweep has run
    assert_changed(before, lists)
    assert "Expired" in get(app, f"/alerts/{second.id}", "english browser").get_data(as_text=True)


def test_a_test_alert_published_for_later_shows_as_in_effect_when_it_takes_effect(app: Flask) -> None:
    team = make_team()
    clock.freeze(START)
    later = START + timedelta(hours=2)
    alert = publish_new(
        team, status="test", effective=later.isoformat(), expires=(later + timedelta(days=1)).isoformat()
    )
    path = f"/api/v1/alerts/{alert.id}"
    before = get(app, path, "plain")
    assert before.json["status"] == "not_yet_effective"  # type: ignore[index]
    clock.freeze(later)
    after = get(app, path, "plain", {"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.json["status"] == "active"  # type: ignore[index]


def test_a_conditional_request_for_a_kept_body_reads_no_alert(app: Flask) -> None:
    team = make_team()
    clock.freeze(START)
    alert = publish_new(team, areas=["NL-NH"])
    for path in (
        "/api/v1/alerts",
        f"/api/v1/alerts/{alert.id}",
        "/embed?region=NL",
        "/screen",
        "/",
        f"/alerts/{alert.id}",
    ):
        etag = get(app, path, "plain").headers["ETag"]
        with statements() as seen:
            assert get(app, path, "plain", {"If-None-Match": etag}).status_code == 304
            assert get(app, path, "plain").status_code == 200
        assert seen == [], (path, seen)
        # Once the stamp is older than REUSE: the index aggregate again, still no rows.
        clock.freeze(clock.now() + REUSE)
        with statements() as seen:
            assert get(app, path, "plain", {"If-None-Match": etag}).status_code == 304
        assert len(seen) == 1 and "alert_texts" not in seen[0], (path, seen)


def test_a_change_made_by_another_process_shows_within_a_second(app: Flask) -> None:
    team = make_team()
    clock.freeze(START)
    alert = publish_new(team)
    kept = get(app, "/api/v1/alerts", "plain")
    assert len(kept.json["alerts"]) == 1  # type: ignore[index]
    with db.engine.begin() as connection:
        connection.execute(update(AlertVersion).where(AlertVersion.alert_id == alert.id).values(state=State.WITHDRAWN))
    assert get(app, "/api/v1/alerts", "plain", {"If-None-Match": kept.headers["ETag"]}).status_code == 304
    clock.freeze(START + REUSE)
    changed = get(app, "/api/v1/alerts", "plain", {"If-None-Match": kept.headers["ETag"]})
    assert changed.status_code == 200 and changed.json == {"alerts": []}


def test_what_is_not_kept(app: Flask) -> None:
    """Refusals and unknown ids are answered afresh each time; nothing of them lands in the cache."""
    team = make_team()
    alert = publish_new(team)
    draft = lifecycle.create_alert(audi_payload(), team.writer)
    forget(app)
    for path in (
        "/api/v1/alerts?level_min=severe",
        "/api/v1/alerts/999999",
        f"/api/v1/alerts/{draft.id}",
        "/embed?region=XX",
        "/alerts/999999",
        f"/alerts/{draft.id}",
    ):
        assert get(app, path, "plain").status_code in (400, 404), path
    cache: Freshness = app.extensions[EXTENSION]
    assert cache.bodies.get("anything") is None and len(cache.bodies) == 0
    assert get(app, f"/alerts/{alert.id}", "plain").status_code == 200
    assert len(cache.bodies) == 1


def test_the_cache_is_bounded_in_bytes_and_keeps_the_most_recently_used() -> None:
    cache = BodyCache(max_bytes=10)
    for key in "abc":
        cache.put(key, Rendered(b"1234", key))
    assert cache.get("a") is None and len(cache) == 2  # 12 bytes did not fit
    assert cache.get("b") is not None  # now the most recently used
    cache.put("d", Rendered(b"1234", "d"))
    assert cache.get("c") is None and cache.get("b") is not None and cache.get("d") is not None
    cache.put("huge", Rendered(b"x" * 50, "huge"))  # larger than the bound: kept alone
    assert len(cache) == 1 and cache.get("huge") is not None


@pytest.mark.parametrize("path", ["/", "/embed?region=NL", "/screen"])
def test_pages_vary_on_what_chooses_their_language(app: Flask, path: str) -> None:
    english, dutch = get(app, path, "english browser"), get(app, path, "dutch browser")
    assert {"Accept-Language", "Cookie"} <= set(english.vary) and english.headers["Vary"] == dutch.headers["Vary"]
    assert english.headers["ETag"] != dutch.headers["ETag"] and english.data != dutch.data
    # A copy in one language is never confirmed for a visitor who gets the other.
    assert get(app, path, "dutch browser", {"If-None-Match": english.headers["ETag"]}).status_code == 200
