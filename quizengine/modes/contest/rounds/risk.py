"""风险题: in turn, weakest team first, a team picks the question's value; right adds it, wrong takes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..plan import RoundKind
from ..state import EVERYONE_ROLES, Command, ContestError, Event, Phase, Role
from .base import RoundType, register

if TYPE_CHECKING:
    from ..machine import LiveContest
    from ..plan import RoundSpec


def turns(spec: RoundSpec, teams: int) -> int:
    """How many questions each team chooses in the round."""
    return max(1, spec.source.count // max(1, teams)) if spec.source.count else 1


@register
class Risk(RoundType):
    """Each value stands for a difficulty; its questions are drawn per value when the contest is created."""

    kind = RoundKind.RISK
    label = "风险题"
    position = 3
    fields = frozenset({"risk_values", "risk_difficulty", "judged_by"})
    in_turn = True

    def rules(self, spec: RoundSpec) -> str:
        values = "/".join(str(value) for value in spec.risk_values)
        return f"按比分由低到高选择{values}分，答对加分，答错扣分"

    def question_pools(self, spec: RoundSpec, teams: int) -> Mapping[str, tuple[int, tuple[int, ...] | None]]:
        return {str(value): (turns(spec, teams) * teams, levels) for value, levels in spec.risk_difficulty}

    def enter(self, m: LiveContest, now: int) -> None:
        scores = m.scores()  # weakest team chooses first; ties keep plan order
        m.state.risk_order = sorted(m.team_ids(), key=lambda team_id: scores[team_id])

    def has_next_question(self, m: LiveContest) -> bool:
        spec = m.round
        assert spec is not None
        return m.state.question_index + 1 < len(m.state.risk_order) * turns(spec, len(m.team_ids()))

    def next_question(self, m: LiveContest, spec: RoundSpec, now: int) -> list[Event]:
        state = m.state
        order = state.risk_order
        state.team_on_turn = order[state.question_index % len(order)]
        state.phase = Phase.RISK_CHOOSING
        return [Event("risk_choosing", EVERYONE_ROLES, {"team": state.team_on_turn})]

    def choose(self, m: LiveContest, command: Command, now: int) -> list[Event]:
        state = m.state
        spec = m.round_spec()
        if command.role is Role.TEAM and command.team != state.team_on_turn:
            raise ContestError("现在不是本队选择分值", "not_your_turn")
        value = command.args.get("value")
        if value not in spec.risk_values:
            raise ContestError("请选择 " + "、".join(str(v) for v in spec.risk_values) + " 中的一个分值", "bad_value")
        pool = state.risk_pools.get(str(state.round_index), {}).get(str(value), [])
        if not pool:
            raise ContestError(f"{value} 分的题目已用完，请选择其他分值", "no_question")
        state.risk_value = value
        state.question = pool.pop(0)
        return [
            Event("risk_chosen", EVERYONE_ROLES, {"team": state.team_on_turn, "value": value}),
            *m.show_question(spec, now),
        ]

    def score(self, m: LiveContest, spec: RoundSpec) -> None:
        value = float(m.state.risk_value or 0)
        self.score_turn(m, value, value)

    def question_points(self, m: LiveContest, spec: RoundSpec) -> float:
        return float(m.state.risk_value) if m.state.risk_value else spec.points

    def round_view(self, m: LiveContest, spec: RoundSpec) -> dict[str, Any]:
        return {"risk_values": list(spec.risk_values)}
