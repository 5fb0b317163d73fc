"""Read helpers for live questions and their current revisions, as engine objects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select
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
    query = (
        select(Question, QuestionRevision)
        .join(
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
