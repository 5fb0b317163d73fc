"""Self-test use-cases: start a practice session, answer, finish (the wrong-answer book is `wrong_book`).

Every answer is graded by the engine and written at once (with the member's spacing and wrong-book
state) in one transaction, so leaving the page never loses anything and coming back resumes the attempt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quizengine.engine.errors import DeadlinePassed, QuizError
from quizengine.engine.questions import get_type, grade
from quizengine.engine.scoring import POINTS_RULES, ScoringContext
from quizengine.engine.selection import Blueprint, PoolEntry, Section, select_paper
from quizengine.engine.spacing import ReviewState, review
from quizengine.engine.timing import Clock, Deadline, SystemClock
from quizengine.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Bank,
    PracticeCursor,
    Question,
    QuestionProgress,
    User,
)
from quizengine.modes.self_test import (
    COUNTS,
    KIND_LABELS,
    Candidate,
    MockPaperRule,
    PracticeKind,
    WrongBookState,
    after_answer,
    mock_deadline,
    sequential_start,
    smart_order,
)

from . import summaries
from .access import require
from .attempt_items import engine_question, paper_item
from .bank_admin import visible_bank_ids
from .questions import LiveQuestion, live_questions_query, load_live
from .wrong_book import wrong_book_question_ids

#: Answers to a mock exam still in flight up to this long after its deadline are accepted.
MOCK_GRACE = timedelta(seconds=30)


class PracticeError(QuizError):
    """A practice request that cannot be served (no questions, bad choice)."""

    code = "practice_error"


@dataclass(frozen=True)
class PracticeRequest:
    """What the member chose on the practice page."""

    kind: PracticeKind
    bank_ids: tuple[int, ...] = ()
    chapters: tuple[tuple[int, str], ...] = ()
    types: tuple[str, ...] = ()
    count: int = 10
    mock: MockPaperRule = field(default_factory=MockPaperRule)
    #: 支部布置的练习: the assignment this session is drawn from (its count was checked when it was set), its title.
    assignment_id: int | None = None
    title: str = ""
    #: 学习计划: the plan topic (`plan-slug#topic`) this session practises; its count is the plan's.
    topic: str | None = None


def _progress_rows(session: Session, user: User, question_ids: list[int]) -> dict[int, QuestionProgress]:
    if not question_ids:
        return {}
    rows = session.scalars(
        select(QuestionProgress).where(
            QuestionProgress.user_id == user.id, QuestionProgress.question_id.in_(question_ids)
        )
    )
    return {row.question_id: row for row in rows}


def _chapter_key(live: LiveQuestion) -> str:
    return f"{live.row.bank_id}:{live.row.category or ''}"


@dataclass(frozen=True)
class _Selection:
    """The questions chosen for a session (in order), how to shuffle them, and 顺序练习's starting point."""

    questions: list[LiveQuestion]
    blueprint: Blueprint
    start: int = 0
    wrapped: bool = False


def _pick(session: Session, user: User, request: PracticeRequest, rng: random.Random, clock: Clock) -> _Selection:
    """Choose the questions and the blueprint that shuffles their options."""
    kind = request.kind
    visible = visible_bank_ids(session, user)  # another branch's own banks are not the member's to practise
    if any(bank_id not in visible for bank_id in request.bank_ids):
        raise PracticeError("没有找到这个题库")
    bank_ids = request.bank_ids or tuple(visible)
    if kind is PracticeKind.SEQUENTIAL:
        if len(request.bank_ids) != 1:
            raise PracticeError("顺序练习请选择一个题库")
        pool = load_live(session, live_questions_query(request.bank_ids))
        cursor = session.scalar(
            select(PracticeCursor.position).where(
                PracticeCursor.user_id == user.id, PracticeCursor.bank_id == request.bank_ids[0]
            )
        )
        start, wrapped = sequential_start(len(pool), cursor or 0)
        return _Selection(
            pool[start : start + request.count],
            Blueprint(shuffle_questions=False, shuffle_options=False),
            start,
            wrapped,
        )
    query = live_questions_query(bank_ids or (0,), request.chapters, request.types)
    if kind is PracticeKind.WRONG_BOOK:
        query = query.where(Question.id.in_(wrong_book_question_ids(user)))
    pool = load_live(session, query)
    if kind is not PracticeKind.MOCK:  # a mock paper's sections keep to one question per group themselves
        pool = _one_per_group(pool, rng)
    if kind is PracticeKind.SMART:
        return _Selection(_smart(session, user, pool, request.count, rng, clock), Blueprint(shuffle_questions=False))
    if kind is PracticeKind.MOCK:
        mock = Blueprint(
            sections=tuple(
                Section(count, points=dict(request.mock.points)[qtype], types=(qtype,))
                for qtype, count in (
                    ("single", request.mock.single),
                    ("multiple", request.mock.multiple),
                    ("judge", request.mock.judge),
                )
                if count
            ),
            shuffle_questions=False,
        )
        return _Selection(pool, mock)
    rng.shuffle(pool)
    return _Selection(pool[: request.count], Blueprint(shuffle_questions=False))


def _one_per_group(pool: list[LiveQuestion], rng: random.Random) -> list[LiveQuestion]:
    """`pool` in order with one question, picked at random, of each `group` (questions of one group test
    the same thing, so a session never asks two of them)."""
    members: dict[str, list[int]] = {}
    for index, live in enumerate(pool):
        if live.question.group:
            members.setdefault(live.question.group, []).append(index)
    dropped = {index for indexes in members.values() for index in indexes} - {
        rng.choice(indexes) for indexes in members.values()
    }
    return [live for index, live in enumerate(pool) if index not in dropped]


def _smart(
    session: Session, user: User, pool: list[LiveQuestion], count: int, rng: random.Random, clock: Clock
) -> list[LiveQuestion]:
    progress = _progress_rows(session, user, [live.row.id for live in pool])
    answered: dict[str, list[int]] = {}
    for live in pool:
        row = progress.get(live.row.id)
        if row is not None and row.times_answered:
            totals = answered.setdefault(_chapter_key(live), [0, 0])
            totals[0] += row.times_answered
            totals[1] += row.times_correct
    accuracy = {chapter: correct / total for chapter, (total, correct) in answered.items()}
    candidates = [
        Candidate(
            live.row.id,
            _chapter_key(live),
            seen=live.row.id in progress,
            due_at=progress[live.row.id].due_at if live.row.id in progress else None,
            last_answered_at=progress[live.row.id].last_answered_at if live.row.id in progress else None,
        )
        for live in pool
    ]
    order = smart_order(candidates, accuracy, count, clock.now(), rng)
    by_id = {live.row.id: live for live in pool}
    return [by_id[question_id] for question_id in order]


def _title(session: Session, request: PracticeRequest) -> str:
    label = KIND_LABELS[request.kind]
    if request.bank_ids:
        titles = session.scalars(select(Bank.title).where(Bank.id.in_(request.bank_ids)).order_by(Bank.title)).all()
        if len(titles) == 1:
            return f"{label} · {titles[0]}"
    return label


def start_practice(
    session: Session,
    user: User,
    request: PracticeRequest,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> Attempt:
    """Create the member's attempt: the questions, their current revisions and the option order shown."""
    clock, rng = clock or SystemClock(), rng or random.Random()
    set_by_organizer = request.assignment_id is not None or request.topic is not None
    if request.count not in COUNTS and request.kind is not PracticeKind.MOCK and not set_by_organizer:
        raise PracticeError("题量只能选择 " + "、".join(map(str, COUNTS)))
    selection = _pick(session, user, request, rng, clock)
    chosen, blueprint = selection.questions, selection.blueprint
    if not chosen:
        empty = "错题本中没有符合条件的题目" if request.kind is PracticeKind.WRONG_BOOK else "没有符合条件的题目"
        raise PracticeError(empty)
    by_external = {live.question.id: live for live in chosen}
    entries = [PoolEntry(live.question, str(live.row.bank_id)) for live in chosen]
    if not blueprint.sections:
        blueprint = Blueprint(
            fixed_ids=tuple(by_external),
            shuffle_questions=blueprint.shuffle_questions,
            shuffle_options=blueprint.shuffle_options,
        )
    paper = select_paper(entries, blueprint, rng)
    now = clock.now()
    attempt = Attempt(
        user_id=user.id,
        mode="self_test",
        kind=request.kind,
        title=request.title or _title(session, request),
        settings={
            "bank_ids": list(request.bank_ids),
            "chapters": [list(chapter) for chapter in request.chapters],
            "types": list(request.types),
            "count": request.count,
            "start": selection.start,
            "wrapped": selection.wrapped,
            **({"assignment_id": request.assignment_id} if request.assignment_id else {}),
        },
        study_topic=request.topic,
        started_at=now,
        deadline_at=mock_deadline(now, request.mock) if request.kind is PracticeKind.MOCK else None,
        question_count=len(paper.items),
        max_score=paper.total_points,
    )
    for position, item in enumerate(paper.items):
        live = by_external[item.question_id]
        attempt.items.append(
            AttemptItem(
                position=position,
                question_id=live.row.id,
                revision_id=live.revision.id,
                option_order=list(item.option_order),
                points=item.points,
            )
        )
    session.add(attempt)
    session.commit()
    return attempt


def get_attempt(session: Session, user: User, attempt_id: int, *, clock: Clock | None = None) -> Attempt:
    """The member's own attempt (anyone else's is not found); an expired mock exam is finished on access."""
    attempt = session.get(Attempt, attempt_id)
    require(attempt is not None and attempt.user_id == user.id and attempt.mode == "self_test", "没有找到这次练习")
    assert attempt is not None
    _finish_if_expired(session, attempt, clock or SystemClock())
    return attempt


def _finish_if_expired(session: Session, attempt: Attempt, clock: Clock) -> None:
    expired = attempt.deadline_at is not None and not Deadline(attempt.deadline_at, MOCK_GRACE).accepts(clock.now())
    if attempt.status == AttemptStatus.OPEN and expired:
        _finish(session, attempt, clock)


def _finish(session: Session, attempt: Attempt, clock: Clock) -> None:
    """Close the attempt once (a conditional update wins a race) and count the session in the day's summary."""
    now = clock.now()
    claimed = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.OPEN)
        .values(status=AttemptStatus.FINISHED, finished_at=now)
    )
    if claimed.rowcount and session.scalar(select(Attempt.answered_count).where(Attempt.id == attempt.id)):
        summaries.add_session(session, attempt.user_id, now)
    session.commit()
    session.refresh(attempt)


def current_position(attempt: Attempt) -> int | None:
    """The first unanswered position, or None when every question is answered."""
    return next((item.position for item in attempt.items if item.answered_at is None), None)


def answer_item(
    session: Session, user: User, attempt_id: int, position: int, shown_response: Any, *, clock: Clock | None = None
) -> AttemptItem:
    """Grade and store one answer, update the member's spacing and wrong-answer book, and commit.

    An item is answered once: a repeated submission (double tap, resend after a network error) returns
    the stored answer unchanged. The write is a conditional update, so two racing requests cannot both
    count.
    """
    clock = clock or SystemClock()
    attempt = get_attempt(session, user, attempt_id, clock=clock)
    item = next((item for item in attempt.items if item.position == position), None)
    if item is None:
        raise PracticeError("题目不存在")
    if item.answered_at is not None:
        return item
    if attempt.status != AttemptStatus.OPEN:
        raise (
            DeadlinePassed("答题时间已到，本次模拟考试已自动交卷")
            if attempt.deadline_at
            else PracticeError("本次练习已结束")
        )
    question = engine_question(item)
    response = paper_item(item).to_original(shown_response)
    outcome = grade(question, response)
    if not outcome.answered:
        raise PracticeError("请先作答再提交")
    now = clock.now()
    score = POINTS_RULES["flat"].award(outcome, ScoringContext(points=item.points))
    claimed = session.execute(
        update(AttemptItem)
        .where(AttemptItem.id == item.id, AttemptItem.answered_at.is_(None))
        .values(
            response=get_type(question.type).storable(question, response),
            verdict=outcome.verdict,
            credit=outcome.credit,
            score=score,
            answered_at=now,
        )
    )
    if claimed.rowcount == 0:  # another request answered it first
        session.rollback()
        session.refresh(item)
        return item
    correct = outcome.is_correct
    summaries.add_answer(session, user.id, now, item.question, outcome.verdict)
    session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id)
        .values(
            answered_count=Attempt.answered_count + 1,
            correct_count=Attempt.correct_count + (1 if correct else 0),
            score=Attempt.score + score,
        )
    )
    if question.type != "short":  # a human grades short answers; they do not move spacing or the book
        _record_progress(session, user, item.question_id, correct, now)
    if attempt.kind == PracticeKind.SEQUENTIAL:
        _advance_cursor(session, user, item.question.bank_id, attempt.settings.get("start", 0) + position + 1)
    session.commit()
    session.refresh(attempt)
    session.refresh(item)
    if current_position(attempt) is None:
        _finish(session, attempt, clock)
    return item


def _record_progress(session: Session, user: User, question_id: int, correct: bool, now: Any) -> None:
    row = session.scalar(
        select(QuestionProgress).where(QuestionProgress.user_id == user.id, QuestionProgress.question_id == question_id)
    )
    if row is None:
        row = QuestionProgress(user_id=user.id, question_id=question_id, times_answered=0, times_correct=0)
        session.add(row)
        previous = None
    else:
        previous = ReviewState(row.box, row.due_at) if row.due_at else None
    state = review(previous, correct, now)
    book = after_answer(WrongBookState(row.in_wrong_book or False, row.wrong_streak or 0), correct)
    row.box, row.due_at, row.last_answered_at = state.box, state.due_at, now
    row.times_answered += 1
    row.times_correct += 1 if correct else 0
    row.in_wrong_book, row.wrong_streak = book.in_book, book.streak


def _advance_cursor(session: Session, user: User, bank_id: int, position: int) -> None:
    cursor = session.scalar(
        select(PracticeCursor).where(PracticeCursor.user_id == user.id, PracticeCursor.bank_id == bank_id)
    )
    if cursor is None:
        session.add(PracticeCursor(user_id=user.id, bank_id=bank_id, position=position))
    else:
        cursor.position = position


def finish_attempt(session: Session, user: User, attempt_id: int, *, clock: Clock | None = None) -> Attempt:
    """End an attempt now (submit a mock exam, or stop practising early); unanswered items stay unanswered."""
    clock = clock or SystemClock()
    attempt = get_attempt(session, user, attempt_id, clock=clock)
    if attempt.status == AttemptStatus.OPEN:
        _finish(session, attempt, clock)
    return attempt


def list_open_attempts(session: Session, user: User) -> list[Attempt]:
    """Unfinished practice sessions to resume, newest first."""
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user.id, Attempt.mode == "self_test", Attempt.status == AttemptStatus.OPEN)
            .order_by(Attempt.started_at.desc())
            .limit(5)
        )
    )
