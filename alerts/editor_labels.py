"""Labels only the editor UI needs: languages, audit actions, text fields and form fields.

The vocabularies (levels, states, reasons...) are labelled once for every page in labels.py.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

Labels = dict[str, LazyString]

LANGUAGES: Labels = {"nl": _l("Dutch"), "en": _l("English")}
AUDIT_ACTIONS: Labels = {
    "create": _l("created"),
    "edit": _l("edited"),
    "start_update": _l("started an update"),
    "submit": _l("submitted for review"),
    "send_back": _l("sent back to draft"),
    "approve": _l("approved"),
    "schedule": _l("scheduled"),
    "publish": _l("published"),
    "withdraw": _l("withdrew"),
    "expire": _l("expired"),
    "add_photo": _l("added a photo"),
    "remove_photo": _l("removed a photo"),
    "test_send": _l("sent a test to themselves"),
}
TEXT_FIELDS: Labels = {
    "headline": _l("Headline"),
    "push_text": _l("Push text"),
    "description": _l("Description"),
    "instruction": _l("Advice (what to do)"),
    "emergency_advice": _l("Emergency advice"),
    "disclaimer": _l("Disclaimer"),
}
# Form field names (see editor_forms.field_name) → label, for the error summary.
FIELDS: Labels = {
    "incident_key": _l("Incident key"),
    "level": _l("Level"),
    "status": _l("Status"),
    "urgency": _l("Urgency"),
    "certainty": _l("Certainty"),
    "response_type": _l("Response"),
    "risk_reasons": _l("Risk reasons"),
    "effective": _l("Effective from"),
    "expires": _l("Expires"),
    "publish_at": _l("Publish at"),
    "product_form": _l("Form"),
    "product_sold_as": _l("Sold as"),
    "product_logo_name": _l("Logo"),
    "product_logo_description": _l("Logo description"),
    "product_colours": _l("Colours"),
    "product_shape": _l("Shape"),
    "product_back_side": _l("Back side"),
    "product_size_mm": _l("Size (mm)"),
    "product_weight_mg": _l("Weight (mg)"),
    "product_bilayer": _l("Bilayer"),
    "components": _l("Substances found"),
    "reference_substance": _l("Reference substance"),
    "reference_amount": _l("Reference amount"),
    "reference_unit": _l("Reference unit"),
    "samples_count": _l("Number of samples"),
    "samples_first_seen": _l("First seen"),
    "samples_last_seen": _l("Last seen"),
    "samples_test_sites": _l("Test sites"),
    "areas": _l("Areas to warn"),
    "area_description": _l("Area description"),
    "web_link": _l("Web link"),
    "contact": _l("Contact"),
    "reason": _l("Reason"),
}


def field_label(name: str) -> str:
    """A readable label for any form field name, including per-row and per-language ones."""
    if name in FIELDS:
        return str(FIELDS[name])
    parts = name.split("-")
    if parts[0] == "component" and len(parts) == 3:
        return f"{FIELDS['components']} {int(parts[1]) + 1}"
    if parts[0] == "text" and len(parts) >= 2:
        language = str(LANGUAGES.get(parts[1], parts[1]))
        if len(parts) == 2:
            return language
        return f"{TEXT_FIELDS.get(parts[2], parts[2])} ({language})"
    return name
