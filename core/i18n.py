"""Language choice and locale-aware formatting for templates.

The choice: ?lang= (the switch in base.html), then the "lang" cookie it leaves behind, then
Accept-Language. The cookie is the only one a visitor ever gets, so it carries nothing but
the language code.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from flask import Flask, Response, current_app, request
from flask_babel import get_locale, refresh
from flask_babel import gettext as _

from .routing import nearest_page

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
# Alerts are about the Dutch market and its events; times are read as local wall-clock time.
DISPLAY_TIMEZONE = ZoneInfo("Europe/Amsterdam")


def select_locale() -> str | None:
    languages: list[str] = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]


def locale_code() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])


def format_moment(moment: datetime | None) -> str:
    """A date and time in Amsterdam time, written the way the page's language writes it."""
    if moment is None:
        return ""
    local = moment.astimezone(DISPLAY_TIMEZONE)
    locale = locale_code()
    return _(
        "%(date)s at %(time)s",
        date=format_date(local, "long", locale=locale),
        time=format_time(local, "HH:mm", locale=locale),
    )


def format_day(day: date | datetime | None) -> str:
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = day.astimezone(DISPLAY_TIMEZONE).date()
    return format_date(day, "long", locale=locale_code())


def format_number(number: float | None) -> str:
    """At most one decimal: "2,2" in Dutch, "2.2" in English; whole numbers without one."""
    if number is None:
        return ""
    return format_decimal(number, "#,##0.#", locale=locale_code())


def install_template_helpers(app: Flask) -> None:
    """Template helpers for the locale, and remembering a ?lang= choice in the cookie."""

    @app.context_processor
    def _locale() -> dict[str, object]:
        return {"current_locale": locale_code, "language_switch_action": language_switch_action}

    @app.before_request
    def _fresh_locale() -> None:
        # Flask-Babel caches the locale on `g`, which lives as long as the app context; a
        # context shared by several requests (tests, CLI code that renders pages) would
        # otherwise keep the first request's language.
        refresh()

    app.add_template_filter(format_moment, "moment")
    app.add_template_filter(format_day, "day")
    app.add_template_filter(format_number, "number")

    @app.after_request
    def _remember_language(response: Response) -> Response:
        if response.mimetype != "text/html":
            # Feeds and the API take ?lang= as a filter: no cookie, so CDNs can cache them and
            # feed readers are not tagged.
            return response
        # Pages differ by language, so shared caches must key on what decides it.
        response.vary.update(("Accept-Language", "Cookie"))
        chosen = request.args.get("lang", "")
        if chosen in app.config["LANGUAGES"] and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(
                LANG_COOKIE,
                chosen,
                max_age=LANG_COOKIE_MAX_AGE,
                samesite="Lax",
                httponly=True,  # no script reads it
                secure=app.config["SESSION_COOKIE_SECURE"],  # the same transport policy as the session
            )
        return response


def language_switch_action() -> str:
    """Where the language form sends its GET: this page, or, on a page answering a POST (a form
    with errors, a refused form, a 429), the nearest page to GET; the POST's path could be a 405.
    """
    return "" if request.method in ("GET", "HEAD") else nearest_page()
