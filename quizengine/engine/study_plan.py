"""学习计划: a period of weekly topics (专题) and the branch's weekly study day — plain data and calendar rules.

A plan starts on a Monday; its topics follow each other, each lasting a whole number of weeks. Weeks run
Monday 00:00 to Monday 00:00 in the committee's time zone (Asia/Shanghai): callers pass the local day, so a
member answering at 23:59 on Sunday in Beijing is still in that week whatever the server's clock says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class Reading:
    """Chapters of one bank (empty: the whole bank) — what to read, or where a topic's questions come from."""

    bank: str
    chapters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    """One 专题: studied over its weeks, practised from its question chapters."""

    number: int
    title: str
    start: date
    end: date  # exclusive: the Monday after its last week
    read: tuple[Reading, ...]
    questions: tuple[Reading, ...]
    note: str = ""

    @property
    def key(self) -> str:
        """Stable within a plan: the topic's place (stored on practice sessions to count progress)."""
        return str(self.number)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def covers(self, day: date) -> bool:
        return self.start <= day < self.end


@dataclass(frozen=True)
class StudyDay:
    """The branch's weekly 学习日: a weekday (1 = Monday … 7 = Sunday) and an optional start time."""

    weekday: int
    at: time | None = None

    def label(self) -> str:
        name = WEEKDAY_NAMES[self.weekday - 1]
        return f"每{name} {self.at:%H:%M}" if self.at else f"每{name}"

    def in_week(self, monday: date) -> date:
        """The study day's date in the week starting on `monday`."""
        return monday + timedelta(days=self.weekday - 1)


@dataclass(frozen=True)
class StudyPlan:
    """A plan's title, first Monday, study day and topics in order (validated by banks.study_plan)."""

    slug: str
    title: str
    start: date
    study_day: StudyDay
    topics: tuple[Topic, ...]
    practice_count: int = 10
    description: str = ""

    @property
    def end(self) -> date:
        return self.topics[-1].end if self.topics else self.start

    def topic_on(self, day: date) -> Topic | None:
        """The topic being studied on local `day` (None before the plan starts and after it ends)."""
        return next((topic for topic in self.topics if topic.covers(day)), None)

    def past(self, day: date) -> list[Topic]:
        """Topics whose weeks are over on `day`, most recent first."""
        return [topic for topic in reversed(self.topics) if topic.end <= day]

    def upcoming(self, day: date) -> list[Topic]:
        return [topic for topic in self.topics if topic.start > day]

    def topic(self, key: str) -> Topic | None:
        return next((topic for topic in self.topics if topic.key == key), None)


def monday_of(day: date) -> date:
    """The Monday that starts `day`'s week."""
    return day - timedelta(days=day.weekday())


def build_topics(start: date, entries: list[tuple[str, int, tuple[Reading, ...], tuple[Reading, ...], str]]) -> tuple:
    """Topics laid end to end from `start`: (title, weeks, read, questions, note) each; questions default to read."""
    topics, begin = [], start
    for number, (title, weeks, read, questions, note) in enumerate(entries, start=1):
        end = begin + timedelta(weeks=weeks)
        topics.append(Topic(number, title, begin, end, read, questions or read, note))
        begin = end
    return tuple(topics)
