"""Who did what, when: one row per editorial action, never updated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base, UTCDateTime, db
from editors.models import Editor


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    # None means the system (the scheduler publishing or expiring).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("editors.id"))
    action: Mapped[str] = mapped_column(String(40))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("alert_versions.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[Editor | None] = relationship()


def record(
    action: str,
    actor: Editor | None,
    *,
    alert_id: int | None = None,
    version_id: int | None = None,
    **detail: Any,
) -> AuditEntry:
    """Add an entry to the current transaction, so it commits or rolls back with the action."""
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor else None,
        alert_id=alert_id,
        version_id=version_id,
        detail=detail,
    )
    db.session.add(entry)
    return entry
