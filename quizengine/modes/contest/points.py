"""Contest points: whole numbers by default, and the players' leaderboard of 全员答题.

Pure Python, used by the live-contest machine. A branch contest announces whole points ("加 14 分"), so
every computed score (a player's speed bonus, a team's mean) is rounded to a whole number, half up
(half away from zero: 2.5 -> 3, -2.5 -> -3), unless the plan opts into decimals (`decimals: true`), where
the usual 0.01 rounding of the scoring engine applies. Rounding happens once, on the exact value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

#: How many players the projector's leaderboard lists.
LEADERBOARD_TOP = 10


def contest_points(value: float, decimals: bool = False) -> float:
    """`value` rounded half up (away from zero) to a whole number, or to 0.01 when the plan allows decimals.

    Decimal arithmetic on the shortest repr, so 2.675 rounds to 2.68 (not 2.67 as binary floats would).
    """
    step = Decimal("0.01") if decimals else Decimal("1")
    return float(Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP))


def speed_points(points: float, bonus: float, credit: float, correct: bool, time_left_share: float) -> float:
    """A 全员答题 answer's exact points (before rounding): the credit share of the points, plus the speed
    bonus scaled by the share of the answer time left, for a fully correct answer only."""
    value = points * credit
    if correct:
        value += bonus * min(max(time_left_share, 0.0), 1.0)
    return value


def team_points(player_points: list[float], mean: bool, decimals: bool = False) -> float:
    """The team's points for one 全员答题 question: the sum or the mean of its players' (rounded) points,
    rounded the same way (a mean of 14 and 0 is 7; of 14, 0 and 0 is 4.67 -> 5)."""
    if not player_points:
        return 0.0
    total = sum(player_points)
    return contest_points(total / len(player_points) if mean else total, decimals)


def leaderboard(
    totals: Mapping[str, float], players: Mapping[str, Mapping[str, Any]], excluded: Iterable[str] = ()
) -> dict[str, Any]:
    """The players' leaderboard, bounded whatever the number of players: the top ten (with names and
    teams) and the score table — each distinct total with how many players have it, highest first.

    A phone works out its own rank from the score table and its own total (1 + the players above it), so
    the one message to the players' room after a reveal is the same for everyone and no larger than the
    number of distinct totals (small with whole points: at most the round's points × questions).
    """
    skip = set(excluded)
    ranked = [(total, index, player) for index, (player, total) in enumerate(totals.items()) if player not in skip]
    ranked.sort(key=lambda item: (-item[0], item[1]))
    counts: dict[float, int] = {}
    for total, _, _ in ranked:
        counts[total] = counts.get(total, 0) + 1
    top = []
    for total, _, player in ranked[:LEADERBOARD_TOP]:
        info = players.get(player, {})
        top.append(
            {
                "player": player,
                "name": info.get("name", ""),
                "team": info.get("team", ""),
                "points": total,
                "place": rank_of(total, counts),
            }
        )
    table = sorted(counts.items(), key=lambda item: -item[0])
    return {"top": top, "totals": [[total, count] for total, count in table], "count": len(ranked)}


def rank_of(total: float, counts: Mapping[float, int]) -> int:
    """Competition ranking (1, 2, 2, 4): one more than the players with a higher total."""
    return 1 + sum(count for other, count in counts.items() if other > total)


def rank_in(total: float, table: list[list[float]]) -> int:
    """A player's rank from the leaderboard's score table (the same rule the phone applies)."""
    return 1 + int(sum(count for other, count in table if other > total))
