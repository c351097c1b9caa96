"""What a subscriber can narrow alerts down to: forms and substance groups, as bit sets.

Bit sets let the matching statement test "any overlap" with one AND on SQLite and PostgreSQL
alike. 0 means no filter. Bits are positions in the tuples below: append, never reorder.
"""

from __future__ import annotations

from alerts.models import AlertVersion
from alerts.vocabulary import FORMS

SUBSTANCE_GROUPS = (
    "mdma",
    "cocaine",
    "ketamine",
    "amphetamine",
    "cathinones",
    "2c",
    "lsd",
    "ghb",
    "opioids",
    "other",
)

# Lower-case fragments of what labs write (substances, "sold as"), mapped to a group.
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("mdma", "mdma"),
    ("xtc", "mdma"),
    ("ecstasy", "mdma"),
    ("mda", "mdma"),
    ("cocaine", "cocaine"),
    ("coke", "cocaine"),
    ("ketamine", "ketamine"),
    ("amphetamine", "amphetamine"),
    ("speed", "amphetamine"),
    ("mmc", "cathinones"),
    ("mephedrone", "cathinones"),
    ("eutylone", "cathinones"),
    ("cathinone", "cathinones"),
    ("pvp", "cathinones"),
    ("2c-", "2c"),
    ("2c", "2c"),
    ("lsd", "lsd"),
    ("ghb", "ghb"),
    ("gbl", "ghb"),
    ("fentanyl", "opioids"),
    ("nitazene", "opioids"),
    ("heroin", "opioids"),
)


def group_of(name: str) -> str:
    lowered = name.lower()
    for fragment, group in _KEYWORDS:
        if fragment in lowered:
            return group
    return "other"


def mask(names: list[str] | tuple[str, ...] | set[str], vocabulary: tuple[str, ...]) -> int:
    """Bit set of `names` in `vocabulary`; ValueError names an unknown entry."""
    bits = 0
    for name in names:
        if name not in vocabulary:
            raise ValueError(f"unknown choice {name!r}")
        bits |= 1 << vocabulary.index(name)
    return bits


def names(bits: int, vocabulary: tuple[str, ...]) -> list[str]:
    return [name for i, name in enumerate(vocabulary) if bits & (1 << i)]


def form_bit(version: AlertVersion) -> int:
    return 1 << FORMS.index(version.form) if version.form in FORMS else 0


def substance_bits(version: AlertVersion) -> int:
    """Groups of everything found, and of what it was sold as (a subscriber who cares about
    MDMA wants to hear about "XTC" that turned out to be PMMA)."""
    found = {group_of(c.substance) for c in version.components}
    if version.sold_as:
        found.add(group_of(version.sold_as))
    return mask(found, SUBSTANCE_GROUPS)
