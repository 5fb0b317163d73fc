"""Per-question spacing: a Leitner schedule.

Each member/question pair sits in a box 0–5. A correct answer moves it up one box, a wrong (or partly
wrong) answer back to box 0; the box decides when the question is due again. Box 0 comes back after
ten minutes, so a question missed on the bus is asked again on the way home, not next week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: How long after an answer a question in each box is due again.
INTERVALS: tuple[timedelta, ...] = (
    timedelta(minutes=10),
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=30),
)
TOP_BOX = len(INTERVALS) - 1


@dataclass(frozen=True)
class ReviewState:
    """Where a question stands for one member."""

    box: int
    due_at: datetime


def review(previous: ReviewState | None, correct: bool, now: datetime) -> ReviewState:
    """The state after an answer at `now`: up a box when correct, back to box 0 when not."""
    if not correct:
        return ReviewState(0, now + INTERVALS[0])
    box = 1 if previous is None else min(previous.box + 1, TOP_BOX)
    return ReviewState(box, now + INTERVALS[box])


def is_due(state: ReviewState | None, now: datetime) -> bool:
    """A question never answered is not *due* (it is unseen); an answered one is due once its time comes."""
    return state is not None and state.due_at <= now
