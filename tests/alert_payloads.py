"""Alert content for tests, from the real example alerts in the domain notes."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from core.clock import now

_AUDI: dict[str, Any] = {
    "level": "red_alert",
    "urgency": "Immediate",
    "certainty": "Observed",
    "risk_reasons": ["very_high_dose"],
    "product": {
        "form": "tablet",
        "sold_as": "XTC",
        "logo_name": "Audi",
        "logo_description": "four interlocking rings",
        "colours": ["beige", "gold"],
        "shape": "elongated",
        "back_side": "score line",
        "size_mm": "14 x 7",
        "weight_mg": 520,
        "bilayer": False,
    },
    "components": [{"substance": "MDMA", "amount": 300, "unit": "mg", "expected": True, "quantified": True}],
    "reference": {"substance": "MDMA", "amount": 136, "unit": "mg"},
    "samples": {"count": 3, "first_seen": "2023-11-24", "last_seen": "2023-12-05", "test_sites": ["Noord-Brabant"]},
    "areas": ["NL"],
    "area_description": "Nederland",
    "texts": {
        "nl": {
            "headline": "Rode alert: beige-gouden Audi-pil met meer dan 300 mg MDMA",
            "push_text": "Rode alert: Audi-pil (beige/goud) bevat meer dan 300 mg MDMA. Niet gebruiken.",
            "description": "Langwerpige beige-gouden tablet met het Audi-logo.",
            "instruction": "Gebruik deze pil niet. Reageert iemand slecht, ga naar de EHBO of bel 112.",
        },
        "en": {
            "headline": "Red alert: beige-gold Audi pill with over 300 mg MDMA",
            "push_text": "Red alert: Audi pill (beige/gold) contains over 300 mg MDMA. Do not use it.",
            "description": "Elongated beige-gold tablet with the Audi logo.",
            "instruction": "Do not use this pill. If someone reacts badly, go to first aid or call 112.",
        },
    },
}


def audi_payload(**overrides: Any) -> dict[str, Any]:
    """A complete, valid alert: effective now, expiring in 30 days."""
    payload = copy.deepcopy(_AUDI)
    moment = now()
    payload["effective"] = moment.isoformat()
    payload["expires"] = (moment + timedelta(days=30)).isoformat()
    payload.update(overrides)
    return payload
