"""The public pages: what visitors see of active, updated, withdrawn, expired and draft alerts."""

from __future__ import annotations

import io
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from alerts import lifecycle, sweeps
from alerts.freshness import EXTENSION, Freshness
from alerts.models import Alert
from core import clock
from core.db import db
from core.security import CSP
from editors.models import Editor, Role
from tests.alert_payloads import audi_payload

EN = {"Accept-Language": "en"}
OUR_HOSTS = {"localhost", "signaal.test"}


@pytest.fixture
def people(app: Flask) -> tuple[Editor, Editor]:
    writer = Editor(email="writer@lab.test", password_hash="unused", role=Role.EDITOR)
    chief = Editor(email="chief@lab.test", password_hash="unused", role=Role.PUBLISHER)
    db.session.add_all([writer, chief])
    db.session.commit()
    return writer, chief


def _payload(headline: str, **overrides: Any) -> dict[str, Any]:
    """The Audi alert with its own English and Dutch headline, so pages can be searched for it."""
    payload = audi_payload(**overrides)
    payload["texts"]["en"]["headline"] = headline
    payload["texts"]["nl"]["headline"] = f"NL {headline}"
    return payload


def _publish(people: tuple[Editor, Editor], alert: Alert) -> Alert:
    writer, chief = people
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    return alert


def _published(people: tuple[Editor, Editor], headline: str, **overrides: Any) -> Alert:
    return _publish(people, lifecycle.create_alert(_payload(headline, **overrides), people[0]))


def _page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path, headers=EN)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 200), (200, 170, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_list_shows_active_alerts_only(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    moment = clock.now()
    clock.freeze(moment)
    _published(people, "Active Audi")
    lifecycle.create_alert(_payload("Draft only"), people[0])
    withdrawn = _published(people, "Withdrawn Tesla")
    lifecycle.withdraw(withdrawn, people[1], "error", "Wrong lab result")
    _published(people, "Future Pop Smoke", effective=(moment + timedelta(days=2)).isoformat())
    clock.freeze(moment - timedelta(days=40))
    _published(people, "Old Grim Reaper")  # published 40 days ago, expired 10 days ago
    clock.freeze(moment)

    page = _page(client, "/")
    assert "Active Audi" in page
    for hidden in ("Draft only", "Withdrawn Tesla", "Future Pop Smoke", "Old Grim Reaper"):
        assert hidden not in page


def test_list_has_an_empty_state(client: FlaskClient) -> None:
    page = _page(client, "/")
    assert "There are no active alerts right now." in page


def test_list_puts_most_severe_first_then_newest(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    moment = clock.now()
    clock.freeze(moment - timedelta(hours=3))
    _published(people, "Older red", level="red_alert")
    clock.freeze(moment - timedelta(hours=2))
    _published(people, "Caution newest", level="caution")
    clock.freeze(moment - timedelta(hours=1))
    _published(people, "Newer red", level="red_alert")
    clock.freeze(moment)

    page = _page(client, "/")
    positions = [page.index(headline) for headline in ("Newer red", "Older red", "Caution newest")]
    assert positions == sorted(positions)
    # The level is said in words, not only by colour.
    assert ">Red alert</span>" in page and ">Caution</span>" in page


def test_card_shows_the_essentials(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    alert = lifecycle.create_alert(_payload("Audi with photo"), people[0])
    lifecycle.add_photo(alert, _jpeg(), people[0], alt_text={"en": "Beige pill with four rings"})
    _publish(people, alert)
    photo = alert.latest.photos[0]

    page = _page(client, "/")
    assert f'href="/alerts/{alert.id}"' in page
    assert f'src="/photos/{photo.thumb_name}"' in page and 'alt="Beige pill with four rings"' in page
    assert "Audi pill (beige/gold) contains over 300 mg MDMA" in page  # push text
    assert "XTC" in page and "Tablet (pill)" in page and "Nederland" in page


def test_detail_of_an_active_alert(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    alert = lifecycle.create_alert(_payload("Audi detail"), people[0])
    lifecycle.add_photo(alert, _jpeg(), people[0], alt_text={"nl": "Beige pil met vier ringen"})
    _publish(people, alert)
    photo = alert.latest.photos[0]

    page = _page(client, f"/alerts/{alert.id}")
    assert '<h1 lang="en">Audi detail</h1>' in page
    # Full-size photo; its only alt text is Dutch, so the attribute says so.
    assert f'src="/photos/{photo.file_name}"' in page
    assert 'alt="Beige pil met vier ringen" lang="nl"' in page
    assert "300 mg MDMA</strong>" in page and "2.2× the reference of 136 mg" in page
    assert "Do not use this pill." in page  # the instruction
    assert "In an emergency" in page and "call 112" in page  # default emergency advice
    assert "Identical-looking pills can differ" in page  # default disclaimer
    assert "four interlocking rings" in page and "beige, gold" in page and "14 x 7 mm" in page
    assert "3 samples" in page and "November 24, 2023" in page
    assert "Netherlands (NL)" in page
    assert "withdrawn" not in page.lower() and "expired" not in page.lower()


def test_detail_in_dutch_uses_dutch_texts_and_numbers(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    alert = _published(people, "Audi")
    page = client.get(f"/alerts/{alert.id}", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert '<html lang="nl">' in page and "NL Audi" in page
    assert "2,2× de referentie van 136 mg" in page
    assert "Gebruik deze pil niet." in page


def test_missing_language_falls_back_and_is_marked(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    payload = _payload("Audi")
    payload["texts"]["en"]["instruction"] = ""
    alert = _publish(people, lifecycle.create_alert(payload, people[0]))
    page = _page(client, f"/alerts/{alert.id}")
    assert '<p class="text" lang="nl">Gebruik deze pil niet.' in page
    assert "not available in your language" in page


def test_detail_shows_the_newest_version(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    writer, _ = people
    alert = _published(people, "First version")
    texts = _payload("Second version")["texts"]
    lifecycle.edit(alert, {"texts": texts, "area_description": "Noord-Brabant"}, writer, partial=True)
    _publish(people, alert)

    page = _page(client, f"/alerts/{alert.id}")
    assert "Second version" in page and "Noord-Brabant" in page
    assert "First version" not in page
    assert "Updated" in page


def test_detail_of_a_withdrawn_alert(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    alert = _published(people, "Mirrored question mark")
    lifecycle.withdraw(alert, people[1], "no_longer_circulating", "No further samples since January")

    page = _page(client, f"/alerts/{alert.id}")
    assert "This alert has been withdrawn." in page
    assert "No longer in circulation" in page and "No further samples since January" in page
    assert "Mirrored question mark" in page  # what it was about
    assert page.index("This alert has been withdrawn.") < page.index("Lab result")
    assert "<title>Withdrawn: Mirrored question mark" in page


def test_detail_of_an_expired_alert(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    alert = _published(people, "Gone batch")
    clock.freeze(clock.now() + timedelta(days=31))
    page = _page(client, f"/alerts/{alert.id}")
    assert "This alert has expired." in page
    sweeps.expire_due()  # the sweep changes the state; the page says the same
    assert "This alert has expired." in _page(client, f"/alerts/{alert.id}")


def test_detail_of_an_alert_not_yet_in_effect(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    start = clock.now() + timedelta(days=2)
    alert = _published(people, "Starts soon", effective=start.isoformat())
    page = _page(client, f"/alerts/{alert.id}")
    assert "This alert is not in effect yet." in page


def test_drafts_and_unknown_ids_are_not_found(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    draft = lifecycle.create_alert(_payload("Secret draft"), people[0])
    lifecycle.submit(draft, people[0])
    page = _page(client, f"/alerts/{draft.id}", status=404)
    assert "Alert not found" in page and "Secret draft" not in page
    _page(client, "/alerts/999999", status=404)


def test_an_update_in_progress_does_not_leak(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    alert = _published(people, "Public text")
    lifecycle.edit(alert, {"texts": _payload("Unpublished change")["texts"]}, people[0], partial=True)
    page = _page(client, f"/alerts/{alert.id}")
    assert "Public text" in page and "Unpublished change" not in page
    assert "Unpublished change" not in _page(client, "/")


def test_texts_are_escaped(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    alert = _published(people, "3 < 4 & co")
    for path in ("/", f"/alerts/{alert.id}"):
        raw = client.get(path, headers=EN).data
        assert b"3 &lt; 4 &amp; co" in raw
        assert b"3 < 4 & co" not in raw
    # Markup cannot get in through validation; rows written some other way are escaped too.
    alert.latest.texts[0].description = "<script>alert(1)</script>"
    alert.latest.texts[1].description = "<script>alert(1)</script>"
    db.session.commit()
    # Kept pages rely on published rows never changing (alerts/freshness.py), which this write
    # breaks on purpose: ask as a process that has kept nothing yet.
    client.application.extensions[EXTENSION] = Freshness()
    raw = client.get(f"/alerts/{alert.id}", headers=EN).data
    assert b"<script>alert(1)" not in raw and b"&lt;script&gt;alert(1)" in raw


class _PageAudit(HTMLParser):
    """Collects what a strict CSP would block, and every URL attribute."""

    URL_ATTRIBUTES = frozenset({"href", "src", "action", "srcset", "poster", "data", "formaction", "cite"})

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.urls: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            if not named.get("src"):
                self.problems.append("script without src")
            self._in = "script"
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            if name in self.URL_ATTRIBUTES and value:
                self.urls.extend(part.strip().split(" ")[0] for part in value.split(","))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script" and data.strip():
            self.problems.append("inline script body")


def _pages(client: FlaskClient, people: tuple[Editor, Editor]) -> list[str]:
    """Every kind of public page, with photos, in both languages."""
    active = lifecycle.create_alert(_payload("Audi"), people[0])
    lifecycle.add_photo(active, _jpeg(), people[0], alt_text={"en": "Pill"})
    _publish(people, active)
    withdrawn = _published(people, "Tesla")
    lifecycle.withdraw(withdrawn, people[1], "error")
    draft = lifecycle.create_alert(_payload("Draft"), people[0])
    return ["/", f"/alerts/{active.id}", f"/alerts/{withdrawn.id}", f"/alerts/{draft.id}", "/?lang=nl"]


def test_pages_have_csp_and_nothing_inline(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    for path in _pages(client, people):
        response = client.get(path, headers=EN)
        assert response.headers["Content-Security-Policy"] == CSP
        audit = _PageAudit()
        audit.feed(response.get_data(as_text=True))
        audit.close()
        assert audit.problems == [], path


def test_pages_load_nothing_from_other_hosts(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    for path in _pages(client, people):
        audit = _PageAudit()
        audit.feed(client.get(path, headers=EN).get_data(as_text=True))
        assert audit.urls, path
        for url in audit.urls:
            parts = urlsplit(url)
            assert parts.scheme in ("", "http", "https"), (path, url)
            assert not parts.netloc or parts.hostname in OUR_HOSTS, (path, url)


def test_visitors_get_no_cookie_without_a_language_choice(client: FlaskClient, people: tuple[Editor, Editor]) -> None:
    for path in _pages(client, people)[:-1]:
        response = client.get(path, headers=EN)
        assert "Set-Cookie" not in response.headers, path
