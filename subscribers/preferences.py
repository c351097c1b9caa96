"""A subscriber's choices: one validator for the JSON API, the sign-up form and the manage page.

JSON shape (every key optional except that areas or a circle must be given):
    {"areas": ["NL-NH"], "circle": {"lat": 52.37, "lon": 4.9, "radius_km": 10},
     "min_level": "caution", "forms": ["tablet"], "substances": ["mdma"],
     "language": "nl", "accept_fallback": true,
     "quiet_hours": {"start": "23:00", "end": "07:00", "timezone": "Europe/Amsterdam"},
     "digest": "off" | "daily" | "weekly", "digest_hour": 9, "digest_weekday": 0}
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from werkzeug.datastructures import MultiDict

from alerts.field_checks import unknown_fields
from alerts.schema import ValidationError
from alerts.vocabulary import FORMS, Level
from regions.tree import is_known, normalise

from .areas import set_areas
from .interests import SUBSTANCE_GROUPS, mask, names
from .models import Digest, Subscription

MAX_AREAS = 50
MAX_RADIUS_KM = 200
# Longer than this is not "quiet hours" but a mistake (or "never tell me"): say so.
MAX_QUIET_MINUTES = 16 * 60
# Every member of the JSON shape: what validate_preferences reads, from_form builds and
# preferences_of writes.
PREFERENCE_KEYS = frozenset(
    {
        "areas", "circle", "min_level", "forms", "substances", "language", "accept_fallback",
        "quiet_hours", "digest", "digest_hour", "digest_weekday",
    }
)  # fmt: skip
# ASCII digits and the whole string, as the OpenAPI document's pattern says: \d takes any script's
# digits (int() reads them too) and $ also matches before a final line break.
CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def validate_preferences(payload: Any, languages: list[str]) -> dict[str, Any]:
    """Cleaned preferences, or ValidationError naming every bad field."""
    if not isinstance(payload, dict):
        raise ValidationError({"": "the body must be a JSON object"})
    errors: dict[str, str] = {}
    errors.update(unknown_fields(payload, PREFERENCE_KEYS))
    clean: dict[str, Any] = {
        "areas": _areas(payload.get("areas"), errors),
        "circle": _circle(payload.get("circle"), errors),
        "language": _given(payload, "language", languages[0]),
        "accept_fallback": payload.get("accept_fallback", True),
    }
    if not clean["areas"] and clean["circle"] is None and "areas" not in errors:
        errors["areas"] = "choose at least one region, or a place and radius"
    level = _given(payload, "min_level", Level.INFO.value)
    if level not in tuple(Level):
        errors["min_level"] = f"must be one of: {', '.join(Level)}"
        level = Level.INFO.value
    clean["min_level_rank"] = Level(level).rank
    for key, vocabulary in (("forms", FORMS), ("substances", SUBSTANCE_GROUPS)):
        chosen = _given(payload, key, [])
        try:
            if not isinstance(chosen, list):
                raise ValueError("must be a list")
            clean[f"{key}_mask"] = mask(chosen, vocabulary)
        except ValueError as error:
            errors[key] = f"{error}; use: {', '.join(vocabulary)}"
    if not isinstance(clean["language"], str) or clean["language"] not in languages:
        errors["language"] = f"must be one of: {', '.join(languages)}"
    if not isinstance(clean["accept_fallback"], bool):
        errors["accept_fallback"] = "must be true or false"
    clean.update(_quiet_hours(payload.get("quiet_hours"), errors))
    clean.update(_digest(payload, errors))
    if errors:
        raise ValidationError(errors)
    return clean


def from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The HTML form's flat fields in the JSON shape (the form works without JavaScript)."""
    areas = [code for value in form.getlist("areas") for code in re.split(r"[\s,]+", value) if code]
    payload: dict[str, Any] = {
        "areas": areas,
        "min_level": form.get("min_level"),
        "forms": form.getlist("forms"),
        "substances": form.getlist("substances"),
        "language": form.get("language"),
        "accept_fallback": form.get("accept_fallback") == "on",
        "digest": form.get("digest") or "off",
        "digest_hour": form.get("digest_hour") or 9,
        "digest_weekday": form.get("digest_weekday") or 0,
    }
    if form.get("circle_lat") or form.get("circle_lon"):
        payload["circle"] = {k: form.get(f"circle_{k}") for k in ("lat", "lon", "radius_km")}
    if form.get("quiet_start") or form.get("quiet_end"):
        payload["quiet_hours"] = {
            "start": form.get("quiet_start"),
            "end": form.get("quiet_end"),
            "timezone": form.get("timezone") or "Europe/Amsterdam",
        }
    return payload


def apply_preferences(subscription: Subscription, clean: dict[str, Any]) -> None:
    for key in (
        "language",
        "accept_fallback",
        "min_level_rank",
        "forms_mask",
        "substances_mask",
        "quiet_start",
        "quiet_end",
        "timezone",
        "digest",
        "digest_hour",
        "digest_weekday",
    ):
        setattr(subscription, key, clean[key])
    circle = clean["circle"]
    set_areas(subscription, clean["areas"], (circle["lat"], circle["lon"], circle["radius_km"]) if circle else None)


def preferences_of(subscription: Subscription) -> dict[str, Any]:
    """The JSON shape of what is stored: the manage page and the data export show this."""
    s = subscription
    quiet = None
    if s.quiet_start != s.quiet_end:
        quiet = {"start": _clock(s.quiet_start), "end": _clock(s.quiet_end), "timezone": s.timezone}
    return {
        "areas": s.chosen_areas,
        "circle": {"lat": s.circle_lat, "lon": s.circle_lon, "radius_km": s.circle_radius_km}
        if s.circle_lat is not None
        else None,
        "min_level": list(Level)[s.min_level_rank].value,
        "forms": names(s.forms_mask, FORMS),
        "substances": names(s.substances_mask, SUBSTANCE_GROUPS),
        "language": s.language,
        "accept_fallback": s.accept_fallback,
        "quiet_hours": quiet,
        "digest": Digest(s.digest).value,
        "digest_hour": s.digest_hour,
        "digest_weekday": s.digest_weekday,
    }


def _areas(value: Any, errors: dict[str, str]) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > MAX_AREAS:
        errors["areas"] = f"must be a list of at most {MAX_AREAS} region codes"
        return []
    codes: list[str] = []
    for code in value:
        if not isinstance(code, str) or not is_known(code):
            errors["areas"] = f"unknown region {str(code)[:20]!r}"
        elif normalise(code) not in codes:
            codes.append(normalise(code))
    return codes


def _circle(value: Any, errors: dict[str, str]) -> dict[str, float] | None:
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict):
        errors["circle"] = "must be an object with lat, lon and radius_km"
        return None
    limits = {"lat": (-90, 90), "lon": (-180, 180), "radius_km": (1, MAX_RADIUS_KM)}
    errors.update(unknown_fields(value, limits, "circle."))
    circle: dict[str, float] = {}
    for key, (low, high) in limits.items():
        try:
            if isinstance(value.get(key), bool):
                raise TypeError("true is no coordinate")
            number = float(value[key])
        except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: an integer past a float
            errors[f"circle.{key}"] = "must be a number"
            continue
        if not low <= number <= high:  # also false for NaN
            errors[f"circle.{key}"] = f"must be between {low} and {high}"
            continue
        circle[key] = number
    return circle if len(circle) == 3 else None


def _quiet_hours(value: Any, errors: dict[str, str]) -> dict[str, Any]:
    none = {"quiet_start": 0, "quiet_end": 0, "timezone": "Europe/Amsterdam"}
    if value in (None, "", {}):
        return none
    if not isinstance(value, dict):
        errors["quiet_hours"] = "must be an object with start, end and timezone"
        return none
    errors.update(unknown_fields(value, ("start", "end", "timezone"), "quiet_hours."))
    zone = _given(value, "timezone", "Europe/Amsterdam")
    if not isinstance(zone, str) or zone not in _time_zones():
        errors["quiet_hours.timezone"] = "unknown time zone; use a name such as Europe/Amsterdam"
    minutes = {}
    for key in ("start", "end"):
        match = CLOCK.fullmatch(str(value.get(key) or ""))
        if match is None:
            errors[f"quiet_hours.{key}"] = "must be a time of day such as 23:00"
        else:
            minutes[key] = int(match[1]) * 60 + int(match[2])
    if len(minutes) == 2:
        length = (minutes["end"] - minutes["start"]) % (24 * 60)
        if length == 0:
            errors["quiet_hours"] = "start and end are the same; leave quiet hours out instead"
        elif length > MAX_QUIET_MINUTES:
            errors["quiet_hours"] = "quiet hours can last at most 16 hours"
        return {"quiet_start": minutes["start"], "quiet_end": minutes["end"], "timezone": zone}
    return none


def _digest(payload: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    digest = _given(payload, "digest", Digest.OFF.value)
    if digest not in tuple(Digest):
        errors["digest"] = f"must be one of: {', '.join(Digest)}"
        digest = Digest.OFF.value
    result: dict[str, Any] = {"digest": Digest(digest)}
    for key, high in (("digest_hour", 23), ("digest_weekday", 6)):
        raw = payload.get(key, 9 if key == "digest_hour" else 0)
        if isinstance(raw, str) and re.fullmatch("[0-9]{1,2}", raw):
            raw = int(raw)  # the form sends its choice as text
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= high:
            errors[key] = f"must be a whole number from 0 to {high}"
            raw = 0
        result[key] = raw
    return result


def _given(payload: dict[str, Any], key: str, default: Any) -> Any:
    """The member, or `default` when it is left out, null or "" (what an untouched form field sends).

    Only those: false, 0, [] or {} where a word is expected are mistakes, and get an error.
    """
    value = payload.get(key)
    return default if value is None or value == "" else value


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


_ZONES: set[str] = set()


def _time_zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(zoneinfo.available_timezones())
    return _ZONES
