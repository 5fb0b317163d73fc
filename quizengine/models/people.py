"""The organization: committee, branches, party groups, accounts and their roles, login throttling, the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .base import Base, utcnow


class Role(StrEnum):
    """What an account may do."""

    ADMIN = "admin"  # 党委管理员: everything
    ORGANIZER = "organizer"  # 支部书记/组织委员: one branch
    MEMBER = "member"  # 党员
    INSPECTOR = "inspector"  # 督导: reads the branches assigned to them, changes nothing


ROLE_LABELS = {Role.ADMIN: "党委管理员", Role.ORGANIZER: "支部组织员", Role.MEMBER: "党员", Role.INSPECTOR: "督导"}

#: An organizer's post in the branch (shown next to the role; the rights are the same).
ORGANIZER_TITLES = ("支部书记", "组织委员")


class MemberStatus(StrEnum):
    """正式党员 or 预备党员."""

    FULL = "full"
    PROBATIONARY = "probationary"


class Committee(Base):
    """党委: the top of the organization."""

    __tablename__ = "committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    branches: Mapped[list[Branch]] = relationship(back_populates="committee", order_by="Branch.name")


class Branch(Base):
    """党支部."""

    __tablename__ = "branches"
    __table_args__ = (UniqueConstraint("committee_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    name: Mapped[str] = mapped_column(String(100))
    committee: Mapped[Committee] = relationship(back_populates="branches")
    groups: Mapped[list[PartyGroup]] = relationship(back_populates="branch", order_by="PartyGroup.name")


class PartyGroup(Base):
    """党小组 within a branch."""

    __tablename__ = "party_groups"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    name: Mapped[str] = mapped_column(String(100))
    branch: Mapped[Branch] = relationship(back_populates="groups")


class User(Base):
    """An account: admin, organizer (scoped to a branch) or member."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    party_group_id: Mapped[int | None] = mapped_column(ForeignKey("party_groups.id"))
    member_status: Mapped[str] = mapped_column(String(16), default=MemberStatus.FULL)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Bumped by a password change or reset, deactivation and "log out everywhere": a session made
    #: under an older epoch is no longer valid (see `get_id`).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: 大字模式: every page in larger text (applied as a class on <html>), for older members.
    large_text: Mapped[bool] = mapped_column(Boolean, default=False)
    #: An organizer's post (one of ORGANIZER_TITLES), None for everyone else.
    title: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    branch: Mapped[Branch | None] = relationship()
    party_group: Mapped[PartyGroup | None] = relationship()
    #: An inspector's assigned branches (empty for every other role).
    inspected_branches: Mapped[list[Branch]] = relationship(secondary="inspector_branches", order_by="Branch.name")

    # Flask-Login protocol, kept here so the web layer needs no wrapper class.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What the session stores: "id.epoch", so bumping the epoch ends every older session."""
        return f"{self.id}.{self.session_epoch}"


class InspectorBranch(Base):
    """A branch assigned to an inspector (督导): they read everything of it and change nothing."""

    __tablename__ = "inspector_branches"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True, index=True)


class LoginThrottle(Base):
    """Failed-login counter of one key: an account, an unknown name, a client address or a known device.

    Updated only by conditional UPDATEs (see services.login_throttle), so parallel guesses cannot all
    pass the same check.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_allowed_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)


#: Characters an audit entry's subject holds.
AUDIT_SUBJECT_MAX = 200


class AuditEntry(Base):
    """Who changed what, for oversight: accounts, banks, and (later) scores and records."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(AUDIT_SUBJECT_MAX), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    @validates("subject")
    def _cut_subject(self, key: str, value: str) -> str:
        """The column holds AUDIT_SUBJECT_MAX characters and PostgreSQL refuses more (SQLite would not
        notice): a longer subject (a load of many banks) is cut and marked with …, so the action is
        still recorded; callers keep the full list in `detail`."""
        return value if len(value) <= AUDIT_SUBJECT_MAX else value[: AUDIT_SUBJECT_MAX - 1] + "…"
