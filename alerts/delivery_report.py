"""What became of each published version of an alert: the delivery statistics, for editors.

One shape for the token API (GET /api/v1/alerts/<id>/deliveries) and the editor page's
live-updating section, both counted straight from the outbox rows by delivery/stats.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from delivery.stats import VersionStats, version_stats

from .models import Alert, AlertVersion


@dataclass(frozen=True)
class VersionDelivery:
    version: AlertVersion
    stats: VersionStats

    def as_json(self) -> dict[str, Any]:
        published = self.version.published_at
        return {
            "number": self.version.number,
            "msg_type": self.version.msg_type.value,
            "published_at": published.isoformat() if published else None,
            "stats": self.stats.as_json(),
        }


def deliveries_of(alert: Alert) -> list[VersionDelivery]:
    """Every version that was ever published (superseded and withdrawn ones too), oldest first."""
    published = [v for v in alert.versions if v.published_at is not None]
    stats = version_stats(v.id for v in published)
    return [VersionDelivery(v, stats[v.id]) for v in published]


def delivery_report(alert: Alert) -> dict[str, Any]:
    return {"alert_id": alert.id, "versions": [item.as_json() for item in deliveries_of(alert)]}
