"""参学率 and 达标率 of many branches over past periods, aggregated in SQL from the stored closed-period results.

The committee overview's trend covers 12 periods of every branch: building each member's stored `Evaluation`
only to count them cost more than the rest of the page at committee scale (5,000 members × 11 closed months).
Here the stored results are counted per branch, period, status and "studied" in one grouped query. A branch
whose results for a period are not all stored yet (a period not closed in the branch's own standard, or not
read since it closed) goes through `standards.standings_by_branch`, which evaluates and stores them — so the
rates are exactly those of the evaluations, only cheaper to read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.learning import PointsPolicy
from quizengine.engine.standard import Evaluation, Period, Status
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import Role, StandardResult, User

from .access import can_read_branch, require
from .standards import standards_of, standings_by_branch


@dataclass(frozen=True)
class Rates:
    """Counts behind the two rates: members evaluated (not exempt), of them studied, of them met."""

    counted: int = 0
    studied: int = 0
    met: int = 0

    @property
    def participation(self) -> float | None:
        return self.studied / self.counted if self.counted else None

    @property
    def met_rate(self) -> float | None:
        return self.met / self.counted if self.counted else None

    def __add__(self, other: Rates) -> Rates:
        return Rates(self.counted + other.counted, self.studied + other.studied, self.met + other.met)

    @staticmethod
    def of(evaluations: Iterable[Evaluation]) -> Rates:
        """The counts of some evaluations (the same rule as `engine.standard.participation_rate` / `met_rate`)."""
        counted = [e for e in evaluations if e.status is not Status.EXEMPT]
        met = sum(1 for e in counted if e.status is Status.MET)
        return Rates(len(counted), sum(1 for e in counted if e.studied), met)


def branch_rates(
    session: Session,
    viewer: User,
    branch_ids: list[int],
    periods: list[Period],
    *,
    clock: Clock | None = None,
    policy: PointsPolicy | None = None,
) -> list[dict[int, Rates]]:
    """Per period (in order), each branch's rates for its own period of its standard's kind holding the period's
    first day; a fixed number of queries for the stored part whatever the number of branches."""
    require(all(can_read_branch(viewer, branch_id) for branch_id in branch_ids), "只能查看所督导支部的考核情况")
    clock = clock or SystemClock()
    standards = standards_of(session, branch_ids)
    sizes: dict[int, int] = dict.fromkeys(branch_ids, 0)
    for branch_id, count in session.execute(
        select(User.branch_id, func.count())
        .where(User.branch_id.in_(branch_ids), User.role.in_((Role.MEMBER, Role.ORGANIZER)))
        .group_by(User.branch_id)
    ):
        sizes[branch_id] = count
    own = [{b: Period.containing(standards[b].period_kind, period.start) for b in branch_ids} for period in periods]
    stored = _stored_counts(session, branch_ids, {p.key for found in own for p in found.values()})
    result: list[dict[int, Rates]] = []
    for period, owns in zip(periods, own, strict=True):
        rates: dict[int, Rates] = {}
        missing = []
        for branch_id, branch_period in owns.items():
            total, counts = stored.get((branch_id, branch_period.key), (0, Rates()))
            if total == sizes[branch_id]:
                rates[branch_id] = counts
            else:
                missing.append(branch_id)
        if missing:
            [found] = standings_by_branch(session, viewer, missing, [period], clock=clock, policy=policy)
            for branch_id, (_, rows) in found.items():
                rates[branch_id] = Rates.of(row.evaluation for row in rows)
        result.append(rates)
    return result


def _stored_counts(session: Session, branch_ids: list[int], keys: set[str]) -> dict[tuple[int, str], tuple[int, Rates]]:
    """(branch, period key) -> (stored results, their counts), in one grouped query."""
    studied = StandardResult.detail["studied"].as_boolean()
    rows = session.execute(
        select(User.branch_id, StandardResult.period, StandardResult.status, studied, func.count())
        .join(User, User.id == StandardResult.user_id)
        .where(
            StandardResult.period.in_(sorted(keys)),
            User.branch_id.in_(branch_ids),
            User.role.in_((Role.MEMBER, Role.ORGANIZER)),
        )
        .group_by(User.branch_id, StandardResult.period, StandardResult.status, studied)
    )
    totals: dict[tuple[int, str], int] = defaultdict(int)
    counts: dict[tuple[int, str], Rates] = defaultdict(Rates)
    for branch_id, key, status, was_studied, count in rows:
        totals[(branch_id, key)] += count
        if status != Status.EXEMPT.value:
            counts[(branch_id, key)] += Rates(count, count if was_studied else 0, count if status == Status.MET else 0)
    return {key: (total, counts[key]) for key, total in totals.items()}
