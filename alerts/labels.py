"""What people read for the fixed vocabularies: one place, translated, shared by every page.

The stored values (alerts/vocabulary.py) stay English codes; these are the display labels.
They are lazy so they can be built at import time and still come out in the language of the
request that renders them. Use `label(kind, value)` in templates and `choices(kind)` for
form select fields; both fall back to the raw code for a value without a label, so a new
code shows up as itself instead of breaking a page.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from .queries import PublicStatus
from .vocabulary import (
    Certainty,
    Level,
    MsgType,
    ResponseType,
    State,
    Status,
    Urgency,
    WithdrawalReason,
)

LEVELS: Mapping[str, LazyString] = {
    Level.INFO: _l("Information"),
    Level.CAUTION: _l("Caution"),
    Level.WARNING: _l("Warning"),
    Level.RED_ALERT: _l("Red alert"),
}

STATES: Mapping[str, LazyString] = {
    State.DRAFT: _l("Draft"),
    State.IN_REVIEW: _l("In review"),
    State.APPROVED: _l("Approved"),
    State.SCHEDULED: _l("Scheduled"),
    State.PUBLISHED: _l("Published"),
    State.SUPERSEDED: _l("Superseded"),
    State.WITHDRAWN: _l("Withdrawn"),
    State.EXPIRED: _l("Expired"),
}

PUBLIC_STATUSES: Mapping[str, LazyString] = {
    PublicStatus.ACTIVE: _l("Active"),
    PublicStatus.NOT_YET_EFFECTIVE: _l("Not yet in effect"),
    PublicStatus.WITHDRAWN: _l("Withdrawn"),
    PublicStatus.EXPIRED: _l("Expired"),
}

RISK_REASON_LABELS: Mapping[str, LazyString] = {
    "high_dose": _l("High dose"),
    "very_high_dose": _l("Very high dose"),
    "unexpected_substance": _l("Unexpected substance"),
    "adulterant": _l("Adulterant"),
    "delayed_onset": _l("Delayed onset of effects"),
    "unknown_nps": _l("Unknown new psychoactive substance"),
    "dangerous_mix": _l("Dangerous combination of substances"),
}

FORM_LABELS: Mapping[str, LazyString] = {
    "tablet": _l("Tablet (pill)"),
    "powder": _l("Powder"),
    "crystal": _l("Crystals"),
    "capsule": _l("Capsule"),
    "liquid": _l("Liquid"),
    "blotter": _l("Blotter (paper)"),
}

WITHDRAWAL_REASONS: Mapping[str, LazyString] = {
    WithdrawalReason.NO_LONGER_CIRCULATING: _l("No longer in circulation"),
    WithdrawalReason.ERROR: _l("Published in error"),
    WithdrawalReason.SUPERSEDED: _l("Replaced by another alert"),
}

MSG_TYPES: Mapping[str, LazyString] = {
    MsgType.ALERT: _l("New alert"),
    MsgType.UPDATE: _l("Update"),
    MsgType.CANCEL: _l("Withdrawal"),
}

STATUSES: Mapping[str, LazyString] = {
    Status.ACTUAL: _l("Actual"),
    Status.TEST: _l("Test"),
    Status.EXERCISE: _l("Exercise"),
}

URGENCIES: Mapping[str, LazyString] = {
    Urgency.IMMEDIATE: _l("Immediate"),
    Urgency.EXPECTED: _l("Expected soon"),
    Urgency.FUTURE: _l("In the future"),
    Urgency.PAST: _l("Past"),
    Urgency.UNKNOWN: _l("Unknown"),
}

CERTAINTIES: Mapping[str, LazyString] = {
    Certainty.OBSERVED: _l("Observed (lab-confirmed)"),
    Certainty.LIKELY: _l("Likely"),
    Certainty.POSSIBLE: _l("Possible"),
    Certainty.UNLIKELY: _l("Unlikely"),
    Certainty.UNKNOWN: _l("Unknown"),
}

RESPONSE_TYPES: Mapping[str, LazyString] = {
    ResponseType.AVOID: _l("Avoid"),
    ResponseType.MONITOR: _l("Monitor"),
    ResponseType.ASSESS: _l("Assess"),
    ResponseType.ALL_CLEAR: _l("All clear"),
    ResponseType.NONE: _l("No action"),
}

PHOTO_SIDE_LABELS: Mapping[str, LazyString] = {
    "front": _l("Front"),
    "back": _l("Back"),
    "other": _l("Other view"),
}

KINDS: Mapping[str, Mapping[str, LazyString]] = {
    "level": LEVELS,
    "state": STATES,
    "public_status": PUBLIC_STATUSES,
    "risk_reason": RISK_REASON_LABELS,
    "form": FORM_LABELS,
    "withdrawal_reason": WITHDRAWAL_REASONS,
    "msg_type": MSG_TYPES,
    "status": STATUSES,
    "urgency": URGENCIES,
    "certainty": CERTAINTIES,
    "response_type": RESPONSE_TYPES,
    "photo_side": PHOTO_SIDE_LABELS,
}


def label(kind: str, value: object) -> str:
    """The display label of a code in the current language; the code itself if it has none."""
    if value is None:
        return ""
    found = KINDS[kind].get(str(value))
    return str(found) if found is not None else str(value)


def choices(kind: str) -> list[tuple[str, str]]:
    """(code, label) pairs in vocabulary order, for select fields; evaluate inside a request."""
    return [(str(code), str(text)) for code, text in KINDS[kind].items()]
