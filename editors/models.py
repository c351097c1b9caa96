"""Editor accounts and their API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base, UTCDateTime, str_enum


class Role(enum.StrEnum):
    """What an account may do. Each role includes the ones before it."""

    EDITOR = "editor"  # drafts and submits
    PUBLISHER = "publisher"  # reviews, approves, publishes, withdraws
    ADMIN = "admin"  # all of that, plus accounts

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


class Editor(Base):
    __tablename__ = "editors"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Second factor (editors/totp.py). The secret is sealed with a key derived from SECRET_KEY;
    # it is usable for login only once confirmed with a code (totp_enabled_at set).
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The 30-second time step of the last accepted code: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Bumped at logout. A session cookie carries the number it was made with, so a copy of the
    # cookie (stolen, or left in a shared browser) stops working once its editor logs out.
    session_epoch: Mapped[int] = mapped_column(default=0)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="editor")

    def __repr__(self) -> str:
        return f"<Editor {self.id} {self.role.value}>"

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_at is not None


class ApiToken(Base):
    """A bearer token for automation. Only a SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("editors.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, shown in listings so an operator can tell them apart.
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    # What the token may do, space-separated as in OAuth (editors/scopes.py); the editor's
    # role limits it further at every request.
    scopes: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    editor: Mapped[Editor] = relationship(back_populates="tokens")
