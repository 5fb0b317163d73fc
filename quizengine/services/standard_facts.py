"""The facts the 验收标准 looks at, gathered for many members of a period in a fixed number of grouped queries.

`member_facts` reads each member's days from `member_days` (services.summaries), the period's exams with each
member's best submitted score, the contests they took part in and, for the study-plan rules, their branch's study
days — never their answers. Two shapes of the days:

- each day (`MemberFacts.days`): what a member's and a branch's standing show and what a per-day rule (学习积分,
  capped per day) needs;
- the period's totals (`MemberFacts.totals`, `summed=True`): one row per member summed in SQL over
  `member_activity` (one row per member and day, kept on write), for the committee overview's thousands of
  members when the standard has no per-day rule — the same evaluation, fewer rows.

Members are anything with `id`, `branch_id`, `created_at`, `active` and `member_status` (a `User`, or a
`MemberRow` read without the ORM when only the counts are wanted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Result, Select, and_, case, distinct, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from quizengine.engine.member_facts import DayFacts, ExamFacts, MemberFacts, PeriodTotals
from quizengine.engine.periods import Period
from quizengine.models import (
    Attempt,
    AttemptStatus,
    Contest,
    ContestResult,
    Exam,
    ExamBranch,
    MemberActivity,
    MemberDay,
    MemberMonth,
    MemberStatus,
    Role,
    User,
)

from .exam_access import review_is_visible, visible_exam_ids
from .period_totals import always_active
from .study_days import member_study_facts
from .summaries import ZONE, local_day, visible_rows

#: Above this many members a query filters on their branches (a subquery) rather than a list of their ids.
_ID_LIST_LIMIT = 500


class Member(Protocol):
    """What the facts need of a member."""

    @property
    def id(self) -> int: ...
    @property
    def branch_id(self) -> int | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def active(self) -> bool: ...
    @property
    def member_status(self) -> Any: ...


class MemberRow(NamedTuple):
    """A member read as plain columns (no ORM object): the committee overview's thousands of members."""

    id: int
    branch_id: int | None
    created_at: datetime
    active: bool
    member_status: Any


def plain_rows(session: Session, query: Select[Any]) -> Result[Any]:
    """Run a select of columns through the connection: plain rows without the ORM's per-row loading, which costs
    more than the query on the committee's tens of thousands of rows (pending changes are flushed first)."""
    session.flush()
    return session.connection().execute(query)


def member_rows(session: Session, branch_ids: list[int]) -> dict[int, list[MemberRow]]:
    """The members held to the standard (members and organizers) of each branch, as plain rows."""
    found: dict[int, list[MemberRow]] = {branch_id: [] for branch_id in branch_ids}
    query = select(User.id, User.branch_id, User.created_at, User.active, User.member_status).where(
        User.branch_id.in_(branch_ids), User.role.in_((Role.MEMBER, Role.ORGANIZER))
    )
    for row in plain_rows(session, query):
        found[row.branch_id].append(MemberRow(*row))
    return found


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """The period as aware UTC times: local midnight of its first day to local midnight after its last."""
    return (
        datetime.combine(period.start, time(), ZONE).astimezone(UTC),
        datetime.combine(period.end, time(), ZONE).astimezone(UTC),
    )


def _of_members(column: InstrumentedAttribute[int], members: Sequence[Member]) -> ColumnElement[bool]:
    """`column` is one of the members' ids: a list of them, or for many members a subquery over their branches
    (a superset; only the members' rows are read from the result)."""
    branches = {member.branch_id for member in members}
    if len(members) <= _ID_LIST_LIMIT or None in branches:
        return column.in_([member.id for member in members])
    return column.in_(select(User.id).where(User.branch_id.in_(sorted(branches))))  # type: ignore[type-var]


def member_facts(
    session: Session,
    members: Sequence[Member],
    period: Period,
    now: datetime,
    *,
    hide_scores: bool,
    study: bool = False,
    summed: bool = False,
) -> dict[int, MemberFacts]:
    """Each member's facts for the period: three grouped queries, four more with `study` (the branch's study days
    for the study-plan rules); `summed` gives each member's totals up to today instead of each day."""
    days = _summed_days(session, members, period, now) if summed else _days(session, members, period, now)
    exams = _exam_facts(session, members, period, now, hide_scores=hide_scores)
    contests: dict[int, list[date]] = defaultdict(list)
    start, end = period_bounds(period)
    for user_id, finished_at in plain_rows(
        session,
        select(ContestResult.user_id, Contest.finished_at)
        .join(Contest, Contest.id == ContestResult.contest_id)
        .where(_of_members(ContestResult.user_id, members), Contest.finished_at >= start, Contest.finished_at < end),
    ):
        contests[user_id].append(local_day(finished_at))
    studied = member_study_facts(session, members, period.start, period.end) if study else {}  # type: ignore[arg-type]
    return {
        member.id: MemberFacts(
            joined_on=local_day(member.created_at),
            active=member.active,
            probationary=member.member_status == MemberStatus.PROBATIONARY,
            days=days.get(member.id, ()) if not summed else (),
            exams=exams[member.id],
            contest_days=contests[member.id],
            study_days=studied.get(member.id, ()),
            totals=days.get(member.id, PeriodTotals()) if summed else None,
        )
        for member in members
    }


def _in_period(period: Period, now: datetime) -> list[ColumnElement[bool]]:
    return [MemberDay.day >= period.start, MemberDay.day < period.end, visible_rows(visible_exam_ids(now))]


_PRACTICE = MemberDay.exam_id == 0


def _days(session: Session, members: Sequence[Member], period: Period, now: datetime) -> dict[int, list[DayFacts]]:
    """Each member's days of the period, summed per day (self-test and visible exam rows)."""
    days: dict[int, list[DayFacts]] = defaultdict(list)
    rows = plain_rows(
        session,
        select(
            MemberDay.user_id,
            MemberDay.day,
            func.sum(MemberDay.answered),
            func.sum(MemberDay.correct),
            func.sum(MemberDay.sessions),
            func.sum(case((_PRACTICE, MemberDay.answered), else_=0)),
            func.sum(case((_PRACTICE, MemberDay.sessions), else_=0)),
        )
        .where(_of_members(MemberDay.user_id, members), *_in_period(period, now))
        .group_by(MemberDay.user_id, MemberDay.day),
    )
    for user_id, day, answered, correct, sessions, practice_answered, practice_sessions in rows:
        days[user_id].append(
            DayFacts(day, int(answered), int(correct), int(sessions), int(practice_answered), int(practice_sessions))
        )
    return days


def _summed_days(session: Session, members: Sequence[Member], period: Period, now: datetime) -> dict[int, PeriodTotals]:
    """Each member's days of the period up to today, summed (`PeriodTotals.of` of `_days`' rows) from
    `member_months`: one row per member and month, kept on write (services.period_totals). A member whose months
    hold a day after today, or days with only exam answers (counted once the exam's review is visible), is summed
    from their days instead (`_day_totals`)."""
    today = local_day(now)
    months, month = [], period.start
    while month < period.end:
        months.append(month)
        month = (month + timedelta(days=31)).replace(day=1)
    table = MemberMonth
    rows = plain_rows(
        session,
        select(
            table.user_id,
            func.sum(table.active_days),
            func.sum(table.practice_sessions),
            func.sum(table.practice_answered),
            func.sum(table.exam_only_days),
            func.max(table.last_day),
        )
        .where(_of_members(table.user_id, members), table.month.in_(months))
        .group_by(table.user_id),
    )
    totals, again = {}, []
    for user_id, days, sessions, answered, exam_only, last in rows:
        if exam_only or last > today:
            again.append(user_id)
        else:
            totals[user_id] = PeriodTotals(int(days), int(sessions), int(answered))
    if again:
        totals.update(_day_totals(session, again, period, now))
    return totals


def _day_totals(session: Session, user_ids: list[int], period: Period, now: datetime) -> dict[int, PeriodTotals]:
    """Some members' days of the period up to today, summed in SQL from `member_activity` (one row per member and
    day). A day is active with a visible row holding an answer or a session: a self-test answer or session or a
    finished exam always is; a day holding only exam answers (an attempt answered across midnight) counts once
    that exam's review is visible, checked in `member_days` for those few days alone."""
    table = MemberActivity
    always = always_active(table)
    in_period = (
        table.user_id.in_(user_ids),
        table.day >= period.start,
        table.day < min(period.end, local_day(now) + timedelta(days=1)),
    )
    rows = plain_rows(
        session,
        select(
            table.user_id,
            func.sum(case((always, 1), else_=0)),
            func.sum(table.practice_sessions),
            func.sum(table.practice_answered),
            func.sum(case((and_(~always, table.exam_answered > 0), 1), else_=0)),
        )
        .where(*in_period)
        .group_by(table.user_id),
    )
    totals, uncertain = {}, []
    for user_id, days, sessions, answered, exam_only in rows:
        totals[user_id] = PeriodTotals(int(days), int(sessions), int(answered))
        if exam_only:
            uncertain.append(user_id)
    if uncertain:
        candidates = select(table.user_id, table.day).where(
            *in_period, ~always, table.exam_answered > 0, table.user_id.in_(uncertain)
        )
        visible = plain_rows(
            session,
            select(MemberDay.user_id, func.count(distinct(MemberDay.day)))
            .where(
                tuple_(MemberDay.user_id, MemberDay.day).in_(candidates),
                MemberDay.exam_id != 0,
                MemberDay.answered > 0,
                MemberDay.exam_id.in_(visible_exam_ids(now)),
            )
            .group_by(MemberDay.user_id),
        )
        for user_id, days in visible:
            found = totals[user_id]
            totals[user_id] = replace(found, active_days=found.active_days + int(days))
    return totals


def _exam_facts(
    session: Session, members: Sequence[Member], period: Period, now: datetime, *, hide_scores: bool
) -> dict[int, list[ExamFacts]]:
    """Published exams of each member's branch closing in the period, with the member's best submitted score."""
    start, end = period_bounds(period)
    branch_ids = {member.branch_id for member in members if member.branch_id is not None}
    audience: dict[int, list[Exam]] = defaultdict(list)
    for exam, branch_id in session.execute(
        select(Exam, ExamBranch.branch_id)
        .join(ExamBranch, ExamBranch.exam_id == Exam.id)
        .where(
            ExamBranch.branch_id.in_(branch_ids),
            Exam.status == "published",
            Exam.closes_at >= start,
            Exam.closes_at < end,
        )
        .order_by(Exam.closes_at, Exam.id)
    ):
        audience[branch_id].append(exam)
    exams = {exam.id: exam for found in audience.values() for exam in found}
    closes_on = {exam_id: local_day(exam.closes_at) for exam_id, exam in exams.items()}
    visible = {exam_id: review_is_visible(exam, now) for exam_id, exam in exams.items()}
    best: dict[tuple[int, int], tuple[float, bool]] = {}
    for user_id, exam_id, score, pending in plain_rows(
        session,
        select(Attempt.user_id, Attempt.exam_id, Attempt.score, Attempt.pending_count).where(
            Attempt.exam_id.in_(list(exams)),
            _of_members(Attempt.user_id, members),
            Attempt.status == AttemptStatus.FINISHED,
        ),
    ):
        if (user_id, exam_id) not in best or score > best[(user_id, exam_id)][0]:
            best[(user_id, exam_id)] = (score, pending > 0)
    result: dict[int, list[ExamFacts]] = defaultdict(list)
    for member in members:
        for exam in audience.get(member.branch_id or 0, []):
            score, pending = best.get((member.id, exam.id), (None, False))
            hidden = hide_scores and score is not None and not visible[exam.id]
            result[member.id].append(ExamFacts(exam.title, exam.pass_mark, closes_on[exam.id], score, pending, hidden))
    return result
