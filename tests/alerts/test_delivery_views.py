"""Delivery statistics for editors: GET /api/v1/alerts/<id>/deliveries and the alert page's section."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from alerts import lifecycle
from alerts.models import Alert
from core import clock
from delivery.worker import Worker
from editors.models import Editor, Role

from ..alert_payloads import audi_payload
from ..factories import make_editor, make_subscription
from .api_client import call, cli_token, ok
from .test_editor_ui import Browser

WRITER, CHIEF = "writer@lab.test", "chief@lab.test"
PUBLISHED = datetime(2027, 1, 9, 13, 0, tzinfo=UTC)  # a Saturday afternoon: nobody's quiet hours


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    clock.freeze(PUBLISHED)
    return make_editor(WRITER, Role.EDITOR), make_editor(CHIEF, Role.PUBLISHER)


def published_alert(people: tuple[Editor, Editor]) -> Alert:
    writer, chief = people
    alert = lifecycle.create_alert(audi_payload(), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    return alert


def work(app: Flask) -> None:
    worker = Worker(app, "views-worker")
    while worker.run_once():
        pass


def test_token_holders_read_the_statistics_per_published_version(
    app: Flask, client: FlaskClient, people: tuple[Editor, Editor]
) -> None:
    make_subscription(["NL"])
    make_subscription(["NL"], channel="email")
    alert = published_alert(people)
    clock.freeze(PUBLISHED + timedelta(seconds=2))
    work(app)
    lifecycle.start_update(alert, people[0])  # a draft: not in the statistics
    response = call(client, "GET", f"/{alert.id}/deliveries", cli_token(app, WRITER))
    data = ok(response)
    assert data["alert_id"] == alert.id
    [version] = data["versions"]
    assert (version["number"], version["msg_type"]) == (1, "alert")
    assert version["published_at"] == PUBLISHED.isoformat()
    stats = version["stats"]
    assert (stats["targeted"], stats["sent"], stats["pending"]) == (2, 2, 0)
    assert stats["channels"]["push"]["sent"] == 1 and stats["channels"]["email"]["sent"] == 1
    assert stats["seconds_to_last_send"] == 2.0
    # Token endpoints are editorial: never cached, and no other site's script may read them.
    assert "no-store" in response.headers["Cache-Control"]
    assert "Access-Control-Allow-Origin" not in response.headers


def test_an_unpublished_alert_has_no_versions_to_report(
    app: Flask, client: FlaskClient, people: tuple[Editor, Editor]
) -> None:
    draft = lifecycle.create_alert(audi_payload(), people[0])
    data = ok(call(client, "GET", f"/{draft.id}/deliveries", cli_token(app, WRITER)))
    assert data == {"alert_id": draft.id, "versions": []}


def test_the_api_needs_a_token_and_a_known_alert(
    app: Flask, client: FlaskClient, people: tuple[Editor, Editor]
) -> None:
    alert = published_alert(people)
    refused = call(client, "GET", f"/{alert.id}/deliveries")
    assert refused.status_code == 401 and "Bearer" in refused.headers["WWW-Authenticate"]
    missing = call(client, "GET", "/999999/deliveries", cli_token(app, WRITER))
    assert missing.status_code == 404 and missing.json == {"error": "no alert with this id"}


def test_the_editor_json_needs_a_login(app: Flask, client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    alert = published_alert(people)
    response = client.get(f"/editor/alerts/{alert.id}/deliveries.json")
    assert response.status_code == 302 and response.headers["Location"].startswith("/editor/login")


def test_the_page_shows_the_numbers_and_the_json_follows_the_worker(app: Flask, people: tuple[Editor, Editor]) -> None:
    for _ in range(2):
        make_subscription(["NL"])
    make_subscription(["NL"], quiet_start=0, quiet_end=23 * 60 + 59, timezone="Europe/Amsterdam")
    alert = published_alert(people)  # a red alert: quiet hours do not hold it back
    writer = Browser(app, WRITER)
    url = f"/editor/alerts/{alert.id}"

    page = writer.page(url)
    assert 'id="delivery-heading">Delivery<' in page
    assert 'data-queued="3"' in page and "js/delivery-stats.js" in page
    assert re.search(r'<td data-stat="pending">3</td>', page)
    assert 'aria-live="polite"' in page and f'href="{url}#delivery"' in page

    first = writer.get(f"{url}/deliveries.json")
    assert first.status_code == 200 and "no-store" in first.headers["Cache-Control"]
    assert first.json is not None
    assert (first.json["pending"], first.json["queued"]) == (3, 3)
    assert first.json["versions"][0]["to_last_send"] == "–"

    clock.freeze(PUBLISHED + timedelta(milliseconds=1500))
    work(app)  # between two polls
    second = writer.get(f"{url}/deliveries.json").json
    assert second is not None
    assert (second["pending"], second["queued"]) == (0, 0)
    stats = second["versions"][0]["stats"]
    assert (stats["sent"], stats["targeted"]) == (3, 3)
    assert second["versions"][0]["to_last_send"] == "1.5 s"
    assert re.search(r'<td data-stat="sent">3</td>', writer.page(url))


def test_newest_version_first_and_withdrawn_rows_counted(app: Flask, people: tuple[Editor, Editor]) -> None:
    make_subscription(["NL"])
    alert = published_alert(people)
    lifecycle.withdraw(alert, people[1], "error", "Wrong lab result")  # v1's pending row is dropped
    data = Browser(app, CHIEF).get(f"/editor/alerts/{alert.id}/deliveries.json").json
    assert data is not None
    assert [(v["number"], v["msg_type"]) for v in data["versions"]] == [(2, "cancel"), (1, "alert")]
    assert data["versions"][1]["stats"]["dropped"] == 1
