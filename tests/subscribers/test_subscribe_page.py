"""The subscribe page without JavaScript: its fields are what preferences.from_form reads."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from subscribers.preferences import from_form, validate_preferences
from subscribers.vapid import generate_pair, public_from_private


class FormValues(HTMLParser):
    """What a browser would submit for the page's form untouched: the successful controls."""

    def __init__(self) -> None:
        super().__init__()
        self.values: MultiDict[str, str] = MultiDict()
        self.names: set[str] = set()
        self.form: dict[str, str | None] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "form":
            self._inside = a.get("id") == "subscribe-form"
            if self._inside:
                self.form = a
        if not self._inside:
            return
        if tag == "input" and name:
            self.names.add(name)
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.add(name, a.get("value") or "on")
            elif a.get("type") not in ("submit", "button"):
                self.values.add(name, a.get("value") or "")
        elif tag == "select" and name:
            self.names.add(name)
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in a and not self._selected:
                self.values.add(self._select, value)
                self._selected = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        if tag == "select" and self._select:
            if not self._selected and self._first_option is not None:
                self.values.add(self._select, self._first_option)
            self._select = None


def parse(html: str) -> FormValues:
    parser = FormValues()
    parser.feed(html)
    return parser


def test_the_form_posts_the_fields_from_form_reads(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    app.config["VAPID_FILE"] = str(tmp_path / "none.json")
    page = client.get("/subscribe", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    form = parse(page.get_data(as_text=True))
    assert form.form["action"] == "/subscribe/email" and form.form["method"] == "post"
    assert "data-vapid-key" not in form.form  # no keys: no push button for the script to show
    expected = {
        "csrf_token",
        "areas",
        "circle_lat",
        "circle_lon",
        "circle_radius_km",
        "min_level",
        "forms",
        "substances",
        "language",
        "accept_fallback",
        "quiet_start",
        "quiet_end",
        "timezone",
        "digest",
        "digest_hour",
        "digest_weekday",
        "email",
    }
    assert form.names == expected

    # Untouched but for one region, the form gives the defaults a visitor would expect.
    submitted = form.values.copy()
    submitted.add("areas", "NL-NH")
    clean = validate_preferences(from_form(submitted), app.config["LANGUAGES"])
    assert clean["areas"] == ["NL-NH"] and clean["circle"] is None
    assert (clean["min_level_rank"], clean["forms_mask"], clean["substances_mask"]) == (0, 0, 0)
    assert clean["language"] == "en" and clean["accept_fallback"] is True
    assert clean["quiet_start"] == clean["quiet_end"] == 0 and clean["timezone"] == "Europe/Amsterdam"
    assert (clean["digest"], clean["digest_hour"], clean["digest_weekday"]) == ("off", 9, 0)


def test_the_page_hands_the_vapid_key_to_the_script(app: Flask, client: FlaskClient) -> None:
    private = generate_pair()[0]
    app.config["VAPID_PRIVATE_KEY"] = private
    html = client.get("/subscribe").get_data(as_text=True)
    form = parse(html)
    assert form.form["data-vapid-key"] == public_from_private(private)
    assert form.form["data-push-api"] == "/api/v1/subscriptions/push"
    # The push part stays hidden until the script finds PushManager; the script is a file.
    assert '<section id="push" class="channel" aria-labelledby="push-heading" hidden' in html
    assert '<script src="/static/js/subscribe.js" defer></script>' in html
    assert "<script>" not in html and "style=" not in html


def test_the_page_speaks_dutch(app: Flask, client: FlaskClient) -> None:
    html = client.get("/subscribe", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    form = parse(html)
    assert form.values["language"] == "nl"
    assert "Nederlands" in html and "Noord-Holland" in html
