"""Grading exam attempts: an attempt is finalized exactly once (a conditional update) — by the member, by
the sweeper at the deadline, or lazily the next time anyone touches it — and graded with the exam's voided
questions; short answers wait for the organizer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quizengine.engine.questions import MultiplePolicy, Verdict, grade
from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.scoring import POINTS_RULES, ScoringContext, round_points
from quizengine.engine.timing import Clock, Deadline, SystemClock
from quizengine.models import (
    Attempt,
    AttemptStatus,
    Exam,
    VoidedQuestion,
)

from . import summaries


def _deadline(attempt: Attempt, exam: Exam) -> Deadline:
    assert attempt.deadline_at is not None
    return Deadline(attempt.deadline_at, timedelta(seconds=exam.grace_seconds))


def finalize_if_expired(session: Session, attempt: Attempt, exam: Exam, now: datetime) -> None:
    """Finalize an open attempt whose deadline and grace have passed (the lazy sweep on every touch)."""
    if attempt.status == AttemptStatus.OPEN and not _deadline(attempt, exam).accepts(now):
        finalize(session, attempt, attempt.deadline_at or now)


def finalize(session: Session, attempt: Attempt, finished_at: datetime | None) -> None:
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
            finalize(session, attempt, attempt.deadline_at)
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
