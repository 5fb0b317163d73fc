"""一站到底: contestants answer in turn; a wrong answer or a timeout puts them out; the last one standing — or
everyone still standing after the round's questions — wins the round's points.

Contestants are the teams (answering on their devices, or orally with the host judging) or the joined
players (each on their own phone, in joining order). The line-up is fixed when the round starts; its
bookkeeping lives in `state.round_data`:

- `mode`: "teams" or "players"; `order`: the contestants in turn order; `names`/`teams`: each player's
  name and team (players only: the views never need the whole roster);
- `out`: contestant -> the question number they went out at; `turn`: index in `order` of the one answering;
- `counted`: the last question was scored (a voided question does not count: the same contestant answers
  the next one); `won`: the winners, once the round is decided (then it is not scored again).

Points: `win_points` to every winner — to the team, or to the player and their team. The host's undo takes
the points back; it does not bring a contestant back in (void a question before its reveal instead).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..fields import JUDGED_BY, PlanField
from ..points import contest_points
from ..state import EVERYONE_ROLES, Command, ContestError, Event, Phase, Role
from .base import RoundType, register

if TYPE_CHECKING:
    from ..machine import LiveContest
    from ..plan import RoundSpec

CONTESTANTS = PlanField(
    "contestants",
    "choice",
    "参赛方式",
    "teams",
    choices=(("teams", "各队轮流"), ("players", "队员轮流")),
    prompt="参赛方式（队员轮流时用手机作答）",
)
WIN_POINTS = PlanField("win_points", "number", "胜者得分", 30, minimum=0, prompt="胜者得分（每位胜者）")
#: Only teams are judged by the host; players always answer on their phones.
TEAMS_JUDGED_BY = dataclasses.replace(JUDGED_BY, only_when=("contestants", ("teams",)))

#: Why a winner scores, in the score log.
REASON = "一站到底胜出"


@register
class Elimination(RoundType):
    """Turns go round the contestants still standing; the round ends when one is left or the questions run out."""

    kind = "elimination"
    label = "一站到底"
    position = 5
    fields = (CONTESTANTS, WIN_POINTS, TEAMS_JUDGED_BY)

    def rules(self, spec: RoundSpec) -> str:
        who = "各位队员用手机" if _players(spec) else "各队"
        winner = "队员" if _players(spec) else "队伍"
        points = f"{spec.value('win_points', WIN_POINTS.default):g}"
        return (
            f"{who}依次作答，答错或超时即出局；最后留在场上的{winner}"
            f"（或{spec.source.count}题后仍在场上的）各得{points}分"
        )

    # ---- the plan ------------------------------------------------------------------------------------

    def on_device(self, values: Mapping[str, Any]) -> bool:
        return values.get("contestants") == "players" or super().on_device(values)

    def check_plan(self, data: Mapping[str, Any], errors: dict[str, Any]) -> None:
        if data.get("contestants") == "players" and "judged_by" in data:
            errors["judged_by"] = ["队员轮流（contestants: players）时由轮到的队员用手机作答，不能设置 judged_by"]

    def needs_players(self, spec: RoundSpec) -> bool:
        return _players(spec)

    def players_only(self, spec: RoundSpec) -> bool:
        return _players(spec)

    def individual_rules(self, spec: RoundSpec) -> str:
        points = f"{spec.value('win_points', WIN_POINTS.default):g}"
        last = f"最后留在场上的（或{spec.source.count}题后仍在场上的）各得{points}分"
        return f"每人用手机依次作答，答错或超时即出局；{last}"

    # ---- the round -----------------------------------------------------------------------------------

    def enter(self, m: LiveContest, now: int) -> None:
        """Fix the line-up: the teams in plan order, or the players who have joined, in joining order."""
        state = m.state
        spec = m.round_spec()
        data: dict[str, Any] = {"out": {}, "turn": -1, "counted": True, "won": None}
        if _players(spec):
            joined = [(p, info) for p, info in m.players.items() if p not in state.kicked]
            data.update(
                mode="players",
                order=[p for p, _ in joined],
                names={p: str(info["name"]) for p, info in joined},
                teams={p: str(info["team"]) for p, info in joined},
            )
        else:
            data.update(mode="teams", order=[t for t in m.team_ids() if t not in state.kicked])
        state.round_data = data

    def has_next_question(self, m: LiveContest) -> bool:
        data = m.state.round_data
        return data["won"] is None and len(_standing(data)) > 1 and super().has_next_question(m)

    def next_question(self, m: LiveContest, spec: RoundSpec, now: int) -> list[Event]:
        """The next standing contestant answers (the same one again after a voided question)."""
        state = m.state
        data = state.round_data
        standing = _standing(data)
        if len(standing) < 2:  # nobody to stand against: decided before it began
            self._decide(m, spec)
            state.phase, state.question = Phase.SCOREBOARD, None
            return [Event("scores", EVERYONE_ROLES)]
        if data["counted"]:
            order = data["order"]
            data["turn"] = next(
                index
                for step in range(1, len(order) + 1)
                if order[index := (data["turn"] + step) % len(order)] in standing
            )
            data["counted"] = False
        if data["mode"] == "teams":
            state.team_on_turn = _on_turn(data)
        return super().next_question(m, spec, now)

    def leave(self, m: LiveContest, now: int) -> list[Event]:
        """The questions ran out (the last one voided, say): everyone still standing wins."""
        if m.state.round_data["won"] is None:
            self._decide(m, m.round_spec())
        return []

    # ---- answers -------------------------------------------------------------------------------------

    def answer_key(self, m: LiveContest, command: Command, spec: RoundSpec) -> str:
        data = m.state.round_data
        if data["mode"] == "teams":
            return super().answer_key(m, command, spec)
        if command.role is not Role.PLAYER:
            raise ContestError("一站到底由轮到的队员用手机作答", "wrong_role")
        if command.player != _on_turn(data):
            raise ContestError("现在不是你作答", "not_your_turn")
        if m.state.phase is not Phase.ANSWERING:
            raise ContestError("现在不能作答", "wrong_phase")
        return f"player:{command.player}"

    def on_answer(self, m: LiveContest, command: Command, record: dict[str, Any], now: int) -> list[Event]:
        if m.state.round_data["mode"] == "teams":
            return super().on_answer(m, command, record, now)
        m.state.phase, m.state.deadline_ms = Phase.LOCKED, None
        return [Event("locked", EVERYONE_ROLES)]

    def player_answers_are_commands(self, m: LiveContest) -> bool:
        return m.state.round_data.get("mode") == "players"

    def player_can_answer(self, m: LiveContest, player: str, info: Mapping[str, Any], answer: Any) -> bool:
        data = m.state.round_data
        return (
            data.get("mode") == "players"
            and m.state.phase is Phase.ANSWERING
            and player == _on_turn(data)
            and answer is None
        )

    # ---- scoring -------------------------------------------------------------------------------------

    def score(self, m: LiveContest, spec: RoundSpec) -> None:
        """A wrong or missing answer puts the contestant out; one left, or the last question, decides the round."""
        state = m.state
        data = state.round_data
        who = _on_turn(data)
        if who is None or data["won"] is not None:
            return
        data["counted"] = True
        if data["mode"] == "teams":
            answer = next((a for a in state.answers.values() if a["team"] == who), None)
        else:
            answer = state.answers.get(f"player:{who}")
        if answer is None or answer["verdict"] != "correct":
            data["out"][who] = state.question_index + 1
        last = state.question_index + 1 >= len(state.rounds[state.round_index])
        if len(_standing(data)) <= 1 or last:
            self._decide(m, spec)

    def _decide(self, m: LiveContest, spec: RoundSpec) -> None:
        """Everyone still standing wins the round's points (a player's go to them and to their team)."""
        data = m.state.round_data
        winners = _standing(data)
        data["won"] = winners
        points = contest_points(float(spec.value("win_points", WIN_POINTS.default)), m.plan.decimals)
        if not winners or not points:
            return
        if data["mode"] == "teams":
            m.award([(team, points, REASON) for team in winners])
            return
        per_team = Counter(data["teams"][player] for player in winners)
        m.player_deltas = dict.fromkeys(winners, points)
        m.player_group = m.award([(team, points * count, REASON) for team, count in per_team.items()])
        m.update_leaderboard()

    def question_points(self, m: LiveContest, spec: RoundSpec) -> float:
        return float(spec.value("win_points", WIN_POINTS.default))

    # ---- views ---------------------------------------------------------------------------------------

    def add_view(self, m: LiveContest, spec: RoundSpec, view: dict[str, Any], role: Role, revealed: bool) -> None:
        """Who is standing, who is out, who won, and who answers now: the same for every role."""
        data = m.state.round_data
        if "order" not in data:
            return
        players = data["mode"] == "players"
        on_turn = _on_turn(data) if m.state.question is not None else None
        won = set(data["won"] or ())
        names = data["names"] if players else {team["id"]: team["name"] for team in m.state.teams}
        teams = data["teams"] if players else {team: team for team in data["order"]}
        view["standing"] = {
            "title": ("场上选手" if players else "场上队伍") if data["won"] is None else "一站到底胜出",
            "left": len(_standing(data)),
            "entries": [
                {
                    "id": who,
                    "name": names.get(who, who),
                    "team": teams.get(who, ""),
                    "out": who in data["out"],
                    "won": who in won,
                    "turn": who == on_turn,
                }
                for who in data["order"]
            ],
        }
        if players and on_turn is not None:
            view["turn"] = {"id": on_turn, "name": names.get(on_turn, on_turn), "team": teams.get(on_turn, "")}


def _players(spec: RoundSpec) -> bool:
    return spec.value("contestants", CONTESTANTS.default) == "players"


def _standing(data: Mapping[str, Any]) -> list[str]:
    return [who for who in data.get("order", ()) if who not in data["out"]]


def _on_turn(data: Mapping[str, Any]) -> str | None:
    turn = data.get("turn", -1)
    return data["order"][turn] if 0 <= turn < len(data.get("order", ())) else None
