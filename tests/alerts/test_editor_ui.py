"""The editor web UI, driven through real logins and real form posts, as a browser would."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from alerts import lifecycle
from alerts.audit import AuditEntry
from alerts.editor_forms import form_from_content, payload_from_form
from alerts.models import Alert, AlertPhoto, AlertVersion
from alerts.schema import validate_content
from alerts.vocabulary import MsgType, State
from core import clock
from core.db import db
from editors.models import Editor, Role

from ..alert_payloads import audi_payload
from ..factories import make_editor
from ..helpers import csrf_from, login

WRITER, CHIEF = "writer@lab.test", "chief@lab.test"
# 1 December 2025, 12:00 in Amsterdam (winter time, UTC+1).
START = datetime(2025, 12, 1, 11, 0, tzinfo=UTC)


class Browser:
    """One logged-in person: a test client that keeps its session and fetches CSRF tokens.

    Each request runs in an app context of its own, as in production. Otherwise every request
    shares the fixture's context and its `g`, where the logged-in editor and the CSRF token
    are cached: the second person in a test would act as the first.
    """

    def __init__(self, app: Flask, email: str) -> None:
        self.app = app
        self.client = app.test_client()
        # The interface in English, the source language, so the tests read what they check.
        self.client.set_cookie("lang", "en")
        with app.app_context():
            assert login(self.client, email).status_code == 302
        self.token = csrf_from(self.get("/editor/").data)

    def get(self, path: str) -> TestResponse:
        with self.app.app_context():
            return self.client.get(path)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        with self.app.app_context():
            return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def page(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)


@pytest.fixture
def people(app: Flask) -> tuple[Browser, Browser]:
    clock.freeze(START)
    make_editor(WRITER, Role.EDITOR)
    make_editor(CHIEF, Role.PUBLISHER)
    return Browser(app, WRITER), Browser(app, CHIEF)


def form(**overrides: str) -> dict[str, Any]:
    """The alert form as an editor fills it in: Amsterdam wall-clock times, flat field names."""
    data: dict[str, Any] = {
        "incident_key": "2025-12-audi",
        "level": "red_alert",
        "status": "actual",
        "urgency": "Immediate",
        "certainty": "Observed",
        "response_type": "Avoid",
        "risk_reasons": ["very_high_dose"],
        "effective": "2025-12-01T12:00",
        "expires": "2025-12-31T12:00",
        "publish_at": "",
        "product_form": "tablet",
        "product_logo_name": "Audi",
        "product_colours": "beige, gold",
        "product_weight_mg": "520",
        "component-0-substance": "MDMA",
        "component-0-amount": "300",
        "component-0-unit": "mg",
        "component-1-substance": "",
        "reference_substance": "MDMA",
        "reference_amount": "136",
        "reference_unit": "mg",
        "samples_count": "3",
        "areas": "NL",
        "area_description": "Nederland",
        "text-nl-headline": "Audi-pil met meer dan 300 mg MDMA",
        "text-nl-push_text": "Audi-pil bevat meer dan 300 mg MDMA. Niet gebruiken.",
        "text-en-headline": "Audi pill with over 300 mg MDMA",
        "text-en-push_text": "Audi pill contains over 300 mg MDMA. Do not use it.",
        "text-en-instruction": "Do not use this pill.",
    }
    data.update(overrides)
    return data


def alert_id_from(response: TestResponse) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    match = re.fullmatch(r"/editor/alerts/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def counts() -> tuple[int, int, int]:
    alerts, versions, entries = (
        db.session.scalar(select(func.count()).select_from(model)) or 0 for model in (Alert, AlertVersion, AuditEntry)
    )
    return alerts, versions, entries


def test_an_alert_goes_from_draft_to_withdrawn_through_the_pages(people: tuple[Browser, Browser]) -> None:
    writer, chief = people
    assert "datetime-local" in writer.page("/editor/alerts/new")
    alert_id = alert_id_from(writer.post("/editor/alerts/new", form()))
    url = f"/editor/alerts/{alert_id}"

    page = writer.page(url)
    assert "Draft" in page and "Submit for review" in page
    assert "Audi-pil bevat meer dan 300 mg MDMA. Niet gebruiken." in page  # the push preview
    assert "Nothing yet: this alert has not been published." in page
    assert f'action="{url}/publish"' not in page and f'action="{url}/approve"' not in page
    version = db.session.scalars(select(AlertVersion)).one()
    assert version.effective == datetime(2025, 12, 1, 11, 0, tzinfo=UTC)  # 12:00 in Amsterdam

    assert writer.post(f"{url}/submit").status_code == 303
    assert "In review" in writer.page(url)
    assert chief.post(f"{url}/approve").status_code == 303
    assert "Publish now" in chief.page(url)
    assert chief.post(f"{url}/publish").status_code == 303
    page = chief.page(url)
    assert "Version 1, published" in page and "Withdraw this alert" in page

    # Editing a published alert starts version 2; the public keeps version 1 until it is published.
    edit_page = writer.page(f"{url}/edit")
    assert 'value="Audi pill with over 300 mg MDMA"' in edit_page and 'value="2025-12-01T12:00"' in edit_page
    changed = form(**{"text-en-headline": "Audi pill with 350 mg MDMA", "areas": "NL, BE"})
    assert alert_id_from(writer.post(f"{url}/edit", changed)) == alert_id
    db.session.expire_all()
    first, second = db.session.get_one(Alert, alert_id).versions
    assert (first.state, second.state, second.msg_type, second.number) == (
        State.PUBLISHED,
        State.DRAFT,
        MsgType.UPDATE,
        2,
    )
    assert "Audi pill with over 300 mg MDMA" in first.text("en").headline  # type: ignore[union-attr]
    page = writer.page(url)
    assert "Version in progress" in page and "Version 1, published" in page

    writer.post(f"{url}/submit")
    chief.post(f"{url}/approve")
    chief.post(f"{url}/publish")
    db.session.expire_all()
    assert [v.state for v in db.session.get_one(Alert, alert_id).versions] == [State.SUPERSEDED, State.PUBLISHED]
    assert "Version 2, published" in chief.page(url)

    withdrawn = chief.post(f"{url}/withdraw", {"reason": "no_longer_circulating", "note": "No new samples"})
    assert withdrawn.status_code == 303
    page = chief.page(url)
    assert "Version 3, published" in page and "This alert has been withdrawn." in page
    assert "No new samples" in page and "Withdraw this alert" not in page
    for number in (1, 2, 3):
        assert f'href="{url}/versions/{number}"' in page
    assert "Audi pill with over 300 mg MDMA" in writer.page(f"{url}/versions/1")
    for action in ("created", "submitted for review", "approved", "published", "edited", "withdrew"):
        assert action in page
    audit = chief.page("/editor/audit")
    assert "2025-12-audi" in audit and "withdrew" in audit
    listing = writer.page("/editor/?state=published")
    assert "2025-12-audi" in listing and "Withdrawal" in listing


def test_bad_input_is_shown_again_with_every_message_and_nothing_is_stored(people: tuple[Browser, Browser]) -> None:
    writer, _ = people
    bad = form(
        **{
            "text-nl-push_text": "x" * 121,
            "expires": "2025-11-30T12:00",
            "areas": "NL, XX-NOWHERE",
            "text-en-description": "<script>alert(1)</script>",
            "circle_lat": "95",
            "circle_lon": "5.4",
            "circle_radius_km": "3",
        }
    )
    response = writer.post("/editor/alerts/new", bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    for field, message in [
        ("text-nl-push_text", "must be at most 120 characters (is 121)"),
        ("expires", "must be after effective"),
        ("areas", "unknown region &#39;XX-NOWHERE&#39;"),
        ("text-en-description", "must be plain text"),
        ("circle_lat", "must be between -90 and 90"),
    ]:
        assert re.search(rf'id="f-{field}-error">[^<]*{re.escape(message)}', page), field
        assert f'href="#f-{field}"' in page  # the summary links to the field
    # What was typed stays, escaped.
    assert "x" * 121 in page and 'value="NL, XX-NOWHERE"' in page and 'value="2025-11-30T12:00"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert counts() == (0, 0, 0)


def test_component_messages_land_on_the_row_they_are_about(people: tuple[Browser, Browser]) -> None:
    writer, _ = people
    # Row 0 is left blank, so the second substance the validator sees is row 2 on the form.
    data = form(**{"component-0-substance": "", "component-0-amount": ""})
    data |= {"component-1-substance": "MDMA", "component-2-substance": "", "component-2-amount": "12"}
    response = writer.post("/editor/alerts/new", data)
    assert response.status_code == 422
    assert 'id="f-component-2-substance-error">is required' in response.get_data(as_text=True)


def test_a_publisher_cannot_approve_their_own_draft(people: tuple[Browser, Browser]) -> None:
    _, chief = people
    alert_id = alert_id_from(chief.post("/editor/alerts/new", form()))
    url = f"/editor/alerts/{alert_id}"
    chief.post(f"{url}/submit")
    page = chief.page(url)
    assert "four-eyes" in page and f'action="{url}/approve"' not in page
    refused = chief.post(f"{url}/approve")
    assert refused.status_code == 403
    assert "four-eyes rule" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get_one(Alert, alert_id).latest.state == State.IN_REVIEW


def test_an_editor_gets_no_publisher_buttons_and_their_posts_are_refused(people: tuple[Browser, Browser]) -> None:
    writer, chief = people
    alert_id = alert_id_from(writer.post("/editor/alerts/new", form()))
    url = f"/editor/alerts/{alert_id}"
    writer.post(f"{url}/submit")
    chief.post(f"{url}/approve")
    page = writer.page(url)
    assert "Publish now" not in page and f'action="{url}/publish"' not in page
    assert f'action="{url}/send-back"' not in page
    for action in ("publish", "send-back", "approve", "withdraw"):
        assert writer.post(f"{url}/{action}", {"reason": "error"}).status_code == 403, action
    assert writer.get("/editor/audit").status_code == 403
    assert "Audit log" not in writer.page("/editor/")
    db.session.expire_all()
    assert db.session.get_one(Alert, alert_id).latest.state == State.APPROVED


def test_wrong_order_is_refused_with_409(people: tuple[Browser, Browser]) -> None:
    writer, chief = people
    alert_id = alert_id_from(writer.post("/editor/alerts/new", form()))
    response = chief.post(f"/editor/alerts/{alert_id}/publish")
    assert response.status_code == 409
    assert "this needs a version that is approved" in response.get_data(as_text=True)


def test_photos_are_uploaded_shown_refused_and_removed(app: Flask, people: tuple[Browser, Browser]) -> None:
    writer, _ = people
    author = db.session.scalars(select(Editor).where(Editor.email == WRITER)).one()
    alert = lifecycle.create_alert(audi_payload(), author)
    url = f"/editor/alerts/{alert.id}"
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 120)).save(picture, "JPEG")
    upload = {
        "photo": (io.BytesIO(picture.getvalue()), "pill.jpg", "image/jpeg"),
        "side": "front",
        "alt_nl": "Beige pil met Audi-logo",
        "alt_en": "Beige pill with the Audi logo",
        "credit": "DIMS",
    }
    response = writer.post(f"{url}/photos", upload, content_type="multipart/form-data")
    assert response.status_code == 303
    photo = db.session.scalars(select(AlertPhoto)).one()
    page = writer.page(url)
    assert f'src="/photos/{photo.thumb_name}"' in page and "Beige pil met Audi-logo" in page
    with writer.get(f"/photos/{photo.thumb_name}") as served:
        assert served.mimetype == "image/jpeg"

    text_file = {"photo": (io.BytesIO(b"just some notes"), "notes.jpg", "image/jpeg"), "credit": "kept"}
    refused = writer.post(f"{url}/photos", text_file, content_type="multipart/form-data")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "This is not a JPEG, PNG or WebP image" in html and 'value="kept"' in html
    assert db.session.scalar(select(func.count()).select_from(AlertPhoto)) == 1

    assert writer.post(f"{url}/photos/{photo.id}/remove").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(AlertPhoto)) == 0
    assert "No photos yet." in writer.page(url)


def test_markup_is_refused_and_plain_special_characters_are_escaped(people: tuple[Browser, Browser]) -> None:
    writer, _ = people
    attack = '"><img src=x onerror=alert(1)>'
    response = writer.post("/editor/alerts/new", form(**{"text-en-headline": attack}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "must be plain text" in page and "<img src=x" not in page
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in page
    assert counts() == (0, 0, 0)

    safe = "3 < 4 & co"
    alert_id = alert_id_from(
        writer.post("/editor/alerts/new", form(**{"text-nl-headline": safe, "text-en-headline": safe}))
    )
    for path in (f"/editor/alerts/{alert_id}", "/editor/", f"/editor/alerts/{alert_id}/versions/1"):
        html = writer.page(path)
        assert "3 &lt; 4 &amp; co" in html and safe not in html, path


def test_the_list_filters_by_state_level_and_text(people: tuple[Browser, Browser]) -> None:
    writer, _ = people
    alert_id_from(writer.post("/editor/alerts/new", form()))
    other = form(incident_key="2025-12-pink-tesla", level="warning", **{"text-nl-headline": "Roze Tesla-pil met DOC"})
    other_id = alert_id_from(writer.post("/editor/alerts/new", other))
    writer.post(f"/editor/alerts/{other_id}/submit")
    assert "2025-12-audi" in writer.page("/editor/") and "2025-12-pink-tesla" in writer.page("/editor/")
    for query, shown, hidden in [
        ("state=in_review", "pink-tesla", "2025-12-audi"),
        ("level=red_alert", "2025-12-audi", "pink-tesla"),
        ("q=TESLA", "pink-tesla", "2025-12-audi"),
        ("q=12-audi", "2025-12-audi", "pink-tesla"),
    ]:
        page = writer.page(f"/editor/?{query}")
        assert shown in page and hidden not in page, query


def test_times_are_read_and_shown_in_amsterdam_time_across_summer_time(people: tuple[Browser, Browser]) -> None:
    writer, _ = people
    data = form(effective="2026-06-01T20:00", expires="2026-06-30T20:00", publish_at="2026-06-01T21:30")
    alert_id = alert_id_from(writer.post("/editor/alerts/new", data))
    version = db.session.get_one(Alert, alert_id).latest
    assert version.effective == datetime(2026, 6, 1, 18, 0, tzinfo=UTC)  # summer time: UTC+2
    assert version.publish_at == datetime(2026, 6, 1, 19, 30, tzinfo=UTC)
    page = writer.page(f"/editor/alerts/{alert_id}/edit")
    assert 'value="2026-06-01T20:00"' in page and 'value="2026-06-01T21:30"' in page
    assert "Europe/Amsterdam" in page
    assert "2026-06-01 21:30 CEST" in writer.page(f"/editor/alerts/{alert_id}")


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/editor/alerts/new")
    assert response.status_code == 302 and response.headers["Location"].startswith("/editor/login")


def test_the_form_gives_back_exactly_the_content_it_was_filled_from(app: Flask) -> None:
    payload = audi_payload(
        publish_at="2026-03-29T02:30:00+02:00",  # the night summer time starts
        circle={"lat": 51.4416, "lon": 5.4697, "radius_km": 2.5},  # a festival site
    )
    payload["components"].append(
        {"substance": "caffeine", "amount": None, "unit": "mg", "expected": False, "quantified": False}
    )
    languages = app.config["LANGUAGES"]
    clean = validate_content(payload, languages, languages)
    clean["effective"] = clean["effective"].replace(second=0, microsecond=0)  # the form has minutes
    clean["expires"] = clean["expires"].replace(second=0, microsecond=0)
    values = form_from_content(json.loads(json.dumps(clean, default=str)))
    again = validate_content(payload_from_form(values, languages).payload, languages, languages)
    assert again == clean
