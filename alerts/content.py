"""Moving an alert's content between its JSON shape and the version rows.

`content_of(version)` is what the API returns and the editor form is filled from;
`apply_content(version, clean)` writes validated content back. They are inverse: content of a
version validates and applies to an identical version, which is how updates copy a version.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import object_session

from .models import AlertArea, AlertComponent, AlertPhoto, AlertText, AlertVersion
from .schema import PRODUCT_LIMITS, TEXT_LIMITS
from .vocabulary import Certainty, Level, ResponseType, Status, Urgency


def content_of(version: AlertVersion) -> dict[str, Any]:
    return {
        "level": version.level.value,
        "status": version.status.value,
        "urgency": version.urgency.value,
        "certainty": version.certainty.value,
        "response_type": version.response_type.value,
        "risk_reasons": list(version.risk_reasons),
        "effective": _iso(version.effective),
        "expires": _iso(version.expires),
        "publish_at": _iso(version.publish_at),
        "product": {
            "form": version.form,
            **{key: getattr(version, key) for key in PRODUCT_LIMITS},
            "colours": list(version.colours),
            "weight_mg": version.weight_mg,
            "bilayer": version.bilayer,
        },
        "components": [
            {
                "substance": c.substance,
                "amount": c.amount,
                "unit": c.unit,
                "expected": c.expected,
                "quantified": c.quantified,
            }
            for c in version.components
        ],
        "reference": {
            "substance": version.reference_substance,
            "amount": version.reference_amount,
            "unit": version.reference_unit or "mg",
        },
        "samples": {
            "count": version.sample_count,
            "first_seen": _iso(version.first_seen),
            "last_seen": _iso(version.last_seen),
            "test_sites": list(version.test_sites),
        },
        "areas": version.area_codes,
        "circle": (
            {"lat": version.circle_lat, "lon": version.circle_lon, "radius_km": version.circle_radius_km}
            if version.circle_lat is not None
            else None
        ),
        "area_description": version.area_description,
        "texts": {t.lang: {key: getattr(t, key) for key in TEXT_LIMITS} for t in version.texts},
        "web_link": version.web_link,
        "contact": version.contact,
    }


def apply_content(version: AlertVersion, clean: dict[str, Any]) -> None:
    """Write validated content (from schema.validate_content) onto an editable version."""
    version.level, version.status = Level(clean["level"]), Status(clean["status"])
    version.urgency, version.certainty = Urgency(clean["urgency"]), Certainty(clean["certainty"])
    version.response_type, version.risk_reasons = ResponseType(clean["response_type"]), clean["risk_reasons"]
    version.effective, version.expires, version.publish_at = (
        clean["effective"],
        clean["expires"],
        clean["publish_at"],
    )
    product = clean["product"]
    version.form = product["form"]
    for key in PRODUCT_LIMITS:
        setattr(version, key, product[key])
    version.colours, version.weight_mg, version.bilayer = (
        product["colours"],
        product["weight_mg"],
        product["bilayer"],
    )
    reference = clean["reference"]
    version.reference_substance = reference["substance"]
    version.reference_amount = reference["amount"]
    version.reference_unit = reference["unit"] if reference["substance"] else ""
    samples = clean["samples"]
    version.sample_count, version.test_sites = samples["count"], samples["test_sites"]
    version.first_seen, version.last_seen = samples["first_seen"], samples["last_seen"]
    circle = clean["circle"] or {}
    version.circle_lat, version.circle_lon = circle.get("lat"), circle.get("lon")
    version.circle_radius_km = circle.get("radius_km")
    version.area_description, version.web_link, version.contact = (
        clean["area_description"],
        clean["web_link"],
        clean["contact"],
    )
    session = object_session(version)
    if session is not None and version.id is not None:
        # Delete the old child rows first: the unit of work would otherwise insert the new
        # ones before deleting the old and trip the unique (version, lang) and (version, code).
        version.components, version.areas, version.texts = [], [], []
        session.flush()
    version.components = [AlertComponent(position=i, **c) for i, c in enumerate(clean["components"])]
    version.areas = [AlertArea(code=code) for code in clean["areas"]]
    version.texts = [AlertText(lang=lang, **fields) for lang, fields in clean["texts"].items()]


def copy_photos(source: AlertVersion) -> list[AlertPhoto]:
    """New rows pointing at the same files: a published version's photos are never touched."""
    return [
        AlertPhoto(
            position=p.position,
            file_name=p.file_name,
            thumb_name=p.thumb_name,
            width=p.width,
            height=p.height,
            side=p.side,
            alt_text=dict(p.alt_text),
            credit=p.credit,
        )
        for p in source.photos
    ]


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None
