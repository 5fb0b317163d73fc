"""An exam's autosave, the hot path of a monthly exam: one conditional UPDATE checked in the database (so several
workers stay correct), and only when it stores nothing the slow path that says why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Integer, bindparam, func, select, update
from sqlalchemy.orm import Session, scoped_session

from quizengine.engine.errors import DeadlinePassed, QuizError
from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.questions import get_type
from quizengine.engine.selection import PaperItem
from quizengine.engine.timing import Clock, Deadline, SystemClock
from quizengine.models import Attempt, AttemptItem, AttemptStatus, Exam, QuestionRevision, Role, User

from .access import require
from .exam_access import ExamError, check_account
from .exam_grading import finalize
from .exam_started_papers import PaperMeta, cached_meta, paper_meta, session_made


@dataclass(frozen=True)
class SavedAnswer:
    """The acknowledgement of one autosave."""

    position: int
    saved_at: datetime


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


def _bind_of(session: Session | scoped_session[Session]) -> tuple[Engine, bool]:
    """The database and whether the caller has a transaction in progress, without making a request's
    scoped session only to ask (an autosave needs none: making and closing it was ~5 % of a save's CPU)."""
    if isinstance(session, scoped_session) and not session.registry.has():
        engine = session.session_factory.kw.get("bind")
        if isinstance(engine, Engine):
            return engine, False
    made = session_made(session)
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
    meta = paper_meta(session, engine, attempt_id)
    params = _save_params(meta, member_id, attempt_id, position, shown_response, now, epoch)
    if params is not None:
        if busy:  # the caller has work in progress: write within it
            made = session_made(session)
            updated = made.connection().execute(_SAVE, params).rowcount
            made.commit()
        else:  # the common case: no ORM bookkeeping, just the statement and its commit
            with engine.begin() as connection:
                updated = connection.execute(_SAVE, params).rowcount
        if updated:
            return SavedAnswer(position, now)
    return _save_checked(session_made(session), member_id, attempt_id, position, shown_response, now, epoch)


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
    params = _save_params(cached_meta(engine, attempt_id), member_id, attempt_id, position, shown_response, now, epoch)
    if params is None:
        return None
    with engine.begin() as connection:
        updated = connection.execute(_SAVE, params).rowcount
    return SavedAnswer(position, now) if updated else None


def _save_params(
    meta: PaperMeta | None,
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
