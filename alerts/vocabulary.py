"""The fixed vocabularies of an alert, and how they map to CAP 1.2."""

from __future__ import annotations

import enum


class Level(enum.StrEnum):
    INFO = "info"
    CAUTION = "caution"
    WARNING = "warning"
    RED_ALERT = "red_alert"

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def cap_severity(self) -> str:
        return CAP_SEVERITY[self]


CAP_SEVERITY = {
    Level.INFO: "Minor",
    Level.CAUTION: "Moderate",
    Level.WARNING: "Severe",
    Level.RED_ALERT: "Extreme",
}


class State(enum.StrEnum):
    """Editorial state of one version."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"  # a later version was published
    WITHDRAWN = "withdrawn"  # a cancel version replaced it
    EXPIRED = "expired"


EDITABLE_STATES = frozenset({State.DRAFT})
OPEN_STATES = frozenset({State.DRAFT, State.IN_REVIEW, State.APPROVED, State.SCHEDULED})


class MsgType(enum.StrEnum):
    """CAP msgType: an update or cancel is a new message referencing the ones it replaces."""

    ALERT = "alert"
    UPDATE = "update"
    CANCEL = "cancel"


class Status(enum.StrEnum):
    ACTUAL = "actual"
    TEST = "test"
    EXERCISE = "exercise"


class Urgency(enum.StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Certainty(enum.StrEnum):
    OBSERVED = "Observed"  # lab-confirmed
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


class ResponseType(enum.StrEnum):
    AVOID = "Avoid"
    MONITOR = "Monitor"
    ASSESS = "Assess"
    ALL_CLEAR = "AllClear"
    NONE = "None"


class WithdrawalReason(enum.StrEnum):
    NO_LONGER_CIRCULATING = "no_longer_circulating"
    ERROR = "error"
    SUPERSEDED = "superseded"


RISK_REASONS = (
    "high_dose",
    "very_high_dose",
    "unexpected_substance",
    "adulterant",
    "delayed_onset",
    "unknown_nps",
    "dangerous_mix",
)

FORMS = ("tablet", "powder", "crystal", "capsule", "liquid", "blotter")

UNITS = ("mg", "mg/g", "µg", "%")

PHOTO_SIDES = ("front", "back", "other")
