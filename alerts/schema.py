"""One validator for an alert's content, shared by the editor form and the JSON API.

`validate_content` takes the JSON shape the API documents and returns a cleaned copy, or
raises ValidationError naming every bad field ("texts.nl.push_text", "components[0].unit").
Nothing is written until validation has passed, so bad input changes nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from regions.tree import is_known

from .field_checks import FieldChecker
from .vocabulary import (
    FORMS,
    RISK_REASONS,
    UNITS,
    Certainty,
    Level,
    ResponseType,
    Status,
    Urgency,
)

PUSH_TEXT_MAX = 120
TEXT_LIMITS = {
    "headline": 160,
    "push_text": PUSH_TEXT_MAX,
    "description": 5000,
    "instruction": 3000,
    "emergency_advice": 1000,
    "disclaimer": 1000,
}
REQUIRED_TEXT_FIELDS = ("headline", "push_text")
PRODUCT_LIMITS = {
    "sold_as": 100,
    "logo_name": 100,
    "logo_description": 300,
    "shape": 100,
    "back_side": 200,
    "size_mm": 40,
}


# The keys of each nested object, as content_of writes them and the editor form builds them.
PRODUCT_KEYS = frozenset({"form", *PRODUCT_LIMITS, "colours", "weight_mg", "bilayer"})
COMPONENT_KEYS = frozenset({"substance", "amount", "unit", "expected", "quantified"})
REFERENCE_KEYS = frozenset({"substance", "amount", "unit"})
SAMPLES_KEYS = frozenset({"count", "first_seen", "last_seen", "test_sites"})
CIRCLE_KEYS = ("lat", "lon", "radius_km")

# Every top-level key of the content shape: what validate_content reads and content_of writes.
CONTENT_KEYS = frozenset(
    {
        "level", "status", "urgency", "certainty", "response_type", "risk_reasons",
        "effective", "expires", "publish_at", "product", "components", "reference", "samples",
        "areas", "circle", "area_description", "texts", "web_link", "contact",
    }
)  # fmt: skip


class ValidationError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def validate_content(payload: Any, languages: list[str], required_languages: list[str]) -> dict[str, Any]:
    """Check a whole alert content and return it cleaned; raise ValidationError otherwise."""
    check = FieldChecker()
    if not isinstance(payload, dict):
        raise ValidationError({"": "the body must be a JSON object"})
    clean: dict[str, Any] = {
        "level": check.choice("level", payload.get("level"), tuple(Level)),
        "status": check.choice("status", payload.get("status"), tuple(Status), Status.ACTUAL),
        "urgency": check.choice("urgency", payload.get("urgency"), tuple(Urgency), Urgency.IMMEDIATE),
        "certainty": check.choice("certainty", payload.get("certainty"), tuple(Certainty), Certainty.OBSERVED),
        "response_type": check.choice(
            "response_type", payload.get("response_type"), tuple(ResponseType), ResponseType.AVOID
        ),
        "risk_reasons": _risk_reasons(check, payload.get("risk_reasons")),
        "effective": check.moment("effective", payload.get("effective"), required=True),
        "expires": check.moment("expires", payload.get("expires"), required=True),
        "publish_at": check.moment("publish_at", payload.get("publish_at")),
        "product": _product(check, check.section("product", payload.get("product"), PRODUCT_KEYS)),
        "components": _components(check, payload.get("components")),
        "reference": _reference(check, check.section("reference", payload.get("reference"), REFERENCE_KEYS)),
        "samples": _samples(check, check.section("samples", payload.get("samples"), SAMPLES_KEYS)),
        "areas": _areas(check, payload.get("areas")),
        "circle": _circle(check, payload.get("circle")),
        "area_description": check.text("area_description", payload.get("area_description"), 300),
        "texts": _texts(check, payload.get("texts"), languages, required_languages),
        "web_link": _link(check, payload.get("web_link")),
        "contact": check.text("contact", payload.get("contact"), 300),
    }
    effective, expires = clean["effective"], clean["expires"]
    if effective and expires and expires <= effective:
        check.fail("expires", "must be after effective")
    if check.errors:
        raise ValidationError(check.errors)
    return clean


def _risk_reasons(check: FieldChecker, value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        check.fail("risk_reasons", "must be a list")
        return []
    for reason in value:
        if reason not in RISK_REASONS:
            check.fail("risk_reasons", f"unknown reason {str(reason)[:40]!r}; use: {', '.join(RISK_REASONS)}")
    return [r for r in RISK_REASONS if r in value]


def _product(check: FieldChecker, product: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {"form": check.choice("product.form", product.get("form"), FORMS)}
    for key, limit in PRODUCT_LIMITS.items():
        clean[key] = check.text(f"product.{key}", product.get(key), limit)
    clean["colours"] = check.text_list("product.colours", product.get("colours"), 40)
    clean["weight_mg"] = check.number("product.weight_mg", product.get("weight_mg"), 0, 100_000)
    bilayer = product.get("bilayer", False)
    if not isinstance(bilayer, bool):
        check.fail("product.bilayer", "must be true or false")
    clean["bilayer"] = bilayer is True
    return clean


def _components(check: FieldChecker, value: Any) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > 20:
        check.fail("components", "must be a list of at most 20 substances")
        return []
    result = []
    for i, item in enumerate(value):
        field = f"components[{i}]"
        item = check.section(field, item, COMPONENT_KEYS)
        expected, quantified = item.get("expected", True), item.get("quantified", True)
        if not isinstance(expected, bool) or not isinstance(quantified, bool):
            check.fail(field, "expected and quantified must be true or false")
        result.append(
            {
                "substance": check.text(f"{field}.substance", item.get("substance"), 100, required=True),
                "amount": check.number(f"{field}.amount", item.get("amount"), 0, 1_000_000),
                "unit": check.choice(f"{field}.unit", item.get("unit"), UNITS, "mg"),
                "expected": expected is not False,
                "quantified": quantified is not False,
            }
        )
    return result


def _reference(check: FieldChecker, reference: dict[str, Any]) -> dict[str, Any]:
    return {
        "substance": check.text("reference.substance", reference.get("substance"), 100),
        "amount": check.number("reference.amount", reference.get("amount"), 0, 1_000_000),
        "unit": check.choice("reference.unit", reference.get("unit"), UNITS, "mg"),
    }


def _samples(check: FieldChecker, samples: dict[str, Any]) -> dict[str, Any]:
    count = check.number("samples.count", samples.get("count"), 0, 100_000)
    if count is not None and count != int(count):
        check.fail("samples.count", "must be a whole number")
    first = check.day("samples.first_seen", samples.get("first_seen"))
    last = check.day("samples.last_seen", samples.get("last_seen"))
    if first and last and last < first:
        check.fail("samples.last_seen", "must not be before first_seen")
    return {
        "count": int(count) if count is not None else None,
        "first_seen": first,
        "last_seen": last,
        "test_sites": check.text_list("samples.test_sites", samples.get("test_sites"), 100),
    }


def _areas(check: FieldChecker, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
    if not isinstance(value, list) or not value:
        check.fail("areas", "name at least one region code, such as NL or NL-NH")
        return []
    codes: list[str] = []
    for code in value:
        normalised = str(code).strip().upper()
        if not is_known(normalised):
            check.fail("areas", f"unknown region {str(code)[:20]!r}")
        elif normalised not in codes:
            codes.append(normalised)
    return codes


def _circle(check: FieldChecker, value: Any) -> dict[str, float] | None:
    if value in (None, "", {}):
        return None
    circle = check.section("circle", value, CIRCLE_KEYS)
    lat = check.number("circle.lat", circle.get("lat"), -90, 90)
    lon = check.number("circle.lon", circle.get("lon"), -180, 180)
    radius = check.number("circle.radius_km", circle.get("radius_km"), 0.1, 1000)
    if lat is None or lon is None or radius is None:
        for key in ("lat", "lon", "radius_km"):
            if circle.get(key) in (None, ""):
                check.fail(f"circle.{key}", "is required for a circle")
        return None
    return {"lat": lat, "lon": lon, "radius_km": radius}


def _texts(check: FieldChecker, value: Any, languages: list[str], required: list[str]) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        check.fail("texts", 'must be an object keyed by language, such as {"nl": {...}}')
        return {}
    clean: dict[str, dict[str, str]] = {}
    for lang, fields in value.items():
        if lang not in languages:
            check.fail(f"texts.{str(lang)[:8]}", f"unsupported language; use one of {', '.join(languages)}")
            continue
        fields = check.section(f"texts.{lang}", fields, TEXT_LIMITS)
        if not any(str(fields.get(k) or "").strip() for k in TEXT_LIMITS) and lang not in required:
            continue  # an optional language left empty
        clean[lang] = {
            key: check.text(f"texts.{lang}.{key}", fields.get(key), limit, key in REQUIRED_TEXT_FIELDS)
            for key, limit in TEXT_LIMITS.items()
        }
    for lang in required:
        if lang not in clean and f"texts.{lang}" not in check.errors:
            check.fail(f"texts.{lang}", "this language is required")
    return clean


def _link(check: FieldChecker, value: Any) -> str:
    link = check.text("web_link", value, 500)
    if link:
        parts = urlsplit(link)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            check.fail("web_link", "must be an http(s) address")
    return link


def validate_photo_texts(alt_text: dict[str, str], credit: str) -> dict[str, str]:
    """Errors in a photo's alt texts and credit (empty when fine)."""
    check = FieldChecker()
    for lang, text in alt_text.items():
        check.text(f"alt_{lang}", text, 300)
    check.text("credit", credit, 200)
    return check.errors
