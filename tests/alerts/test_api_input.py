"""The alerts API refusing things: tokens, roles, four-eyes, bad bodies, bad photos. Nothing is stored."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from core.db import db
from editors.models import ApiToken, Role
from tests.alert_payloads import audi_payload

from ..factories import make_editor
from ..helpers import login
from .api_client import BASE, call, cli_token, make_team, ok, row_counts


def test_missing_unknown_and_revoked_tokens_get_401(app: Flask, client: FlaskClient) -> None:
    make_editor("writer@lab.test")
    token = cli_token(app, "writer@lab.test")
    assert call(client, "POST", "", body=audi_payload()).status_code == 401
    assert call(client, "POST", "", "sgl_made-up", audi_payload()).status_code == 401
    token_id = db.session.scalars(select(ApiToken.id)).one()
    result = app.test_cli_runner().invoke(args=["editors", "revoke-token", str(token_id)])
    assert result.exit_code == 0, result.output
    revoked = call(client, "POST", "", token, audi_payload())
    assert revoked.status_code == 401 and revoked.json["error"] == "invalid_token"
    assert row_counts() == (0, 0, 0)


def test_a_logged_in_session_is_no_substitute_for_a_token(app: Flask, client: FlaskClient) -> None:
    make_editor("chief@lab.test", role=Role.PUBLISHER)
    assert login(client, "chief@lab.test").status_code == 302
    assert call(client, "POST", "", body=audi_payload()).status_code == 401
    assert row_counts() == (0, 0, 0)


def test_an_editor_token_cannot_approve_publish_or_withdraw(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = ok(call(client, "POST", "", team.writer, audi_payload()), 201)["id"]
    ok(call(client, "POST", f"/{alert_id}/submit", team.writer))
    for action, body in [("approve", None), ("publish", None), ("withdraw", {"reason": "error"})]:
        response = call(client, "POST", f"/{alert_id}/{action}", team.writer, body)
        assert response.status_code == 403 and "publisher" in response.json["error"], action
    assert ok(call(client, "GET", f"/{alert_id}/draft", team.writer))["state"] == "in_review"


def test_a_publisher_cannot_approve_their_own_alert(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = ok(call(client, "POST", "", team.chief, audi_payload()), 201)["id"]
    ok(call(client, "POST", f"/{alert_id}/submit", team.chief))
    response = call(client, "POST", f"/{alert_id}/approve", team.chief)
    assert response.status_code == 403 and "four-eyes" in response.json["error"]
    assert ok(call(client, "GET", f"/{alert_id}/draft", team.chief))["state"] == "in_review"


def test_actions_out_of_order_are_409_and_unknown_alerts_404(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = ok(call(client, "POST", "", team.writer, audi_payload()), 201)["id"]
    response = call(client, "POST", f"/{alert_id}/publish", team.chief)
    assert response.status_code == 409 and "approved" in response.json["error"]
    for method, path in [("GET", "/999/draft"), ("PATCH", "/999"), ("POST", "/999/submit")]:
        missing = call(client, method, path, team.chief, {} if method == "PATCH" else None)
        assert missing.status_code == 404 and missing.json == {"error": "no alert with this id"}, path


def test_invalid_content_is_422_naming_each_field_and_stores_nothing(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    bad = audi_payload(areas=["XX-NOWHERE"])
    bad["texts"]["nl"]["push_text"] = "x" * 121
    bad["texts"]["en"]["description"] = "<script>alert(1)</script>"
    bad["expires"] = bad["effective"]
    response = call(client, "POST", "", team.writer, bad)
    assert response.status_code == 422 and response.json["error"] == "invalid input"
    assert set(response.json["fields"]) == {"areas", "texts.nl.push_text", "texts.en.description", "expires"}
    assert "120" in response.json["fields"]["texts.nl.push_text"]
    assert row_counts() == (0, 0, 0)


def test_an_unknown_field_is_422_rather_than_silently_dropped(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    response = call(client, "POST", "", team.writer, {**audi_payload(), "expiry": "tomorrow"})
    assert response.status_code == 422 and response.json["fields"] == {"expiry": "unknown field"}
    assert row_counts() == (0, 0, 0)


def test_an_unknown_nested_field_is_422_naming_where_it_is(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    bad = audi_payload(circle={"lat": 52.37, "lon": 4.9, "radius_km": 5, "radius": 5})
    bad["product"]["sold_ass"] = "XTC"
    bad["components"][0]["dose"] = 300
    bad["reference"]["note"] = "typical pill"
    bad["samples"]["labs"] = ["Utrecht"]
    bad["texts"]["nl"]["advice"] = "Niet gebruiken."
    response = call(client, "POST", "", team.writer, bad)
    assert response.status_code == 422
    assert response.json["fields"] == {
        "product.sold_ass": "unknown field",
        "components[0].dose": "unknown field",
        "reference.note": "unknown field",
        "samples.labs": "unknown field",
        "circle.radius": "unknown field",
        "texts.nl.advice": "unknown field",
    }
    assert row_counts() == (0, 0, 0)


def test_a_patch_with_an_unknown_nested_field_changes_nothing(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = ok(call(client, "POST", "", team.writer, audi_payload()), 201)["id"]
    before = ok(call(client, "GET", f"/{alert_id}/draft", team.writer))["open_version"]["content"]
    product = {**before["product"], "sold_as": "Speed", "colour": "pink"}
    response = call(client, "PATCH", f"/{alert_id}", team.writer, {"product": product})
    assert response.status_code == 422 and response.json["fields"] == {"product.colour": "unknown field"}
    after = ok(call(client, "GET", f"/{alert_id}/draft", team.writer))["open_version"]["content"]
    assert after == before


def test_the_content_an_editor_reads_can_be_written_back_unchanged(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    payload = audi_payload(circle={"lat": 52.37, "lon": 4.9, "radius_km": 5})
    alert_id = ok(call(client, "POST", "", team.writer, payload), 201)["id"]
    content = ok(call(client, "GET", f"/{alert_id}/draft", team.writer))["open_version"]["content"]
    written = ok(call(client, "PUT", f"/{alert_id}", team.writer, content))["open_version"]["content"]
    assert written == content


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b'{"level": "red_alert",}', "application/json", 400, "malformed JSON"),
        (b'{"level": NaN}', "application/json", 400, "NaN"),
        (b"\xff\xfe\xfd", "application/json", 400, "malformed JSON"),
        (b"[1, 2]", "application/json", 400, "not an array"),
        (b'"text"', "application/json", 400, "not a string"),
        (b"", "application/json", 400, "empty"),
        (b"level=red_alert", "application/x-www-form-urlencoded", 415, "Content-Type"),
    ],
)
def test_bodies_that_are_not_a_json_object(
    app: Flask, client: FlaskClient, body: bytes, content_type: str, status: int, words: str
) -> None:
    team = make_team(app)
    headers = {"Authorization": f"Bearer {team.writer}", "Content-Type": content_type}
    response = client.post(BASE, data=body, headers=headers)
    assert response.status_code == status and words in response.json["error"], response.json
    assert row_counts() == (0, 0, 0)


def test_a_body_over_the_limit_is_413_json(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    huge = audi_payload()
    huge["texts"]["nl"]["description"] = "x" * (2 * 1024 * 1024)
    response = call(client, "POST", "", team.writer, huge)
    assert response.status_code == 413 and "bytes" in response.json["error"]
    assert row_counts() == (0, 0, 0)


def test_withdraw_needs_a_known_reason(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = ok(call(client, "POST", "", team.writer, audi_payload()), 201)["id"]
    ok(call(client, "POST", f"/{alert_id}/submit", team.writer))
    ok(call(client, "POST", f"/{alert_id}/approve", team.chief))
    ok(call(client, "POST", f"/{alert_id}/publish", team.chief))
    for body in ({"reason": "bored"}, {"reason": 3}, {"note": "no reason given"}):
        response = call(client, "POST", f"/{alert_id}/withdraw", team.chief, body)
        assert response.status_code == 422 and "reason" in response.json["fields"], body
    assert ok(client.get(f"{BASE}/{alert_id}"))["status"] == "active"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (220, 200, 150)).save(buffer, "PNG")
    return buffer.getvalue()


def test_photos_are_added_to_the_draft_and_published_with_it(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = ok(call(client, "POST", "", team.writer, audi_payload()), 201)["id"]
    form = {"file": (io.BytesIO(png_bytes()), "pill.png"), "side": "front", "alt_nl": "Beige pil", "credit": "Lab"}
    added = ok(call(client, "POST", f"/{alert_id}/photos", team.writer, data=form), 201)
    photo = added["photo"]
    assert photo["url"].startswith("https://signaal.test/photos/") and photo["url"].endswith(".jpg")
    assert photo["thumbnail_url"].endswith("-t.jpg") and photo["alt"] == {"nl": "Beige pil"}
    assert added["alert"]["open_version"]["photos"] == [photo]
    with client.get(photo["url"].removeprefix("https://signaal.test")) as served:
        assert served.status_code == 200

    ok(call(client, "POST", f"/{alert_id}/submit", team.writer))
    ok(call(client, "POST", f"/{alert_id}/approve", team.chief))
    ok(call(client, "POST", f"/{alert_id}/publish", team.chief))
    public = ok(client.get(f"{BASE}/{alert_id}?lang=en"))
    assert [p["url"] for p in public["photos"]] == [photo["url"]] and public["photos"][0]["alt"] == {}
    assert "id" not in public["photos"][0]


def test_photo_refusals_and_removal(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    alert_id = ok(call(client, "POST", "", team.writer, audi_payload()), 201)["id"]
    path = f"/{alert_id}/photos"
    not_image = call(client, "POST", path, team.writer, data={"file": (io.BytesIO(b"GIF89a..."), "x.gif")})
    assert not_image.status_code == 422 and set(not_image.json["fields"]) == {"file"}
    missing = call(client, "POST", path, team.writer, data={"side": "front"})
    assert missing.status_code == 422 and "file" in missing.json["fields"]
    app.config["PHOTO_MAX_BYTES"] = 1000
    huge = call(client, "POST", path, team.writer, data={"file": (io.BytesIO(b"x" * 200_000), "big.png")})
    assert huge.status_code == 413 and "bytes" in huge.json["error"]
    app.config["PHOTO_MAX_BYTES"] = 8 * 1024 * 1024
    bad_side = call(client, "POST", path, team.writer, data={"file": (io.BytesIO(png_bytes()), "p.png"), "side": "x"})
    assert bad_side.status_code == 422 and set(bad_side.json["fields"]) == {"side"}

    photo_id = ok(call(client, "POST", path, team.writer, data={"file": (io.BytesIO(png_bytes()), "p.png")}), 201)[
        "photo"
    ]["id"]
    assert call(client, "DELETE", f"{path}/{photo_id + 100}", team.writer).status_code == 404
    removed = ok(call(client, "DELETE", f"{path}/{photo_id}", team.writer))
    assert removed["open_version"]["photos"] == []
