"""Exams: who may read or change one, a member's window, when results show, and the lists of exams.

Scheduling and publishing are in exam_setup, taking an exam in exam_taking, grading in exam_grading,
drawing papers in exam_papers, organizers' changes after the fact in exam_admin, the dashboard and export
in exam_results.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from quizengine.engine.errors import QuizError
from quizengine.models import (
    Attempt,
    Branch,
    Exam,
    ExamOverride,
    Role,
    User,
)
from quizengine.modes.timed_exam import ReviewPolicy, Window, member_window, review_visible

from .access import ReadOnly, can_manage_branch, can_read_branch, readable_branch_ids


class ExamError(QuizError):
    """An exam request that breaks a rule (window, attempts, audience, bad settings)."""

    code = "exam_error"


def get_exam(session: Session, exam_id: int) -> Exam:
    """An exam by id, or ExamError."""
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise ExamError("没有找到这场考试")
    return exam


def can_read_exam(user: User, exam: Exam) -> bool:
    """Admins read every exam; an organizer (or inspector) opens the dashboard of exams whose audience includes
    their (assigned) branch.

    What they then see per member is limited by `access.member_read_clause` (their own branches only); what
    they may change, by `access.in_member_scope` and `owns_exam` (never an inspector).
    """
    return user.role == Role.ADMIN or any(can_read_branch(user, branch.id) for branch in exam.branches)


def owns_exam(user: User, exam: Exam) -> bool:
    """Exam-wide changes (publish, redraw, regrade, void, release) touch every branch's members: admin, or an
    organizer of every branch in the audience."""
    return user.role == Role.ADMIN or all(can_manage_branch(user, branch.id) for branch in exam.branches)


def window_for(session: Session, exam: Exam, member: User) -> Window:
    """The member's effective window, with a 补考 override applied."""
    override = session.scalar(
        select(ExamOverride).where(ExamOverride.exam_id == exam.id, ExamOverride.user_id == member.id)
    )
    return member_window(
        exam.opens_at,
        exam.closes_at,
        exam.duration_minutes,
        exam.attempts_allowed,
        override_opens_at=override.opens_at if override else None,
        override_closes_at=override.closes_at if override else None,
        override_duration_minutes=override.duration_minutes if override else None,
        extra_attempts=override.extra_attempts if override else 0,
    )


def member_attempts(session: Session, exam: Exam, member: User) -> list[Attempt]:
    """The member's attempts at an exam, in order."""
    return list(
        session.scalars(
            select(Attempt).where(Attempt.exam_id == exam.id, Attempt.user_id == member.id).order_by(Attempt.number)
        )
    )


class NotSignedIn(QuizError):
    """The session's account is gone or deactivated: the member must sign in again."""

    code = "not_signed_in"


class PasswordChangeRequired(QuizError):
    """The account must change its one-time password before doing anything else."""

    code = "password_change_required"


_ACCOUNT = select(User.active, User.must_change_password, User.session_epoch, User.role).where(
    User.id == bindparam("user_id")
)


def check_account(session: Session, user_id: int, epoch: int | None = None) -> None:
    """Refuse a session whose account is gone, inactive, ended (older session epoch), or must change its
    password first; an inspector's account (read-only) with ReadOnly.

    The autosave endpoint checks this itself instead of loading the user on every save.
    """
    row = session.execute(_ACCOUNT, {"user_id": user_id}).first()
    if row is None or not row.active or (epoch is not None and row.session_epoch != epoch):
        raise NotSignedIn("请先登录")
    if row.must_change_password:
        raise PasswordChangeRequired("请先修改密码")
    if row.role == Role.INSPECTOR:
        raise ReadOnly()


def review_is_visible(exam: Exam, now: datetime) -> bool:
    """Whether members may see scores, answers and 解析 of this exam now."""
    return review_visible(ReviewPolicy(exam.review_policy), exam.results_released, now >= exam.closes_at)


def exam_items_visible(now: datetime) -> ColumnElement[bool]:
    """The review policy as a filter over `Attempt`: every query that reads answers, verdicts or scores of
    attempts for a member's eyes (record, charts, mastery, points) applies it, so an exam's results reach
    nobody's learning record before `review_is_visible` allows (self-test attempts always pass).

    It is `modes.timed_exam.review_visible` in SQL; a test checks both agree for every policy.
    """
    return or_(Attempt.exam_id.is_(None), Attempt.exam_id.in_(visible_exam_ids(now)))


def visible_exam_ids(now: datetime) -> Select[tuple[int]]:
    """Ids of the exams whose review members may see at `now` (`review_is_visible` as a subquery)."""
    return select(Exam.id).where(
        or_(
            Exam.results_released.is_(True),
            Exam.review_policy == ReviewPolicy.IMMEDIATELY.value,
            and_(Exam.review_policy == ReviewPolicy.AFTER_CLOSE.value, Exam.closes_at <= now),
        )
    )


def list_member_exams(session: Session, member: User) -> list[tuple[Exam, list[Attempt]]]:
    """Published exams of the member's branch, newest first, with the member's attempts."""
    if member.branch_id is None:
        return []
    exams = session.scalars(
        select(Exam)
        .join(Exam.branches)
        .where(Branch.id == member.branch_id, Exam.status == "published")
        .order_by(Exam.opens_at.desc())
    ).all()
    return [(exam, member_attempts(session, exam, member)) for exam in exams]


def list_managed_exams(session: Session, actor: User) -> Sequence[Exam]:
    """Exams an organizer (their branch) or admin (all) manages — or an inspector reads — newest first."""
    query = select(Exam).order_by(Exam.opens_at.desc())
    branch_ids = readable_branch_ids(actor)
    if branch_ids is not None:
        query = query.join(Exam.branches).where(Branch.id.in_(sorted(branch_ids)))
    return session.scalars(query).unique().all()
