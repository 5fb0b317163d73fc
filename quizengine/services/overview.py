"""党委总览 (committee overview): every branch side by side for a period, with a trend and the lagging branches.

For an admin (every branch) and an inspector (督导: the branches assigned to them, read-only). Built on
`standard_rates.branch_rates` (the 验收标准's counts: closed periods from the stored results, the open one
evaluated from each member's totals summed over `member_days`) and one grouped query for exam scores, so the
cost grows with members and periods, never with answers, and the number of queries does not grow with the
number of branches.

A branch is *lagging* (落后, highlighted) when members are evaluated and its 参学率 is below
`LAG_PARTICIPATION`, or its 达标率 is more than `LAG_MET_GAP` below the 达标率 of all the branches shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from quizengine.engine.learning import PointsPolicy
from quizengine.engine.periods import Period, recent_periods
from quizengine.engine.standard import Status
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import Attempt, AttemptStatus, Branch, Exam, ExamBranch, User

from .access import is_admin, is_inspector, readable_branch_ids, require
from .dashboard import TrendPoint
from .standard_facts import period_bounds, plain_rows
from .standard_rates import Rates, branch_rates
from .standards import current_period, standard_for_branch

#: A branch whose 参学率 is below this share is lagging.
LAG_PARTICIPATION = 0.8
#: A branch whose 达标率 is more than this below the 达标率 of all branches shown is lagging.
LAG_MET_GAP = 0.1


@dataclass(frozen=True)
class BranchFigures:
    """One branch in the overview: its own period, its members' counts, exam average, trend, lagging reasons."""

    branch: Branch | None  # None: the total (合计) of the branches shown
    period: Period
    rates: Rates
    exam_average: float | None
    trend: list[TrendPoint] = field(default_factory=list)
    lagging: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The branch's name, or 合计 for the total."""
        return self.branch.name if self.branch else "合计"

    @property
    def evaluated(self) -> int:
        """Members held to the standard (not exempt)."""
        return self.rates.counted

    def count(self, status: Status) -> int:
        """Members with this status."""
        return self.rates.count(status)

    @property
    def participation(self) -> float | None:
        """参学率."""
        return self.rates.participation

    @property
    def met_rate(self) -> float | None:
        """达标率."""
        return self.rates.met_rate

    @property
    def change(self) -> float | None:
        """达标率 change against the period before (None when either is unknown)."""
        if len(self.trend) < 2 or self.trend[-1].met is None or self.trend[-2].met is None:
            return None
        return self.trend[-1].met - self.trend[-2].met


@dataclass(frozen=True)
class Overview:
    """Everything the committee overview shows: the branches and their total ("合计")."""

    period: Period
    branches: list[BranchFigures]
    total: BranchFigures | None
    trend: list[TrendPoint]
    scope_all: bool

    @property
    def lagging(self) -> list[BranchFigures]:
        """The highlighted branches."""
        return [row for row in self.branches if row.lagging]


def may_view_overview(viewer: User) -> bool:
    """The committee overview is for admins and inspectors."""
    return is_admin(viewer) or is_inspector(viewer)


def committee_overview(
    session: Session,
    viewer: User,
    period: Period | None = None,
    *,
    clock: Clock | None = None,
    policy: PointsPolicy | None = None,
    trend_periods: int = 12,
) -> Overview:
    """Every branch the viewer may read, for `period` (default: the committee standard's current period)."""
    require(may_view_overview(viewer), "只有党委和督导可以查看党委总览")
    clock = clock or SystemClock()
    period = period or current_period(standard_for_branch(session, None), clock)
    readable = readable_branch_ids(viewer)
    query = select(Branch).order_by(Branch.name, Branch.id)
    if readable is not None:
        query = query.where(Branch.id.in_(sorted(readable)))
    branches = list(session.scalars(query))
    ids = [branch.id for branch in branches]
    periods = recent_periods(period.kind, period.start, trend_periods)
    found = branch_rates(session, viewer, ids, periods, clock=clock, policy=policy) if ids else [{} for _ in periods]
    series: dict[int, list[TrendPoint]] = defaultdict(list)
    committee: list[TrendPoint] = []
    for past, rates in zip(periods, found, strict=True):
        for branch_id, (_, counts) in rates.items():
            series[branch_id].append(TrendPoint(past, counts.participation, counts.met_rate))
        summed = sum((counts for _, counts in rates.values()), Rates())
        committee.append(TrendPoint(past, summed.participation, summed.met_rate))
    current = found[-1]
    averages, overall = _exam_averages(session, {branch_id: own for branch_id, (own, _) in current.items()})
    figures = [
        BranchFigures(branch, *current[branch.id], averages.get(branch.id), series[branch.id]) for branch in branches
    ]
    total = None
    if figures:
        total = BranchFigures(None, period, sum((f.rates for f in figures), Rates()), overall, committee)
    baseline = total.met_rate if total else None
    figures = [
        BranchFigures(f.branch, f.period, f.rates, f.exam_average, f.trend, _lag_reasons(f, baseline)) for f in figures
    ]
    return Overview(period, figures, total, committee, readable is None)


def _lag_reasons(figures: BranchFigures, baseline: float | None) -> list[str]:
    """Why a branch is highlighted (empty: it is not)."""
    if not figures.evaluated:
        return []
    reasons = []
    participation, met = figures.participation, figures.met_rate
    if participation is not None and participation < LAG_PARTICIPATION:
        reasons.append(f"参学率 {100 * participation:.1f}%，低于 {100 * LAG_PARTICIPATION:.0f}%")
    if met is not None and baseline is not None and met < baseline - LAG_MET_GAP:
        reasons.append(f"达标率 {100 * met:.1f}%，比合计低 {100 * (baseline - met):.1f} 个百分点")
    return reasons


def _exam_averages(session: Session, current: dict[int, Period]) -> tuple[dict[int, float], float | None]:
    """Average share of the paper (%) per branch — each active member's best submitted attempt at each published
    exam of their branch closing in the branch's period — and over all branches; one grouped query per period."""
    by_period: dict[Period, list[int]] = defaultdict(list)
    for branch_id, own in current.items():
        by_period[own].append(branch_id)
    shares: dict[int, list[float]] = defaultdict(list)
    for own, ids in by_period.items():
        start, end = period_bounds(own)
        best = func.max(Attempt.score * 100.0 / Attempt.max_score)
        # the period's few exams first: their attempts by exam, not every attempt of thousands of members
        exams = select(Exam.id).where(Exam.status == "published", Exam.closes_at >= start, Exam.closes_at < end)
        for branch_id, share in plain_rows(
            session,
            select(User.branch_id, best)
            .join(User, User.id == Attempt.user_id)
            .join(Exam, Exam.id == Attempt.exam_id)
            .join(ExamBranch, and_(ExamBranch.exam_id == Exam.id, ExamBranch.branch_id == User.branch_id))
            .where(
                Attempt.exam_id.in_(exams),
                User.branch_id.in_(ids),
                User.active.is_(True),
                Attempt.status == AttemptStatus.FINISHED,
                Attempt.max_score > 0,
            )
            .group_by(User.branch_id, Attempt.user_id, Attempt.exam_id),
        ):
            shares[branch_id].append(float(share))
    averages = {branch_id: round(sum(values) / len(values), 1) for branch_id, values in shares.items()}
    every = [value for values in shares.values() for value in values]
    return averages, (round(sum(every) / len(every), 1) if every else None)
