"""Contest points: whole numbers by default; teams' points from their players'; ranks from a score table.

Pure Python, used by the live-contest machine. A branch contest announces whole points ("加 14 分"), so
every computed score (a player's speed bonus, a team's mean) is rounded to a whole number, half up
(half away from zero: 2.5 -> 3, -2.5 -> -3), unless the plan opts into decimals (`decimals: true`), where
the usual 0.01 rounding of the scoring engine applies. Rounding happens once, on the exact value.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

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
    return team_total([points for points in player_points if points], len(player_points), mean, decimals)


def team_total(scored: list[float], players: int, mean: bool, decimals: bool = False) -> float:
    """`team_points` from the non-zero points only (in joining order) and how many players could score:
    a reveal need not look at the players who scored nothing (adding 0.0 never changes a float sum)."""
    if not players:
        return 0.0
    total = sum(scored)
    return contest_points(total / players if mean else total, decimals)


def rank_of(total: float, counts: Mapping[float, int]) -> int:
    """Competition ranking (1, 2, 2, 4): one more than the players with a higher total."""
    return 1 + sum(count for other, count in counts.items() if other > total)


def rank_in(total: float, table: list[list[float]]) -> int:
    """A player's rank from the leaderboard's score table (the same rule the phone applies)."""
    return 1 + int(sum(count for other, count in table if other > total))
