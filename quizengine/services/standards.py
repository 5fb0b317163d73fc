"""Evaluating the 验收标准 for members and branches (the service the dashboards and the record build on).

Public API (everything takes the viewer and checks access; periods are `engine.periods.Period`):

- `standard_for_branch(session, branch_id)` — the standard that applies to a branch: its own override, else
  the committee default (stored, else `engine.standard.DEFAULT_STANDARD`).
- `save_standard(session, actor, branch_id, data)` / `reset_standard(session, actor, branch_id)` — edit the
  committee default (`branch_id` None, admin only) or a branch's override (its organizer or an admin); audited.
- `current_period(standard, clock)` — the period of the standard's kind holding today (Asia/Shanghai).
- `member_standing(session, viewer, member, period=None)` — one member's `Evaluation` (the member's own
  view hides exam scores their review policy does not show yet).
- `branch_standings(session, viewer, branch_id, period=None)` — (its organizer, an admin, or an inspector
  assigned to the branch) every member of the branch (members and
  organizers: organizers are party members too), in name order, as `Standing`s.
- `standings_by_branch(session, viewer, branch_ids, periods)` — the same for many branches and periods, in a
  fixed number of queries per period (the committee overview); their rates over many past periods come from
  `standard_rates.branch_rates` (the stored results counted in SQL).

A closed period keeps the result it had when it closed: the first organizer/admin read of a closed period
stores each member's result (`StandardResult`) and later reads return it, whatever the standard says by then.
The member's own view of a closed period is computed live (it hides exam scores their review policy does not
show yet, so it is never stored).

Reads cost O(members × days) through `member_days` (services.summaries), never O(answers): one grouped
query for the days, one for the period's exams and attempts, one for contests, whatever the member count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from quizengine.engine.learning import PointsPolicy
from quizengine.engine.periods import Period
from quizengine.engine.standard import DEFAULT_STANDARD, Evaluation, Standard, Status, evaluate, standard_from_json
from quizengine.engine.standard_rules import RuleResult
from quizengine.engine.study_rules import STUDY_RULES
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import (
    AcceptanceStandard,
    AuditEntry,
    Role,
    StandardResult,
    User,
)

from .access import can_manage_branch, can_read_branch, can_view_member, is_admin, require
from .standard_facts import member_facts
from .summaries import local_day


@dataclass(frozen=True, slots=True)
class Standing:
    """A member and their evaluation for one period."""

    member: User
    evaluation: Evaluation


COMMITTEE_SCOPE = "committee"
_STATUSES = {status.value: status for status in Status}
#: Above this many members a query reads the periods' rows and keeps the members' in Python.
_IN_LIST_LIMIT = 1_000


def _scope(branch_id: int | None) -> str:
    return COMMITTEE_SCOPE if branch_id is None else f"branch:{branch_id}"


def standard_for_branch(session: Session, branch_id: int | None) -> Standard:
    """The standard a branch is held to: its override, else the committee default, else `DEFAULT_STANDARD`."""
    stored = dict(
        session.execute(
            select(AcceptanceStandard.scope, AcceptanceStandard.definition).where(
                AcceptanceStandard.scope.in_({_scope(branch_id), COMMITTEE_SCOPE})
            )
        ).all()
    )
    data = stored.get(_scope(branch_id)) or stored.get(COMMITTEE_SCOPE)
    return standard_from_json(data) if data else DEFAULT_STANDARD


def has_override(session: Session, branch_id: int) -> bool:
    """Whether the branch has a standard of its own."""
    return (
        session.scalar(select(AcceptanceStandard.id).where(AcceptanceStandard.scope == _scope(branch_id))) is not None
    )


def _require_editor(actor: User, branch_id: int | None) -> None:
    if branch_id is None:
        require(is_admin(actor), "只有党委管理员可以修改党委的验收标准")
    else:
        require(can_manage_branch(actor, branch_id), "只能修改本支部的验收标准")


def save_standard(session: Session, actor: User, branch_id: int | None, data: object) -> Standard:
    """Store the committee default (`branch_id` None) or a branch's override; bad input → StandardError, nothing
    written. Audited with the standard before and after."""
    _require_editor(actor, branch_id)
    standard = standard_from_json(data)
    before = standard_for_branch(session, branch_id).to_json()
    row = session.scalar(select(AcceptanceStandard).where(AcceptanceStandard.scope == _scope(branch_id)))
    if row is None:
        row = AcceptanceStandard(scope=_scope(branch_id), branch_id=branch_id, definition={})
        session.add(row)
    row.definition, row.updated_by, row.updated_at = standard.to_json(), actor.id, SystemClock().now()
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action="standards.update",
            subject=_scope(branch_id),
            detail={"branch_id": branch_id, "before": before, "after": standard.to_json()},
        )
    )
    session.commit()
    return standard


def reset_standard(session: Session, actor: User, branch_id: int) -> None:
    """Drop a branch's override: the branch follows the committee default again. Audited."""
    _require_editor(actor, branch_id)
    before = standard_for_branch(session, branch_id).to_json()
    session.execute(delete(AcceptanceStandard).where(AcceptanceStandard.scope == _scope(branch_id)))
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action="standards.reset",
            subject=_scope(branch_id),
            detail={"branch_id": branch_id, "before": before},
        )
    )
    session.commit()


def current_period(standard: Standard, clock: Clock | None = None) -> Period:
    """The period of the standard's kind that holds today's local date."""
    return Period.containing(standard.period_kind, local_day((clock or SystemClock()).now()))


def member_standing(
    session: Session,
    viewer: User,
    member: User,
    period: Period | None = None,
    *,
    clock: Clock | None = None,
    policy: PointsPolicy | None = None,
) -> Evaluation:
    """`member`'s standing for `period` (default: the current one) as `viewer` may see it."""
    require(can_view_member(viewer, member), "没有权限查看该党员的学习档案")
    clock = clock or SystemClock()
    standard = standard_for_branch(session, member.branch_id)
    period = period or current_period(standard, clock)
    [evaluation] = _evaluations(session, standard, period, [member], clock.now(), viewer.id == member.id, policy)
    return evaluation


def branch_standings(
    session: Session,
    viewer: User,
    branch_id: int,
    period: Period | None = None,
    *,
    clock: Clock | None = None,
    policy: PointsPolicy | None = None,
) -> list[Standing]:
    """Every member of the branch with their standing for `period` (default: the current one)."""
    require(can_read_branch(viewer, branch_id), "只能查看本支部的考核情况")
    clock = clock or SystemClock()
    standard = standard_for_branch(session, branch_id)
    period = period or current_period(standard, clock)
    members = list(
        session.scalars(
            select(User)
            .where(User.branch_id == branch_id, User.role.in_((Role.MEMBER, Role.ORGANIZER)))
            .order_by(User.name, User.id)
        )
    )
    evaluations = _evaluations(session, standard, period, members, clock.now(), False, policy)
    return [Standing(member, evaluation) for member, evaluation in zip(members, evaluations, strict=True)]


def standings_by_branch(
    session: Session,
    viewer: User,
    branch_ids: list[int],
    periods: list[Period],
    *,
    clock: Clock | None = None,
    policy: PointsPolicy | None = None,
) -> list[dict[int, tuple[Period, list[Standing]]]]:
    """Several branches and periods at once (the committee overview): per period, each branch's own period of its
    standard's kind that holds the period's first day, and its members' standings. The members and standards are
    read once; each period then costs a fixed number of queries whatever the number of branches (branches sharing
    a standard and period are evaluated together). Rates over many past periods: `standard_rates.branch_rates`."""
    require(all(can_read_branch(viewer, branch_id) for branch_id in branch_ids), "只能查看所督导支部的考核情况")
    clock = clock or SystemClock()
    standards = standards_of(session, branch_ids)
    members: dict[int, list[User]] = defaultdict(list)
    for member in session.scalars(
        select(User)
        .where(User.branch_id.in_(branch_ids), User.role.in_((Role.MEMBER, Role.ORGANIZER)))
        .order_by(User.name, User.id)
    ):
        members[member.branch_id or 0].append(member)
    return [_standings_in(session, standards, members, branch_ids, period, clock, policy) for period in periods]


def _standings_in(
    session: Session,
    standards: dict[int, Standard],
    members: dict[int, list[User]],
    branch_ids: list[int],
    period: Period,
    clock: Clock,
    policy: PointsPolicy | None,
) -> dict[int, tuple[Period, list[Standing]]]:
    groups: dict[tuple[str, Period], list[int]] = defaultdict(list)
    for branch_id in branch_ids:
        own = Period.containing(standards[branch_id].period_kind, period.start)
        groups[(repr(standards[branch_id].to_json()), own)].append(branch_id)
    result: dict[int, tuple[Period, list[Standing]]] = {}
    for (_, own), ids in groups.items():
        group = [member for branch_id in ids for member in members[branch_id]]
        evaluations = iter(_evaluations(session, standards[ids[0]], own, group, clock.now(), False, policy))
        for branch_id in ids:  # `group` is the branches' members in this order
            result[branch_id] = (own, [Standing(member, next(evaluations)) for member in members[branch_id]])
    return result


def standards_of(session: Session, branch_ids: list[int]) -> dict[int, Standard]:
    """`standard_for_branch` for many branches in one query."""
    stored = dict(session.execute(select(AcceptanceStandard.scope, AcceptanceStandard.definition)).all())
    committee = standard_from_json(stored[COMMITTEE_SCOPE]) if stored.get(COMMITTEE_SCOPE) else DEFAULT_STANDARD
    return {
        branch_id: standard_from_json(stored[_scope(branch_id)]) if stored.get(_scope(branch_id)) else committee
        for branch_id in branch_ids
    }


def _evaluations(
    session: Session,
    standard: Standard,
    period: Period,
    members: list[User],
    now: datetime,
    hide_scores: bool,
    policy: PointsPolicy | None,
) -> list[Evaluation]:
    """Evaluate members for a period; a closed period's results are read from, or first written to, the store."""
    today = local_day(now)
    keep = period.is_closed(today) and not hide_scores
    ids = [member.id for member in members]  # once: an ORM attribute read costs, times members × periods
    stored: dict[int, Evaluation] = {}
    if keep:
        stored = _stored(session, period, ids)
    missing = [member for member, member_id in zip(members, ids, strict=True) if member_id not in stored]
    study = any(rule.kind in STUDY_RULES for rule in standard.rules)
    summed = not standard.needs_days  # an evaluation says nothing of single days unless a rule reads them
    facts = {}
    if missing:
        facts = member_facts(session, missing, period, now, hide_scores=hide_scores, study=study, summed=summed)
    fresh = {member.id: evaluate(standard, period, facts[member.id], today, policy=policy) for member in missing}
    if keep and fresh:
        _store(session, period, fresh)
    return [stored.get(member_id) or fresh[member_id] for member_id in ids]


def _stored(session: Session, period: Period, ids: list[int]) -> dict[int, Evaluation]:
    rows = session.execute(
        select(StandardResult.user_id, StandardResult.status, StandardResult.detail).where(
            StandardResult.period == period.key, StandardResult.user_id.in_(ids)
        )
    )
    return {
        user_id: Evaluation(
            period,
            Status(status),
            [RuleResult(**rule) for rule in detail.get("rules", [])],
            detail.get("share", 1.0),
            detail.get("note", ""),
            detail.get("studied", False),
        )
        for user_id, status, detail in rows
    }


def closed_outcomes(session: Session, member_ids: list[int], periods: list[Period]) -> dict[str, dict[int, Evaluation]]:
    """Stored results of closed periods, status and "studied" only (what the rates need; no rule texts), for
    many periods in one query: {period key: {user id: Evaluation}}. Members without a stored result are
    missing (`branch_standings` computes and stores them)."""
    by_key = {period.key: period for period in periods}
    found: dict[str, dict[int, Evaluation]] = defaultdict(dict)
    if not by_key or not member_ids:
        return found
    wanted = set(member_ids)
    studied = StandardResult.studied
    # A committee's trend reads ~12 periods × thousands of members: plain rows (no ORM loading), a large member
    # filter applied here rather than as a parameter list of thousands, one shared Evaluation per (period,
    # status, studied).
    query = select(StandardResult.user_id, StandardResult.period, StandardResult.status, studied).where(
        StandardResult.period.in_(list(by_key))
    )
    if len(wanted) <= _IN_LIST_LIMIT:
        query = query.where(StandardResult.user_id.in_(list(wanted)))
    shared: dict[tuple[str, str, bool], Evaluation] = {}
    for user_id, key, status, was_studied in session.connection().execute(query):
        if user_id in wanted:
            outcome = shared.get((key, status, bool(was_studied)))
            if outcome is None:
                outcome = Evaluation(by_key[key], _STATUSES[status], [], studied=bool(was_studied))
                shared[(key, status, bool(was_studied))] = outcome
            found[key][user_id] = outcome
    return found


def _store(session: Session, period: Period, results: dict[int, Evaluation]) -> None:
    """Keep closed-period results; a parallel first read storing the same rows first is fine (do nothing)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = SystemClock().now()
    rows = [
        {
            "user_id": user_id,
            "period": period.key,
            "status": evaluation.status.value,
            "detail": {
                "rules": [rule.__dict__ for rule in evaluation.rules],
                "share": evaluation.share,
                "note": evaluation.note,
                "studied": evaluation.studied,
            },
            "studied": evaluation.studied,
            "created_at": now,
        }
        for user_id, evaluation in results.items()
    ]
    # Core, not the ORM bulk path: a committee closes 5,000 results at once
    statement = insert(StandardResult.__table__).on_conflict_do_nothing(index_elements=["user_id", "period"])
    session.connection().execute(statement, rows)
    session.commit()
