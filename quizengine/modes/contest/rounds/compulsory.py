"""必答题: each team in turn answers its own question; right scores, wrong may cost points."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..fields import JUDGED_BY, PENALTY, POINTS
from ..plan import RoundKind
from .base import RoundType, register

if TYPE_CHECKING:
    from ..machine import LiveContest
    from ..plan import RoundSpec
    from ..state import Event


@register
class Compulsory(RoundType):
    """Teams take turns in plan order, one question each."""

    kind = RoundKind.COMPULSORY
    label = "必答题"
    position = 1
    fields = (POINTS, PENALTY, JUDGED_BY)
    in_turn = True

    def rules(self, spec: RoundSpec) -> str:
        deduction = f"，答错扣{spec.penalty:g}分" if spec.penalty else "，答错不扣分"
        return f"各队依次作答，答对得{spec.points:g}分{deduction}"

    def next_question(self, m: LiveContest, spec: RoundSpec, now: int) -> list[Event]:
        teams = m.team_ids()
        m.state.team_on_turn = teams[m.state.question_index % len(teams)]
        return super().next_question(m, spec, now)

    def score(self, m: LiveContest, spec: RoundSpec) -> None:
        self.score_turn(m, spec.points, spec.penalty)
