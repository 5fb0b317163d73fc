"""Taking a timed exam: start (the paper is made once), autosave, tab switches, submit.

The server clock decides. Every answer is written as it is given; a reload or another device resumes the
same attempt. Finalizing and grading are in exam_grading; who may take which exam is in exam_access.
"""

from __future__ import annotations

import contextlib
import random
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Integer, and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, scoped_session

from quizengine.engine.errors import DeadlinePassed, QuizError
from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.questions import QuestionType, get_type
from quizengine.engine.selection import PaperItem
from quizengine.engine.timing import Clock, Deadline, SystemClock
from quizengine.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Exam,
    ExamBranch,
    Question,
    QuestionRevision,
    Role,
    User,
)

from .access import require
from .exam_access import ExamError, check_account, member_attempts, window_for
from .exam_grading import finalize, finalize_if_expired
from .exam_papers import member_paper
from .questions import RevisionRef, engine_questions


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


def _caches(bind: Session | Engine) -> _ProcessCaches:
    """The caches of the session's database (a new app or engine starts empty, as tests need)."""
    engine = bind if isinstance(bind, Engine) else bind.get_bind()
    assert isinstance(engine, Engine)
    caches = _CACHES.get(engine)
    if caches is None:
        caches = _CACHES[engine] = _ProcessCaches()
    return caches


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
    attempts = member_attempts(session, exam, member)
    for attempt in attempts:
        finalize_if_expired(session, attempt, exam, now)
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
        return next(a for a in member_attempts(session, exam, member) if a.status == AttemptStatus.OPEN)
    return attempt


def get_exam_attempt(session: Session, member: User, attempt_id: int, *, clock: Clock | None = None) -> Attempt:
    """The member's own exam attempt (finalized first if its time is up)."""
    attempt = session.get(Attempt, attempt_id, options=[joinedload(Attempt.exam)])
    require(attempt is not None and attempt.user_id == member.id and attempt.mode == "exam", "没有找到这份试卷")
    assert attempt is not None and attempt.exam is not None
    finalize_if_expired(session, attempt, attempt.exam, (clock or SystemClock()).now())
    return attempt


@dataclass(frozen=True)
class SavedAnswer:
    """The acknowledgement of one autosave."""

    position: int
    saved_at: datetime


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


def _paper_meta(session: Session | scoped_session[Session], engine: Engine, attempt_id: int) -> _PaperMeta | None:
    """The cached immutable part of a paper (loaded on a miss); None when there is no such exam attempt."""
    meta = _cached_meta(engine, attempt_id)
    return _load_paper(_made(session), attempt_id)[1] if meta is None else meta


def _cached_meta(engine: Engine, attempt_id: int) -> _PaperMeta | None:
    """The paper's immutable part if this process has it (kept as the most recently used)."""
    papers = _caches(engine).papers
    meta = papers.get(attempt_id)
    if meta is not None:
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


def _made(session: Session | scoped_session[Session]) -> Session:
    """The session itself (a request's scoped session is made now if it was not yet)."""
    return session() if isinstance(session, scoped_session) else session


def _bind_of(session: Session | scoped_session[Session]) -> tuple[Engine, bool]:
    """The database and whether the caller has a transaction in progress, without making a request's
    scoped session only to ask (an autosave needs none: making and closing it was ~5 % of a save's CPU)."""
    if isinstance(session, scoped_session) and not session.registry.has():
        engine = session.session_factory.kw.get("bind")
        if isinstance(engine, Engine):
            return engine, False
    made = _made(session)
    engine = made.get_bind()
    assert isinstance(engine, Engine)
    return engine, made.in_transaction()


def save_answer(
    session: Session | scoped_session[Session],
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
    `session` may be the request's scoped session not yet made: the common save then makes none.
    """
    now = (clock or SystemClock()).now()
    engine, busy = _bind_of(session)
    meta = _paper_meta(session, engine, attempt_id)
    params = _save_params(meta, member_id, attempt_id, position, shown_response, now, epoch)
    if params is not None:
        if busy:  # the caller has work in progress: write within it
            made = _made(session)
            updated = made.connection().execute(_SAVE, params).rowcount
            made.commit()
        else:  # the common case: no ORM bookkeeping, just the statement and its commit
            with engine.begin() as connection:
                updated = connection.execute(_SAVE, params).rowcount
        if updated:
            return SavedAnswer(position, now)
    return _save_checked(_made(session), member_id, attempt_id, position, shown_response, now, epoch)


def save_cached(
    engine: Engine,
    member_id: int,
    attempt_id: int,
    position: int,
    shown_response: Any,
    *,
    epoch: int | None,
    clock: Clock | None = None,
) -> SavedAnswer | None:
    """`save_answer`'s common case alone, with no ORM session: the saved answer, or None when it stored nothing.

    None when this process has not cached the paper yet, the answer is badly shaped, or the conditional
    UPDATE refused (account, status, deadline): the caller then calls `save_answer`, which loads, checks in
    order and says why. Used by the autosave's lean path (quizengine.web.autosave), which must neither open a
    session nor refuse anything itself.
    """
    now = (clock or SystemClock()).now()
    params = _save_params(_cached_meta(engine, attempt_id), member_id, attempt_id, position, shown_response, now, epoch)
    if params is None:
        return None
    with engine.begin() as connection:
        updated = connection.execute(_SAVE, params).rowcount
    return SavedAnswer(position, now) if updated else None


def _save_params(
    meta: _PaperMeta | None,
    member_id: int,
    attempt_id: int,
    position: int,
    shown_response: Any,
    now: datetime,
    epoch: int | None,
) -> dict[str, Any] | None:
    """The conditional UPDATE's parameters, or None when the paper or the answer rules it out (the slow path
    reports why, after the checks that come first)."""
    item = meta.items.get(position) if meta is not None else None
    if item is None:
        return None
    assert meta is not None
    try:
        stored = item.kind.storable(item.question, item.paper.to_original(shown_response))
    except QuizError:
        return None
    return {
        "b_item": item.item_id,
        "b_attempt": attempt_id,
        "b_user": member_id,
        "b_cutoff": now - meta.grace,
        "b_response": stored,
        "b_answered_at": now if stored is not None else None,
        "b_epoch": epoch,
    }


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
        finalize(session, attempt, attempt.deadline_at)
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
        finalize(session, attempt, clock.now())
    return attempt
