"""抢答题 (and the 加赛): the host opens buzzing, the first team to buzz answers; a buzz before is a foul."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..fields import JUDGED_BY, MAX_SECONDS, PENALTY, POINTS, PlanField, spec_default
from ..plan import FoulRule, RoundKind
from ..state import EVERYONE_ROLES, STAFF_ROLES, Command, ContestError, Event, Phase, deadline
from .base import RoundType, register

if TYPE_CHECKING:
    from ..machine import LiveContest
    from ..plan import RoundSpec

FOUL = PlanField(
    "foul",
    "choice",
    "提前抢答",
    spec_default("foul"),
    choices=(("penalize", "扣分"), ("ignore", "不理会")),
    error="foul 应为 ignore 或 penalize，实际为“{input}”",
    cast=FoulRule,
)
FOUL_PENALTY = PlanField(
    "foul_penalty", "number", "犯规扣分", spec_default("foul_penalty"), minimum=0, only_when=("foul", ("penalize",))
)
BUZZ_SECONDS = PlanField(
    "buzz_seconds",
    "int",
    "抢答时限",
    spec_default("buzz_seconds"),
    minimum=0,
    maximum=MAX_SECONDS,
    error=f"秒数应为 0 到 {MAX_SECONDS}，实际为 {{input}}",
    prompt="抢答秒数（0 不限时）",
)
REOPEN = PlanField(
    "reopen",
    "bool",
    "答错后再抢",
    spec_default("reopen"),
    choices=(("true", "其余队伍可再抢"), ("false", "该题结束")),
    prompt="答错后",
)


@register
class Buzzer(RoundType):
    """Buzzing opens on the host's word; a wrong answer may reopen it to the teams left.

    The 加赛 is a buzzer round among the tied teams: a right answer wins a place instead of points.
    """

    kind = RoundKind.BUZZER
    label = "抢答题"
    position = 2
    fields = (POINTS, PENALTY, FOUL, FOUL_PENALTY, BUZZ_SECONDS, REOPEN, JUDGED_BY)
    answer_phase = Phase.BUZZ_WON

    def rules(self, spec: RoundSpec) -> str:
        foul = f"，抢先犯规扣{spec.foul_penalty:g}分" if spec.foul is FoulRule.PENALIZE and spec.foul_penalty else ""
        return f"主持人宣布开始后抢答，答对得{spec.points:g}分，答错扣{spec.penalty:g}分{foul}"

    def check_plan(self, data: Mapping[str, Any], errors: dict[str, Any]) -> None:
        if "foul_penalty" in data and data.get("foul") == FoulRule.IGNORE:
            errors["foul_penalty"] = ["foul 为 ignore（提前抢答不处罚）时不能设置犯规扣分"]

    def show(self, m: LiveContest, spec: RoundSpec, now: int) -> None:
        m.state.phase, m.state.deadline_ms = Phase.BUZZ_ARMED, None

    def open(self, m: LiveContest, spec: RoundSpec, now: int) -> list[Event]:
        state = m.state
        if state.phase is not Phase.BUZZ_ARMED:
            return super().open(m, spec, now)
        state.opened_ms = now
        state.phase = Phase.BUZZ_OPEN
        state.deadline_ms = deadline(now, spec.buzz_seconds)
        return [Event("buzzing_opened", EVERYONE_ROLES)]

    def buzz(self, m: LiveContest, command: Command, now: int) -> list[Event]:
        state = m.state
        spec = m.round_spec()
        team = command.team
        assert team is not None
        if command.args.get("question") != state.question or state.question is None:
            raise ContestError("这道题已经结束", "late")
        if m.in_tiebreak and team not in state.tiebreak_teams:
            raise ContestError("本队不参加加赛", "not_in_tiebreak")
        if team in state.locked_out:
            raise ContestError("本队已不能抢答这道题", "locked_out")
        if any(buzz["team"] == team for buzz in state.buzzes if not buzz["foul"]):
            raise ContestError("本队已经抢答过", "duplicate")
        if state.phase is Phase.BUZZ_ARMED:  # before 开始: a foul
            state.buzzes.append({"team": team, "at_ms": now, "foul": True})
            state.locked_out.append(team)
            if spec.foul is FoulRule.PENALIZE and spec.foul_penalty:
                m.award([(team, -spec.foul_penalty, "抢答犯规")])
            return [Event("foul", EVERYONE_ROLES, {"team": team})]
        first = next((b for b in state.buzzes if not b["foul"]), None)
        state.buzzes.append({"team": team, "at_ms": now, "foul": False, "gap_ms": now - first["at_ms"] if first else 0})
        if state.phase is Phase.BUZZ_OPEN:
            state.phase = Phase.BUZZ_WON
            state.team_on_turn = team
            state.deadline_ms = deadline(now, spec.answer_seconds)
            state.opened_ms = now
            return [Event("buzz_won", EVERYONE_ROLES, {"team": team})]
        return [Event("buzz_recorded", STAFF_ROLES, {"team": team})]

    def on_answer(self, m: LiveContest, command: Command, record: dict[str, Any], now: int) -> list[Event]:
        state = m.state
        team = command.team or ""
        state.team_time_ms[team] = state.team_time_ms.get(team, 0) + max(0, now - (state.opened_ms or now))
        return self.judge_buzz(m, record["verdict"] == "correct", now)

    def judge(self, m: LiveContest, command: Command, correct: bool, now: int) -> list[Event]:
        if m.state.phase is Phase.BUZZ_WON:
            return self.judge_buzz(m, correct, now)
        return super().judge(m, command, correct, now)

    def judge_buzz(self, m: LiveContest, correct: bool, now: int) -> list[Event]:
        """Score the buzz winner's answer; a wrong one may reopen buzzing to the teams left."""
        state = m.state
        spec = m.round_spec()
        team = state.team_on_turn or ""
        if correct:
            if m.in_tiebreak:
                state.tiebreak_winners.append(team)
                state.tiebreak_teams = [t for t in state.tiebreak_teams if t != team]
            else:
                m.award([(team, spec.points, "抢答正确")])
            return m.reveal_now()
        state.locked_out.append(team)
        if spec.penalty and not m.in_tiebreak:
            m.award([(team, -spec.penalty, "抢答错误")])
        eligible = state.tiebreak_teams if m.in_tiebreak else m.team_ids()
        remaining = [t for t in eligible if t not in state.locked_out]
        if spec.reopen and remaining:
            state.phase = Phase.BUZZ_OPEN
            state.team_on_turn = None
            state.deadline_ms = deadline(now, spec.buzz_seconds)
            return [Event("buzzing_reopened", EVERYONE_ROLES, {"wrong": team})]
        return m.reveal_now()

    def on_timeout(self, m: LiveContest, now: int) -> list[Event]:
        state = m.state
        if state.phase is Phase.BUZZ_OPEN:  # nobody buzzed (or nobody left): the question is void
            state.voided = not any(not b["foul"] for b in state.buzzes)
            return m.reveal_now()
        if state.phase is Phase.BUZZ_WON:  # time up for the buzz winner: a wrong answer
            return self.judge_buzz(m, False, now)
        return []
