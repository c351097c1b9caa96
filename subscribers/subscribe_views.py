"""GET /subscribe: the sign-up page, one form for both channels.

The form posts to /subscribe/email (the email sign-up view) and works without JavaScript.
With JavaScript and a browser that has PushManager, static/js/subscribe.js reads the same
fields and subscribes for web push through the JSON API in push_api.py. The field names
are those of subscribers.preferences.from_form, so both channels share one validator.

The email view re-renders this page on errors with `render_subscribe_page(values, errors)`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from babel import Locale
from babel.dates import get_day_names
from flask import Blueprint, current_app, render_template
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from alerts.labels import choices, label
from alerts.vocabulary import FORMS
from core.i18n import locale_code
from regions import tree

from .interests import SUBSTANCE_GROUPS
from .vapid import VapidError, vapid_keys

log = logging.getLogger(__name__)

bp = Blueprint("subscribe", __name__)

EMAIL_ACTION = "/subscribe/email"
DEFAULT_TIMEZONE = "Europe/Amsterdam"
# Where visitors of Dutch nightlife come from and go to; any other IANA name works in the API.
TIMEZONES = (
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Athens",
    "America/Curacao",
    "UTC",
)
SUBSTANCE_LABELS: Mapping[str, LazyString] = {
    "mdma": _l("MDMA / XTC"),
    "cocaine": _l("Cocaine"),
    "ketamine": _l("Ketamine"),
    "amphetamine": _l("Amphetamine (speed)"),
    "cathinones": _l("Cathinones (3-MMC, 4-MMC and similar)"),
    "2c": _l("2C-B and other 2C drugs"),
    "lsd": _l("LSD"),
    "ghb": _l("GHB / GBL"),
    "opioids": _l("Opioids (fentanyl, nitazenes, heroin)"),
    "other": _l("Other substances"),
}
DIGEST_LABELS: Mapping[str, LazyString] = {
    "off": _l("No digest: send each alert when it is published"),
    "daily": _l("Daily digest"),
    "weekly": _l("Weekly digest"),
}


@bp.get("/subscribe")
def subscribe_page() -> str:
    return render_subscribe_page()


def render_subscribe_page(
    values: MultiDict[str, str] | None = None, errors: Mapping[str, str] | None = None, notice: str | None = None
) -> str:
    """The page, filled in with `values` (a posted form) and showing `errors` by field name."""
    values = values if values is not None else MultiDict()
    return render_template(
        "subscribers/subscribe.html",
        values=values,
        errors=dict(errors or {}),
        notice=notice,
        options=_options(),
        vapid_public_key=_public_key(),
        email_action=EMAIL_ACTION,
        checked=lambda name, value: value in values.getlist(name),
        default_language=values.get("language") or locale_code(),
        circle_open=bool(values.get("circle_lat") or any(key.startswith("circle") for key in errors or {})),
    )


def _options() -> dict[str, Any]:
    locale = locale_code()
    languages = current_app.config["LANGUAGES"]
    days = get_day_names("wide", locale=locale)
    netherlands = tree.get("NL")
    return {
        "regions": [(code, _region_name(code)) for code in ["NL", *tree.children("NL")]] if netherlands else [],
        "levels": choices("level"),
        "forms": [(form, label("form", form)) for form in FORMS],
        "substances": [(group, str(SUBSTANCE_LABELS.get(group, group))) for group in SUBSTANCE_GROUPS],
        "languages": [(code, Locale.parse(code).get_display_name(code) or code) for code in languages],
        "timezones": TIMEZONES,
        "digests": [(key, str(text)) for key, text in DIGEST_LABELS.items()],
        "hours": [(hour, f"{hour:02d}:00") for hour in range(24)],
        "weekdays": [(day, str(days[day])) for day in range(7)],
    }


def _region_name(code: str) -> str:
    region = tree.get(code)
    return region.name if region is not None else code


def _public_key() -> str | None:
    """The applicationServerKey, or None: the page then simply offers no push button."""
    try:
        return vapid_keys().public_key
    except VapidError as error:
        log.warning("web push is off on the subscribe page: %s", error)
        return None
