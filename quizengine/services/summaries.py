"""Per-member-per-day summaries (`MemberDay`), kept on write so reads cost days × chapters, not answers.

Writers call these inside their own transaction, before their commit:
- `add_answer` when a self-test answer is graded (services.practice.answer_item),
- `add_session` when a self-test session finishes with at least one answer (services.practice),
- `replace_attempt` whenever an exam attempt is graded or regraded (services.exam_grading.grade_attempt, which
  finalizing, regrading, voiding and grading a short answer all go through).

Each change to `member_days` is passed on to services.period_totals (the same rows summed per member and day by
kind, and per month: what the 验收标准's period totals read), in the same transaction.

`rebuild` recomputes both from the attempts (CLI `quizengine records rebuild-summaries`); tests check that the
incremental rows equal the rebuilt ones. Contest participation is not summarized: a member
has a handful of `ContestResult` rows a year, read directly.

Days are local days in Asia/Shanghai (`ZONE`), the zone the 验收标准's periods use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from quizengine.engine.questions import Verdict
from quizengine.models import Attempt, AttemptItem, AttemptStatus, MemberDay, Question

from . import period_totals

ZONE = ZoneInfo("Asia/Shanghai")

#: Summary key: user, local day, bank (0: a session row), chapter, attempt (0: self-test).
Key = tuple[int, date, int, str, int]


def local_day(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware UTC time."""
    return moment.astimezone(ZONE).date()


def counts(verdict: str | None) -> bool:
    """Whether an answer with this verdict is summarized (graded; pending short answers and voids are not)."""
    return verdict is not None and verdict != Verdict.PENDING


def _upsert(session: Session, key: Key, exam_id: int, answered: int, correct: int, sessions: int) -> None:
    """Add to one summary row, creating it if missing; one atomic statement, so parallel writers add up."""
    values = dict(zip(("user_id", "day", "bank_id", "category", "attempt_id"), key, strict=True))
    values |= {"exam_id": exam_id, "answered": answered, "correct": correct, "sessions": sessions}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(MemberDay).values(**values)
    table = MemberDay.__table__.c
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "day", "bank_id", "category", "attempt_id"],
            set_={
                "answered": table.answered + statement.excluded.answered,
                "correct": table.correct + statement.excluded.correct,
                "sessions": table.sessions + statement.excluded.sessions,
            },
        )
    )
    period_totals.add(session, {(key[0], key[1]): period_totals.kinds(exam_id, answered, sessions)})


def _shift(total: list[int], values: list[int], sign: int) -> None:
    """Add `values` (sign 1) or take them (sign -1) to `total` in place."""
    for index, value in enumerate(values):
        total[index] += sign * value


def add_answer(session: Session, user_id: int, at: datetime, question: Question, verdict: str) -> None:
    """Count one graded self-test answer (not committed: the caller's transaction holds it)."""
    if counts(verdict):
        key = (user_id, local_day(at), question.bank_id, question.category or "", 0)
        _upsert(session, key, 0, 1, 1 if verdict == Verdict.CORRECT else 0, 0)


def add_session(session: Session, user_id: int, at: datetime) -> None:
    """Count one finished self-test session (the caller checks it has answers)."""
    _upsert(session, (user_id, local_day(at), 0, "", 0), 0, 0, 0, 1)


def _attempt_rows(attempt: Attempt, items: Iterable[tuple[datetime | None, str | None, int, str | None]]) -> list[dict]:
    """Rows of one exam attempt from its items (answered_at, verdict, bank id, chapter)."""
    rows: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for answered_at, verdict, bank_id, category in items:
        if answered_at is not None and counts(verdict):
            row = rows[(attempt.user_id, local_day(answered_at), bank_id, category or "", attempt.id)]
            row[0] += 1
            row[1] += verdict == Verdict.CORRECT
    if attempt.status == AttemptStatus.FINISHED and attempt.answered_count > 0 and attempt.finished_at:
        rows[(attempt.user_id, local_day(attempt.finished_at), 0, "", attempt.id)][2] += 1
    return [summary_row(key, attempt.exam_id or 0, *value) for key, value in rows.items()]


def summary_row(key: Key, exam_id: int, answered: int, correct: int, sessions: int) -> dict[str, Any]:
    """A `member_days` row: what a rebuild inserts and what the demo writes in bulk."""
    user_id, day, bank_id, category, attempt_id = key
    return {
        "user_id": user_id,
        "day": day,
        "bank_id": bank_id,
        "category": category,
        "attempt_id": attempt_id,
        "exam_id": exam_id,
        "answered": answered,
        "correct": correct,
        "sessions": sessions,
    }


def replace_attempt(session: Session, attempt: Attempt) -> None:
    """Replace an exam attempt's rows with what its items say now (after grading, regrading or a void)."""
    deltas: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for user_id, day, exam_id, answered, sessions in session.execute(
        select(MemberDay.user_id, MemberDay.day, MemberDay.exam_id, MemberDay.answered, MemberDay.sessions).where(
            MemberDay.attempt_id == attempt.id
        )
    ):
        _shift(deltas[(user_id, day)], period_totals.kinds(exam_id, answered, sessions), -1)
    session.execute(delete(MemberDay).where(MemberDay.attempt_id == attempt.id))
    items = [(item.answered_at, item.verdict, item.question.bank_id, item.question.category) for item in attempt.items]
    rows = _attempt_rows(attempt, items)
    if rows:
        session.execute(MemberDay.__table__.insert(), rows)
    for row in rows:
        key = (row["user_id"], row["day"])
        _shift(deltas[key], period_totals.kinds(row["exam_id"], row["answered"], row["sessions"]), 1)
    period_totals.add(session, {key: values for key, values in deltas.items() if any(values)})


def rebuild(session: Session) -> int:
    """Recompute every summary row from the stored attempts and commit; returns the number of rows."""
    session.execute(delete(MemberDay))
    rows: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # exam id, answered, correct, sessions
    answers = session.execute(
        select(
            Attempt.user_id,
            Attempt.id,
            Attempt.exam_id,
            AttemptItem.answered_at,
            AttemptItem.verdict,
            Question.bank_id,
            Question.category,
        )
        .join(AttemptItem, AttemptItem.attempt_id == Attempt.id)
        .join(Question, Question.id == AttemptItem.question_id)
        .where(AttemptItem.answered_at.is_not(None), AttemptItem.verdict.is_not(None))
    )
    for user_id, attempt_id, exam_id, answered_at, verdict, bank_id, category in answers:
        if counts(verdict):
            row = rows[(user_id, local_day(answered_at), bank_id, category or "", attempt_id if exam_id else 0)]
            row[0], row[1], row[2] = exam_id or 0, row[1] + 1, row[2] + (verdict == Verdict.CORRECT)
    sessions = session.execute(
        select(Attempt.user_id, Attempt.id, Attempt.exam_id, Attempt.finished_at).where(
            Attempt.status == AttemptStatus.FINISHED, Attempt.answered_count > 0, Attempt.finished_at.is_not(None)
        )
    )
    for user_id, attempt_id, exam_id, finished_at in sessions:
        row = rows[(user_id, local_day(finished_at), 0, "", attempt_id if exam_id else 0)]
        row[0], row[3] = exam_id or 0, row[3] + 1
    values = [summary_row(key, *value) for key, value in rows.items()]
    for start in range(0, len(values), 5_000):
        session.execute(MemberDay.__table__.insert(), values[start : start + 5_000])
    period_totals.rebuild(session)
    session.commit()
    return len(values)


def visible_rows(visible_exam_ids: Any) -> ColumnElement[bool]:
    """Rows a member's eyes may count: self-test rows, session rows, and rows of exams in `visible_exam_ids`
    (a subquery of exam ids whose review is visible, see services.exam_access.visible_exam_ids)."""
    return or_(MemberDay.exam_id == 0, MemberDay.bank_id == 0, MemberDay.exam_id.in_(visible_exam_ids))
