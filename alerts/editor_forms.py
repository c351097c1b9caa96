"""The editor's HTML form and the alert content, in both directions.

The form is flat (`product_form`, `component-2-amount`, `text-nl-headline`); the content is
the nested JSON shape that schema.validate_content checks. `payload_from_form` builds that
shape without judging it, so one validator decides for the form and the API alike, and
`form_errors` puts each of its messages back beside the field it is about.

Times: editors think in Dutch local time, and datetime-local inputs carry no offset, so the
form reads and writes Europe/Amsterdam wall-clock time and the content carries the offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from core.i18n import DISPLAY_TIMEZONE

from .schema import CIRCLE_KEYS, PRODUCT_LIMITS, TEXT_LIMITS

# The same zone the public pages show times in.
EDITOR_ZONE = DISPLAY_TIMEZONE
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
MOMENT_FIELDS = ("effective", "expires", "publish_at")
CHOICE_FIELDS = ("level", "status", "urgency", "certainty", "response_type")
PLAIN_FIELDS = ("area_description", "web_link", "contact")
# Blank rows to offer; an alert written through the API with more keeps all of its rows.
COMPONENT_ROWS = 6
MAX_COMPONENT_ROWS = 20

_INDEX = re.compile(r"\[(\d+)\]")


@dataclass
class FormInput:
    """What one POST of the form amounts to."""

    payload: dict[str, Any]
    incident_key: str
    # Position in payload["components"] → row number on the form (blank rows are left out).
    component_rows: list[int] = field(default_factory=list)
    # Problems the form itself can see before the validator does (an unreadable time).
    errors: dict[str, str] = field(default_factory=dict)


def payload_from_form(form: MultiDict[str, str], languages: list[str]) -> FormInput:
    get = form.get
    errors: dict[str, str] = {}
    payload: dict[str, Any] = {key: get(key, "") for key in CHOICE_FIELDS}
    payload["risk_reasons"] = form.getlist("risk_reasons")
    for key in MOMENT_FIELDS:
        payload[key] = _moment_from_local(key, get(key, ""), errors)
    payload["product"] = {
        "form": get("product_form", ""),
        **{key: get(f"product_{key}", "") for key in PRODUCT_LIMITS},
        "colours": _split(get("product_colours", "")),
        "weight_mg": get("product_weight_mg", "").strip(),
        "bilayer": "product_bilayer" in form,
    }
    components, rows = _components(form)
    payload["components"] = components
    payload["reference"] = {
        "substance": get("reference_substance", ""),
        "amount": get("reference_amount", "").strip(),
        "unit": get("reference_unit", ""),
    }
    payload["samples"] = {
        "count": get("samples_count", "").strip(),
        "first_seen": get("samples_first_seen", "").strip(),
        "last_seen": get("samples_last_seen", "").strip(),
        "test_sites": _split(get("samples_test_sites", "")),
    }
    # A string on purpose: the validator splits it and names the unknown code.
    payload["areas"] = get("areas", "")
    circle = {key: get(f"circle_{key}", "").strip() for key in CIRCLE_KEYS}
    payload["circle"] = circle if any(circle.values()) else None
    for key in PLAIN_FIELDS:
        payload[key] = get(key, "")
    payload["texts"] = {lang: {key: get(f"text-{lang}-{key}", "") for key in TEXT_LIMITS} for lang in languages}
    return FormInput(payload, get("incident_key", "").strip(), rows, errors)


def form_from_content(content: dict[str, Any]) -> MultiDict[str, str]:
    """The form's fields filled from content_of(version): the inverse of payload_from_form."""
    values: MultiDict[str, str] = MultiDict()
    for key in CHOICE_FIELDS:
        values[key] = content[key]
    for reason in content["risk_reasons"]:
        values.add("risk_reasons", reason)
    for key in MOMENT_FIELDS:
        values[key] = local_input_value(content[key])
    product = content["product"]
    values["product_form"] = product["form"]
    for key in PRODUCT_LIMITS:
        values[f"product_{key}"] = product[key]
    values["product_colours"] = ", ".join(product["colours"])
    values["product_weight_mg"] = plain_number(product["weight_mg"])
    if product["bilayer"]:
        values["product_bilayer"] = "on"
    for row, component in enumerate(content["components"]):
        prefix = f"component-{row}-"
        values[prefix + "substance"] = component["substance"]
        values[prefix + "amount"] = plain_number(component["amount"])
        values[prefix + "unit"] = component["unit"]
        # The form asks about the exception (unexpected, not quantified) so blank rows stay neutral.
        if not component["expected"]:
            values[prefix + "unexpected"] = "on"
        if not component["quantified"]:
            values[prefix + "unquantified"] = "on"
    reference = content["reference"]
    values["reference_substance"] = reference["substance"]
    values["reference_amount"] = plain_number(reference["amount"])
    values["reference_unit"] = reference["unit"]
    samples = content["samples"]
    values["samples_count"] = plain_number(samples["count"])
    values["samples_first_seen"] = samples["first_seen"] or ""
    values["samples_last_seen"] = samples["last_seen"] or ""
    values["samples_test_sites"] = ", ".join(samples["test_sites"])
    values["areas"] = ", ".join(content["areas"])
    for key in CIRCLE_KEYS:
        values[f"circle_{key}"] = plain_number((content["circle"] or {}).get(key))
    for key in PLAIN_FIELDS:
        values[key] = content[key]
    for lang, texts in content["texts"].items():
        for key, text in texts.items():
            values[f"text-{lang}-{key}"] = text
    return values


def component_row_count(values: MultiDict[str, str]) -> int:
    """Rows to show: the usual number, or more when the alert (or the POST) already has more."""
    filled = [
        row
        for row in range(MAX_COMPONENT_ROWS)
        if values.get(f"component-{row}-substance", "").strip() or values.get(f"component-{row}-amount", "").strip()
    ]
    # One blank row beyond the last filled one, so another substance can always be added.
    return min(MAX_COMPONENT_ROWS, max(COMPONENT_ROWS, (filled[-1] + 2) if filled else 0))


def form_errors(errors: dict[str, str], component_rows: list[int]) -> dict[str, str]:
    """The validator's messages keyed by the name of the form field they belong to."""
    by_field: dict[str, str] = {}
    for key, message in errors.items():
        by_field.setdefault(field_name(key, component_rows), message)
    return by_field


def field_name(key: str, component_rows: list[int]) -> str:
    """ "product.colours[2]" → "product_colours", "components[0].unit" → "component-<row>-unit"."""
    if key.startswith("components["):
        match = _INDEX.search(key)
        assert match is not None
        position = int(match.group(1))
        row = component_rows[position] if position < len(component_rows) else position
        rest = key[match.end() :].lstrip(".")
        return f"component-{row}-{rest or 'substance'}"
    key = _INDEX.sub("", key)
    if key.startswith("texts."):
        return "text-" + key.removeprefix("texts.").replace(".", "-")
    return key.replace(".", "_")


def local_input_value(value: str | datetime | None) -> str:
    """An aware time (or its ISO text) as a datetime-local value in Amsterdam time."""
    if value in (None, ""):
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(EDITOR_ZONE).strftime(LOCAL_FORMAT)


def _moment_from_local(key: str, value: str, errors: dict[str, str]) -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        errors[key] = "must be a date and time such as 2026-12-01 20:00"
        return value
    if local.tzinfo is None:
        # An ambiguous hour at the end of summer time counts as the first (summer-time) one.
        local = local.replace(tzinfo=EDITOR_ZONE)
    return local.isoformat()


def _components(form: MultiDict[str, str]) -> tuple[list[dict[str, Any]], list[int]]:
    components: list[dict[str, Any]] = []
    rows: list[int] = []
    for row in range(MAX_COMPONENT_ROWS):
        prefix = f"component-{row}-"
        substance = form.get(prefix + "substance", "")
        amount = form.get(prefix + "amount", "").strip()
        if not substance.strip() and not amount:
            continue  # a row left blank
        components.append(
            {
                "substance": substance,
                "amount": amount,
                "unit": form.get(prefix + "unit", ""),
                "expected": prefix + "unexpected" not in form,
                "quantified": prefix + "unquantified" not in form,
            }
        )
        rows.append(row)
    return components, rows


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def plain_number(value: float | int | None) -> str:
    if value is None:
        return ""
    # str(), not :g, which would round 1234567.0 to 1.23457e+06.
    return str(int(value)) if float(value).is_integer() else str(value)
