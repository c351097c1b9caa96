"""Stored XSS: markup in every text an editor writes is refused; whatever reaches a row anyway
(plain-looking tricks that pass validation, or rows written by other means) stays inert on
every page, feed, API answer, mail and push."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import String, Text

from alerts import lifecycle
from alerts.models import Alert, AlertVersion
from core.db import db
from tests.alerts.api_client import call
from tests.feeds.made_alerts import jpeg

from .attacks import MARKUP, PLAIN, changed_tables, forms_of, html_problems, snapshot
from .content import field_name, free_text_paths, full_content, leaves, with_leaves
from .outputs import Output, deliveries, pages, problems
from .site import World

# Columns holding a closed vocabulary or a file name, never free text.
NOT_FREE_TEXT = frozenset({"form", "lang", "unit", "reference_unit", "file_name", "thumb_name", "side", "code"})


@pytest.mark.parametrize("payload", MARKUP)
def test_markup_in_any_field_of_the_api_is_refused_and_stores_nothing(world: World, payload: str) -> None:
    content = full_content()
    paths = leaves(content)
    texts = free_text_paths(world.app.config)
    assert {"texts.nl.headline", "texts.en.disclaimer", "product.colours[0]", "web_link"} <= {
        field_name(p) for p in texts
    }
    before = snapshot()
    client = world.app.test_client()
    response = call(client, "PUT", f"/{world.draft.id}", world.chief_token, with_leaves(content, paths, payload))
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = response.json["fields"]  # type: ignore[index]
    for path in texts:  # refused as markup, or first as too long for the narrow ones
        assert "plain text" in errors[field_name(path)] or "at most" in errors[field_name(path)], field_name(path)
    for path in paths:  # closed vocabularies and dates refuse it too
        name = field_name(path)
        assert name in errors or name.split("[")[0] in errors, name
    assert changed_tables(before) == []


@pytest.mark.parametrize("payload", MARKUP[:3])
def test_markup_in_the_editor_form_is_refused_and_shown_back_inert(world: World, payload: str) -> None:
    chief = world.chief()
    page = chief.get("/editor/alerts/new").data
    (form,) = [f for f in forms_of(page, "/editor/alerts/new") if f.method == "POST" and "text-nl-headline" in f.fields]
    filled = {name: payload for name in form.text_fields()}
    before = snapshot()
    response = chief.post(form.action, filled)
    assert response.status_code == 422
    assert html_problems(response.data) == []
    assert changed_tables(before) == []


def test_text_that_passes_validation_stays_text_everywhere(world: World) -> None:
    content = with_leaves(full_content(), free_text_paths(world.app.config), *PLAIN)
    content["web_link"] = "https://example.org/" + PLAIN[0]
    client = world.app.test_client()
    response = call(client, "POST", "", world.writer_token, content)
    assert response.status_code == 201, response.get_data(as_text=True)
    alert = db.session.get_one(Alert, response.json["id"])  # type: ignore[index]
    _review_and_publish(world, alert)
    outputs = pages(world, world.chief(), alert.id) + deliveries(world, alert.id)
    found = problems(outputs, [])
    assert found == [], "\n".join(found)
    for payload in PLAIN:  # each one is shown, as written, on the alert's public page
        assert html_problems(_body(outputs, "public.alert"), [payload]) == []


def test_markup_written_straight_into_the_rows_stays_text_everywhere(world: World) -> None:
    alert = lifecycle.create_alert(full_content(), world.team.writer)
    _review_and_publish(world, alert)
    _write_everywhere(alert.latest, MARKUP)
    outputs = pages(world, world.chief(), alert.id) + deliveries(world, alert.id)
    found = problems(outputs, [])
    assert found == [], "\n".join(found)
    for payload in MARKUP:
        assert html_problems(_body(outputs, "public.alert"), [payload]) == []


def test_notes_and_photo_texts_from_the_editor_pages(world: World) -> None:
    """Withdrawal and send-back notes are free text; photo alt texts and credits refuse markup."""
    chief, note = world.chief(), MARKUP[1]
    base = f"/editor/alerts/{world.draft.id}"
    before = snapshot()
    upload = {"photo": (io.BytesIO(jpeg()), "pill.jpg"), "alt_nl": MARKUP[0], "credit": MARKUP[2]}
    refused = chief.post(f"{base}/photos", upload)
    assert refused.status_code == 422 and html_problems(refused.data) == []
    assert changed_tables(before) == []
    lifecycle.submit(world.draft, world.team.writer)
    assert chief.post(f"{base}/send-back", {"note": note}).status_code == 303
    published = f"/editor/alerts/{world.published.id}"
    assert chief.post(f"{published}/withdraw", {"reason": "error", "note": note}).status_code == 303
    assert world.published.latest.withdrawal_note == note and world.draft.latest.review_note == note
    for alert_id in (world.draft.id, world.published.id):
        assert problems(pages(world, chief, alert_id), []) == []
    assert html_problems(chief.get(published).data, [note]) == []
    assert html_problems(chief.get(base).data, [note]) == []


def _review_and_publish(world: World, alert: Alert) -> None:
    lifecycle.submit(alert, world.team.writer)
    lifecycle.approve(alert, world.team.chief)
    lifecycle.publish(alert, world.team.chief)


def _body(outputs: list[Output], name: str) -> bytes:
    (body,) = [output.body for output in outputs if output.name == name]
    return body


def _write_everywhere(version: AlertVersion, payloads: tuple[str, ...]) -> None:
    """Every free-text column of the version, its texts, components, photos and alert: the
    payloads in turn (so each lands in several), and a javascript: link as its web link."""
    short = '<svg/onload=alert("xss4")>'  # for the few columns too narrow for the payload
    rows: list[Any] = [version, version.alert, *version.texts, *version.components, *version.photos]
    columns = [
        (row, column)
        for row in rows
        for column in row.__table__.columns
        if type(column.type) in (String, Text) and column.name not in NOT_FREE_TEXT
    ]
    for index, (row, column) in enumerate(columns):
        payload, length = payloads[index % len(payloads)], getattr(column.type, "length", None)
        setattr(row, column.key, payload if length is None or len(payload) <= length else short)
    version.colours, version.test_sites, version.web_link = list(payloads), list(payloads), "javascript:alert('xss5')"
    for photo in version.photos:
        photo.alt_text = {"nl": payloads[0], "en": payloads[1]}
    db.session.commit()
