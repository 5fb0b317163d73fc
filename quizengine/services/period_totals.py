"""Each member's 验收标准 totals kept on write: per day by kind (`member_activity`) and per month (`member_months`).

The 验收标准 reads of a period only each member's active days, self-test sessions and self-test answers up to
today (`engine.member_facts.PeriodTotals`). Summing `member_days` (one row per member, day, bank and chapter) for
the committee's 5,000 members cost ~85 ms on SQLite a week into a month and grew with every day of it; these
tables let the committee overview read one row per member and month instead.

Every change to `member_days` (services.summaries) passes here as deltas per member and day, in the writer's
transaction: the day's row is added to atomically and returns its new counts, so whether the change made the
day active (or no longer active) is known exactly, also with parallel writers (the row is locked by the
upsert until commit); the month's row then gets the deltas, atomically too. `rebuild` recomputes both from
`member_days` (`quizengine records rebuild-summaries`, the demo's bulk rows; migration 0012 runs the same SQL).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Cast, ColumnElement, Date, and_, case, cast, delete, func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from quizengine.models import MemberActivity, MemberDay, MemberMonth

#: `member_activity`'s counters, in the order `kinds` gives them.
KINDS = ("practice_answered", "practice_sessions", "exam_sessions", "exam_answered")
_MONTHLY = ("active_days", "practice_sessions", "practice_answered", "exam_only_days")


def kinds(exam_id: int, answered: int, sessions: int) -> list[int]:
    """A `member_days` row's contribution to its day's `member_activity` row (self-test rows have exam id 0)."""
    return [answered, sessions, 0, 0] if exam_id == 0 else [0, 0, sessions, answered]


def always_active(row: MemberActivity | type[MemberActivity]) -> ColumnElement[bool]:
    """A day active whatever an exam's review policy: a self-test answer or session, or a finished exam."""
    return or_(row.practice_answered > 0, row.practice_sessions > 0, row.exam_sessions > 0)


def _flags(counts: list[int]) -> tuple[int, int]:
    """(always active, exam answers only) of a day's counts in `KINDS` order."""
    active = int(counts[0] > 0 or counts[1] > 0 or counts[2] > 0)
    return active, int(not active and counts[3] > 0)


def add(session: Session, deltas: dict[tuple[int, date], list[int]]) -> None:
    """Add (negative: take) counts in `KINDS` order to members' days and months (not committed: the caller's
    transaction holds them). A day or month left with nothing counted is removed, as a rebuild would not have it."""
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if postgres else sqlite.insert
    days, months = MemberActivity.__table__.c, MemberMonth.__table__.c
    monthly: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    last: dict[tuple[int, date], date] = {}
    emptied = []
    for (user_id, day), values in sorted(deltas.items()):
        statement = insert(MemberActivity).values(user_id=user_id, day=day, **dict(zip(KINDS, values, strict=True)))
        new = list(
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["user_id", "day"],
                    set_={kind: days[kind] + statement.excluded[kind] for kind in KINDS},
                ).returning(*(days[kind] for kind in KINDS))
            ).one()
        )
        old = [after - delta for after, delta in zip(new, values, strict=True)]
        (was_active, was_exam_only), (is_active, is_exam_only) = _flags(old), _flags(new)
        key = (user_id, day.replace(day=1))
        for index, change in enumerate((is_active - was_active, values[1], values[0], is_exam_only - was_exam_only)):
            monthly[key][index] += change
        last[key] = max(last.get(key, day), day)
        if not any(new):
            emptied.append((user_id, day))
    greatest = func.greatest if postgres else func.max
    for (user_id, month), values in sorted(monthly.items()):
        statement = insert(MemberMonth).values(
            user_id=user_id, month=month, last_day=last[(user_id, month)], **dict(zip(_MONTHLY, values, strict=True))
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "month"],
                set_={kind: months[kind] + statement.excluded[kind] for kind in _MONTHLY}
                | {"last_day": greatest(months.last_day, statement.excluded.last_day)},
            )
        )
    if emptied:
        session.execute(delete(MemberActivity).where(tuple_(days.user_id, days.day).in_(emptied)))
        touched = sorted({(user_id, day.replace(day=1)) for user_id, day in emptied})
        session.execute(
            delete(MemberMonth).where(
                tuple_(months.user_id, months.month).in_(touched), *(months[kind] == 0 for kind in _MONTHLY)
            )
        )


def _sum_when(condition: ColumnElement[bool], column: object) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, column), else_=0)), 0)


def month_of(session: Session, day: ColumnElement[date]) -> ColumnElement[date] | Cast[date]:
    """SQL: the first day of the day's month."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month", type_=Date)


def rebuild(session: Session) -> None:
    """Recompute `member_activity` from `member_days` and `member_months` from it (not committed)."""
    session.execute(delete(MemberMonth))
    session.execute(delete(MemberActivity))
    practice = MemberDay.exam_id == 0
    session.execute(
        MemberActivity.__table__.insert().from_select(
            ["user_id", "day", *KINDS],
            select(
                MemberDay.user_id,
                MemberDay.day,
                _sum_when(practice, MemberDay.answered),
                _sum_when(practice, MemberDay.sessions),
                _sum_when(~practice, MemberDay.sessions),
                _sum_when(~practice, MemberDay.answered),
            ).group_by(MemberDay.user_id, MemberDay.day),
        )
    )
    active = always_active(MemberActivity)
    month = month_of(session, MemberActivity.day)
    session.execute(
        MemberMonth.__table__.insert().from_select(
            ["user_id", "month", *_MONTHLY, "last_day"],
            select(
                MemberActivity.user_id,
                month,
                _sum_when(active, 1),
                func.sum(MemberActivity.practice_sessions),
                func.sum(MemberActivity.practice_answered),
                _sum_when(and_(~active, MemberActivity.exam_answered > 0), 1),
                func.max(MemberActivity.day),
            ).group_by(MemberActivity.user_id, month),
        )
    )
