"""SQLAlchemy 2.x typed models.

Times are stored as UTC (naive in the column, aware in Python, see `UTCDateTime`). Organization is
committee -> branch -> party group -> member; every account is a `User` with a role. A question's
identity (`Question`, keyed by the YAML id) is separate from its content (`QuestionRevision`), so
attempts can pin the revision they were asked and an edited bank never rewrites history.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, foreign, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as naive UTC; return them aware, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def utcnow() -> datetime:
    """The current aware UTC time (column default)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base for every table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


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


class Contest(Base):
    """A live contest: its plan, the pinned question revisions and the state machine's latest snapshot.

    Every transition rewrites `state` and appends a ContestEvent in the same transaction, so a server
    restart resumes exactly where the contest was (timers are re-armed from the stored deadlines).
    """

    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    #: Short code members type to join (全员答题) and the projector's secret link token.
    pin: Mapped[str] = mapped_column(String(12), unique=True)
    projector_token: Mapped[str] = mapped_column(String(64), unique=True)
    plan: Mapped[dict[str, Any]]
    #: question external id -> revision id, fixed when the contest is created.
    revisions: Mapped[dict[str, Any]]
    state: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: The state's current deadline, as a column so the timer loop finds due contests with one query.
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: Set when the host archives the contest: the contest list hides it (unless asked to show archived ones).
    archived_at: Mapped[datetime | None]
    #: Open events: people without an account may play 全员答题 by name (never in any learning record).
    allow_guests: Mapped[bool] = mapped_column(default=False, server_default=false())
    teams: Mapped[list[ContestTeam]] = relationship(back_populates="contest", order_by="ContestTeam.key")


class ContestTeam(Base):
    """A team of a contest. Its devices join with the secret of the team's QR link (unguessable) or the short
    code typed by hand (throttled); each device then gets its own token (identity ≠ socket id)."""

    __tablename__ = "contest_teams"
    __table_args__ = (UniqueConstraint("contest_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"))
    key: Mapped[str] = mapped_column(String(16))  # t1, t2, … as in the state
    name: Mapped[str] = mapped_column(String(100))
    join_code: Mapped[str] = mapped_column(String(12))
    #: ≥ 128 random bits, carried in the team's QR link (never typed).
    join_secret: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime | None]
    contest: Mapped[Contest] = relationship(back_populates="teams")


class ContestDevice(Base):
    """One device of a team (a team may have several): its token is its identity across reconnects."""

    __tablename__ = "contest_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("contest_teams.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    team: Mapped[ContestTeam] = relationship()


class ContestPlanFile(Base):
    """Who saved a contest plan file (BANKS_PATH/contests/<name>): saved plans belong to their author's branch.

    A file without a row is a shipped template: every organizer may read and use it, only an admin replace it.
    """

    __tablename__ = "contest_plan_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContestPlayer(Base):
    """A member who joined a contest by PIN for 全员答题: one row per join, so a join never rewrites the
    contest's state (the connect storm of a whole branch costs O(1) per member)."""

    __tablename__ = "contest_players"
    __table_args__ = (UniqueConstraint("contest_id", "player"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    player: Mapped[str] = mapped_column(String(32))  # the member's user id, as in "player:<id>" answers
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    #: The question seq shown when the player joined: they answer from the next question on.
    joined_seq: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: 全员答题 points so far (added at each reveal, in the reveal's transaction): the players' leaderboard.
    points: Mapped[float] = mapped_column(default=0.0, server_default="0")


class ContestEvent(Base):
    """The contest's event log: every accepted command, in order, with what it produced."""

    __tablename__ = "contest_events"
    __table_args__ = (UniqueConstraint("contest_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    command: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ContestAnswer(Base):
    """One answer in a contest; the unique key makes a double tap impossible to count twice."""

    __tablename__ = "contest_answers"
    __table_args__ = (UniqueConstraint("contest_id", "question_seq", "participant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    question_seq: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(100))
    participant: Mapped[str] = mapped_column(String(100))  # "team:t1" or "player:<user id>"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    response: Mapped[Any | None] = mapped_column(JSON)
    verdict: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class ContestResult(Base):
    """A member's (or team's) final result in a finished contest, for the learning record."""

    __tablename__ = "contest_results"
    __table_args__ = (UniqueConstraint("contest_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    team_name: Mapped[str] = mapped_column(String(100))
    team_place: Mapped[int] = mapped_column(Integer)
    team_score: Mapped[float] = mapped_column()
    answered: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    contest: Mapped[Contest] = relationship()


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


class StudyDay(Base):
    """A branch's 学习日 for one topic of a study plan: held on a day, with its attendance and, when the
    organizer ran one, the 小问答 contest (whose players attended too).

    Plans are files, so the topic is named by the plan's slug and the topic's key; one row per branch and topic.
    """

    __tablename__ = "study_days"
    __table_args__ = (UniqueConstraint("branch_id", "plan_slug", "topic_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    plan_slug: Mapped[str] = mapped_column(String(100))
    topic_key: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    contest_id: Mapped[int | None] = mapped_column(ForeignKey("contests.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attendance: Mapped[list[StudyAttendance]] = relationship(back_populates="day", cascade="all, delete-orphan")


class StudyAttendance(Base):
    """A member the organizer recorded as present at a 学习日 (members who joined its 小问答 count without a row)."""

    __tablename__ = "study_attendance"

    day_id: Mapped[int] = mapped_column(ForeignKey("study_days.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    day: Mapped[StudyDay] = relationship(back_populates="attendance")
