"""What a member did in a period, as the 验收标准 reads it: per-day activity or the period's totals, the period's
exams, the study days their branch held, contests. The services gather them (services.standard_facts); the
rules (engine.standard_rules) only count."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DayFacts:
    """One local day of a member's activity: all answers (self-test and visible exams) and sessions, plus the
    self-test part on its own."""

    day: date
    answered: int = 0
    correct: int = 0
    sessions: int = 0
    practice_answered: int = 0
    practice_sessions: int = 0


@dataclass(frozen=True)
class PeriodTotals:
    """A member's days in the period (up to today) summed: all that the rules but the per-day ones read. The
    committee overview sums them in SQL for thousands of members instead of building every day."""

    active_days: int = 0
    practice_sessions: int = 0
    practice_answered: int = 0

    @classmethod
    def of(cls, days: Iterable[DayFacts]) -> PeriodTotals:
        """The totals of some days (a day counts as active with any answer or session)."""
        active = practice_sessions = practice_answered = 0
        for day in days:
            active += 1 if day.answered or day.sessions else 0
            practice_sessions += day.practice_sessions
            practice_answered += day.practice_answered
        return cls(active, practice_sessions, practice_answered)


@dataclass(frozen=True)
class ExamFacts:
    """A scheduled exam for the member's branch that closes in the period, and how the member did."""

    title: str
    pass_mark: float
    closes_on: date
    #: Best score of a submitted attempt, None when the member has not submitted one.
    score: float | None = None
    #: A submitted attempt still has short answers to grade.
    pending: bool = False
    #: The score may not be shown to whoever reads this evaluation yet (the member, before the exam's review
    #: policy allows): the rule says 成绩未公布 and waits.
    hidden: bool = False


@dataclass(frozen=True)
class StudyDayFacts:
    """A study day (学习日) the member's branch held in the period, and what the member did for its topic."""

    held_on: date
    attended: bool = False
    #: Finished at least one topic practice of the study day's topic.
    practised: bool = False
    #: Joined the study day's 小问答; None when the branch ran none that day.
    quiz: bool | None = None


@dataclass(frozen=True)
class MemberFacts:
    """Everything the standard looks at for one member (any days outside the period are ignored)."""

    joined_on: date
    active: bool = True
    probationary: bool = False
    days: Sequence[DayFacts] = ()
    exams: Sequence[ExamFacts] = ()
    #: Local days on which the member took part in a finished contest.
    contest_days: Sequence[date] = ()
    #: The study days the member's branch held (学习计划), for the study rules (engine.study_rules).
    study_days: Sequence[StudyDayFacts] = ()
    #: The period's days already summed by the caller (then `days` stays empty; a standard that `needs_days`
    #: must be given the days instead).
    totals: PeriodTotals | None = None
