"""Languages: the Dutch catalogue is complete, and the page language follows the visitor's choice."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from alerts import labels
from alerts.queries import PublicStatus
from alerts.vocabulary import (
    FORMS,
    PHOTO_SIDES,
    RISK_REASONS,
    Certainty,
    Level,
    MsgType,
    ResponseType,
    State,
    Status,
    Urgency,
    WithdrawalReason,
)
from core.i18n import LANG_COOKIE, LANG_COOKIE_MAX_AGE, format_day, format_moment, format_number
from tests.helpers import csrf_from

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def _extracted() -> dict[str | tuple[str, ...], str]:
    """Every translatable string the way tools/update_translations.sh finds it, with one location."""
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str | tuple[str, ...], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def _catalogue() -> Catalog:
    with open(CATALOGUE, "rb") as handle:
        return read_po(handle)


def test_every_string_has_a_checked_dutch_translation() -> None:
    catalogue = _catalogue()
    problems = []
    for message, where in sorted(_extracted().items(), key=lambda item: item[1]):
        key = message[0] if isinstance(message, tuple) else message
        entry = catalogue.get(key)
        strings = (
            entry.string if entry is not None and isinstance(entry.string, tuple) else [getattr(entry, "string", "")]
        )
        if entry is None:
            problems.append(f"{where}: {key!r} is missing from the catalogue")
        elif entry.fuzzy:
            problems.append(f"{where}: {key!r} is marked fuzzy")
        elif not all(strings):
            problems.append(f"{where}: {key!r} is untranslated")
    hint = "run tools/update_translations.sh and translate translations/nl/LC_MESSAGES/messages.po"
    assert not problems, f"{hint}:\n" + "\n".join(problems)


def test_extraction_sees_templates_and_lazy_labels() -> None:
    found = _extracted()
    assert "Current alerts" in found and found["Current alerts"].startswith("templates/")
    assert "Red alert" in found  # alerts/labels.py, marked with _l
    assert ("%(num)d sample", "%(num)d samples") in found


def test_translations_keep_their_placeholders() -> None:
    errors = [f"{message.id!r}: {error}" for message, found in _catalogue().check() for error in found]
    assert errors == []


@pytest.mark.parametrize(
    ("kind", "codes"),
    [
        ("level", list(Level)),
        ("state", list(State)),
        ("public_status", list(PublicStatus)),
        ("risk_reason", RISK_REASONS),
        ("form", FORMS),
        ("withdrawal_reason", list(WithdrawalReason)),
        ("msg_type", list(MsgType)),
        ("status", list(Status)),
        ("urgency", list(Urgency)),
        ("certainty", list(Certainty)),
        ("response_type", list(ResponseType)),
        ("photo_side", PHOTO_SIDES),
    ],
)
def test_every_vocabulary_code_has_a_label(kind: str, codes: list[str]) -> None:
    assert set(labels.KINDS[kind]) == {str(code) for code in codes}


def test_labels_follow_the_request_language(app: Flask) -> None:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "nl"}):
        assert labels.label("level", Level.RED_ALERT) == "Rode alert"
        assert labels.label("risk_reason", "very_high_dose") == "Zeer hoge dosis"
        assert labels.label("form", "not-a-form") == "not-a-form"  # unknown codes show as themselves
        assert labels.choices("withdrawal_reason")[0] == ("no_longer_circulating", "Niet meer in omloop")
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert labels.label("level", "red_alert") == "Red alert"


def test_times_are_shown_in_amsterdam_time(app: Flask) -> None:
    winter, summer = datetime(2023, 12, 12, 19, 5, tzinfo=UTC), datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "nl"}):
        assert format_moment(winter) == "12 december 2023 om 20:05"
        assert format_moment(summer) == "1 juli 2024 om 14:00"
        assert format_day(datetime(2023, 12, 31, 23, 30, tzinfo=UTC)) == "1 januari 2024"
        assert format_number(300 / 136) == "2,2" and format_number(300.0) == "300"
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert format_moment(winter) == "December 12, 2023 at 20:05"
        assert format_number(1234.5) == "1,234.5"


def test_accept_language_picks_the_page_language(client: FlaskClient) -> None:
    dutch = client.get("/", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert '<html lang="nl">' in dutch.get_data(as_text=True)
    assert "Actuele waarschuwingen" in dutch.get_data(as_text=True)
    assert "Accept-Language" in dutch.headers["Vary"]
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert "Current alerts" in english.get_data(as_text=True)
    for response in (dutch, english):
        assert "Set-Cookie" not in response.headers  # no choice made, nothing stored


def test_language_switch_sticks_in_a_cookie(client: FlaskClient) -> None:
    dutch_browser = {"Accept-Language": "nl"}
    switched = client.get("/", query_string={"lang": "en"}, headers=dutch_browser)
    assert "Current alerts" in switched.get_data(as_text=True)
    cookie = switched.headers["Set-Cookie"]
    assert cookie.startswith(f"{LANG_COOKIE}=en;")
    assert "SameSite=Lax" in cookie and f"Max-Age={LANG_COOKIE_MAX_AGE}" in cookie and "HttpOnly" in cookie
    assert LANG_COOKIE_MAX_AGE == 365 * 24 * 3600

    later = client.get("/", headers=dutch_browser)  # no ?lang=: the cookie decides
    assert '<html lang="en">' in later.get_data(as_text=True)
    assert "Set-Cookie" not in later.headers

    back = client.get("/alerts/1", query_string={"lang": "nl"}, headers=dutch_browser)
    assert back.headers["Set-Cookie"].startswith(f"{LANG_COOKIE}=nl;")
    assert "Waarschuwing niet gevonden" in back.get_data(as_text=True)


def test_unknown_language_is_ignored(client: FlaskClient) -> None:
    response = client.get("/", query_string={"lang": "xx"}, headers={"Accept-Language": "en"})
    assert '<html lang="en">' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_switch_form_works_without_script(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<form class="lang" method="get" action="">' in page
    assert '<select id="lang-switch" name="lang">' in page and '<label for="lang-switch">' in page


def _language_form_action(html: str) -> str:
    match = re.search(r'<form class="lang" method="get" action="([^"]*)">', html)
    assert match is not None, "no language form on the page"
    return match.group(1)


def test_the_language_switch_never_leads_to_a_405(app: Flask, client: FlaskClient) -> None:
    # On a page answering a GET the form sends the visitor to the same page.
    assert _language_form_action(client.get("/subscribe").get_data(as_text=True)) == ""
    # A sign-up form with errors answers the POST to /subscribe/email, which has no page to GET.
    assert client.get("/subscribe/email").status_code == 405
    token = csrf_from(client.get("/subscribe").data)
    refused = client.post("/subscribe/email", data={"csrf_token": token, "email": "not an address"})
    assert refused.status_code == 422
    action = _language_form_action(refused.get_data(as_text=True))
    assert action == "/subscribe" and client.get(f"{action}?lang=en").status_code == 200
