"""A subscription is everything we hold about one subscriber: no account, no name, no IP.

A push subscription is keyed by its endpoint; an email subscription by its address, and it
receives nothing but the confirmation mail until confirmed. Leaving deletes the row and its
areas (ON DELETE CASCADE), not a flag.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base, UTCDateTime, str_enum


class Channel(enum.StrEnum):
    PUSH = "push"
    EMAIL = "email"


class Digest(enum.StrEnum):
    """How alerts below warning reach this subscriber: at once, or gathered in a digest."""

    OFF = "off"
    DAILY = "daily"
    WEEKLY = "weekly"


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        # The matching statement filters on these before it looks at areas.
        Index("ix_subscriptions_matching", "active", "min_level_rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, unguessable; what manage links carry (signed), never the numeric id.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    # False until an email address is confirmed, or while the subscriber pauses.
    active: Mapped[bool] = mapped_column(default=False)
    paused: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Preferences.
    language: Mapped[str] = mapped_column(String(8))
    # Also accept alerts that lack our language (shown in English then).
    accept_fallback: Mapped[bool] = mapped_column(default=True)
    # Rank of the lowest level wanted (0 info … 3 red_alert), compared as a number in SQL.
    min_level_rank: Mapped[int] = mapped_column(default=0)
    # Bit sets over the form and substance vocabularies; 0 means "everything".
    forms_mask: Mapped[int] = mapped_column(default=0)
    substances_mask: Mapped[int] = mapped_column(default=0)
    # Quiet hours in the subscriber's time zone, minutes after midnight; equal means none.
    quiet_start: Mapped[int] = mapped_column(default=0)
    quiet_end: Mapped[int] = mapped_column(default=0)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    digest: Mapped[Digest] = mapped_column(str_enum(Digest), default=Digest.OFF)
    digest_hour: Mapped[int] = mapped_column(default=9)
    digest_weekday: Mapped[int] = mapped_column(default=0)  # Monday, for weekly digests

    # Optional circle (coarse location chosen by the subscriber, not GPS).
    circle_lat: Mapped[float | None]
    circle_lon: Mapped[float | None]
    circle_radius_km: Mapped[float | None]
    # The circle's centre as a unit vector and its angular radius's cosine and sine, derived
    # from the three above (areas.set_circle), so SQL can test "circles meet" with plain
    # arithmetic: SQLite has no trigonometry.
    circle_x: Mapped[float | None]
    circle_y: Mapped[float | None]
    circle_z: Mapped[float | None]
    circle_cos_r: Mapped[float | None]
    circle_sin_r: Mapped[float | None]

    # Push channel.
    endpoint: Mapped[str | None] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str | None] = mapped_column(String(128))
    auth: Mapped[str | None] = mapped_column(String(64))

    # Email channel. Stored lower-cased; unique so repeated sign-ups find the same row.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)

    areas: Mapped[list[SubscriptionArea]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def chosen_areas(self) -> list[str]:
        return sorted(a.code for a in self.areas if not a.derived)


class SubscriptionArea(Base):
    """A region code the subscriber chose, or (derived=True) one their circle reaches.

    Derived rows are the finest regions (municipalities in the Netherlands) whose disc meets
    the subscriber's circle, so the matching statement compares circles as region codes.
    """

    __tablename__ = "subscription_areas"
    __table_args__ = (
        UniqueConstraint("subscription_id", "code"),
        # Matching looks areas up by code and needs only the subscription id from them.
        Index("ix_subscription_areas_code_subscription", "code", "subscription_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    derived: Mapped[bool] = mapped_column(default=False)

    subscription: Mapped[Subscription] = relationship(back_populates="areas")


class SignupMailSent(Base):
    """A sign-up mail went to some address at sent_at; deleted when its window ends (mail_throttle.py).

    Keyed by an HMAC of the address, never the address itself, so a burst of sign-ups for one
    mailbox (from any number of web processes) sends it one mail a window, and a stranger who
    reads this table learns no address.
    """

    __tablename__ = "signup_mails_sent"

    address_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
