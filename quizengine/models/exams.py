"""Scheduled exams, the branches they are for, and the changes made after the fact."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:  # annotations only: the mapper resolves them through the registry
    from .people import Branch


class Exam(Base):
    """A scheduled, timed exam (e.g. the monthly test) for one or more branches."""

    __tablename__ = "exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    #: {"sections": [{banks, categories, types, difficulties, tags, count, points, title}]}
    #: or {"fixed_ids": [...], "fixed_points": n} (see services.exam_papers.blueprint_from_json)
    blueprint: Mapped[dict[str, Any]]
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    pass_mark: Mapped[float] = mapped_column(default=60.0)
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=1)
    review_policy: Mapped[str] = mapped_column(String(16), default="after_close")  # modes.timed_exam.ReviewPolicy
    results_released: Mapped[bool] = mapped_column(Boolean, default=False)
    multiple_policy: Mapped[str] = mapped_column(String(16), default="all_or_nothing")
    grace_seconds: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: "uniform" (统一试卷: drawn once, previewed and frozen when published) or "random" (随机组卷: each member's
    #: own balanced draw). The server defaults describe exams made before paper modes existed (drawn per member).
    paper_mode: Mapped[str] = mapped_column(String(16), default="uniform", server_default="random")
    #: "draft" until the organizer publishes it (members see published exams only).
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="published")
    published_at: Mapped[datetime | None]
    #: A uniform exam's paper: [{"q": question row id, "r": revision id, "id": external id, "h": content hash,
    #: "p": points, "s": section}] in drawn order (services.exam_papers).
    paper: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    branches: Mapped[list[Branch]] = relationship(secondary="exam_branches", order_by="Branch.name")


class ExamBranch(Base):
    """An exam's audience: the branches whose active members must take it."""

    __tablename__ = "exam_branches"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)


class ExamOverride(Base):
    """补考: a member's own window, duration or extra attempts for one exam."""

    __tablename__ = "exam_overrides"
    __table_args__ = (UniqueConstraint("exam_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    extra_attempts: Mapped[int] = mapped_column(Integer, default=0)


class VoidedQuestion(Base):
    """A question voided in one exam: everyone gets full credit, or it is removed from the total."""

    __tablename__ = "voided_questions"
    __table_args__ = (UniqueConstraint("exam_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    mode: Mapped[str] = mapped_column(String(16))  # full_credit | removed
    reason: Mapped[str] = mapped_column(Text, default="")
