"""全员答题: every joined player answers on their own phone; the team scores its players' sum or mean."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from quizengine.engine.questions import Verdict

from ..fields import ANSWER_SECONDS, POINTS, PlanField, spec_default
from ..plan import RoundKind, TeamScoreRule
from ..points import contest_points, speed_points, team_total
from ..state import Command, ContestError, Event, Phase, Role
from .base import RoundType, register

if TYPE_CHECKING:
    from ..machine import LiveContest
    from ..plan import RoundSpec

SPEED_BONUS = PlanField(
    "speed_bonus", "number", "速度加分", spec_default("speed_bonus"), minimum=0, prompt="速度加分（≤ 答对得分）"
)
TEAM_SCORE = PlanField(
    "team_score",
    "choice",
    "队伍得分",
    spec_default("team_score"),
    choices=(("sum", "队员得分之和"), ("mean", "队员平均分")),
    error="team_score 应为 sum 或 mean，实际为“{input}”",
    cast=TeamScoreRule,
)


@register
class Everyone(RoundType):
    """Players' answers live in their own rows (the service hands them in at the reveal), never in the state."""

    kind = RoundKind.EVERYONE
    label = "全员答题"
    position = 4
    fields = (POINTS, SPEED_BONUS, TEAM_SCORE)
    players_answer = True

    def rules(self, spec: RoundSpec) -> str:
        bonus = f"，答对且越快加分越多（最多{spec.speed_bonus:g}分）" if spec.speed_bonus else ""
        rule = "各队平均分计入队伍" if spec.team_score is TeamScoreRule.MEAN else "各队得分合计计入队伍"
        return f"全体队员用手机作答，答对得{spec.points:g}分{bonus}，{rule}"

    def individual_rules(self, spec: RoundSpec) -> str:
        bonus = f"，答对且越快加分越多（最多{spec.speed_bonus:g}分）" if spec.speed_bonus else ""
        return f"每人用手机作答，答对得{spec.points:g}分{bonus}，按个人累计得分排名"

    def check_plan(self, data: Mapping[str, Any], errors: dict[str, Any]) -> None:
        """A speed bonus above the points over-rewards answer bots; without a timer there is no speed."""
        if "speed_bonus" not in data:
            return
        points = data.get("points", POINTS.default)
        if data["speed_bonus"] > points:
            errors["speed_bonus"] = [
                f"速度加分（{data['speed_bonus']}）不应超过答对得分（{points}）：答题脚本不到一秒就能作答，不宜过分奖励速度"
            ]
        elif data["speed_bonus"] and data.get("answer_seconds", ANSWER_SECONDS.default) == 0:
            errors["speed_bonus"] = ["answer_seconds 为 0（不限时）时没有速度加分，请删去 speed_bonus 或设置答题时间"]

    def answer_key(self, m: LiveContest, command: Command, spec: RoundSpec) -> str:
        state = m.state
        if command.role is not Role.PLAYER or command.player not in m.players:
            raise ContestError("全员答题请用个人手机作答", "wrong_role")
        if m.players[command.player]["joined_seq"] >= state.question_seq:
            raise ContestError("您是在本题开始后加入的，请从下一题开始作答", "late_joiner")
        if state.phase is not Phase.ANSWERING:
            raise ContestError("现在不能作答", "wrong_phase")
        return f"player:{command.player}"

    def on_answer(self, m: LiveContest, command: Command, record: dict[str, Any], now: int) -> list[Event]:
        return [Event("answer_received", frozenset({Role.HOST}), {"count": len(m.state.answers)})]

    def score(self, m: LiveContest, spec: RoundSpec) -> None:
        """Score the players' answers (handed in by the caller), then keep only the distribution: the
        answers themselves stay in their rows, so the snapshot does not grow with the number of players.
        Only the players who answered are looked at: a team's points need its scorers' points and how
        many of its players could score (`eligible_by_team`), and the standings move on from the scored."""
        state = m.state
        scored: dict[str, list[float]] = {team_id: [] for team_id in m.team_ids()}
        m.player_deltas = {}
        for player, info in m.players.items():
            answer = state.answers.get(f"player:{player}")
            if answer is None or player in state.kicked or info["joined_seq"] >= state.question_seq:
                continue
            points = self.player_points(m, answer, spec)
            if points:
                scored[info["team"]].append(points)
                m.player_deltas[player] = points
        eligible = m.eligible_by_team()
        state.distribution = _distribution(state.answers.values())
        state.answers = {key: a for key, a in state.answers.items() if not key.startswith("player:")}
        m.update_leaderboard()
        awards = []
        for team_id, points in scored.items():
            total = team_total(points, eligible[team_id], spec.team_score is TeamScoreRule.MEAN, m.plan.decimals)
            if total or points:  # a team mean rounded to 0 still holds its players' points for an undo
                awards.append((team_id, total, "全员答题"))
        if awards:
            m.player_group = m.award(awards)

    def player_points(self, m: LiveContest, answer: Mapping[str, Any], spec: RoundSpec) -> float:
        """The round's points (and speed bonus) for a right answer, else 0; whole points unless the plan
        allows decimals (contest_points)."""
        if m.state.voided:
            return 0.0
        answer_ms = spec.answer_seconds * 1000
        opened = m.state.opened_ms or answer["at_ms"]
        left = 1 - (answer["at_ms"] - opened) / answer_ms if answer_ms else 0
        correct = answer["verdict"] == Verdict.CORRECT
        exact = speed_points(spec.points, spec.speed_bonus, answer["credit"], correct, left)
        return contest_points(exact, m.plan.decimals)

    def add_view(self, m: LiveContest, spec: RoundSpec, view: dict[str, Any], role: Role, revealed: bool) -> None:
        state = m.state
        if not (revealed and state.question):
            return
        view["distribution"] = state.distribution
        if role is Role.PLAYER:  # each phone works out its own result from its ack (docs/socket-protocol.md)
            view["scoring"] = {
                "points": spec.points,
                "speed_bonus": spec.speed_bonus,
                "answer_ms": spec.answer_seconds * 1000,
                "opened_ms": state.opened_ms,
                "voided": state.voided,
                "decimals": m.plan.decimals,
            }


def _distribution(answers: Any) -> dict[str, int]:
    """How many answers chose each response."""
    counts: dict[str, int] = {}
    for answer in answers:
        response = answer["response"]
        key = "".join(response) if isinstance(response, list) else str(response)
        counts[key] = counts.get(key, 0) + 1
    return counts
