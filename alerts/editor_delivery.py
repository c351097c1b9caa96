"""The alert page's "Delivery" section, and the JSON that static/js/delivery-stats.js polls.

The page shows the numbers as they were at load; the script asks for them again every two
seconds while messages are queued, once a minute while only messages held back by quiet hours
or digests wait, and stops when nothing waits. Without script, a reload link does the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, jsonify
from flask_babel import gettext as _

from core.db import db
from core.i18n import format_number
from editors.auth import editor_required

from .delivery_report import VersionDelivery, deliveries_of
from .models import Alert


@dataclass(frozen=True)
class DeliverySection:
    """What the template shows: newest version first, with totals that decide the polling."""

    versions: list[VersionDelivery]

    @property
    def pending(self) -> int:
        return sum(item.stats.pending for item in self.versions)

    @property
    def queued(self) -> int:
        return sum(item.stats.queued for item in self.versions)


def delivery_section(alert: Alert) -> DeliverySection:
    return DeliverySection(deliveries_of(alert)[::-1])


def duration_text(seconds: float | None) -> str:
    """Like "3.2 s", "4 min 05 s" or "6 h 30 min": exact while short, coarser as it grows."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return _("%(seconds)s s", seconds=format_number(seconds))
    whole = int(seconds)
    if whole < 3600:
        return _("%(minutes)s min %(seconds)s s", minutes=whole // 60, seconds=str(whole % 60).zfill(2))
    return _("%(hours)s h %(minutes)s min", hours=whole // 3600, minutes=str(whole % 3600 // 60).zfill(2))


def template_helpers() -> dict[str, Any]:
    return {"delivery_section": delivery_section, "duration_text": duration_text}


@editor_required()
def deliveries_json(alert_id: int) -> Response:
    section = delivery_section(db.get_or_404(Alert, alert_id))
    response = jsonify(
        alert_id=alert_id,
        pending=section.pending,
        queued=section.queued,
        versions=[
            {**item.as_json(), "to_last_send": duration_text(item.stats.seconds_to_last_send)}
            for item in section.versions
        ],
    )
    response.cache_control.no_store = True
    return response
