"""验收标准 rules over the study plan (学习计划): study-day attendance, topic practice and the study-day 小问答.

They count against the study days the member's branch actually *held* in the period (`MemberFacts.study_days`):
a member cannot attend a study day that was not held, and whether the branch holds them is what 检查督导
checks. A period in which the branch held none meets these rules with the progress saying so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import StandardError
from .member_facts import StudyDayFacts
from .standard_rules import Rule, RuleContext, RuleResult


def _check_percent(percent: int, what: str) -> None:
    if not 0 < percent <= 100:
        raise StandardError(f"{what}应在 1% 到 100% 之间")


def _share_of_held(
    context: RuleContext,
    percent: int,
    label: str,
    counted: Callable[[StudyDayFacts], bool],
    progress: str,
    missing: str,
) -> RuleResult:
    """At least `percent` % (rounded up) of the study days held counted; `progress` and `missing` are formatted
    with done/held/need and short."""
    held = len(context.study_days)
    if not held:
        return RuleResult(label, True, "本期支部未开展学习日")
    done = sum(1 for day in context.study_days if counted(day))
    need = math.ceil(held * percent / 100 - 1e-9)
    met = done >= need
    text = progress.format(done=done, held=held, need=need)
    return RuleResult(label, met, text, "" if met else missing.format(short=need - done))


@dataclass(frozen=True)
class StudyAttendanceRule(Rule):
    """学习日出勤: attended at least `percent` % of the study days the branch held in the period."""

    percent: int = 75
    kind: str = field(default="study_attendance", init=False)

    def __post_init__(self) -> None:
        _check_percent(self.percent, "学习日出勤率")

    def check(self, context: RuleContext) -> RuleResult:
        return _share_of_held(
            context, self.percent, "学习日出勤", lambda day: day.attended,
            "学习日出勤 {done}/{held} 次（要求 {need} 次）", "学习日出勤还差 {short} 次",
        )  # fmt: skip

    def describe(self) -> str:
        return f"学习日出勤率不低于 {self.percent}%"


@dataclass(frozen=True)
class TopicPracticeRule(Rule):
    """专题练习: finished a topic practice for at least `percent` % of the topics of the study days held."""

    percent: int = 80
    kind: str = field(default="topic_practice", init=False)

    def __post_init__(self) -> None:
        _check_percent(self.percent, "专题练习完成率")

    def check(self, context: RuleContext) -> RuleResult:
        return _share_of_held(
            context, self.percent, "专题练习", lambda day: day.practised,
            "专题练习 {done}/{held} 个专题（要求 {need} 个）", "还需完成 {short} 个专题的专题练习",
        )  # fmt: skip

    def describe(self) -> str:
        return f"专题练习完成率不低于 {self.percent}%"


@dataclass(frozen=True)
class TopicQuizRule(Rule):
    """学习日小问答: took part in at least `quizzes` of the 小问答 the branch ran (fewer if it ran fewer)."""

    quizzes: int = 1
    kind: str = field(default="topic_quiz", init=False)

    def __post_init__(self) -> None:
        if not 0 < self.quizzes <= 100:
            raise StandardError("小问答次数应在 1 到 100 之间")

    def check(self, context: RuleContext) -> RuleResult:
        ran = [day for day in context.study_days if day.quiz is not None]
        if not ran:
            return RuleResult("小问答", True, "本期支部未开展小问答")
        need = min(self.quizzes, len(ran))
        done = sum(1 for day in ran if day.quiz)
        met = done >= need
        missing = "" if met else f"还需参加小问答 {need - done} 次"
        return RuleResult("小问答", met, f"小问答 {done}/{need} 次", missing)

    def describe(self) -> str:
        return f"参加学习日小问答不少于 {self.quizzes} 次"


STUDY_RULES: dict[str, type[Rule]] = {
    "study_attendance": StudyAttendanceRule,
    "topic_practice": TopicPracticeRule,
    "topic_quiz": TopicQuizRule,
}
