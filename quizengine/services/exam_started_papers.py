"""A started exam paper as it is read: its entries with the saved answers for the exam page, and its immutable
part (questions, option orders, item ids, the grace period) cached per process for the saves."""

from __future__ import annotations

import contextlib
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session, scoped_session

from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.questions import QuestionType, get_type
from quizengine.engine.selection import PaperItem
from quizengine.models import Attempt, AttemptItem, Exam, Question, QuestionRevision

from .questions import RevisionRef, engine_questions


@dataclass(frozen=True)
class PaperItemMeta:
    """What never changes about one question of a started paper: enough to validate and map an answer."""

    item_id: int
    question: EngineQuestion
    kind: QuestionType
    paper: PaperItem


@dataclass(frozen=True)
class PaperMeta:
    """A started paper's immutable part, by position, and its exam's grace period (no service edits it)."""

    grace: timedelta
    items: dict[int, PaperItemMeta]


@dataclass
class _ProcessCaches:
    """Per-process, per-database caches of immutable data (never status, deadline or answers)."""

    papers: OrderedDict[int, PaperMeta] = field(default_factory=OrderedDict)


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


def _load_paper(session: Session, attempt_id: int) -> tuple[list[PaperEntry], PaperMeta | None]:
    """Read a paper's items with their questions (one query; parsed questions from the process cache)."""
    rows = session.execute(_PAPER, {"attempt_id": attempt_id}).all()
    if not rows:
        return [], None
    questions = engine_questions(
        session, [RevisionRef(row.revision_id, row.external_id, row.content_hash) for row in rows]
    )
    meta = PaperMeta(
        timedelta(seconds=rows[0].grace_seconds),
        {
            row.position: PaperItemMeta(
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


def paper_meta(session: Session | scoped_session[Session], engine: Engine, attempt_id: int) -> PaperMeta | None:
    """The cached immutable part of a paper (loaded on a miss); None when there is no such exam attempt."""
    meta = cached_meta(engine, attempt_id)
    return _load_paper(session_made(session), attempt_id)[1] if meta is None else meta


def cached_meta(engine: Engine, attempt_id: int) -> PaperMeta | None:
    """The paper's immutable part if this process has it (kept as the most recently used)."""
    papers = _caches(engine).papers
    meta = papers.get(attempt_id)
    if meta is not None:
        with contextlib.suppress(KeyError):
            papers.move_to_end(attempt_id)
    return meta


def session_made(session: Session | scoped_session[Session]) -> Session:
    """The session itself (a request's scoped session is made now if it was not yet)."""
    return session() if isinstance(session, scoped_session) else session
