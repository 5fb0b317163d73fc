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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Any

from .errors import StandardError
from .learning import PointsPolicy
from .member_facts import MemberFacts, PeriodTotals
from .periods import PERIOD_NOUNS, Period, PeriodKind
from .standard_rules import RULE_TYPES, Audience, ExamRule, Rule, RuleContext, RuleResult, SelfTestRule
from .study_rules import STUDY_RULES


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


def rule_from_json(data: Any) -> Rule:
    """Build a rule from its stored form, e.g. {"type": "self_test", "sessions": 4}; bad input → StandardError."""
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
) -> RuleContext | Evaluation:
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
    return RuleContext(
        period,
        days,
        [exam for exam in facts.exams if exam.closes_on in period and exam.closes_on >= facts.joined_on],
        sum(1 for day in facts.contest_days if day in period),
        (period.end - first).days / period.days,
        policy or PointsPolicy(),
        [day for day in facts.study_days if day.held_on in period and day.held_on <= today],
        facts.totals if facts.totals is not None else PeriodTotals.of(days),
    )


def _studied(context: RuleContext) -> bool:
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
