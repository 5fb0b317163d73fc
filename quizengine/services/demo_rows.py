"""What the demo's writers share: the member profiles, the rows collected and written in bulk together with the
`member_days` summaries they imply (computed from the very rows inserted, as `summaries.rebuild` would), the
question pool, local times and month boundaries, and the report of what was written."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import JSON, Table, insert, select
from sqlalchemy.orm import Session

from quizengine.models import Attempt, AttemptItem, Bank, MemberDay, Question, QuestionProgress, QuestionRevision, User

from .summaries import ZONE, Key, summary_row

DIGITS = "零一二三四五六七八九"
#: Member profiles: (share of members, self-test sessions a month, accuracy, chance of taking the month's exam).
PROFILES = {
    "idle": (0.12, (0, 0), 0.55, 0.10),
    "light": (0.25, (1, 3), 0.62, 0.60),
    "regular": (0.38, (3, 6), 0.72, 0.90),
    "diligent": (0.25, (6, 11), 0.82, 1.00),
}
GRADABLE = ("single", "multiple", "judge")
INSERT_CHUNK = 20_000


@dataclass
class DemoReport:
    """What was written, and the accounts to try (all share one password, shown once)."""

    branches: int = 0
    members: int = 0
    answers: int = 0
    sessions: int = 0
    exams: int = 0
    exam_attempts: int = 0
    contest_id: int | None = None
    password: str = ""
    organizers: list[tuple[str, str, str]] = field(default_factory=list)  # (branch, username, name)
    inspector: str = ""
    members_to_try: list[tuple[str, str, str]] = field(default_factory=list)  # (username, name, profile)


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一 (1–99, for 第…党支部)."""
    if not 0 < n < 100:
        raise ValueError("chinese_number covers 1–99")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else f"{DIGITS[tens]}十")
    return head + (DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class DemoQuestion:
    id: int
    revision_id: int
    bank_id: int
    category: str
    type: str
    answer: Any
    options: tuple[str, ...]
    external_id: str
    content_hash: str


@dataclass
class DemoMember:
    user: User
    profile: str
    skill: float


class RowWriter:
    """Collects rows and the summaries they imply; writes them in chunks."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.days: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # exam id, answered, correct, sessions
        self.progress: dict[tuple[int, int], list[Any]] = {}

    def attempts(self, rows: list[dict[str, Any]]) -> list[int]:
        return list(self.session.scalars(insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True), rows))

    def items(self, rows: list[dict[str, Any]]) -> None:
        self.bulk(AttemptItem.__table__, rows)

    def bulk(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert many rows: PostgreSQL's COPY (the multi-row INSERT is ten times slower there), else executemany."""
        if not rows:
            return
        if self.session.get_bind().dialect.name != "postgresql":
            for start in range(0, len(rows), INSERT_CHUNK):
                self.session.execute(table.insert(), rows[start : start + INSERT_CHUNK])
            return
        names = list(rows[0])
        as_json = {name for name in names if isinstance(table.c[name].type, JSON)}
        cursor = self.session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_copy_value(row[name], name in as_json) for name in names])

    def count(self, key: Key, exam_id: int, correct: bool) -> None:
        row = self.days[key]
        row[0], row[1], row[2] = exam_id, row[1] + 1, row[2] + correct

    def count_session(self, key: Key, exam_id: int) -> None:
        row = self.days[key]
        row[0], row[3] = exam_id, row[3] + 1

    def remember(self, user_id: int, question_id: int, at: datetime, correct: bool) -> None:
        """Self-test history of one question (answers arrive in time order per member)."""
        entry = self.progress.setdefault((user_id, question_id), [0, 0, 0, 0, at])  # answered, correct, box, streak
        entry[0] += 1
        entry[1] += correct
        entry[2] = min(entry[2] + 1, 5) if correct else 0
        entry[3] = 0 if correct else entry[3] + 1
        entry[4] = at

    def flush_summaries(self) -> int:
        rows = [summary_row(key, *value) for key, value in self.days.items()]
        self.bulk(MemberDay.__table__, rows)
        self.days.clear()
        return len(rows)

    def flush_progress(self) -> None:
        rows = [
            {
                "user_id": user_id,
                "question_id": question_id,
                "box": box,
                "due_at": last + timedelta(days=2**box),
                "last_answered_at": last,
                "times_answered": answered,
                "times_correct": correct,
                "in_wrong_book": streak > 0,
                "wrong_streak": streak,
            }
            for (user_id, question_id), (answered, correct, box, streak, last) in self.progress.items()
        ]
        self.bulk(QuestionProgress.__table__, rows)
        self.progress.clear()


def _copy_value(value: Any, as_json: bool) -> Any:
    """A value as COPY wants it: JSON columns as JSON text, aware times as naive UTC (as `UTCDateTime` stores)."""
    if as_json:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def local_time(day: date, hour: int, minute: int = 0) -> datetime:
    """A local (Asia/Shanghai) time as aware UTC."""
    return datetime.combine(day, time(hour, minute), ZONE).astimezone(UTC)


def month_starts(today: date, count: int) -> list[date]:
    """First days of the last `count` months, oldest first, ending with today's month."""
    firsts, year, month = [], today.year, today.month
    for _ in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def month_end(first: date) -> date:
    """The first day of the next month."""
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def response_for(question: DemoQuestion, correct: bool, rng: random.Random) -> Any:
    """A stored response that grades as `correct` (judge: bool, single: a key, multiple: sorted keys)."""
    if question.type == "judge":
        return question.answer if correct else not question.answer
    if question.type == "single":
        return question.answer if correct else rng.choice([key for key in question.options if key != question.answer])
    right = sorted(question.answer)
    if correct:
        return right
    wrong = [key for key in question.options if key not in right]
    return sorted(right[:-1] + wrong[:1]) if wrong and rng.random() < 0.5 else right[:-1] or sorted(question.options)


def item_row(
    attempt_id: int,
    position: int,
    question: DemoQuestion,
    at: datetime,
    correct: bool,
    points: float,
    rng: random.Random,
) -> dict[str, Any]:
    """One answered item of a self-test session or an exam paper, graded as `correct`, worth `points`."""
    return {
        "attempt_id": attempt_id,
        "position": position,
        "question_id": question.id,
        "revision_id": question.revision_id,
        "option_order": list(question.options),
        "points": points,
        "response": response_for(question, correct, rng),
        "verdict": "correct" if correct else "wrong",
        "credit": 1.0 if correct else 0.0,
        "score": points if correct else 0.0,
        "answered_at": at,
    }


def question_pool(session: Session) -> tuple[list[DemoQuestion], dict[int, str]]:
    """Gradable current questions and bank titles."""
    rows = session.execute(
        select(Question, QuestionRevision)
        .join(
            QuestionRevision,
            (QuestionRevision.question_id == Question.id) & (QuestionRevision.number == Question.current_revision),
        )
        .where(Question.retired.is_(False), Question.type.in_(GRADABLE))
        .order_by(Question.id)
    ).all()
    pool = [
        DemoQuestion(
            question.id,
            revision.id,
            question.bank_id,
            question.category or "",
            question.type,
            revision.content.get("answer"),
            tuple(sorted((revision.content.get("options") or {}).keys())),
            question.external_id,
            revision.content_hash,
        )
        for question, revision in rows
    ]
    banks = dict(session.execute(select(Bank.id, Bank.title)).all())
    return pool, banks
