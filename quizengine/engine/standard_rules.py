"""The rules of a 验收标准: each counts one thing over a member's period (self-test sessions, active days, the
period's exam, 学习积分, contests) and says its progress and what is missing. The study-plan rules are in
engine.study_rules; engine.standard builds rules from their stored form and evaluates a standard."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from .errors import StandardError
from .learning import DayActivity, PointsPolicy, day_points
from .member_facts import DayFacts, ExamFacts, MemberFacts, PeriodTotals, StudyDayFacts
from .periods import Period


class Audience(StrEnum):
    """Whom a rule applies to."""

    ALL = "all"
    FULL = "full"
    PROBATIONARY = "probationary"


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome: met or not, the progress text and what is still missing ('' when met)."""

    label: str
    met: bool
    progress: str
    missing: str = ""


@dataclass(frozen=True)
class RuleContext:
    """A member's facts within one period as the rules read them, and the share of it they were held to."""

    period: Period
    days: list[DayFacts]
    exams: list[ExamFacts]
    contests: int
    share: float
    policy: PointsPolicy
    study_days: list[StudyDayFacts] = field(default_factory=list)
    totals: PeriodTotals = field(default_factory=PeriodTotals)

    def need(self, threshold: int) -> int:
        return math.ceil(threshold * self.share - 1e-9)


@dataclass(frozen=True)
class Rule(ABC):
    """A rule of the standard; subclasses say what is counted."""

    applies_to: Audience = Audience.ALL

    kind: str = field(default="", init=False)
    #: The rule reads each day (`RuleContext.days`), not only the period's totals.
    per_day: ClassVar[bool] = False

    def applies(self, facts: MemberFacts) -> bool:
        """Whether this rule binds the member (预备/正式)."""
        if self.applies_to is Audience.ALL:
            return True
        return (self.applies_to is Audience.PROBATIONARY) == facts.probationary

    @abstractmethod
    def check(self, context: RuleContext) -> RuleResult:
        """Evaluate the rule over the period's facts."""

    def met(self, context: RuleContext) -> bool:
        """Whether `check` would say met, without its texts (the rules counted most often say it cheaper)."""
        return self.check(context).met

    @abstractmethod
    def describe(self) -> str:
        """The rule in one Chinese phrase, for the standard's page."""

    def to_json(self) -> dict[str, Any]:
        """The rule as stored (see `rule_from_json`)."""
        data = {
            key: value
            for key, value in self.__dict__.items()
            if key not in {"kind", "applies_to"} and value is not None
        }
        data["type"] = self.kind
        if self.applies_to is not Audience.ALL:
            data["applies_to"] = self.applies_to.value
        return data


def _count(value: int, need: int, unit: str) -> str:
    return f"{value}/{need} {unit}"


@dataclass(frozen=True)
class SelfTestRule(Rule):
    """自测: at least `sessions` finished self-test sessions, or at least `questions` answers (either suffices)."""

    sessions: int | None = None
    questions: int | None = None
    kind: str = field(default="self_test", init=False)

    def __post_init__(self) -> None:
        if self.sessions is None and self.questions is None:
            raise StandardError("自测要求至少填写次数或题数")
        for value in (self.sessions, self.questions):
            if value is not None and not 0 < value <= 10_000:
                raise StandardError("自测次数和题数应在 1 到 10000 之间")

    def met(self, context: RuleContext) -> bool:
        done = context.totals
        return (self.sessions is not None and done.practice_sessions >= context.need(self.sessions)) or (
            self.questions is not None and done.practice_answered >= context.need(self.questions)
        )

    def check(self, context: RuleContext) -> RuleResult:
        done_sessions = context.totals.practice_sessions
        done_questions = context.totals.practice_answered
        parts, missing = [], []
        if self.sessions is not None:
            need = context.need(self.sessions)
            parts.append(f"自测 {_count(done_sessions, need, '次')}")
            missing.append(f"自测 {need - done_sessions} 次")
        if self.questions is not None:
            need = context.need(self.questions)
            parts.append(f"答题 {_count(done_questions, need, '道')}")
            missing.append(f"答题 {need - done_questions} 道")
        met = self.met(context)
        return RuleResult("自测", met, "，".join(parts), "" if met else "还需" + "或".join(missing))

    def describe(self) -> str:
        parts = []
        if self.sessions is not None:
            parts.append(f"自测不少于 {self.sessions} 次")
        if self.questions is not None:
            parts.append(f"答题不少于 {self.questions} 道")
        return "或".join(parts)


@dataclass(frozen=True)
class ActiveDaysRule(Rule):
    """学习天数: at least `days` local days with any answer or finished session."""

    days: int = 1
    kind: str = field(default="active_days", init=False)

    def __post_init__(self) -> None:
        if not 0 < self.days <= 366:
            raise StandardError("学习天数应在 1 到 366 之间")

    def _need(self, context: RuleContext) -> int:
        return min(context.need(self.days), context.period.days)

    def met(self, context: RuleContext) -> bool:
        return context.totals.active_days >= self._need(context)

    def check(self, context: RuleContext) -> RuleResult:
        need, done, met = self._need(context), context.totals.active_days, self.met(context)
        missing = "" if met else f"还需学习 {need - done} 天"
        return RuleResult("学习天数", met, f"学习 {_count(done, need, '天')}", missing)

    def describe(self) -> str:
        return f"学习天数不少于 {self.days} 天"


@dataclass(frozen=True)
class ExamRule(Rule):
    """按时参加本期考试: every scheduled exam closing in the period submitted with a score ≥ its pass mark."""

    kind: str = field(default="exam", init=False)

    def met(self, context: RuleContext) -> bool:
        return all(
            exam.score is not None and not exam.hidden and not exam.pending and exam.score >= exam.pass_mark
            for exam in context.exams
        )

    def check(self, context: RuleContext) -> RuleResult:
        if not context.exams:
            return RuleResult("考试", True, "本期无考试")
        parts, missing = [], []
        for exam in context.exams:
            if exam.score is None:
                parts.append(f"{exam.title} 未参加")
                missing.append(f"还需参加{exam.title}")
            elif exam.hidden:
                parts.append(f"{exam.title} 已交卷，成绩未公布")
                missing.append(f"等待{exam.title}公布成绩")
            elif exam.pending:
                parts.append(f"{exam.title} 待阅卷")
                missing.append(f"{exam.title}待阅卷")
            elif exam.score < exam.pass_mark:
                parts.append(f"{exam.title} {exam.score:g} 分（及格 {exam.pass_mark:g}）")
                missing.append(f"{exam.title}未及格")
            else:
                parts.append(f"{exam.title} {exam.score:g} 分")
        return RuleResult("考试", not missing, "，".join(parts), "；".join(missing))

    def describe(self) -> str:
        return "参加本期考试并及格"


@dataclass(frozen=True)
class PointsRule(Rule):
    """学习积分: at least `points` learning points earned in the period (engine.learning's daily-capped points)."""

    points: int = 1
    kind: str = field(default="points", init=False)
    per_day: ClassVar[bool] = True  # each day's points are capped on their own

    def __post_init__(self) -> None:
        if not 0 < self.points <= 100_000:
            raise StandardError("学习积分应在 1 到 100000 之间")

    def check(self, context: RuleContext) -> RuleResult:
        need = context.need(self.points)
        done = sum(
            day_points(DayActivity(day.day, day.answered, day.correct, day.sessions), context.policy)
            for day in context.days
        )
        met = done >= need
        missing = "" if met else f"还需积分 {need - done} 分"
        return RuleResult("学习积分", met, f"积分 {_count(done, need, '分')}", missing)

    def describe(self) -> str:
        return f"学习积分不少于 {self.points} 分"


@dataclass(frozen=True)
class ContestRule(Rule):
    """知识竞赛: took part in at least `contests` finished contests in the period."""

    contests: int = 1
    kind: str = field(default="contest", init=False)

    def __post_init__(self) -> None:
        if not 0 < self.contests <= 100:
            raise StandardError("竞赛次数应在 1 到 100 之间")

    def check(self, context: RuleContext) -> RuleResult:
        need = context.need(self.contests)
        met = context.contests >= need
        return RuleResult(
            "知识竞赛",
            met,
            f"竞赛 {_count(context.contests, need, '次')}",
            "" if met else f"还需参加知识竞赛 {need - context.contests} 次",
        )

    def describe(self) -> str:
        return f"参加知识竞赛不少于 {self.contests} 次"


RULE_TYPES: dict[str, type[Rule]] = {
    "self_test": SelfTestRule,
    "active_days": ActiveDaysRule,
    "exam": ExamRule,
    "points": PointsRule,
    "contest": ContestRule,
}
