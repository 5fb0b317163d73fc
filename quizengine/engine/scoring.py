"""Points rules and ranking.

Rules are a registry of small classes (flat, penalty, speed bonus). Scores are rounded to 0.01,
half away from zero, so partial credit like 2/3 of 2 points is stored as 1.33 everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from .questions import Outcome, Verdict


def round_points(value: float) -> float:
    """Round to two decimals, half away from zero (not banker's rounding)."""
    quantized = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return float(quantized)


@dataclass(frozen=True)
class ScoringContext:
    """What a rule may need besides the outcome: the question's value and timing."""

    points: float
    penalty: float = 0.0
    bonus: float = 0.0
    #: Share of the answer time still left when the answer arrived (1.0 = instantly, 0.0 = at the end).
    time_left_share: float = 0.0


class PointsRule:
    """Base of the registry: turns an outcome into points."""

    #: The rule's name in plans and configs.
    name: ClassVar[str]

    def award(self, outcome: Outcome, context: ScoringContext) -> float:
        """Return the points (possibly negative) this outcome earns."""
        raise NotImplementedError


POINTS_RULES: dict[str, PointsRule] = {}


def register_rule(cls: type[PointsRule]) -> type[PointsRule]:
    """Class decorator: add a points rule to the registry."""
    POINTS_RULES[cls.name] = cls()
    return cls


@register_rule
class FlatPoints(PointsRule):
    """Points times credit; wrong and pending earn nothing (pending is graded later)."""

    name = "flat"

    def award(self, outcome: Outcome, context: ScoringContext) -> float:
        """Credit share of the points."""
        return round_points(context.points * outcome.credit)


@register_rule
class PenaltyPoints(PointsRule):
    """抢答/风险 style: right earns points, a wrong or missing answer loses `penalty`."""

    name = "penalty"

    def award(self, outcome: Outcome, context: ScoringContext) -> float:
        """+points on correct, -penalty on wrong or unanswered; partial credit counts as its share."""
        if outcome.verdict is Verdict.CORRECT:
            return round_points(context.points)
        if outcome.verdict is Verdict.PARTIAL:
            return round_points(context.points * outcome.credit)
        if outcome.verdict is Verdict.PENDING:
            return 0.0
        return round_points(-context.penalty)


@register_rule
class SpeedBonus(PointsRule):
    """全员答题 style: a correct answer earns points plus `bonus` scaled by the time left.

    Only a fully correct answer gets the bonus, so guessing fast on a partial answer pays nothing extra.
    """

    name = "speed"

    def award(self, outcome: Outcome, context: ScoringContext) -> float:
        """Credit share of points, plus the bonus share for a correct answer."""
        base = context.points * outcome.credit
        if outcome.verdict is Verdict.CORRECT:
            share = min(max(context.time_left_share, 0.0), 1.0)
            base += context.bonus * share
        return round_points(base)


@dataclass(frozen=True)
class RankEntry:
    """A competitor: a member or a team, with the score and the total answering time used."""

    key: str
    score: float
    time_used: float = 0.0


@dataclass(frozen=True)
class Ranked:
    """A competitor's place; tied competitors share a place."""

    place: int
    entry: RankEntry


def rank(entries: Iterable[RankEntry]) -> list[Ranked]:
    """Order competitors by score (high first), then by time used (less first).

    Tie-break, as documented for organizers: equal score and equal time share the place, and the
    next place is skipped (standard competition ranking: 1, 2, 2, 4). Within a shared place the
    order is by key, so listings are stable. A live contest breaks remaining ties with a 加赛.
    """
    ordered = sorted(entries, key=lambda entry: (-entry.score, entry.time_used, entry.key))
    result: list[Ranked] = []
    for position, entry in enumerate(ordered, start=1):
        previous = result[-1] if result else None
        tied = (
            previous is not None and previous.entry.score == entry.score and previous.entry.time_used == entry.time_used
        )
        result.append(Ranked(previous.place if tied and previous else position, entry))
    return result
