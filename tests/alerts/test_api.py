"""The alerts API end to end: a lab system drives the workflow, the public sees only what is published."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from alerts.content import content_of
from alerts.models import AlertVersion
from alerts.schema import CONTENT_KEYS
from core.db import db
from tests.alert_payloads import audi_payload

from .api_client import BASE, call, make_team, ok


def public_list(client: FlaskClient, query: str = "") -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = ok(client.get(BASE + query))["alerts"]
    return alerts


def public_one(client: FlaskClient, alert_id: int) -> dict[str, Any]:
    return ok(client.get(f"{BASE}/{alert_id}"))


def assert_not_public(client: FlaskClient, alert_id: int) -> None:
    assert public_list(client) == []
    response = client.get(f"{BASE}/{alert_id}")
    assert response.status_code == 404 and response.json == {"error": "no published alert with this id"}


def create(client: FlaskClient, token: str, **overrides: Any) -> dict[str, Any]:
    return ok(call(client, "POST", "", token, audi_payload(**overrides)), 201)


def publish(client: FlaskClient, alert_id: int, approver: str, publisher: str) -> dict[str, Any]:
    ok(call(client, "POST", f"/{alert_id}/approve", approver))
    return ok(call(client, "POST", f"/{alert_id}/publish", publisher))


def test_whole_lifecycle_shows_the_public_exactly_what_is_published(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)

    response = call(client, "POST", "", team.writer, {**audi_payload(), "incident_key": "2023-12-audi"})
    created = ok(response, 201)
    alert_id = created["id"]
    assert response.headers["Location"] == f"https://signaal.test{BASE}/{alert_id}/draft"
    assert created["incident_key"] == "2023-12-audi" and created["state"] == "draft"
    assert [(v["number"], v["state"], v["msg_type"]) for v in created["versions"]] == [(1, "draft", "alert")]
    assert created["open_version"]["content"]["areas"] == ["NL"] and created["public"] is None
    assert_not_public(client, alert_id)

    assert ok(call(client, "POST", f"/{alert_id}/submit", team.writer))["state"] == "in_review"
    assert_not_public(client, alert_id)
    assert ok(call(client, "POST", f"/{alert_id}/approve", team.chief))["state"] == "approved"
    assert_not_public(client, alert_id)
    published = ok(call(client, "POST", f"/{alert_id}/publish", team.chief))
    assert published["state"] == "published" and published["public_status"] == "active"

    first = public_one(client, alert_id)
    assert first["status"] == "active" and first["version"] == 1 and first["msg_type"] == "alert"
    assert first["incident_key"] == "2023-12-audi" and first["severity"] == "Extreme"
    assert first["references"] == [] and [v["number"] for v in first["versions"]] == [1]
    assert first["withdrawal"] is None and first["areas"] == ["NL"]
    assert set(first["texts"]) == {"nl", "en"}
    assert first["components"][0]["times_reference"] == 2.21
    assert first["reference"] == {"substance": "MDMA", "amount": 136.0, "unit": "mg"}
    assert first["effective"].endswith("+00:00") and first["published_at"].endswith("+00:00")
    assert "publish_at" not in first
    assert public_list(client) == [first]

    # An update written by a publisher: the author cannot approve it, a second publisher can.
    patched = ok(call(client, "PATCH", f"/{alert_id}", team.chief, {"areas": ["NL", "BE"]}))
    assert patched["state"] == "draft" and patched["public_status"] == "active"
    assert (patched["open_version"]["number"], patched["open_version"]["msg_type"]) == (2, "update")
    assert patched["open_version"]["content"]["areas"] == ["BE", "NL"]
    assert patched["public"]["version"] == 1
    assert public_one(client, alert_id) == first  # the draft of the update is not public
    ok(call(client, "POST", f"/{alert_id}/submit", team.chief))
    refused = call(client, "POST", f"/{alert_id}/approve", team.chief)
    assert refused.status_code == 403 and "four-eyes" in refused.json["error"]
    assert public_one(client, alert_id) == first
    publish(client, alert_id, approver=team.deputy, publisher=team.chief)

    second = public_one(client, alert_id)
    assert second["version"] == 2 and second["msg_type"] == "update" and second["areas"] == ["BE", "NL"]
    assert [r["number"] for r in second["references"]] == [1]
    assert [v["number"] for v in second["versions"]] == [1, 2]
    assert public_list(client) == [second]

    withdrawn = ok(
        call(client, "POST", f"/{alert_id}/withdraw", team.chief, {"reason": "no_longer_circulating", "note": "Gone"})
    )
    assert [v["state"] for v in withdrawn["versions"]] == ["superseded", "withdrawn", "published"]
    assert withdrawn["public_status"] == "withdrawn" and withdrawn["open_version"] is None
    assert public_list(client) == []
    cancel = public_one(client, alert_id)
    assert cancel["status"] == "withdrawn" and cancel["msg_type"] == "cancel" and cancel["version"] == 3
    assert cancel["withdrawal"] == {"reason": "no_longer_circulating", "note": "Gone"}
    assert cancel["response_type"] == "AllClear"
    assert [r["number"] for r in cancel["references"]] == [1, 2]
    assert [v["number"] for v in cancel["versions"]] == [1, 2, 3]


def test_the_editor_view_needs_a_token_and_shows_the_open_draft(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = create(client, team.writer)["id"]
    assert call(client, "GET", f"/{alert_id}/draft").status_code == 401
    view = ok(call(client, "GET", f"/{alert_id}/draft", team.deputy))
    assert view["open_version"]["content"]["texts"]["en"]["headline"].startswith("Red alert")
    assert view["links"]["public"] == f"https://signaal.test{BASE}/{alert_id}"


def test_put_replaces_the_whole_draft_and_patch_keeps_what_it_does_not_name(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = create(client, team.writer)["id"]
    patched = ok(call(client, "PATCH", f"/{alert_id}", team.writer, {"contact": "lab@example.org"}))
    assert patched["open_version"]["content"]["contact"] == "lab@example.org"
    assert patched["open_version"]["content"]["areas"] == ["NL"]
    replaced = ok(call(client, "PUT", f"/{alert_id}", team.writer, audi_payload(areas=["BE"])))
    assert replaced["open_version"]["content"]["contact"] == ""
    assert replaced["open_version"]["content"]["areas"] == ["BE"]
    assert [v["number"] for v in replaced["versions"]] == [1]


def test_send_back_returns_the_draft_with_a_note(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = create(client, team.writer)["id"]
    ok(call(client, "POST", f"/{alert_id}/submit", team.writer))
    sent_back = ok(call(client, "POST", f"/{alert_id}/send-back", team.chief, {"note": "Add the test site"}))
    assert sent_back["state"] == "draft" and sent_back["open_version"]["review_note"] == "Add the test site"


def test_filters_by_level_area_and_language(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    red = create(client, team.writer)["id"]
    caution = create(client, team.writer, level="caution", areas=["BE"])["id"]
    for alert_id in (red, caution):
        ok(call(client, "POST", f"/{alert_id}/submit", team.writer))
        publish(client, alert_id, approver=team.chief, publisher=team.chief)

    assert [a["id"] for a in public_list(client)] == [red, caution]  # most severe first
    assert [a["id"] for a in public_list(client, "?level_min=warning")] == [red]
    assert [a["id"] for a in public_list(client, "?area=be")] == [caution]
    # Regions contain each other: the national alert concerns Noord-Holland and Amsterdam too,
    # and a Belgian province lies in the Belgian alert's area.
    assert [a["id"] for a in public_list(client, "?area=NL-NH")] == [red]
    assert [a["id"] for a in public_list(client, "?area=GM0363")] == [red]
    assert [a["id"] for a in public_list(client, "?area=BE-VAN")] == [caution]
    assert public_list(client, "?area=DE") == []
    english = public_list(client, "?lang=en")
    assert all(set(a["texts"]) == {"en"} for a in english) and len(english) == 2
    assert set(public_one(client, red)["texts"]) == {"nl", "en"}
    assert set(ok(client.get(f"{BASE}/{red}?lang=nl"))["texts"]) == {"nl"}
    for query, word in [("?level_min=severe", "level_min"), ("?lang=de", "lang"), ("?area=XX-NOWHERE", "region")]:
        response = client.get(BASE + query)
        assert response.status_code == 400 and word in response.json["error"], query


def test_public_reads_are_cacheable_and_answer_304_when_unchanged(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = create(client, team.writer)["id"]
    ok(call(client, "POST", f"/{alert_id}/submit", team.writer))
    publish(client, alert_id, approver=team.chief, publisher=team.chief)

    for path in (BASE, f"{BASE}/{alert_id}"):
        first = client.get(path)
        etag = first.headers["ETag"]
        assert first.cache_control.public and first.cache_control.max_age == 60
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
        assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200

    before = client.get(BASE).headers["ETag"]
    ok(call(client, "POST", f"/{alert_id}/withdraw", team.chief, {"reason": "error"}))
    changed = client.get(BASE, headers={"If-None-Match": before})
    assert changed.status_code == 200 and changed.headers["ETag"] != before


def test_cors_on_public_reads_only(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = create(client, team.writer)["id"]
    assert client.get(BASE).headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(f"{BASE}/{alert_id}").headers["Access-Control-Allow-Origin"] == "*"  # its 404 too
    token_responses = [
        call(client, "GET", f"/{alert_id}/draft", team.writer),
        call(client, "GET", f"/{alert_id}/draft"),
        call(client, "POST", "", team.writer, audi_payload()),
        call(client, "POST", f"/{alert_id}/submit", team.writer),
        call(client, "OPTIONS", ""),
    ]
    for response in token_responses:
        assert "Access-Control-Allow-Origin" not in response.headers, response.request.path
    assert token_responses[0].cache_control.no_store


def test_content_keys_match_what_content_of_returns(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = create(client, team.writer)["id"]
    version = db.session.scalars(select(AlertVersion).where(AlertVersion.alert_id == alert_id)).one()
    assert set(content_of(version)) == CONTENT_KEYS
