"""Organisations, their users, groups and collaborative spaces, and the one-time tokens
(invitations, password resets, MFA recovery codes) that act on them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hexagone.core.db import Base, IdMixin, TimestampMixin
from hexagone.core.tenancy import OrgScoped


class OrgRole(enum.StrEnum):
    ADMIN = "admin"
    USER = "user"
    GUEST = "guest"


class SpaceRole(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    MEMBER = "member"
    READER = "reader"


class Organisation(IdMixin, TimestampMixin, Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200))
    brand_primary: Mapped[str] = mapped_column(String(7), default="#000091")
    brand_logo: Mapped[str] = mapped_column(Text, default="")
    modules: Mapped[list[str]] = mapped_column(JSON, default=list)
    mfa_required: Mapped[bool] = mapped_column(default=False)
    default_locale: Mapped[str] = mapped_column(String(8), default="fr")

    domains: Mapped[list[Domain]] = relationship(back_populates="org", lazy="selectin", order_by="Domain.name")

    @property
    def primary_domain(self) -> str:
        return self.domains[0].name if self.domains else ""


class Domain(IdMixin, OrgScoped, Base):
    __tablename__ = "domains"

    name: Mapped[str] = mapped_column(String(253), unique=True)
    org: Mapped[Organisation] = relationship(back_populates="domains")


class User(IdMixin, OrgScoped, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default=OrgRole.USER)
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_admin(self) -> bool:
        return self.role == OrgRole.ADMIN

    @property
    def is_guest(self) -> bool:
        return self.role == OrgRole.GUEST

    @property
    def mfa_enabled(self) -> bool:
        return self.totp_enabled_at is not None


class RecoveryCode(IdMixin, OrgScoped, Base):
    __tablename__ = "mfa_recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class Group(IdMixin, OrgScoped, TimestampMixin, Base):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class GroupMember(IdMixin, OrgScoped, Base):
    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class Space(IdMixin, OrgScoped, TimestampMixin, Base):
    """A collaborative space: the unit of sharing, and of pricing."""

    __tablename__ = "spaces"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


class SpaceMember(IdMixin, OrgScoped, Base):
    __tablename__ = "space_members"
    __table_args__ = (UniqueConstraint("space_id", "user_id"),)

    space_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=SpaceRole.MEMBER)


class Invitation(IdMixin, OrgScoped, TimestampMixin, Base):
    """An external guest's invitation into given spaces, accepted through an e-mailed token."""

    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(320), index=True)
    space_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)


class PasswordReset(IdMixin, OrgScoped, TimestampMixin, Base):
    __tablename__ = "password_resets"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
