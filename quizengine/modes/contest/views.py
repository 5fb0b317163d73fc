"""Per-role views of a contest: the snapshot on (re)connect and every live update alike.

The answer, 解析 and 出处 appear for participants and the projector only once the question is revealed;
only the host sees them early. Per-answer details go to the answerer in an ack, so the players' view is
the same for every player (one broadcast to their room). The round's type adds what is its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .podium import podium_view, team_row
from .points import rank_in
from .rounds import round_type
from .state import PHASE_LABELS, Phase, Role

if TYPE_CHECKING:
    from quizengine.engine.scoring import Ranked

    from .machine import LiveContest
    from .plan import RoundSpec

#: How many names per team the projector's lobby lists (the count covers everyone).
LOBBY_NAMES = 12


def view_for(m: LiveContest, role: Role, team: str | None = None, player: str | None = None) -> dict[str, Any]:
    """What one client may see."""
    state = m.state
    spec = m.round_spec() if state.round_index >= 0 else None
    kind = round_type(spec.kind) if spec is not None else None
    revealed = state.phase in (Phase.REVEALED, Phase.SCOREBOARD, Phase.FINISHED) or (
        state.phase is Phase.PAUSED and state.paused_phase is Phase.REVEALED
    )
    scores = m.scores()
    view: dict[str, Any] = {
        "version": state.version,
        "phase": str(state.phase),
        "phase_label": PHASE_LABELS[state.phase],
        "paused_phase": str(state.paused_phase) if state.paused_phase else None,
        "pause_reason": state.pause_reason,
        "deadline_ms": state.deadline_ms,
        "title": m.plan.title,
        "round": _round_view(m, spec),
        "question": _question_view(
            m,
            spec,
            include_key=role is Role.HOST or revealed,
            include_quote=role is Role.HOST or (role is Role.PROJECTOR and revealed and state.quote_shown),
        ),
        "team_on_turn": state.team_on_turn,
        "risk_value": state.risk_value,
        "teams": [
            {**team_info, "score": scores[team_info["id"]], "kicked": team_info["id"] in state.kicked}
            for team_info in state.teams
        ],
        "voided": state.voided,
        "individual": m.plan.individual,
    }
    if role in (Role.HOST, Role.PROJECTOR) or state.phase in (Phase.BUZZ_WON, Phase.REVEALED):
        view["buzzes"] = [{"team": b["team"], "foul": b["foul"], "gap_ms": b.get("gap_ms", 0)} for b in state.buzzes]
    ranking = m.ranking()
    row = _place_row(m)
    if role in (Role.HOST, Role.PROJECTOR):
        view["ranking"] = [row(r) for r in ranking]
    if state.phase is Phase.FINISHED:
        view["podium"] = podium_view(ranking, state.podium, row)
        view["ended_early"] = state.ended_early
        if role not in (Role.HOST, Role.PROJECTOR):  # phones learn the places as the podium shows them
            view["ranking"] = view["podium"]["places"] if not view["podium"]["done"] else [row(r) for r in ranking]
    if state.leaderboard:
        board = state.leaderboard
        view["leaderboard"] = (
            {"totals": board["totals"], "count": board["count"], "top": board["top"][:3]}
            if role is Role.PLAYER
            else {"top": board["top"], "count": board["count"]}
        )
    if role in (Role.HOST, Role.PROJECTOR):
        view["muted"] = state.muted
        view["quote_shown"] = state.quote_shown
    if kind is not None and spec is not None:
        kind.add_view(m, spec, view, role, revealed)
    if role is Role.HOST:  # team answers only: players' answers stay in their rows (counts come coalesced)
        view["answers"] = {key: dict(a) for key, a in state.answers.items() if key.startswith("team:")}
        view["awards"] = [asdict(a) for a in state.awards[-20:]]
        view["kicked"] = list(state.kicked)
        view["tiebreak_teams"] = state.tiebreak_teams
    if role is Role.TEAM and team is not None:
        view["me"] = {
            "team": team,
            "can_buzz": state.phase in (Phase.BUZZ_ARMED, Phase.BUZZ_OPEN)
            and team not in state.locked_out
            and (not m.in_tiebreak or team in state.tiebreak_teams),
            "my_turn": state.team_on_turn == team,
            "answered": any(a["team"] == team for a in state.answers.values()),
            "kicked": team in state.kicked,
        }
    if role is Role.PLAYER and player is not None and player in m.players:
        view["me"] = _player_me(m, spec, player, revealed)
    return view


def _place_row(m: LiveContest) -> Callable[[Ranked], dict[str, Any]]:
    """How one place of the ranking reaches the screens: a team's, or in a 个人赛 a player's with the name."""
    if not m.plan.individual:
        return team_row
    names = {row["player"]: row["name"] for row in m.state.leaderboard.get("top", [])}
    return lambda r: {
        "player": r.entry.key,
        "name": names.get(r.entry.key, ""),
        "place": r.place,
        "score": r.entry.score,
    }


def _player_me(m: LiveContest, spec: RoundSpec | None, player: str, revealed: bool) -> dict[str, Any]:
    """A player's own part of their view (the service hands in the player's row and own answer)."""
    state = m.state
    info = m.players[player]
    answer = info.get("answer")
    kind = round_type(spec.kind) if spec is not None else None
    return {
        "player": player,
        "team": info["team"],
        "can_answer": kind is not None and kind.player_can_answer(m, player, info, answer),
        "answered": answer is not None,
        "result": answer.get("verdict") if answer and revealed else None,
        "points": kind.player_points(m, answer, spec) if answer and revealed and kind and spec else None,
        "kicked": player in state.kicked,
        # the total after the latest reveal; live updates carry the score table, from which the phone
        # works out its rank with its own total
        "total": info.get("points", 0.0),
        "rank": rank_in(info.get("points", 0.0), state.leaderboard["totals"]) if state.leaderboard else None,
    }


def roster(m: LiveContest, role: Role) -> dict[str, Any]:
    """Who has joined, for the host (every player, to kick) or the projector's lobby (counts, a few names).

    Sent in the host's and projector's snapshot and, coalesced, whenever it changes; never inside the
    per-transition views, so no update grows with the number of players.
    """
    by_team = {team_id: 0 for team_id in m.team_ids()}
    for info in m.players.values():
        by_team[info["team"]] = by_team.get(info["team"], 0) + 1
    result: dict[str, Any] = {"count": len(m.players), "by_team": by_team}
    if role is Role.HOST:
        result["players"] = [
            {
                "id": p,
                "team": i["team"],
                "name": i["name"],
                "joined_seq": i["joined_seq"],
                "kicked": p in m.state.kicked,
            }
            for p, i in m.players.items()
        ]
    else:  # the latest names of each team, bounded: the lobby shows who is here, not a register
        names: dict[str, list[str]] = {team_id: [] for team_id in m.team_ids()}
        for p, info in reversed(list(m.players.items())):
            listed = names.setdefault(info["team"], [])
            if p not in m.state.kicked and len(listed) < LOBBY_NAMES:
                listed.append(info["name"])
        result["names"] = names
    return result


def _round_view(m: LiveContest, spec: RoundSpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    kind = round_type(spec.kind)
    return {
        "index": m.state.round_index,
        "count": len(m.plan.rounds),
        "kind": str(spec.kind),
        "label": "加赛" if m.in_tiebreak else kind.label,
        "title": spec.title,
        "rules": kind.individual_rules(spec) if m.plan.individual else kind.rules(spec),
        "question_number": m.state.question_index + 1,
        **kind.round_view(m, spec),
    }


def _question_view(
    m: LiveContest, spec: RoundSpec | None, include_key: bool, include_quote: bool
) -> dict[str, Any] | None:
    state = m.state
    if state.question is None or spec is None:
        return None
    question = m.questions[state.question]
    view: dict[str, Any] = {
        "id": question.id,
        "seq": state.question_seq,
        "type": question.type,
        "stem": question.stem,
        "options": [[option.key, option.text] for option in question.options],
        "points": round_type(spec.kind).question_points(m, spec),
    }
    if include_key:
        answer = question.answer
        view["answer"] = list(answer) if isinstance(answer, tuple) else answer
        view["explanation"] = question.explanation
        view["reference"] = question.reference
    if include_quote:
        view["quote"] = question.quote
    return view
