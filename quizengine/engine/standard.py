"""验收标准 (acceptance standard): rules a member must meet in a period, and their evaluation.

Pure: the caller gathers one member's facts for a period (`MemberFacts`: per-day activity, the period's
exams, contests) and `evaluate` says 达标 / 未达标 / 未开始 with each rule's progress ("自测 3/4 次") and
what is still missing ("还需自测 1 次"). Periods are calendar months, quarters or years of local days
(the caller converts times to Asia/Shanghai days before building the facts).

Decisions (docs/oversight.md):
- A member who joined mid-period (account created after the period began) is held to a **pro-rated**
  standard: every count threshold is scaled by the share of the period's days they were a member,
  rounded up (joined on day 16 of a 30-day month: 15/30 of "自测 4 次" = 2). A rule whose pro-rated
  threshold is 0 is met. Exams that closed before they joined do not count against them.
- A member who joined after the period ended, or whose account is deactivated, is **不参与考核**
  (`Status.EXEMPT`): counted in no rate.
- 预备党员 are held to the same rules unless a rule says otherwise (`Rule.applies_to`).
- 未开始 means the period is still open and the member has no activity in it at all; in a closed period a
  member who did nothing is 未达标.
- A period without a scheduled exam makes the exam rule "本期无考试" and met.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any, ClassVar

from .errors import QuizError
from .learning import DayActivity, PointsPolicy, day_points


class StandardError(QuizError):
    """A malformed standard or period (the message is shown to the organizer)."""

    code = "bad_standard"


class PeriodKind(StrEnum):
    """How long one evaluation period lasts."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


PERIOD_NOUNS = {PeriodKind.MONTH: "本月", PeriodKind.QUARTER: "本季度", PeriodKind.YEAR: "本年度"}
PERIOD_KIND_LABELS = {PeriodKind.MONTH: "每月", PeriodKind.QUARTER: "每季度", PeriodKind.YEAR: "每年"}


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year: local days `start` (inclusive) to `end` (exclusive)."""

    start: date
    end: date
    kind: PeriodKind

    @classmethod
    def containing(cls, kind: PeriodKind | str, day: date) -> Period:
        """The period of `kind` that holds the local day `day`."""
        kind = PeriodKind(kind)
        if kind is PeriodKind.MONTH:
            start = date(day.year, day.month, 1)
            months = 1
        elif kind is PeriodKind.QUARTER:
            start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            months = 3
        else:
            start = date(day.year, 1, 1)
            months = 12
        return cls(start, _add_months(start, months), kind)

    @classmethod
    def parse(cls, key: str) -> Period:
        """Read a period key: "2026-12" (month), "2026-Q4" (quarter) or "2026" (year)."""
        text = (key or "").strip().upper()
        try:
            if len(text) == 4 and text.isdigit():
                return cls.containing(PeriodKind.YEAR, date(int(text), 1, 1))
            year, _, rest = text.partition("-")
            if rest.startswith("Q") and len(rest) == 2 and rest[1] in "1234":
                return cls.containing(PeriodKind.QUARTER, date(int(year), 3 * int(rest[1]) - 2, 1))
            if len(year) == 4 and rest.isdigit() and len(rest) <= 2:
                return cls.containing(PeriodKind.MONTH, date(int(year), int(rest), 1))
        except ValueError:
            pass
        raise StandardError(f"无法识别的考核周期：{key}（应为 2026-12、2026-Q4 或 2026）")

    @property
    def key(self) -> str:
        """The period's key, as `parse` reads it."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        """The period in Chinese: 2026年12月, 2026年第4季度, 2026年."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year}年{self.start.month}月"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年"

    @property
    def days(self) -> int:
        """Number of local days in the period."""
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def previous(self) -> Period:
        """The period just before this one."""
        return Period.containing(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        """The period just after this one."""
        return Period.containing(self.kind, self.end)

    def is_closed(self, today: date) -> bool:
        """Whether the period is over on the local day `today`."""
        return today >= self.end


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def recent_periods(kind: PeriodKind | str, today: date, count: int) -> list[Period]:
    """The `count` periods ending with the one holding `today`, oldest first (for trends)."""
    period = Period.containing(kind, today)
    periods = [period]
    for _ in range(count - 1):
        period = period.previous()
        periods.append(period)
    return periods[::-1]


class Status(StrEnum):
    """A member's standing for one period."""

    MET = "met"
    NOT_MET = "not_met"
    NOT_STARTED = "not_started"
    EXEMPT = "exempt"


STATUS_LABELS = {
    Status.MET: "达标",
    Status.NOT_MET: "未达标",
    Status.NOT_STARTED: "未开始",
    Status.EXEMPT: "不参与考核",
}


class Audience(StrEnum):
    """Whom a rule applies to."""

    ALL = "all"
    FULL = "full"
    PROBATIONARY = "probationary"


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


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome: met or not, the progress text and what is still missing ('' when met)."""

    label: str
    met: bool
    progress: str
    missing: str = ""


@dataclass(frozen=True)
class Evaluation:
    """A member's standing for a period."""

    period: Period
    status: Status
    rules: list[RuleResult] = field(default_factory=list)
    #: Share of the period the member was held to (1.0 unless they joined mid-period).
    share: float = 1.0
    note: str = ""
    #: Whether the member did anything counted in the period (an answer, a session, an exam, a contest).
    studied: bool = False

    @property
    def label(self) -> str:
        """达标 / 未达标 / 未开始 / 不参与考核."""
        return STATUS_LABELS[self.status]

    @property
    def missing(self) -> list[str]:
        """What is still missing, one phrase per unmet rule."""
        return [rule.missing for rule in self.rules if not rule.met]

    @property
    def reason(self) -> str:
        """One line for a dashboard: the unmet rules, or the note."""
        return "；".join(self.missing) or self.note


@dataclass(frozen=True)
class _Context:
    period: Period
    days: list[DayFacts]
    exams: list[ExamFacts]
    contests: int
    share: float
    policy: PointsPolicy
    study_days: list[StudyDayFacts] = field(default_factory=list)
    totals: PeriodTotals = PeriodTotals()

    def need(self, threshold: int) -> int:
        return math.ceil(threshold * self.share - 1e-9)


@dataclass(frozen=True)
class Rule(ABC):
    """A rule of the standard; subclasses say what is counted."""

    applies_to: Audience = Audience.ALL

    kind: str = field(default="", init=False)
    #: The rule reads each day (`_Context.days`), not only the period's totals.
    per_day: ClassVar[bool] = False

    def applies(self, facts: MemberFacts) -> bool:
        """Whether this rule binds the member (预备/正式)."""
        if self.applies_to is Audience.ALL:
            return True
        return (self.applies_to is Audience.PROBATIONARY) == facts.probationary

    @abstractmethod
    def check(self, context: _Context) -> RuleResult:
        """Evaluate the rule over the period's facts."""

    def met(self, context: _Context) -> bool:
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

    def met(self, context: _Context) -> bool:
        done = context.totals
        return (self.sessions is not None and done.practice_sessions >= context.need(self.sessions)) or (
            self.questions is not None and done.practice_answered >= context.need(self.questions)
        )

    def check(self, context: _Context) -> RuleResult:
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

    def _need(self, context: _Context) -> int:
        return min(context.need(self.days), context.period.days)

    def met(self, context: _Context) -> bool:
        return context.totals.active_days >= self._need(context)

    def check(self, context: _Context) -> RuleResult:
        need, done, met = self._need(context), context.totals.active_days, self.met(context)
        missing = "" if met else f"还需学习 {need - done} 天"
        return RuleResult("学习天数", met, f"学习 {_count(done, need, '天')}", missing)

    def describe(self) -> str:
        return f"学习天数不少于 {self.days} 天"


@dataclass(frozen=True)
class ExamRule(Rule):
    """按时参加本期考试: every scheduled exam closing in the period submitted with a score ≥ its pass mark."""

    kind: str = field(default="exam", init=False)

    def met(self, context: _Context) -> bool:
        return all(
            exam.score is not None and not exam.hidden and not exam.pending and exam.score >= exam.pass_mark
            for exam in context.exams
        )

    def check(self, context: _Context) -> RuleResult:
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

    def check(self, context: _Context) -> RuleResult:
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

    def check(self, context: _Context) -> RuleResult:
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


def rule_from_json(data: Any) -> Rule:
    """Build a rule from its stored form, e.g. {"type": "self_test", "sessions": 4}; bad input → StandardError."""
    from .study_rules import STUDY_RULES  # the study-plan rules import this module: looked up when used

    types = {**RULE_TYPES, **STUDY_RULES}
    if not isinstance(data, dict) or data.get("type") not in types:
        raise StandardError("未知的考核规则")
    fields = {key: value for key, value in data.items() if key != "type"}
    try:
        if "applies_to" in fields:
            fields["applies_to"] = Audience(fields["applies_to"])
        for key, value in fields.items():
            if key != "applies_to" and value is not None and (type(value) is not int):
                raise StandardError("考核规则中的数量应为整数")
        return types[data["type"]](**fields)
    except (TypeError, ValueError) as error:
        raise StandardError("考核规则格式不正确") from error


@dataclass(frozen=True)
class Standard:
    """A 验收标准: the period kind and the rules a member must all meet."""

    period_kind: PeriodKind = PeriodKind.MONTH
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        if not self.rules:
            raise StandardError("验收标准至少需要一条规则")
        kinds = [rule.kind for rule in self.rules]
        if len(set(kinds)) != len(kinds):
            raise StandardError("同一类规则只能出现一次")

    def to_json(self) -> dict[str, Any]:
        """The standard as stored (see `standard_from_json`)."""
        return {"period": self.period_kind.value, "rules": [rule.to_json() for rule in self.rules]}

    def describe(self) -> list[str]:
        """Each rule in one Chinese phrase."""
        return [rule.describe() for rule in self.rules]

    @cached_property
    def needs_days(self) -> bool:
        """Whether a rule reads each day (then `MemberFacts.totals` cannot stand in for the days)."""
        return any(rule.per_day for rule in self.rules)


def standard_from_json(data: Any) -> Standard:
    """Build a standard from {"period": "month", "rules": [...]}; bad input → StandardError."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise StandardError("验收标准格式不正确")
    try:
        kind = PeriodKind(data.get("period", "month"))
    except ValueError as error:
        raise StandardError("考核周期应为每月、每季度或每年") from error
    return Standard(kind, tuple(rule_from_json(rule) for rule in data["rules"]))


#: The committee's default until an admin edits it: SPEC §6's example (月度测试及格, 每月自测不少于 4 次).
DEFAULT_STANDARD = Standard(PeriodKind.MONTH, (SelfTestRule(sessions=4), ExamRule()))


def evaluate(
    standard: Standard,
    period: Period,
    facts: MemberFacts,
    today: date,
    *,
    policy: PointsPolicy | None = None,
) -> Evaluation:
    """The member's standing for `period` as of the local day `today` (see the module's decisions)."""
    context = _context(standard, period, facts, today, policy)
    if isinstance(context, Evaluation):
        return context
    first = max(facts.joined_on, period.start)
    results = [rule.check(context) for rule in standard.rules if rule.applies(facts)]
    note = f"{first.month}月{first.day}日入册，按比例考核" if context.share < 1 else ""
    studied = _studied(context)
    met = all(result.met for result in results)
    return Evaluation(period, _status(met, studied, period, today), results, context.share, note, studied)


def outcome(
    standard: Standard,
    period: Period,
    facts: MemberFacts,
    today: date,
    *,
    policy: PointsPolicy | None = None,
) -> tuple[Status, bool]:
    """`evaluate`'s status and "studied" without the rules' texts: what the committee's counts need of thousands
    of members."""
    context = _context(standard, period, facts, today, policy)
    if isinstance(context, Evaluation):
        return context.status, context.studied
    studied = _studied(context)
    met = all(rule.met(context) for rule in standard.rules if rule.applies(facts))
    return _status(met, studied, period, today), studied


def _context(
    standard: Standard, period: Period, facts: MemberFacts, today: date, policy: PointsPolicy | None
) -> _Context | Evaluation:
    """The facts within the period as the rules read them, or the evaluation when the member is not held to it."""
    if not facts.active:
        return Evaluation(period, Status.EXEMPT, note="账号已停用")
    if facts.joined_on >= period.end:
        return Evaluation(period, Status.EXEMPT, note="本期尚未入册")
    if today < period.start:
        return Evaluation(period, Status.NOT_STARTED, note="考核周期尚未开始")
    if facts.totals is not None and standard.needs_days:
        raise ValueError("a standard with a per-day rule needs each day, not the period's totals")
    first = max(facts.joined_on, period.start)
    days = [day for day in facts.days if day.day in period and day.day <= today]
    return _Context(
        period,
        days,
        [exam for exam in facts.exams if exam.closes_on in period and exam.closes_on >= facts.joined_on],
        sum(1 for day in facts.contest_days if day in period),
        (period.end - first).days / period.days,
        policy or PointsPolicy(),
        [day for day in facts.study_days if day.held_on in period and day.held_on <= today],
        facts.totals if facts.totals is not None else PeriodTotals.of(days),
    )


def _studied(context: _Context) -> bool:
    """Did anything counted in the period: an answer or session, a contest, an exam, a study day attended."""
    return (
        context.totals.active_days > 0
        or context.contests > 0
        or any(exam.score is not None for exam in context.exams)
        or any(day.attended for day in context.study_days)
    )


def _status(met: bool, studied: bool, period: Period, today: date) -> Status:
    if met:
        return Status.MET
    return Status.NOT_STARTED if not studied and not period.is_closed(today) else Status.NOT_MET


def member_hint(evaluation: Evaluation) -> list[str]:
    """The member's own to-do lines: "本月还需自测 1 次" (empty when met or exempt)."""
    if evaluation.status in (Status.MET, Status.EXEMPT) or not evaluation.rules:
        return []
    noun = PERIOD_NOUNS[evaluation.period.kind]
    return [noun + text for text in evaluation.missing]


def participation_rate(evaluations: Iterable[Evaluation]) -> float | None:
    """Share of evaluated (not exempt) members who did anything in the period; None when nobody is evaluated."""
    counted = [e for e in evaluations if e.status is not Status.EXEMPT]
    if not counted:
        return None
    return sum(1 for e in counted if e.studied) / len(counted)


def met_rate(evaluations: Iterable[Evaluation]) -> float | None:
    """达标率: share of evaluated (not exempt) members who met the standard; None when nobody is evaluated."""
    counted = [e for e in evaluations if e.status is not Status.EXEMPT]
    if not counted:
        return None
    return sum(1 for e in counted if e.status is Status.MET) / len(counted)
