"""Clocks and deadlines.

Time is injected: services take a `Clock`, tests pass a `FakeClock`, so deadline edges are tested
exactly instead of with sleeps. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current UTC time."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current aware UTC time."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to, for tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")

    def now(self) -> datetime:
        """Return the frozen current time."""
        return self._now

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        """Move time forward by `seconds` (and/or timedelta keywords) and return the new now."""
        self._now += timedelta(seconds=seconds, **delta)
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when` (aware)."""
        if when.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = when


@dataclass(frozen=True)
class Deadline:
    """A moment after which answers stop counting, with a grace period for answers in flight.

    Decision: an answer stamped *exactly at* `at` is on time; within `at + grace` (inclusive) it is
    still accepted (it was sent before the deadline and was in flight); later it is refused.
    """

    at: datetime
    grace: timedelta = timedelta(0)

    def remaining(self, now: datetime) -> timedelta:
        """Time left until `at`, never negative."""
        return max(self.at - now, timedelta(0))

    def expired(self, now: datetime) -> bool:
        """True once `now` is strictly past `at` (the countdown shows zero)."""
        return now > self.at

    def accepts(self, now: datetime) -> bool:
        """True while an answer received at `now` still counts (until `at + grace`, inclusive)."""
        return now <= self.at + self.grace

    @classmethod
    def earliest(cls, *moments: datetime, grace: timedelta = timedelta(0)) -> Deadline:
        """The deadline at the earliest of `moments` (e.g. start + duration vs. window close)."""
        return cls(at=min(moments), grace=grace)
