"""Self-test and exam attempts, per-question progress, the learning record's summaries, 验收标准, assigned
practice."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:  # annotations only: the mapper resolves them through the registry
    from .banks import Bank, Question, QuestionRevision
    from .exams import Exam
    from .people import Branch, User


class AttemptStatus(StrEnum):
    """An attempt is open until finished (by the member, by completion, or at its deadline)."""

    OPEN = "open"
    FINISHED = "finished"


class Attempt(Base):
    """One member's paper in self-test or an exam: fixed questions, revisions and option order."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("exam_id", "user_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16), default="self_test")
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.OPEN)
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    question_count: Mapped[int] = mapped_column(Integer, default=0)
    answered_count: Mapped[int] = mapped_column(Integer, default=0)
    correct_count: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(default=0.0)
    max_score: Mapped[float] = mapped_column(default=0.0)
    #: Exam attempts: the exam, the member's attempt number, short answers still to grade, tab switches seen.
    exam_id: Mapped[int | None] = mapped_column(ForeignKey("exams.id"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    tab_switches: Mapped[int] = mapped_column(Integer, default=0)
    #: 学习计划 topic practice: `plan-slug#topic-key` (counted per topic and branch by the study-day checks).
    study_topic: Mapped[str | None] = mapped_column(String(120), index=True)
    user: Mapped[User] = relationship()
    exam: Mapped[Exam | None] = relationship()
    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position", cascade="all, delete-orphan"
    )


class AttemptItem(Base):
    """One question of an attempt: the revision asked, the option order shown, and the member's answer."""

    __tablename__ = "attempt_items"
    __table_args__ = (UniqueConstraint("attempt_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("question_revisions.id"))
    option_order: Mapped[list[str]] = mapped_column(JSON, default=list)
    points: Mapped[float] = mapped_column(default=1.0)
    response: Mapped[Any | None] = mapped_column(JSON)
    verdict: Mapped[str | None] = mapped_column(String(16))
    credit: Mapped[float] = mapped_column(default=0.0)
    score: Mapped[float] = mapped_column(default=0.0)
    answered_at: Mapped[datetime | None] = mapped_column(index=True)
    #: Short answers: who graded, when, and the comment.
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    graded_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[Attempt] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()
    revision: Mapped[QuestionRevision] = relationship()


class QuestionProgress(Base):
    """A member's history with one question: spacing box and due date, counts, wrong-answer book state."""

    __tablename__ = "question_progress"
    __table_args__ = (UniqueConstraint("user_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    box: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None]
    last_answered_at: Mapped[datetime | None]
    times_answered: Mapped[int] = mapped_column(Integer, default=0)
    times_correct: Mapped[int] = mapped_column(Integer, default=0)
    in_wrong_book: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    wrong_streak: Mapped[int] = mapped_column(Integer, default=0)
    question: Mapped[Question] = relationship()


class MemberDay(Base):
    """A member's answers and finished sessions on one local (Asia/Shanghai) day, per bank and chapter.

    Kept on write, in the transaction that records the answer or the session (services.summaries), so the
    record, the 验收标准 and the dashboards read days × chapters rows instead of every answer. Self-test rows
    have ``attempt_id`` 0; an exam attempt has rows of its own (replaced whenever the attempt is graded), so
    its answers can be left out until the exam's review policy shows them (``exam_id``). Session rows have
    ``bank_id`` 0 and chapter ''. ``quizengine records rebuild-summaries`` recomputes the table from attempts.
    """

    __tablename__ = "member_days"
    __table_args__ = (
        UniqueConstraint("user_id", "day", "bank_id", "category", "attempt_id"),
        Index("ix_member_days_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(Date)
    bank_id: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(100), default="")
    attempt_id: Mapped[int] = mapped_column(Integer, default=0)
    exam_id: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)


class MemberActivity(Base):
    """A member's `member_days` rows of one local day summed by kind: what the 验收标准's period totals read.

    Kept on write next to `member_days`, by atomic additions in the same statement pattern (services.summaries),
    so the committee overview sums one row per member and day instead of one per member, day, bank and chapter.
    A day counts as active when it has a self-test answer or session or a finished exam (always visible); a day
    with only exam answers (``exam_answered``, an attempt answered across midnight) counts only once that exam's
    review is visible, which the reader checks in `member_days`. ``quizengine records rebuild-summaries``
    recomputes it.
    """

    __tablename__ = "member_activity"
    __table_args__ = (Index("ix_member_activity_day", "day"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    practice_answered: Mapped[int] = mapped_column(Integer, default=0)
    practice_sessions: Mapped[int] = mapped_column(Integer, default=0)
    exam_sessions: Mapped[int] = mapped_column(Integer, default=0)
    exam_answered: Mapped[int] = mapped_column(Integer, default=0)


class MemberMonth(Base):
    """A member's `member_activity` of one local month summed: the 验收标准's period totals (a quarter or a year
    sums its months), kept on write from each day's change (services.period_totals), so the committee overview
    reads one row per member and month whatever the number of days.

    ``active_days`` counts the days active whatever an exam's review policy (a self-test answer or session, a
    finished exam); ``exam_only_days`` the days holding only exam answers, which count once that exam's review
    is visible (the reader checks those days); ``last_day`` is the latest day ever counted (a month holding a
    day after today is summed from its days).
    """

    __tablename__ = "member_months"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    active_days: Mapped[int] = mapped_column(Integer, default=0)
    practice_sessions: Mapped[int] = mapped_column(Integer, default=0)
    practice_answered: Mapped[int] = mapped_column(Integer, default=0)
    exam_only_days: Mapped[int] = mapped_column(Integer, default=0)
    last_day: Mapped[date] = mapped_column(Date)


class AcceptanceStandard(Base):
    """A stored 验收标准: the committee default (``branch_id`` NULL, scope "committee") or a branch's override
    (scope "branch:<id>"). ``definition`` is `engine.standard.Standard.to_json()`; edits are audited."""

    __tablename__ = "acceptance_standards"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), unique=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    definition: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class StandardResult(Base):
    """A member's 验收标准 result for a closed period, stored when first read after the period closed, so a
    later change of the standard (or of the member) does not rewrite history."""

    __tablename__ = "standard_results"
    __table_args__ = (
        UniqueConstraint("user_id", "period"),
        # the committee's counts read status and studied of a period's results from the index alone
        Index("ix_standard_results_tally", "period", "user_id", "status", "studied"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The period's key: 2026-12, 2026-Q4 or 2026.
    period: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    #: {"rules": [{label, met, progress, missing}], "share": …, "note": …, "studied": …}
    detail: Mapped[dict[str, Any]]
    #: `detail["studied"]` as a column: counting 55,000 results by it costs no JSON decoding.
    studied: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PracticeAssignment(Base):
    """支部布置的练习: a targeted practice an organizer set for (some of) the branch's members.

    ``chapters`` is a list of ``[bank_id, chapter key]`` of one bank; a member completes it with a self-test
    session of ``count`` questions drawn from them (``PracticeAssignee.attempt_id``). Closing it (``closed_at``)
    takes it off the members' pages; who did it stays visible to the organizer.
    """

    __tablename__ = "practice_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    chapters: Mapped[list[str]] = mapped_column(JSON, default=list)
    count: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    branch: Mapped[Branch] = relationship()
    bank: Mapped[Bank] = relationship()
    assignees: Mapped[list[PracticeAssignee]] = relationship(back_populates="assignment", cascade="all, delete-orphan")


class PracticeAssignee(Base):
    """One member an assignment is for, and the self-test session they last started from it."""

    __tablename__ = "practice_assignees"

    assignment_id: Mapped[int] = mapped_column(ForeignKey("practice_assignments.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    assignment: Mapped[PracticeAssignment] = relationship(back_populates="assignees")
    user: Mapped[User] = relationship()
    attempt: Mapped[Attempt | None] = relationship()


class PracticeCursor(Base):
    """Where a member stopped in 顺序练习 of one bank (how many questions, in bank order, are behind)."""

    __tablename__ = "practice_cursors"
    __table_args__ = (UniqueConstraint("user_id", "bank_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
