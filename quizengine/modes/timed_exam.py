"""Timed-exam policy: the member's window and deadline, attempts, review visibility, member status.

The server clock is the only authority. A member's deadline is the earlier of start + duration and the
window's close, both possibly moved by a 补考 override.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from quizengine.engine.timing import Deadline


class ReviewPolicy(StrEnum):
    """When results, answers and 解析 are shown to members."""

    IMMEDIATELY = "immediately"
    AFTER_CLOSE = "after_close"
    MANUAL = "manual"


REVIEW_LABELS = {
    ReviewPolicy.IMMEDIATELY: "交卷后立即公布",
    ReviewPolicy.AFTER_CLOSE: "考试结束后公布",
    ReviewPolicy.MANUAL: "由组织员手动公布",
}


class MemberStatus(StrEnum):
    """Where a member of the audience stands (一个不落)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


STATUS_LABELS = {
    MemberStatus.NOT_STARTED: "未参加",
    MemberStatus.IN_PROGRESS: "答题中",
    MemberStatus.SUBMITTED: "已交卷",
}


@dataclass(frozen=True)
class Window:
    """A member's effective exam window, duration and number of attempts."""

    opens_at: datetime
    closes_at: datetime
    duration: timedelta
    attempts: int

    def is_open(self, now: datetime) -> bool:
        """True while a new attempt may be started (opening moment included, closing moment excluded)."""
        return self.opens_at <= now < self.closes_at

    def deadline(self, started_at: datetime, grace: timedelta) -> Deadline:
        """The attempt's deadline: start + duration, cut short by the window's close."""
        return Deadline.earliest(started_at + self.duration, self.closes_at, grace=grace)


def member_window(
    opens_at: datetime,
    closes_at: datetime,
    duration_minutes: int,
    attempts_allowed: int,
    *,
    override_opens_at: datetime | None = None,
    override_closes_at: datetime | None = None,
    override_duration_minutes: int | None = None,
    extra_attempts: int = 0,
) -> Window:
    """Apply a member's 补考 override (each field replaces the exam's own when given)."""
    return Window(
        override_opens_at or opens_at,
        override_closes_at or closes_at,
        timedelta(minutes=override_duration_minutes or duration_minutes),
        attempts_allowed + extra_attempts,
    )


def review_visible(policy: ReviewPolicy, released: bool, window_closed: bool) -> bool:
    """Whether a member may see the score, the right answers and 解析 of a submitted attempt.

    Decision: AFTER_CLOSE waits for the exam's own window to close (not a member's make-up window), so
    early takers cannot leak answers to those still sitting the exam; an organizer's release always shows.
    """
    if released or policy is ReviewPolicy.IMMEDIATELY:
        return True
    return policy is ReviewPolicy.AFTER_CLOSE and window_closed


def passed(score: float, pass_mark: float) -> bool:
    """A score at or above the pass mark passes."""
    return score >= pass_mark
