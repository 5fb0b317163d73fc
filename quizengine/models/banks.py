"""Question banks: a bank, its chapters, a question's identity and its revisions, and 纠错 reports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:  # annotations only: the mapper resolves them through the registry
    from .people import Branch, User


class Bank(Base):
    """A question bank, keyed by its YAML slug.

    `owner_branch_id` is set for a bank a branch's organizer uploaded in 题库管理: only that branch sees and
    uses it. NULL is the committee's shared bank (the shipped banks, and what an admin uploads).
    """

    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: No foreign-key constraint (migration 0011: SQLite could not drop one again); branches are never deleted.
    owner_branch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    owner_branch: Mapped[Branch | None] = relationship(
        primaryjoin="foreign(Bank.owner_branch_id) == Branch.id", viewonly=True
    )
    categories: Mapped[list[BankCategory]] = relationship(
        back_populates="bank", order_by="BankCategory.position", cascade="all, delete-orphan"
    )


class BankCategory(Base):
    """A chapter of a bank, in the document's order."""

    __tablename__ = "bank_categories"
    __table_args__ = (UniqueConstraint("bank_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    bank: Mapped[Bank] = relationship(back_populates="categories")


class Question(Base):
    """A question's identity; its content lives in revisions.

    `type`, `category` and `difficulty` repeat the current revision's values so selection can filter
    in SQL. A question removed from its YAML file is `retired`, never deleted.
    """

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    current_revision: Mapped[int] = mapped_column(Integer, default=1)
    type: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(100))
    difficulty: Mapped[int] = mapped_column(Integer, default=3)
    #: Order of the question in its bank file (顺序练习 follows it).
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
    bank: Mapped[Bank] = relationship()
    revisions: Mapped[list[QuestionRevision]] = relationship(
        back_populates="question", order_by="QuestionRevision.number"
    )
    revision: Mapped[QuestionRevision] = relationship(
        primaryjoin=lambda: and_(
            Question.id == foreign(QuestionRevision.question_id),
            Question.current_revision == foreign(QuestionRevision.number),
        ),
        viewonly=True,
        uselist=False,
    )


class QuestionRevision(Base):
    """One version of a question's content, with the hash that detects changes."""

    __tablename__ = "question_revisions"
    __table_args__ = (UniqueConstraint("question_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    question: Mapped[Question] = relationship(back_populates="revisions")


class ReportStatus(StrEnum):
    """A 纠错 report is open until an organizer resolves it: fixed (in a revision) or rejected (with a reason)."""

    OPEN = "open"
    FIXED = "fixed"
    REJECTED = "rejected"


class QuestionReport(Base):
    """纠错: a member's report of a problem with one revision of a question, and how it was resolved.

    `branch_id` is the reporter's branch when reporting (the organizer queue is per branch). At most one
    open report per member and question: `open_question_id` repeats `question_id` while the report is open
    and is NULL once resolved, and (user_id, open_question_id) is unique (NULLs never collide).
    """

    __tablename__ = "question_reports"
    __table_args__ = (UniqueConstraint("user_id", "open_question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("question_revisions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    #: One of services.corrections.REASONS.
    reason: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    #: Where the member saw the question: "practice" / "exam" (an attempt) or "contest".
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.OPEN, index=True)
    open_question_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Fixed: the revision number that corrects it. Rejected: the reason told to the reporter.
    fixed_revision: Mapped[int | None] = mapped_column(Integer)
    resolution: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[Question] = relationship()
    revision: Mapped[QuestionRevision] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    resolver: Mapped[User | None] = relationship(foreign_keys=[resolved_by])
