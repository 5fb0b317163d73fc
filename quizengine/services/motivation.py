"""What keeps a member practising: today's goal and points, the streak, and what to practise next.

Today's figures come from the learning record (services.records), so the summary, the home page and the
record page always agree, whatever rule decides which answers count there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.learning import DayActivity, PointsPolicy, points_added
from quizengine.engine.questions import Verdict
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import Attempt, AttemptStatus, QuestionProgress, User
from quizengine.modes.self_test import KIND_LABELS, WEAK_CHAPTER_ACCURACY, PracticeKind

from .records import LearningRecord, get_learning_record
from .wrong_book import progress_question_ids

#: A chapter is judged weak only after this many answers in it (two slips are not a weakness).
MIN_ANSWERS_FOR_WEAKNESS = 3


def points_policy(config: Mapping[str, Any]) -> PointsPolicy:
    """The points rules of the app's configuration."""
    return PointsPolicy(config["POINTS_PER_CORRECT"], config["POINTS_PER_SESSION"], config["POINTS_DAILY_CAP"])


@dataclass(frozen=True)
class Today:
    """A member's day so far: questions against the daily goal, points against the daily cap, the streak."""

    answered: int
    goal: int
    points: int
    cap: int
    streak: int

    @property
    def goal_met(self) -> bool:
        """The daily goal is reached."""
        return self.answered >= self.goal

    @property
    def goal_left(self) -> int:
        """Questions still to answer today to reach the goal."""
        return max(self.goal - self.answered, 0)


@dataclass(frozen=True)
class Suggestion:
    """The practice to do next, why, and what the start form needs (kind, and a chapter "bank_id:key")."""

    kind: PracticeKind
    title: str
    reason: str
    chapter: str | None = None


@dataclass(frozen=True)
class SessionSummary:
    """What a finished session adds: points earned by it, the day so far, the next practice."""

    earned: int
    today: Today
    suggestion: Suggestion


def _today(record: LearningRecord, policy: PointsPolicy, goal: int) -> Today:
    day = next((point for point in record.days if point.day == record.today), None)
    return Today(
        answered=day.answered if day else 0,
        goal=goal,
        points=day.points if day else 0,
        cap=policy.daily_cap,
        streak=record.streak,
    )


def _due_reviews(session: Session, member: User, now: datetime) -> int:
    due = progress_question_ids(member, QuestionProgress.due_at <= now)
    return session.scalar(select(func.count()).select_from(due.subquery())) or 0


def suggest_next(session: Session, member: User, record: LearningRecord, now: datetime) -> Suggestion:
    """智能练习 when reviews are due, else the weakest chapter (below the weak mark), else 智能练习 for new ones."""
    smart = KIND_LABELS[PracticeKind.SMART]
    due = _due_reviews(session, member, now)
    if due:
        return Suggestion(PracticeKind.SMART, smart, f"有 {due} 道题到了复习时间，趁还记得再练一遍。")
    weak = [
        chapter
        for chapter in record.chapters
        if chapter.answered >= MIN_ANSWERS_FOR_WEAKNESS
        and chapter.accuracy < WEAK_CHAPTER_ACCURACY
        and not chapter.key.endswith(":")  # answers without a chapter cannot be practised as one
    ]
    if weak:
        chapter = min(weak, key=lambda mastery: (mastery.accuracy, -mastery.answered))
        return Suggestion(
            PracticeKind.CUSTOM,
            f"薄弱章节：{chapter.title}",
            f"这一章正确率 {round(100 * chapter.accuracy)}%，是你最需要巩固的。",
            chapter.key,
        )
    return Suggestion(PracticeKind.SMART, smart, "没有待复习的题，也没有薄弱章节：学几道还没做过的新题。")


def today_progress(
    session: Session, member: User, policy: PointsPolicy, goal: int, zone: ZoneInfo, clock: Clock | None = None
) -> tuple[Today, Suggestion]:
    """The member's day so far and the practice to do next (the home page)."""
    clock = clock or SystemClock()
    record = get_learning_record(session, member, member, policy=policy, zone=zone, clock=clock)
    return _today(record, policy, goal), suggest_next(session, member, record, clock.now())


def session_summary(
    session: Session,
    member: User,
    attempt: Attempt,
    policy: PointsPolicy,
    goal: int,
    zone: ZoneInfo,
    clock: Clock | None = None,
) -> SessionSummary:
    """Points this session earned (within today's cap), the day so far and the next practice."""
    clock = clock or SystemClock()
    record = get_learning_record(session, member, member, policy=policy, zone=zone, clock=clock)
    today = record.today
    day = next((point for point in record.days if point.day == today), None)
    graded_today = [
        item
        for item in attempt.items
        if item.answered_at is not None
        and item.verdict != Verdict.PENDING
        and item.answered_at.astimezone(zone).date() == today
    ]
    finished_today = (
        attempt.status == AttemptStatus.FINISHED
        and attempt.finished_at is not None
        and attempt.answered_count > 0
        and attempt.finished_at.astimezone(zone).date() == today
    )
    whole = DayActivity(today, day.answered, day.correct, day.sessions) if day else DayActivity(today)
    part = DayActivity(  # never more than the day the record counts
        today,
        min(len(graded_today), whole.answered),
        min(sum(1 for item in graded_today if item.verdict == Verdict.CORRECT), whole.correct),
        min(1 if finished_today else 0, whole.sessions),
    )
    return SessionSummary(
        earned=points_added(whole, part, policy),
        today=_today(record, policy, goal),
        suggestion=suggest_next(session, member, record, clock.now()),
    )
