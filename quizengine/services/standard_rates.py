"""参学率 and 达标率 of many branches over many periods, counted without building each member's `Evaluation` for show.

The committee overview covers 12 periods of every branch (5,000 members at committee scale):

- a **closed** period's stored results are counted per branch, period, status and "studied" in one grouped
  query. A branch whose results for a period are not all stored yet (not read since it closed) goes through
  `standards.standings_by_branch`, which evaluates and stores them;
- an **open** period (the current one) is evaluated live from each member's totals summed in SQL
  (`standard_facts.member_facts(summed=True)`; each day only when the standard has a per-day rule), with members
  read as plain rows, and only the counts are kept.

Either way the rates are exactly those of the per-member evaluations (tests/test_standard_rates.py compares them).
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from quizengine.engine.learning import PointsPolicy
from quizengine.engine.periods import Period
from quizengine.engine.standard import Evaluation, Standard, Status, outcome
from quizengine.engine.study_rules import STUDY_RULES
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import Role, StandardResult, User

from .access import can_read_branch, require
from .standard_facts import MemberRow, member_facts, member_rows, plain_rows
from .standards import standards_of, standings_by_branch
from .summaries import local_day


@dataclass(frozen=True)
class Rates:
    """Counts behind the two rates: members evaluated (not exempt), of them studied, of them met."""

    counted: int = 0
    studied: int = 0
    met: int = 0
    not_started: int = 0

    @property
    def participation(self) -> float | None:
        return self.studied / self.counted if self.counted else None

    @property
    def met_rate(self) -> float | None:
        return self.met / self.counted if self.counted else None

    def count(self, status: Status) -> int:
        """Members evaluated with this status (exempt members are not counted)."""
        if status is Status.MET:
            return self.met
        if status is Status.NOT_STARTED:
            return self.not_started
        return self.counted - self.met - self.not_started if status is Status.NOT_MET else 0

    def times(self, count: int) -> Rates:
        """These counts for `count` members alike."""
        return Rates(count * self.counted, count * self.studied, count * self.met, count * self.not_started)

    def __add__(self, other: Rates) -> Rates:
        return Rates(
            self.counted + other.counted,
            self.studied + other.studied,
            self.met + other.met,
            self.not_started + other.not_started,
        )

    @staticmethod
    def of(evaluations: Iterable[Evaluation]) -> Rates:
        """The counts of some evaluations (the same rule as `engine.standard.participation_rate` / `met_rate`)."""
        rates = Rates()
        for evaluation in evaluations:
            rates += Rates.one(evaluation.status, evaluation.studied)
        return rates

    @staticmethod
    def one(status: Status, studied: bool) -> Rates:
        """One member's counts."""
        if status is Status.EXEMPT:
            return Rates()
        return Rates(1, int(studied), int(status is Status.MET), int(status is Status.NOT_STARTED))


def branch_rates(
    session: Session,
    viewer: User,
    branch_ids: list[int],
    periods: list[Period],
    *,
    clock: Clock | None = None,
    policy: PointsPolicy | None = None,
) -> list[dict[int, tuple[Period, Rates]]]:
    """Per period (in order), each branch's own period of its standard's kind holding the period's first day and
    its rates there; a fixed number of queries whatever the number of branches."""
    require(all(can_read_branch(viewer, branch_id) for branch_id in branch_ids), "只能查看所督导支部的考核情况")
    clock = clock or SystemClock()
    now = clock.now()
    today = local_day(now)
    standards = standards_of(session, branch_ids)
    own = [{b: Period.containing(standards[b].period_kind, period.start) for b in branch_ids} for period in periods]
    closed = {p.key for found in own for p in found.values() if p.is_closed(today)}
    stored = _stored_counts(session, branch_ids, closed) if closed else {}
    sizes = _sizes(session, branch_ids) if closed else {}
    members = member_rows(session, branch_ids) if len(closed) < len({p for f in own for p in f.values()}) else {}
    result: list[dict[int, tuple[Period, Rates]]] = []
    for period, owns in zip(periods, own, strict=True):
        rates: dict[int, tuple[Period, Rates]] = {}
        missing, live = [], defaultdict(list)
        for branch_id, branch_period in owns.items():
            if not branch_period.is_closed(today):
                live[(repr(standards[branch_id].to_json()), branch_period)].append(branch_id)
                continue
            total, counts = stored.get((branch_id, branch_period.key), (0, Rates()))
            if total == sizes[branch_id]:
                rates[branch_id] = (branch_period, counts)
            else:
                missing.append(branch_id)
        if missing:
            [found] = standings_by_branch(session, viewer, missing, [period], clock=clock, policy=policy)
            for branch_id, (branch_period, rows) in found.items():
                rates[branch_id] = (branch_period, Rates.of(row.evaluation for row in rows))
        for (_, branch_period), ids in live.items():
            counts = _live(session, standards[ids[0]], branch_period, {b: members[b] for b in ids}, now, policy)
            rates.update((branch_id, (branch_period, counts[branch_id])) for branch_id in ids)
        result.append(rates)
    return result


def _live(
    session: Session,
    standard: Standard,
    period: Period,
    members: dict[int, list[MemberRow]],
    now: datetime,
    policy: PointsPolicy | None,
) -> dict[int, Rates]:
    """Branches sharing a standard and an open period, evaluated from each member's totals (each day only for a
    per-day rule): `standards._evaluations` without the ORM members, the days, the rules' texts and the store."""
    everyone = [member for rows in members.values() for member in rows]
    study = any(rule.kind in STUDY_RULES for rule in standard.rules)
    summed = not standard.needs_days
    today = local_day(now)
    rates: dict[int, Rates] = {}
    with _without_cycle_collection():
        facts = member_facts(session, everyone, period, now, hide_scores=False, study=study, summed=summed)
        for branch_id, rows in members.items():
            outcomes = Counter(outcome(standard, period, facts[member.id], today, policy=policy) for member in rows)
            rates[branch_id] = sum((Rates.one(*key).times(count) for key, count in outcomes.items()), Rates())
    return rates


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while thousands of members' facts and outcomes are built: they hold no
    reference cycles and are freed by reference counting, but their number sets off collector passes over the
    whole process heap — measured on the committee overview, a third of its CPU time in a process that had
    served other pages (docs/performance.md). Restored on exit, also on an error."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _sizes(session: Session, branch_ids: list[int]) -> dict[int, int]:
    """Members held to the standard per branch (as many stored results make a period complete)."""
    sizes: dict[int, int] = dict.fromkeys(branch_ids, 0)
    for branch_id, count in plain_rows(
        session,
        select(User.branch_id, func.count())
        .where(User.branch_id.in_(branch_ids), User.role.in_((Role.MEMBER, Role.ORGANIZER)))
        .group_by(User.branch_id),
    ):
        sizes[branch_id] = count
    return sizes


def _stored_counts(session: Session, branch_ids: list[int], keys: set[str]) -> dict[tuple[int, str], tuple[int, Rates]]:
    """(branch, period key) -> (stored results, their counts), in one query grouped by branch and period."""
    status = StandardResult.status
    counted = status != Status.EXEMPT.value
    studied = StandardResult.studied

    def tally(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    rows = plain_rows(
        session,
        select(
            User.branch_id,
            StandardResult.period,
            func.count(),
            tally(counted),
            tally(and_(counted, studied)),
            tally(status == Status.MET.value),
            tally(status == Status.NOT_STARTED.value),
        )
        .join(User, User.id == StandardResult.user_id)
        .where(
            StandardResult.period.in_(sorted(keys)),
            User.branch_id.in_(branch_ids),
            User.role.in_((Role.MEMBER, Role.ORGANIZER)),
        )
        .group_by(User.branch_id, StandardResult.period),
    )
    return {
        (branch_id, key): (int(total), Rates(int(evaluated), int(was_studied), int(met), int(not_started)))
        for branch_id, key, total, evaluated, was_studied, met, not_started in rows
    }
