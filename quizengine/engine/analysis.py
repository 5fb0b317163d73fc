"""Item analysis and score distributions for finished exams.

Facility = mean mark on the item / the item's maximum (the share of credit earned). Discrimination =
the Pearson correlation between the item mark and the member's score on the *rest* of the test
(corrected item-total correlation), so an item does not correlate with itself. A low or negative
discrimination flags a wrong key or an ambiguous stem.

Below `MIN_RESPONSES` answers neither is computed: with fewer, one member moves the facility by 0.1 or
more and the correlation is noise, so a number would mislead more than it tells (the page says why). In
随机组卷 each question is asked of only some members, which is exactly when this matters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: The fewest answers to an item for which facility and discrimination are computed.
MIN_RESPONSES = 10


@dataclass(frozen=True)
class ItemStatistics:
    """One question's statistics over the members who were asked it (None: too few answers, or undefined)."""

    responses: int
    facility: float | None
    discrimination: float | None

    @property
    def too_few(self) -> bool:
        """Fewer than `MIN_RESPONSES` answers: nothing computed."""
        return self.responses < MIN_RESPONSES


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    count = len(xs)
    if count < 2:
        return None
    mean_x, mean_y = sum(xs) / count, sum(ys) / count
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    if var_x == 0 or var_y == 0:
        return None  # everyone scored the same: the item (or the rest) cannot discriminate
    return cov / math.sqrt(var_x * var_y)


def item_statistics(
    marks: Sequence[float], totals: Sequence[float], max_mark: float, *, min_responses: int = MIN_RESPONSES
) -> ItemStatistics:
    """Statistics of one item from each member's mark on it and their total score (same order).

    In 随机组卷 pass totals as shares of each paper's maximum, so papers of different totals compare.
    """
    if len(marks) < max(min_responses, 1):
        return ItemStatistics(len(marks), None, None)
    facility = (sum(marks) / len(marks)) / max_mark if max_mark else None
    rest = [total - mark for mark, total in zip(marks, totals, strict=True)]
    return ItemStatistics(len(marks), facility, _pearson(marks, rest))


def histogram(scores: Sequence[float], maximum: float, bins: int = 10) -> list[tuple[float, float, int]]:
    """Counts of scores in `bins` equal bands from 0 to `maximum` (the top band includes the maximum)."""
    if maximum <= 0:
        return []
    width = maximum / bins
    counts = [0] * bins
    for score in scores:
        index = min(int(score / width), bins - 1) if score > 0 else 0
        counts[index] += 1
    return [(round(i * width, 2), round((i + 1) * width, 2), counts[i]) for i in range(bins)]
