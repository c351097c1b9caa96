"""The outbox: one row per (alert version, subscription, channel), and its life.

pending ──claim──▶ (leased) ──send──▶ sent | failed | pruned
   │                    └─ transient error ─▶ pending again with a later not_before
   └─ expired, withdrawn or superseded before sending ─▶ dropped

A row's due time (not_before) carries quiet hours and digests; its lease (claimed_until)
lets another worker take it over when the one holding it dies.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, UTCDateTime, str_enum
from subscribers.models import Channel

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Status(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanently: the push service or mail server refused it for good
    PRUNED = "pruned"  # the subscription is gone (404/410, or the address bounces)
    DROPPED = "dropped"  # the alert expired, was withdrawn or superseded before it went out


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("version_id", "subscription_id", "channel"),
        # The claim query: due pending rows in due order.
        Index("ix_deliveries_due", "status", "not_before"),
        # Statistics per version, and "who received an earlier version" for updates.
        Index("ix_deliveries_version_status", "version_id", "status"),
        Index("ix_deliveries_subscription", "subscription_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("alert_versions.id"))
    # A subscriber who leaves (or whose endpoint is pruned) leaves no link behind: the row keeps
    # only its outcome, for the statistics editors see.
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    status: Mapped[Status] = mapped_column(str_enum(Status), default=Status.PENDING)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    # Why it waits: held back by quiet hours, or gathered into an email digest.
    deferred: Mapped[bool] = mapped_column(default=False)
    digest: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryTally(Base):
    """Finished rows the retention purge deleted, counted per version and outcome (tallies.py)."""

    __tablename__ = "delivery_tallies"
    __table_args__ = (UniqueConstraint("version_id", "channel", "status", "held_back"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("alert_versions.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    status: Mapped[Status] = mapped_column(str_enum(Status))
    held_back: Mapped[bool] = mapped_column(default=False)  # by quiet hours or for a digest
    rows: Mapped[int] = mapped_column(default=0)
    first_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
