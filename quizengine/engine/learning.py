"""Learning points (学习积分) and the daily streak, computed from stored activity.

Both are pure functions of the answers and sessions a member has, grouped by local calendar day,
so they can be recomputed at any time (after a rule change, say) and never drift from the answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class PointsPolicy:
    """How activity earns points: per correct answer, per finished session, capped per day."""

    per_correct: int = 1
    per_session: int = 5
    daily_cap: int = 50


@dataclass(frozen=True)
class DayActivity:
    """One local day of a member's activity."""

    day: date
    answered: int = 0
    correct: int = 0
    sessions: int = 0


def day_points(activity: DayActivity, policy: PointsPolicy) -> int:
    """Points earned on one day, never more than the daily cap."""
    raw = activity.correct * policy.per_correct + activity.sessions * policy.per_session
    return min(raw, policy.daily_cap)


def points_added(day: DayActivity, part: DayActivity, policy: PointsPolicy) -> int:
    """The points ``part`` of a day's activity (one session) added to the day: the cap applies to the whole day."""
    rest = DayActivity(day.day, day.answered - part.answered, day.correct - part.correct, day.sessions - part.sessions)
    return day_points(day, policy) - day_points(rest, policy)


def total_points(days: Iterable[DayActivity], policy: PointsPolicy) -> int:
    """All points ever earned (each day capped on its own)."""
    return sum(day_points(activity, policy) for activity in days)


def current_streak(active_days: Iterable[date], today: date) -> int:
    """Consecutive active days ending today, or ending yesterday while today is still open.

    Decision: a streak is not broken until a whole day passes without activity, so a member who studied
    every day up to yesterday keeps the streak all of today.
    """
    days = set(active_days)
    cursor = today if today in days else today - timedelta(days=1)
    streak = 0
    while cursor in days:
        streak += 1
        cursor -= timedelta(days=1)
    return streak


def merge_days(answers: Mapping[date, tuple[int, int]], sessions: Mapping[date, int]) -> list[DayActivity]:
    """Combine per-day (answered, correct) counts and per-day finished sessions, oldest day first."""
    days = sorted(set(answers) | set(sessions))
    return [
        DayActivity(day, answers.get(day, (0, 0))[0], answers.get(day, (0, 0))[1], sessions.get(day, 0)) for day in days
    ]
