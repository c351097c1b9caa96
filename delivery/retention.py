"""How long outbox rows are kept (DELIVERY_RETENTION_DAYS): which subscription got which alert.

A row is deleted once it is finished (sent, failed, pruned or dropped), older than the window,
and its alert is over (expired or withdrawn, nothing in the works). Rows of an alert still
going stay whatever their age: an update or a withdrawal reaches everyone an earlier version
reached, and that list is these rows. Pending rows are never touched.

Deleted rows are first added to delivery_tallies (tallies.py) in the same transaction, so
editors' statistics do not change. A later update of an alert whose rows were purged reaches
only those who match it then.
"""

from __future__ import annotations

from sqlalchemy import select

from alerts.models import AlertVersion
from alerts.retention import alerts_still_going
from core.purge import BATCH_SIZE, cutoff, delete_in_batches

from . import tallies
from .models import Delivery, Status

FINISHED = (Status.SENT, Status.FAILED, Status.PRUNED, Status.DROPPED)


def purge_deliveries(batch_size: int = BATCH_SIZE) -> int:
    """Delete finished rows of alerts that are over, older than DELIVERY_RETENTION_DAYS."""
    before = cutoff("DELIVERY_RETENTION_DAYS")
    if before is None:
        return 0
    of_alerts_over = select(AlertVersion.id).where(AlertVersion.alert_id.not_in(alerts_still_going()))
    where = [Delivery.status.in_(FINISHED), Delivery.created_at < before, Delivery.version_id.in_(of_alerts_over)]
    return delete_in_batches(
        Delivery, where, batch_size=batch_size, returning=tallies.PURGED_COLUMNS, each=tallies.fold
    )
