"""题库管理's questions: search (stem and options, filtered by bank, chapter, type, difficulty) and a question's page
(its revisions, where it was used, its facility from every answer, its open 纠错 reports).

Search reads the live questions from the per-process pool (`load_live_revisions`: one aggregate query when
nothing changed, the revisions parsed once) and filters them in Python: the text lives in the revisions' JSON,
which SQL cannot search portably. docs/performance.md has its figures on the shipped banks ×10.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from quizengine.engine.questions import Question as EngineQuestion
from quizengine.models import (
    Attempt,
    AttemptItem,
    Bank,
    Contest,
    ContestAnswer,
    Exam,
    ExamBranch,
    Question,
    QuestionReport,
    QuestionRevision,
    ReportStatus,
    User,
)

from .access import readable_branch_ids, require
from .bank_admin import can_manage_banks, can_see_bank, visible_bank_ids
from .questions import load_live_revisions

PAGE_SIZE = 20
#: Longest search text a client may send (a longer one is cut: no stem is this long anyway).
QUERY_MAX = 100


@dataclass(frozen=True)
class SearchFilters:
    """What the search page asks for; empty values do not filter."""

    text: str = ""
    bank_id: int | None = None
    chapter: str = ""
    type: str = ""
    difficulty: int | None = None
    page: int = 1


@dataclass(frozen=True)
class SearchHit:
    """One found question: its row id, bank and current content."""

    question_id: int
    bank_id: int
    question: EngineQuestion


@dataclass(frozen=True)
class SearchPage:
    """One page of results, the total and the page count."""

    hits: list[SearchHit]
    total: int
    page: int
    pages: int


def _matches(question: EngineQuestion, needle: str) -> bool:
    if needle in question.stem.casefold():
        return True
    return any(needle in option.text.casefold() for option in question.options)


def search(session: Session, user: User, filters: SearchFilters) -> SearchPage:
    """Live questions of the banks the user sees that match every filter, in bank order, one page."""
    require(can_manage_banks(user))
    visible = visible_bank_ids(session, user)
    if filters.bank_id is not None and filters.bank_id not in visible:
        return SearchPage([], 0, 1, 1)
    pool = load_live_revisions(session, [filters.bank_id] if filters.bank_id is not None else visible)
    needle = filters.text.strip().casefold()[:QUERY_MAX]
    found = [
        live
        for live in pool
        if (not filters.chapter or live.question.category == filters.chapter)
        and (not filters.type or live.question.type == filters.type)
        and (filters.difficulty is None or live.question.difficulty == filters.difficulty)
        and (not needle or _matches(live.question, needle))
    ]
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(filters.page, 1), pages)
    chosen = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return SearchPage(
        [SearchHit(live.question_id, live.bank_id, live.question) for live in chosen], len(found), page, pages
    )


@dataclass(frozen=True)
class RevisionEntry:
    """One revision, newest first, with the fields it changed from the one before."""

    revision: QuestionRevision
    engine: EngineQuestion
    changed: list[str]


@dataclass(frozen=True)
class Usage:
    """Where a question was used and how members did on it."""

    exams: list[tuple[int, str, int]]
    contests: list[tuple[int, str, int]]
    practice_answers: int
    answered: int
    correct: int

    @property
    def facility(self) -> float | None:
        """Share of graded answers that were correct (None before any)."""
        return self.correct / self.answered if self.answered else None


@dataclass(frozen=True)
class QuestionPage:
    """Everything the question's page shows."""

    question: Question
    bank: Bank
    current: EngineQuestion
    revisions: list[RevisionEntry]
    usage: Usage
    reports: list[QuestionReport]


#: Content fields in the order a reader checks them, with their Chinese names (the revisions list).
FIELD_LABELS = {
    "type": "题型",
    "stem": "题干",
    "options": "选项",
    "answer": "答案",
    "explanation": "解析",
    "reference": "出处",
    "quote": "原文",
    "category": "章节",
    "difficulty": "难度",
    "points": "分值",
    "tags": "标签",
    "keypoints": "要点",
    "fixed": "固定选项",
    "group": "题组",
}


def _changed(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return []
    keys = [key for key in FIELD_LABELS if before.get(key) != after.get(key)]
    others = sorted(
        key for key in set(before) | set(after) if key not in FIELD_LABELS and before.get(key) != after.get(key)
    )
    return [FIELD_LABELS[key] for key in keys] + others


def _usage(session: Session, user: User, question: Question) -> Usage:
    """Where the question was used — the exams and contests of the branches the user reads (all for admins) —
    and how every answer to it went, wherever it was given (the facility is the question's, not a branch's)."""
    graded = AttemptItem.verdict.in_(("correct", "partial", "wrong"))
    branches = readable_branch_ids(user)
    exams_query = (
        select(Exam.id, Exam.title, func.count(AttemptItem.id))
        .join(Attempt, Attempt.exam_id == Exam.id)
        .join(AttemptItem, AttemptItem.attempt_id == Attempt.id)
        .where(AttemptItem.question_id == question.id, Attempt.mode == "exam")
        .group_by(Exam.id, Exam.title)
        .order_by(Exam.id.desc())
    )
    contests_query = (
        select(Contest.id, Contest.title, func.count(ContestAnswer.id))
        .join(ContestAnswer, ContestAnswer.contest_id == Contest.id)
        .where(ContestAnswer.question_id == question.external_id)
        .group_by(Contest.id, Contest.title)
        .order_by(Contest.id.desc())
    )
    if branches is not None:
        audience = select(ExamBranch.exam_id).where(ExamBranch.branch_id.in_(sorted(branches)))
        exams_query = exams_query.where(Exam.id.in_(audience))
        contests_query = contests_query.where(Contest.branch_id.in_(sorted(branches)))
    exams = [(exam_id, title, count) for exam_id, title, count in session.execute(exams_query)]
    contests = [(contest_id, title, count) for contest_id, title, count in session.execute(contests_query)]
    practice = session.scalar(
        select(func.count(AttemptItem.id))
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(AttemptItem.question_id == question.id, Attempt.mode != "exam", AttemptItem.answered_at.is_not(None))
    )
    answered, correct = session.execute(
        select(func.count(AttemptItem.id), func.count(AttemptItem.id).filter(AttemptItem.verdict == "correct")).where(
            AttemptItem.question_id == question.id, graded
        )
    ).one()
    in_contests, correct_in_contests = session.execute(
        select(
            func.count(ContestAnswer.id), func.count(ContestAnswer.id).filter(ContestAnswer.verdict == "correct")
        ).where(
            ContestAnswer.question_id == question.external_id,
            ContestAnswer.verdict.in_(("correct", "partial", "wrong")),
        )
    ).one()
    return Usage(exams, contests, practice or 0, answered + in_contests, correct + correct_in_contests)


def question_page(session: Session, user: User, question_id: int) -> QuestionPage:
    """A question of a bank the user sees (retired ones too), with its history, usage and open reports."""
    question = session.get(Question, question_id)
    require(question is not None and can_manage_banks(user) and can_see_bank(user, question.bank), "没有找到这道题")
    assert question is not None
    revisions = list(question.revisions)
    entries = []
    before: dict[str, Any] | None = None
    for revision in revisions:
        entries.append(
            RevisionEntry(
                revision,
                EngineQuestion.from_content(question.external_id, revision.content),
                _changed(before, revision.content),
            )
        )
        before = revision.content
    current = next(entry.engine for entry in entries if entry.revision.number == question.current_revision)
    reports_query = (
        select(QuestionReport)
        .options(joinedload(QuestionReport.user), joinedload(QuestionReport.revision))
        .where(QuestionReport.question_id == question.id, QuestionReport.status == ReportStatus.OPEN)
        .order_by(QuestionReport.created_at)
    )
    branches = readable_branch_ids(user)
    if branches is not None:
        reports_query = reports_query.where(QuestionReport.branch_id.in_(sorted(branches)))
    reports = list(session.scalars(reports_query))
    return QuestionPage(question, question.bank, current, entries[::-1], _usage(session, user, question), reports)
