"""The players' standings (the 全员答题 leaderboard), kept up to date from what a scoring changed.

Pure Python, used by the live-contest machine. Recounting the standings from every joined player at each
reveal costs the host's worker work (and garbage) in proportion to the whole contest — with players spread
over several workers, far more than the players on that worker (docs/performance.md, "Across workers"). So
the state keeps a bounded tally — how many players have each non-zero total, kicked players included — and
a reveal moves only the players it scored from their old total to the new one. The top ten is the top of
the previous top ten and the players just scored: totals only grow at a reveal, so nobody else can pass
them. Whatever could break that (an undo, a kick or readmission, fewer than ten players, a contest from
before the tally) makes the next scoring recount from every player instead, which the service then loads.

Totals are each player's stored points plus this scoring's delta, rounded with `contest_points(…, True)`:
the same values, ties and places as a full recount (tests/test_contest_standings.py checks it step by step).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .points import LEADERBOARD_TOP, contest_points, rank_of


@dataclass(frozen=True)
class RosterCounts:
    """Set when the machine sees only the players a scoring concerns (the scored, the kicked, the previous
    top ten) instead of every joined player: how many have joined, and per team how many had joined before
    the current question (the service counts them in SQL)."""

    joined: int
    before_question: dict[str, int] = field(default_factory=dict)


def total_of(info: Mapping[str, Any], delta: float = 0.0) -> float:
    """A player's leaderboard total: the stored points plus this scoring's delta, rounded to 0.01."""
    return contest_points(float(info.get("points", 0.0)) + delta, True)


def can_advance(state: Any) -> bool:
    """Whether the next scoring may update the standings from the players it scores alone (else: recount)."""
    return state.player_table is not None and len(state.leaderboard.get("top", ())) >= LEADERBOARD_TOP


def recount(
    players: Mapping[str, Mapping[str, Any]], deltas: Mapping[str, float], kicked: Iterable[str]
) -> tuple[dict[str, Any], dict[str, int]]:
    """The leaderboard and the tally from every joined player (`players` in joining order)."""
    totals = {p: total_of(info, deltas.get(p, 0.0)) for p, info in players.items()}
    tally: dict[str, int] = {}
    for total in totals.values():
        if total:
            tally[repr(total)] = tally.get(repr(total), 0) + 1
    return leaderboard(totals, players, kicked), tally


def leaderboard(
    totals: Mapping[str, float], players: Mapping[str, Mapping[str, Any]], excluded: Iterable[str] = ()
) -> dict[str, Any]:
    """The leaderboard of these totals (in joining order), bounded whatever the number of players: the top
    ten — ties in joining order — and each distinct total with how many players have it."""
    skip = set(excluded)
    counts: dict[float, int] = {}
    for player, total in totals.items():
        if player not in skip:
            counts[total] = counts.get(total, 0) + 1
    ranked = ((total, index, player) for index, (player, total) in enumerate(totals.items()) if player not in skip)
    top = heapq.nsmallest(LEADERBOARD_TOP, ranked, key=lambda item: (-item[0], item[1]))
    return board([(player, total) for total, _, player in top], counts, players)


def advance(
    state: Any,
    players: Mapping[str, Mapping[str, Any]],
    deltas: Mapping[str, float],
    joined: int,
) -> tuple[dict[str, Any], dict[str, int]]:
    """The leaderboard and the tally after adding `deltas` (each >= 0) to the scored players.

    `players` (in joining order) holds at least the scored players, the kicked ones and the previous top
    ten, with their stored points; `joined` is how many players have joined in all.
    """
    assert can_advance(state) and all(delta >= 0 for delta in deltas.values())
    tally = dict(state.player_table)
    for player, delta in deltas.items():
        _move(tally, total_of(players[player]), total_of(players[player], delta))
    kicked = [p for p in state.kicked if p in players]
    counts = {float(total): count for total, count in tally.items()}
    for player in kicked:
        total = total_of(players[player], deltas.get(player, 0.0))
        if total:
            counts[total] -= 1
    counts = {total: count for total, count in counts.items() if count}
    zeros = joined - len(kicked) - sum(counts.values())
    if zeros:
        counts[0.0] = zeros
    order = {player: index for index, player in enumerate(players)}
    candidates = {row["player"] for row in state.leaderboard["top"]} | set(deltas)
    ranked = [(total_of(players[p], deltas.get(p, 0.0)), order[p], p) for p in candidates if p not in state.kicked]
    top = heapq.nsmallest(LEADERBOARD_TOP, ranked, key=lambda item: (-item[0], item[1]))
    return board([(player, total) for total, _, player in top], counts, players), tally


def board(
    top: list[tuple[str, float]], counts: Mapping[float, int], players: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The leaderboard message: the top ten (names, teams, places) and the score table, highest first.

    A phone works out its own rank from the score table and its own total (1 + the players above it), so
    the one message to the players' room after a reveal is the same for everyone and no larger than the
    number of distinct totals.
    """
    rows = []
    for player, total in top:
        info = players.get(player, {})
        rows.append(
            {
                "player": player,
                "name": info.get("name", ""),
                "team": info.get("team", ""),
                "points": total,
                "place": rank_of(total, counts),
            }
        )
    table = sorted(counts.items(), key=lambda item: -item[0])
    return {"top": rows, "totals": [[total, count] for total, count in table], "count": sum(counts.values())}


def _move(tally: dict[str, int], before: float, after: float) -> None:
    """One player's total goes from `before` to `after` (zeros are not tallied)."""
    if before == after:
        return
    if before:
        key = repr(before)
        tally[key] -= 1
        if not tally[key]:
            del tally[key]
    if after:
        tally[repr(after)] = tally.get(repr(after), 0) + 1
