"""Self-test policy: practice kinds, the wrong-answer book rule and the 智能练习 order.

Pure rules on top of the engine; services feed them rows and save what they decide.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class PracticeKind(StrEnum):
    """The ways a member can practise."""

    CUSTOM = "custom"  # 自选练习: banks/chapters/types/count
    SEQUENTIAL = "sequential"  # 顺序练习: a bank in order, resuming where the member stopped
    RANDOM = "random"  # 随机练习
    WRONG_BOOK = "wrong_book"  # 错题重练
    SMART = "smart"  # 智能练习: due reviews, then weak chapters, then unseen
    MOCK = "mock"  # 模拟考试: timed paper, feedback only at the end; recorded as practice


KIND_LABELS = {
    PracticeKind.CUSTOM: "自选练习",
    PracticeKind.SEQUENTIAL: "顺序练习",
    PracticeKind.RANDOM: "随机练习",
    PracticeKind.WRONG_BOOK: "错题重练",
    PracticeKind.SMART: "智能练习",
    PracticeKind.MOCK: "模拟考试",
}

#: Allowed session sizes; large enough for a chapter, small enough for a bus ride.
COUNTS = (5, 10, 20, 30, 50)

#: Correct answers in a row that take a question out of the wrong-answer book.
WRONG_BOOK_EXIT_STREAK = 2

#: A chapter below this accuracy counts as weak for 智能练习.
WEAK_CHAPTER_ACCURACY = 0.8


@dataclass(frozen=True)
class MockPaperRule:
    """The mock exam: a small timed paper drawn like the monthly exam."""

    single: int = 10
    multiple: int = 5
    judge: int = 5
    minutes: int = 20
    #: Points per question by type (multiple choice is all-or-nothing, as in the monthly exam's default).
    points: tuple[tuple[str, float], ...] = (("single", 4.0), ("multiple", 6.0), ("judge", 4.0))


@dataclass(frozen=True)
class WrongBookState:
    """Whether a question is in the member's wrong-answer book, and the correct answers in a row since."""

    in_book: bool = False
    streak: int = 0


def after_answer(state: WrongBookState, correct: bool) -> WrongBookState:
    """A wrong answer puts the question in the book; two later correct answers in a row take it out."""
    if not correct:
        return WrongBookState(True, 0)
    if not state.in_book:
        return state
    streak = state.streak + 1
    return WrongBookState(False, 0) if streak >= WRONG_BOOK_EXIT_STREAK else WrongBookState(True, streak)


@dataclass(frozen=True)
class Candidate:
    """A question as 智能练习 sees it: its chapter, whether it was ever answered, when it is due."""

    question_id: int
    chapter: str
    seen: bool
    due_at: datetime | None = None
    last_answered_at: datetime | None = None


def smart_order(
    candidates: Sequence[Candidate],
    chapter_accuracy: Mapping[str, float],
    count: int,
    now: datetime,
    rng: random.Random,
) -> list[int]:
    """Pick `count` question ids: due reviews first (most overdue first), then questions from weak chapters
    (weakest first), then unseen questions, then the least recently answered rest.

    A chapter is weak when the member's accuracy there is below WEAK_CHAPTER_ACCURACY; chapters the member
    never tried are not weak (their questions are unseen and come in the third tier).
    """
    pool = list(candidates)
    rng.shuffle(pool)  # random order within equal keys below
    due = sorted((c for c in pool if c.seen and c.due_at is not None and c.due_at <= now), key=lambda c: c.due_at)
    picked: list[int] = [c.question_id for c in due]
    taken = set(picked)
    weak = {chapter: accuracy for chapter, accuracy in chapter_accuracy.items() if accuracy < WEAK_CHAPTER_ACCURACY}
    in_weak = sorted(
        (c for c in pool if c.question_id not in taken and c.chapter in weak), key=lambda c: weak[c.chapter]
    )
    picked += [c.question_id for c in in_weak]
    taken.update(c.question_id for c in in_weak)
    unseen = [c for c in pool if c.question_id not in taken and not c.seen]
    picked += [c.question_id for c in unseen]
    taken.update(c.question_id for c in unseen)
    oldest = datetime.min.replace(tzinfo=now.tzinfo)
    rest = sorted((c for c in pool if c.question_id not in taken), key=lambda c: c.last_answered_at or oldest)
    picked += [c.question_id for c in rest]
    return picked[:count]


def sequential_start(total: int, cursor: int) -> tuple[int, bool]:
    """Where the next 顺序练习 session starts, and whether it wrapped around to the first question."""
    if 0 < total <= cursor:
        return 0, True
    return min(cursor, total), False


def mock_deadline(started_at: datetime, rule: MockPaperRule) -> datetime:
    """The mock exam's deadline."""
    return started_at + timedelta(minutes=rule.minutes)
