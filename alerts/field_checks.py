"""Checking one field at a time while collecting every error, for validators of user input.

A form then shows all its problems at once instead of one per submit.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

import nh3


def unknown_fields(payload: dict[Any, Any], known: Collection[str], prefix: str = "") -> dict[str, str]:
    """An error per member of `payload` not in `known` (at most 20, names cut to 40 characters).

    A misspelt member ("sold_ass", "quiet_hour") would otherwise be dropped without a word,
    and the sender would believe it was stored.
    """
    unknown = sorted(str(key) for key in payload if key not in known)[:20]
    return {f"{prefix}{key[:40]}": "unknown field" for key in unknown}


class FieldChecker:
    """Collects every error instead of stopping at the first, so a form shows them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def text(self, field: str, value: Any, limit: int, required: bool = False) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(field, "must be text")
            return ""
        value = value.strip()
        if required and not value:
            self.fail(field, "is required")
        elif len(value) > limit:
            self.fail(field, f"must be at most {limit} characters (is {len(value)})")
        elif nh3.is_html(value):
            # Editors write plain text; pages escape it. Markup here is a mistake or an attack.
            self.fail(field, "must be plain text: HTML and scripts are not allowed")
        return value

    def choice(self, field: str, value: Any, options: tuple[str, ...], default: str | None = None) -> str:
        if value in (None, "") and default is not None:
            return default
        if value not in options:
            self.fail(field, f"must be one of: {', '.join(options)}")
            return options[0]
        return str(value)

    def number(self, field: str, value: Any, minimum: float = 0, maximum: float = 1e7) -> float | None:
        if value in (None, ""):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(field, "must be a number")
            return None
        if number != number or not minimum <= number <= maximum:  # NaN is not equal to itself
            self.fail(field, f"must be between {minimum:g} and {maximum:g}")
            return None
        return number

    def moment(self, field: str, value: Any, required: bool = False) -> datetime | None:
        if value in (None, ""):
            if required:
                self.fail(field, "is required")
            return None
        if isinstance(value, datetime):
            parsed = value
        else:
            try:
                parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                self.fail(field, "must be a date and time such as 2026-12-01T20:00:00+01:00")
                return None
        if parsed.tzinfo is None:
            self.fail(field, "needs a time zone offset, such as +01:00 or Z")
            return None
        return parsed

    def day(self, field: str, value: Any) -> date | None:
        if value in (None, ""):
            return None
        try:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            self.fail(field, "must be a date such as 2026-11-28")
            return None

    def text_list(self, field: str, value: Any, limit: int, max_items: int = 20) -> list[str]:
        if value in (None, ""):
            return []
        if isinstance(value, str):
            value = [part for part in value.split(",")]
        if not isinstance(value, list) or len(value) > max_items:
            self.fail(field, f"must be a list of at most {max_items} items")
            return []
        items = [self.text(f"{field}[{i}]", item, limit) for i, item in enumerate(value)]
        return [item for item in items if item]

    def section(self, field: str, value: Any, allowed: Collection[str]) -> dict[str, Any]:
        """An object whose keys must all be in `allowed`."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(field, "must be an object")
            return {}
        for name, message in unknown_fields(value, allowed, f"{field}.").items():
            self.fail(name, message)
        return value
