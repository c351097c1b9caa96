"""How long the audit trail is kept (AUDIT_RETENTION_DAYS), and which alerts are still going.

Audit entries name editors and what they did; after the window they are deleted. What an
editor needs to account for a published warning stays on the versions themselves (author,
approver, publisher and when), which are never purged. Entries about an alert that is still
going (published, or with a version in the works) stay whatever their age: its editors are
still reading its history.
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from core.purge import BATCH_SIZE, cutoff, delete_in_batches

from .audit import AuditEntry
from .models import AlertVersion
from .vocabulary import OPEN_STATES, State

STILL_GOING = frozenset({*OPEN_STATES, State.PUBLISHED})


def alerts_still_going() -> Select[tuple[int]]:
    """Ids of alerts published now or with a version in the works: their history is in use."""
    return select(AlertVersion.alert_id).where(AlertVersion.state.in_(STILL_GOING))


def purge_audit(batch_size: int = BATCH_SIZE) -> int:
    """Delete audit entries older than AUDIT_RETENTION_DAYS, except those of alerts still going."""
    before = cutoff("AUDIT_RETENTION_DAYS")
    if before is None:
        return 0
    where = [
        AuditEntry.at < before,
        or_(AuditEntry.alert_id.is_(None), AuditEntry.alert_id.not_in(alerts_still_going())),
    ]
    return delete_in_batches(AuditEntry, where, batch_size=batch_size)
