"""Timed exams as members take them: start (the paper is made once), autosave, submit, sweep, finalize.

Scheduling and publishing are in exam_setup, drawing papers in exam_papers, organizers' changes after
the fact in exam_admin, the dashboard and export in exam_results.

The server clock decides. Every answer is written as it is given; a reload or another device resumes the
same attempt. An attempt is finalized exactly once (a conditional update), by the member, at the deadline
by the sweeper, or lazily the next time anyone touches it.
"""

from __future__ import annotations

import contextlib
import random
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Integer, Select, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from quizengine.engine.errors import DeadlinePassed, QuizError
from quizengine.engine.questions import MultiplePolicy, QuestionType, Verdict, get_type, grade
from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.scoring import POINTS_RULES, ScoringContext, round_points
from quizengine.engine.selection import PaperItem
from quizengine.engine.timing import Clock, Deadline, SystemClock
from quizengine.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Branch,
    Exam,
    ExamBranch,
    ExamOverride,
    Question,
    QuestionRevision,
    Role,
    User,
    VoidedQuestion,
)
from quizengine.modes.timed_exam import ReviewPolicy, Window, member_window, review_visible

from . import summaries
from .access import ReadOnly, can_manage_branch, can_read_branch, readable_branch_ids, require
from .exam_papers import member_paper
from .questions import RevisionRef, engine_questions


class ExamError(QuizError):
    """An exam request that breaks a rule (window, attempts, audience, bad settings)."""

    code = "exam_error"


@dataclass(frozen=True)
class _PaperItemMeta:
    """What never changes about one question of a started paper: enough to validate and map an answer."""

    item_id: int
    question: EngineQuestion
    kind: QuestionType
    paper: PaperItem


@dataclass(frozen=True)
class _PaperMeta:
    """A started paper's immutable part, by position, and its exam's grace period (no service edits it)."""

    grace: timedelta
    items: dict[int, _PaperItemMeta]


@dataclass
class _ProcessCaches:
    """Per-process, per-database caches of immutable data (never status, deadline or answers)."""

    papers: OrderedDict[int, _PaperMeta] = field(default_factory=OrderedDict)


#: A bounded LRU of papers: 4,096 attempts is a whole monthly exam of a large committee per process.
_PAPERS_MAX = 4096
_CACHES: weakref.WeakKeyDictionary[Engine, _ProcessCaches] = weakref.WeakKeyDictionary()


def _caches(session: Session) -> _ProcessCaches:
    """The caches of the session's database (a new app or engine starts empty, as tests need)."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    caches = _CACHES.get(engine)
    if caches is None:
        caches = _CACHES[engine] = _ProcessCaches()
    return caches


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


def _member_attempts(session: Session, exam: Exam, member: User) -> list[Attempt]:
    return list(
        session.scalars(
            select(Attempt).where(Attempt.exam_id == exam.id, Attempt.user_id == member.id).order_by(Attempt.number)
        )
    )


def start_exam(
    session: Session, member: User, exam_id: int, *, clock: Clock | None = None, rng: random.Random | None = None
) -> Attempt:
    """Return the member's open attempt, or create their paper once: questions, revisions, option order, deadline."""
    clock, rng = clock or SystemClock(), rng or random.Random()
    found = session.execute(  # the exam and whether the member's branch is in its audience, in one query
        select(Exam, ExamBranch.branch_id)
        .outerjoin(ExamBranch, and_(ExamBranch.exam_id == Exam.id, ExamBranch.branch_id == member.branch_id))
        .where(Exam.id == exam_id)
    ).first()
    if found is None:
        raise ExamError("没有找到这场考试")
    exam = found.Exam
    require(member.branch_id is not None and found.branch_id is not None, "您不在这场考试的参考范围内")
    if exam.status != "published":
        raise ExamError("考试尚未发布")
    now = clock.now()
    attempts = _member_attempts(session, exam, member)
    for attempt in attempts:
        _finalize_if_expired(session, attempt, exam, now)
    open_attempt = next((a for a in attempts if a.status == AttemptStatus.OPEN), None)
    if open_attempt is not None:
        return open_attempt
    window = window_for(session, exam, member)
    if now < window.opens_at:
        raise ExamError("考试尚未开始")
    if not window.is_open(now):
        raise ExamError("考试已结束")
    if len(attempts) >= window.attempts:
        raise ExamError("您已完成这场考试，没有剩余作答次数")
    paper, rows = member_paper(session, exam, rng)
    attempt = Attempt(
        user_id=member.id,
        mode="exam",
        kind="exam",
        title=exam.title,
        exam_id=exam.id,
        number=len(attempts) + 1,
        started_at=now,
        deadline_at=window.deadline(now, timedelta(seconds=exam.grace_seconds)).at,
        question_count=len(paper.items),
        max_score=paper.total_points,
    )
    session.add(attempt)
    try:
        session.flush()
        # The items as one executemany of a short INSERT: the ORM's multi-row INSERT … RETURNING is a
        # statement too long for psycopg to cache, re-parsed for every member who starts.
        session.execute(
            insert(AttemptItem.__table__),
            [
                {
                    "attempt_id": attempt.id,
                    "position": position,
                    "question_id": rows[item.question_id][0],
                    "revision_id": rows[item.question_id][1],
                    "option_order": list(item.option_order),
                    "points": item.points,
                }
                for position, item in enumerate(paper.items)
            ],
        )
        session.commit()
    except IntegrityError:  # the same member started twice at once (two devices): keep the first paper
        session.rollback()
        return next(a for a in _member_attempts(session, exam, member) if a.status == AttemptStatus.OPEN)
    return attempt


def get_exam_attempt(session: Session, member: User, attempt_id: int, *, clock: Clock | None = None) -> Attempt:
    """The member's own exam attempt (finalized first if its time is up)."""
    attempt = session.get(Attempt, attempt_id, options=[joinedload(Attempt.exam)])
    require(attempt is not None and attempt.user_id == member.id and attempt.mode == "exam", "没有找到这份试卷")
    assert attempt is not None and attempt.exam is not None
    _finalize_if_expired(session, attempt, attempt.exam, (clock or SystemClock()).now())
    return attempt


def _deadline(attempt: Attempt, exam: Exam) -> Deadline:
    assert attempt.deadline_at is not None
    return Deadline(attempt.deadline_at, timedelta(seconds=exam.grace_seconds))


@dataclass(frozen=True)
class SavedAnswer:
    """The acknowledgement of one autosave."""

    position: int
    saved_at: datetime


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


@dataclass(frozen=True)
class PaperEntry:
    """One question of a started paper as the exam page shows it (with the saved answer, from the database)."""

    position: int
    points: float
    option_order: tuple[str, ...]
    response: Any
    question: EngineQuestion


_PAPER = (
    select(
        AttemptItem.id,
        AttemptItem.position,
        AttemptItem.points,
        AttemptItem.option_order,
        AttemptItem.response,
        AttemptItem.revision_id,
        Question.external_id,
        QuestionRevision.content_hash,
        Exam.grace_seconds,
    )
    .join(Attempt, Attempt.id == AttemptItem.attempt_id)
    .join(Exam, Exam.id == Attempt.exam_id)
    .join(Question, Question.id == AttemptItem.question_id)
    .join(QuestionRevision, QuestionRevision.id == AttemptItem.revision_id)
    .where(AttemptItem.attempt_id == bindparam("attempt_id"))
    .order_by(AttemptItem.position)
)


def paper_entries(session: Session, attempt_id: int) -> list[PaperEntry]:
    """An exam attempt's questions in order, in two queries at most, and its immutable part cached for saves."""
    return _load_paper(session, attempt_id)[0]


def _load_paper(session: Session, attempt_id: int) -> tuple[list[PaperEntry], _PaperMeta | None]:
    """Read a paper's items with their questions (one query; parsed questions from the process cache)."""
    rows = session.execute(_PAPER, {"attempt_id": attempt_id}).all()
    if not rows:
        return [], None
    questions = engine_questions(
        session, [RevisionRef(row.revision_id, row.external_id, row.content_hash) for row in rows]
    )
    meta = _PaperMeta(
        timedelta(seconds=rows[0].grace_seconds),
        {
            row.position: _PaperItemMeta(
                row.id,
                questions[row.revision_id],
                get_type(questions[row.revision_id].type),
                PaperItem(row.external_id, row.points, option_order=tuple(row.option_order)),
            )
            for row in rows
        },
    )
    papers = _caches(session).papers
    papers[attempt_id] = meta
    with contextlib.suppress(KeyError):  # another thread may have evicted it meanwhile (tests use threads)
        papers.move_to_end(attempt_id)
        while len(papers) > _PAPERS_MAX:
            papers.popitem(last=False)
    entries = [
        PaperEntry(row.position, row.points, tuple(row.option_order), row.response, questions[row.revision_id])
        for row in rows
    ]
    return entries, meta


def _paper_meta(session: Session, attempt_id: int) -> _PaperMeta | None:
    """The cached immutable part of a paper (loaded on a miss); None when there is no such exam attempt."""
    papers = _caches(session).papers
    meta = papers.get(attempt_id)
    if meta is None:
        return _load_paper(session, attempt_id)[1]
    with contextlib.suppress(KeyError):
        papers.move_to_end(attempt_id)
    return meta


#: The common save: one conditional UPDATE. Everything that may change (owner's account, status, deadline)
#: is checked here, in the database, so several worker processes stay correct. The attempt row is read
#: FOR SHARE (PostgreSQL; SQLite has one writer anyway): a submit's status change waits for a save that
#: saw the attempt open, so the grading that follows it always sees that answer.
_EPOCH = bindparam("b_epoch", None, type_=Integer, required=False)
_SAVE = (
    update(AttemptItem)
    .where(
        AttemptItem.id == bindparam("b_item"),
        AttemptItem.attempt_id == bindparam("b_attempt"),
        select(Attempt.id)
        .join(User, User.id == Attempt.user_id)
        .where(
            Attempt.id == bindparam("b_attempt"),
            Attempt.user_id == bindparam("b_user"),
            Attempt.status == AttemptStatus.OPEN,
            Attempt.deadline_at >= bindparam("b_cutoff"),
            User.active.is_(True),
            User.must_change_password.is_(False),
            User.role != Role.INSPECTOR,  # read-only accounts save nothing (web.read_only refuses the rest)
            # a session from before a password change or logout (older epoch) saves nothing; no epoch: no check
            User.session_epoch == func.coalesce(_EPOCH, User.session_epoch),
        )
        .with_for_update(read=True, of=Attempt)
        .exists(),
    )
    .values(response=bindparam("b_response"), answered_at=bindparam("b_answered_at"))
)


def save_answer(
    session: Session,
    member_id: int,
    attempt_id: int,
    position: int,
    shown_response: Any,
    *,
    clock: Clock | None = None,
    epoch: int | None = None,
) -> SavedAnswer:
    """Store one answer as it is given (it may change until submission); refused after deadline + grace.

    This is the hot path of a monthly exam. The answer is validated and mapped with the paper's cached
    immutable part, then stored by one conditional UPDATE; only when that changes nothing does the slow
    path find out why and refuse with the same clear message as always. A blank response clears the answer.
    `epoch` is the session's epoch (the web request's): a session ended since then saves nothing.
    """
    now = (clock or SystemClock()).now()
    meta = _paper_meta(session, attempt_id)
    item = meta.items.get(position) if meta is not None else None
    if item is not None:
        try:
            stored = item.kind.storable(item.question, item.paper.to_original(shown_response))
        except QuizError:
            pass  # a badly shaped answer: the slow path reports it after the checks that come first
        else:
            params = {
                "b_item": item.item_id,
                "b_attempt": attempt_id,
                "b_user": member_id,
                "b_cutoff": now - meta.grace,  # type: ignore[union-attr]
                "b_response": stored,
                "b_answered_at": now if stored is not None else None,
                "b_epoch": epoch,
            }
            if session.in_transaction():  # the caller has work in progress: write within it
                updated = session.connection().execute(_SAVE, params).rowcount
                session.commit()
            else:  # the common case: no ORM bookkeeping, just the statement and its commit
                with session.get_bind().begin() as connection:
                    updated = connection.execute(_SAVE, params).rowcount
            if updated:
                return SavedAnswer(position, now)
    return _save_checked(session, member_id, attempt_id, position, shown_response, now, epoch)


def _save_checked(
    session: Session,
    member_id: int,
    attempt_id: int,
    position: int,
    shown_response: Any,
    now: datetime,
    epoch: int | None,
) -> SavedAnswer:
    """The slow path: every check in order, each with its own message (and the lazy finalization)."""
    check_account(session, member_id, epoch)
    row = session.execute(
        select(AttemptItem.id, AttemptItem.option_order, QuestionRevision.content, Attempt, Exam.grace_seconds)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(Exam, Exam.id == Attempt.exam_id)
        .join(QuestionRevision, QuestionRevision.id == AttemptItem.revision_id)
        .where(AttemptItem.attempt_id == attempt_id, AttemptItem.position == position)
    ).first()
    require(row is not None and row.Attempt.user_id == member_id, "没有找到这道题")
    assert row is not None
    attempt = row.Attempt
    if attempt.status != AttemptStatus.OPEN:
        raise ExamError("试卷已提交，不能再修改答案")
    if not Deadline(attempt.deadline_at, timedelta(seconds=row.grace_seconds)).accepts(now):
        _finalize(session, attempt, attempt.deadline_at)
        raise DeadlinePassed("答题时间已到，试卷已自动提交，这个答案未能保存")
    question = EngineQuestion.from_content("q", row.content)
    original = PaperItem("q", 0, option_order=tuple(row.option_order)).to_original(shown_response)
    stored = get_type(question.type).storable(question, original)
    session.execute(
        update(AttemptItem)
        .where(AttemptItem.id == row.id)
        .values(response=stored, answered_at=now if stored is not None else None)
    )
    session.commit()
    return SavedAnswer(position, now)


def record_tab_switch(session: Session, member: User, attempt_id: int) -> None:
    """Count a tab switch on an open attempt (shown to the organizer; never fails anyone)."""
    session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.user_id == member.id, Attempt.status == AttemptStatus.OPEN)
        .values(tab_switches=Attempt.tab_switches + 1)
    )
    session.commit()


def submit_exam(session: Session, member: User, attempt_id: int, *, clock: Clock | None = None) -> Attempt:
    """Hand in the attempt and grade it; submitting twice scores once."""
    clock = clock or SystemClock()
    attempt = get_exam_attempt(session, member, attempt_id, clock=clock)
    if attempt.status == AttemptStatus.OPEN:
        _finalize(session, attempt, clock.now())
    return attempt


def _finalize_if_expired(session: Session, attempt: Attempt, exam: Exam, now: datetime) -> None:
    if attempt.status == AttemptStatus.OPEN and not _deadline(attempt, exam).accepts(now):
        _finalize(session, attempt, attempt.deadline_at or now)


def _finalize(session: Session, attempt: Attempt, finished_at: datetime | None) -> None:
    """Close the attempt once (a conditional update wins the race), then grade it."""
    claimed = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.OPEN)
        .values(status=AttemptStatus.FINISHED, finished_at=finished_at)
    )
    session.commit()
    session.refresh(attempt)
    if claimed.rowcount:
        grade_attempt(session, attempt, voided_questions(session, attempt.exam_id))
        session.commit()


def finalize_expired(session: Session, *, clock: Clock | None = None) -> int:
    """The sweeper: finalize every open exam attempt whose deadline and grace have passed. Returns how many."""
    now = (clock or SystemClock()).now()
    rows = session.execute(
        select(Attempt, Exam.grace_seconds)
        .join(Exam, Exam.id == Attempt.exam_id)
        .where(Attempt.status == AttemptStatus.OPEN, Attempt.mode == "exam", Attempt.deadline_at < now)
    ).all()
    done = 0
    for attempt, grace in rows:
        if attempt.deadline_at + timedelta(seconds=grace) < now:
            _finalize(session, attempt, attempt.deadline_at)
            done += 1
    return done


def voided_questions(session: Session, exam_id: int | None) -> dict[int, str]:
    """Voided questions of an exam: question row id -> "full_credit" or "removed"."""
    return dict(
        session.execute(
            select(VoidedQuestion.question_id, VoidedQuestion.mode).where(VoidedQuestion.exam_id == exam_id)
        ).all()
    )


def grade_attempt(session: Session, attempt: Attempt, voided: dict[int, str]) -> None:
    """(Re)compute every item's verdict and score and the attempt's totals; human grades of short answers stay."""
    exam = attempt.exam
    policy = MultiplePolicy(exam.multiple_policy) if exam else MultiplePolicy.ALL_OR_NOTHING
    score = max_score = 0.0
    answered = correct = pending = 0
    for item in attempt.items:
        question = EngineQuestion.from_content(item.question.external_id, item.revision.content)
        mode = voided.get(item.question_id)
        answered += item.response is not None
        if mode == "removed":
            item.verdict, item.credit, item.score = None, 0.0, 0.0
            continue
        max_score += item.points
        if mode == "full_credit":
            item.verdict, item.credit, item.score = Verdict.CORRECT, 1.0, item.points
        elif question.type == "short" and item.response is not None:
            if item.graded_at is None:
                item.verdict, item.credit, item.score = Verdict.PENDING, 0.0, 0.0
                pending += 1
        else:
            outcome = grade(question, item.response, policy)
            item.verdict, item.credit = outcome.verdict, outcome.credit
            item.score = POINTS_RULES["flat"].award(outcome, ScoringContext(points=item.points))
        correct += item.verdict == Verdict.CORRECT
        score += item.score
    attempt.score, attempt.max_score = round_points(score), round_points(max_score)
    attempt.answered_count, attempt.correct_count, attempt.pending_count = answered, correct, pending
    summaries.replace_attempt(session, attempt)


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
    return [(exam, _member_attempts(session, exam, member)) for exam in exams]


def list_managed_exams(session: Session, actor: User) -> Sequence[Exam]:
    """Exams an organizer (their branch) or admin (all) manages — or an inspector reads — newest first."""
    query = select(Exam).order_by(Exam.opens_at.desc())
    branch_ids = readable_branch_ids(actor)
    if branch_ids is not None:
        query = query.join(Exam.branches).where(Branch.id.in_(sorted(branch_ids)))
    return session.scalars(query).unique().all()
