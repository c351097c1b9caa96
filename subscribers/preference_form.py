"""The preference fields of the manage page: the sign-up form's fields, filled in from what is stored.

templates/subscribers/_preference_fields.html draws the fields with the names
preferences.from_form reads and the context the subscribe page uses (subscribe_views), so
the manage page and the sign-up page offer the same choices the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from core.i18n import locale_code

from .subscribe_views import _options as subscribe_options


def form_values(preferences: Mapping[str, Any]) -> MultiDict[str, str]:
    """Stored preferences (the JSON shape of preferences_of) as the form's flat fields."""
    values: MultiDict[str, str] = MultiDict()
    for code in preferences["areas"]:
        values.add("areas", code)
    circle = preferences.get("circle")
    if circle:
        for key in ("lat", "lon", "radius_km"):
            values[f"circle_{key}"] = _decimal(circle[key])
    values["min_level"] = preferences["min_level"]
    for key in ("forms", "substances"):
        for item in preferences[key]:
            values.add(key, item)
    values["language"] = preferences["language"]
    if preferences["accept_fallback"]:
        values["accept_fallback"] = "on"
    quiet = preferences.get("quiet_hours")
    if quiet:
        values["quiet_start"], values["quiet_end"], values["timezone"] = quiet["start"], quiet["end"], quiet["timezone"]
    values["digest"] = preferences["digest"]
    values["digest_hour"] = str(preferences["digest_hour"])
    values["digest_weekday"] = str(preferences["digest_weekday"])
    return values


def form_context(values: MultiDict[str, str], errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What _preference_fields.html needs, built as the subscribe page builds it."""
    errors = dict(errors or {})
    return {
        "values": values,
        "errors": errors,
        "options": subscribe_options(),
        "checked": lambda name, value: value in values.getlist(name),
        "default_language": values.get("language") or locale_code(),
        "circle_open": bool(values.get("circle_lat") or any(key.startswith("circle") for key in errors)),
    }


def _decimal(number: float) -> str:
    # Six decimals of a degree are about 10 cm: everything a person typed survives the round trip.
    return f"{number:.6f}".rstrip("0").rstrip(".")
