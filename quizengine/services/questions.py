"""Read helpers for live questions and their current revisions, as engine objects."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Engine, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from quizengine.engine.questions import Question as EngineQuestion
from quizengine.models import Question, QuestionRevision


@dataclass(frozen=True)
class LiveQuestion:
    """A live question row, its current revision and the engine object built from it."""

    row: Question
    revision: QuestionRevision
    question: EngineQuestion


def live_questions_query(
    bank_ids: Iterable[int] = (), chapters: Iterable[tuple[int, str]] = (), types: Iterable[str] = ()
) -> Select[tuple[Question, QuestionRevision]]:
    """Live questions with their current revision, filtered by banks, (bank, chapter) pairs and types."""
    return _filtered(select(Question, QuestionRevision), bank_ids, chapters, types)


def _filtered(
    query: Select[Any], bank_ids: Iterable[int], chapters: Iterable[tuple[int, str]], types: Iterable[str]
) -> Select[Any]:
    """Join the current revision, keep live questions in bank order, apply the filters."""
    query = (
        query.join(
            QuestionRevision,
            and_(QuestionRevision.question_id == Question.id, QuestionRevision.number == Question.current_revision),
        )
        .where(Question.retired.is_(False))
        .order_by(Question.bank_id, Question.position)
    )
    bank_ids, chapters, types = list(bank_ids), list(chapters), list(types)
    if bank_ids:
        query = query.where(Question.bank_id.in_(bank_ids))
    if chapters:
        query = query.where(
            or_(*[and_(Question.bank_id == bank_id, Question.category == key) for bank_id, key in chapters])
        )
    if types:
        query = query.where(Question.type.in_(types))
    return query


def load_live(session: Session, query: Select[tuple[Question, QuestionRevision]]) -> list[LiveQuestion]:
    """Run a live-questions query and build engine objects."""
    return [
        LiveQuestion(row, revision, EngineQuestion.from_content(row.external_id, revision.content))
        for row, revision in session.execute(query)
    ]


#: Engine questions built from revisions, by (question id, content hash): a revision never changes once
#: written, and the hash covers all of its content, so an entry can never go stale. Bounded: cleared
#: when full (a process holds a few thousand at most).
_ENGINE_QUESTIONS: dict[tuple[str, str], EngineQuestion] = {}
_ENGINE_QUESTIONS_MAX = 20_000


class RevisionRef(NamedTuple):
    """What identifies a revision's content without loading it: revision id, question id, content hash."""

    revision_id: int
    external_id: str
    content_hash: str


def engine_questions(session: Session, refs: Sequence[RevisionRef]) -> dict[int, EngineQuestion]:
    """Engine questions by revision id, parsed once per process; only revisions not seen yet are loaded."""
    found: dict[int, EngineQuestion] = {}
    missing: dict[int, RevisionRef] = {}
    for ref in refs:
        question = _ENGINE_QUESTIONS.get((ref.external_id, ref.content_hash))
        if question is None:
            missing[ref.revision_id] = ref
        else:
            found[ref.revision_id] = question
    if missing:
        if len(_ENGINE_QUESTIONS) + len(missing) > _ENGINE_QUESTIONS_MAX:
            _ENGINE_QUESTIONS.clear()
        rows = session.execute(
            select(QuestionRevision.id, QuestionRevision.content).where(QuestionRevision.id.in_(list(missing)))
        )
        for revision_id, content in rows:
            ref = missing[revision_id]
            question = EngineQuestion.from_content(ref.external_id, content)
            _ENGINE_QUESTIONS[(ref.external_id, ref.content_hash)] = found[revision_id] = question
    return found


class LiveRevision(NamedTuple):
    """A live question as plain columns (ids, bank) and its engine object (from the per-process cache)."""

    question_id: int
    bank_id: int
    revision_id: int
    question: EngineQuestion


#: A fingerprint of every live question's identity, bank, position and current revision: any bank load
#: that adds, retires, moves, reorders or revises a question changes it. Reading it is one aggregate.
_LIVE_FINGERPRINT = select(
    func.count(Question.id),
    func.coalesce(func.sum(Question.id * Question.current_revision), 0),
    func.coalesce(func.sum(Question.id * Question.bank_id), 0),
    func.coalesce(func.sum(Question.id * (Question.position + 1)), 0),
    func.coalesce(func.max(Question.id), 0),
).where(Question.retired.is_(False))
_LiveKey = tuple[tuple[int, ...], tuple[str, ...] | None]
#: Live pools by database and filter, with the fingerprint they were read at (a few filters per process).
_LIVE_POOLS: weakref.WeakKeyDictionary[Engine, dict[_LiveKey, tuple[tuple[int, ...], list[LiveRevision]]]] = (
    weakref.WeakKeyDictionary()
)
_LIVE_POOLS_MAX = 64
_LIVE_POOL_LOCK = threading.Lock()  # gevent's lock under monkey-patching


def load_live_revisions(
    session: Session, bank_ids: Iterable[int] = (), external_ids: Iterable[str] | None = None
) -> list[LiveRevision]:
    """Live questions of the given banks (all when empty), in bank order, without loading ORM objects.

    Starting an exam draws from every live question, for every member who starts. The pool is read once
    per process and reused while the live questions' fingerprint is unchanged (one aggregate query);
    parsed questions come from the per-process cache. The list is shared: callers must not change it.
    """
    key: _LiveKey = (tuple(sorted(bank_ids)), tuple(sorted(external_ids)) if external_ids is not None else None)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    pools = _LIVE_POOLS.setdefault(engine, {})
    fingerprint = tuple(session.execute(_LIVE_FINGERPRINT).one())
    cached = pools.get(key)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    with _LIVE_POOL_LOCK:  # one reader per process: members starting together wait for it instead of all reading
        cached = pools.get(key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        query = _filtered(
            select(
                Question.id, Question.external_id, Question.bank_id, QuestionRevision.id, QuestionRevision.content_hash
            ),
            key[0],
            (),
            (),
        )
        if key[1] is not None:
            query = query.where(Question.external_id.in_(key[1]))
        rows = session.execute(query).all()
        built = engine_questions(session, [RevisionRef(row[3], row[1], row[4]) for row in rows])
        live = [LiveRevision(row[0], row[2], row[3], built[row[3]]) for row in rows]
        if len(pools) >= _LIVE_POOLS_MAX:
            pools.clear()
        pools[key] = (fingerprint, live)
        return live
