"""An alert is an incident (one batch); what editors write and publish are its versions.

A version is editable only while it is a draft. Publishing never edits a published row: an
update or a withdrawal is a new version that references the one it replaces, as in CAP.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base, UTCDateTime, str_enum
from editors.models import Editor

from .vocabulary import (
    Certainty,
    Level,
    MsgType,
    ResponseType,
    State,
    Status,
    Urgency,
    WithdrawalReason,
)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("editors.id"))

    versions: Mapped[list[AlertVersion]] = relationship(
        back_populates="alert", order_by="AlertVersion.number", cascade="all, delete-orphan"
    )

    @property
    def latest(self) -> AlertVersion:
        return self.versions[-1]

    @property
    def public_version(self) -> AlertVersion | None:
        """The newest version that was ever published: what the public sees."""
        published = [v for v in self.versions if v.published_at is not None]
        return published[-1] if published else None

    @property
    def open_version(self) -> AlertVersion | None:
        """The version being worked on (draft, in review, approved or scheduled), if any."""
        from .vocabulary import OPEN_STATES

        open_ = [v for v in self.versions if v.state in OPEN_STATES]
        return open_[-1] if open_ else None


class AlertVersion(Base):
    __tablename__ = "alert_versions"
    __table_args__ = (
        UniqueConstraint("alert_id", "number"),
        Index("ix_alert_versions_state_expires", "state", "expires"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    number: Mapped[int]
    state: Mapped[State] = mapped_column(str_enum(State), default=State.DRAFT)
    msg_type: Mapped[MsgType] = mapped_column(str_enum(MsgType), default=MsgType.ALERT)
    status: Mapped[Status] = mapped_column(str_enum(Status), default=Status.ACTUAL)
    references_id: Mapped[int | None] = mapped_column(ForeignKey("alert_versions.id"))

    # Risk.
    level: Mapped[Level] = mapped_column(str_enum(Level))
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), default=Urgency.IMMEDIATE)
    certainty: Mapped[Certainty] = mapped_column(str_enum(Certainty), default=Certainty.OBSERVED)
    response_type: Mapped[ResponseType] = mapped_column(str_enum(ResponseType), default=ResponseType.AVOID)
    risk_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)

    # Timing.
    effective: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime] = mapped_column(UTCDateTime)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Product.
    form: Mapped[str] = mapped_column(String(20))
    sold_as: Mapped[str] = mapped_column(String(100), default="")
    logo_name: Mapped[str] = mapped_column(String(100), default="")
    logo_description: Mapped[str] = mapped_column(String(300), default="")
    colours: Mapped[list[str]] = mapped_column(JSON, default=list)
    shape: Mapped[str] = mapped_column(String(100), default="")
    back_side: Mapped[str] = mapped_column(String(200), default="")
    size_mm: Mapped[str] = mapped_column(String(40), default="")
    weight_mg: Mapped[float | None]
    bilayer: Mapped[bool] = mapped_column(default=False)

    # Lab result reference (e.g. the national average MDMA pill).
    reference_substance: Mapped[str] = mapped_column(String(100), default="")
    reference_amount: Mapped[float | None]
    reference_unit: Mapped[str] = mapped_column(String(10), default="")

    # Samples.
    sample_count: Mapped[int | None]
    first_seen: Mapped[date | None]
    last_seen: Mapped[date | None]
    test_sites: Mapped[list[str]] = mapped_column(JSON, default=list)

    area_description: Mapped[str] = mapped_column(String(300), default="")
    # Optional circle to warn besides the region codes (CAP <circle>).
    circle_lat: Mapped[float | None]
    circle_lon: Mapped[float | None]
    circle_radius_km: Mapped[float | None]
    web_link: Mapped[str] = mapped_column(String(500), default="")
    contact: Mapped[str] = mapped_column(String(300), default="")

    # Workflow.
    withdrawal_reason: Mapped[WithdrawalReason | None] = mapped_column(str_enum(WithdrawalReason))
    withdrawal_note: Mapped[str] = mapped_column(Text, default="")
    # Why a reviewer sent the version back to its author.
    review_note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("editors.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("editors.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("editors.id"))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("editors.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    alert: Mapped[Alert] = relationship(back_populates="versions")
    references: Mapped[AlertVersion | None] = relationship(remote_side=[id])
    author: Mapped[Editor | None] = relationship(foreign_keys=[author_id])
    approved_by: Mapped[Editor | None] = relationship(foreign_keys=[approved_by_id])
    published_by: Mapped[Editor | None] = relationship(foreign_keys=[published_by_id])
    texts: Mapped[list[AlertText]] = relationship(
        back_populates="version", order_by="AlertText.lang", cascade="all, delete-orphan"
    )
    components: Mapped[list[AlertComponent]] = relationship(
        back_populates="version", order_by="AlertComponent.position", cascade="all, delete-orphan"
    )
    photos: Mapped[list[AlertPhoto]] = relationship(
        back_populates="version", order_by="AlertPhoto.position", cascade="all, delete-orphan"
    )
    areas: Mapped[list[AlertArea]] = relationship(
        back_populates="version", order_by="AlertArea.code", cascade="all, delete-orphan"
    )

    def text(self, lang: str, fallback: str = "en") -> AlertText | None:
        by_lang = {t.lang: t for t in self.texts}
        return by_lang.get(lang) or by_lang.get(fallback) or (self.texts[0] if self.texts else None)

    @property
    def area_codes(self) -> list[str]:
        return [a.code for a in self.areas]

    @property
    def is_active(self) -> bool:
        moment = now()
        return (
            self.state == State.PUBLISHED
            and self.msg_type != MsgType.CANCEL
            and self.effective <= moment < self.expires
        )


class AlertText(Base):
    __tablename__ = "alert_texts"
    __table_args__ = (UniqueConstraint("version_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("alert_versions.id"))
    lang: Mapped[str] = mapped_column(String(8))
    headline: Mapped[str] = mapped_column(String(160))
    push_text: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    instruction: Mapped[str] = mapped_column(Text, default="")
    emergency_advice: Mapped[str] = mapped_column(Text, default="")
    disclaimer: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[AlertVersion] = relationship(back_populates="texts")


class AlertComponent(Base):
    """One substance the lab found in the sample."""

    __tablename__ = "alert_components"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("alert_versions.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    substance: Mapped[str] = mapped_column(String(100))
    amount: Mapped[float | None]
    unit: Mapped[str] = mapped_column(String(10), default="mg")
    expected: Mapped[bool] = mapped_column(default=True)
    quantified: Mapped[bool] = mapped_column(default=True)

    version: Mapped[AlertVersion] = relationship(back_populates="components")


class AlertPhoto(Base):
    """A re-encoded, metadata-free photo. Files are shared by the versions that copy the row."""

    __tablename__ = "alert_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("alert_versions.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str] = mapped_column(String(64))
    thumb_name: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    side: Mapped[str] = mapped_column(String(10), default="front")
    alt_text: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    credit: Mapped[str] = mapped_column(String(200), default="")

    version: Mapped[AlertVersion] = relationship(back_populates="photos")


class AlertArea(Base):
    """A region to warn (not where the sample was found): an ISO 3166 code for now."""

    __tablename__ = "alert_areas"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("alert_versions.id"))
    code: Mapped[str] = mapped_column(String(16), index=True)

    version: Mapped[AlertVersion] = relationship(back_populates="areas")
