"""The committee's counts of an open period (members' totals summed in SQL, status only) equal the per-member
evaluation's, on a varied demo committee: four standards (the default, a per-day one with 学习积分, study-plan
rules, a quarter), mid-period joiners, 预备党员, deactivated members, study days held with attendance, topic
practice and a 小问答. Runs on SQLite and, with QUIZENGINE_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.member_facts import MemberFacts, PeriodTotals
from quizengine.engine.periods import Period
from quizengine.engine.standard import Status, evaluate, outcome
from quizengine.engine.timing import FakeClock
from quizengine.models import (
    Attempt,
    AttemptStatus,
    Bank,
    Branch,
    Contest,
    MemberStatus,
    Role,
    StudyAttendance,
    StudyDay,
    User,
)
from quizengine.modes.self_test import PracticeKind
from quizengine.services import overview, practice, standard_facts, standards
from quizengine.services.demo import DemoSize, seed_demo
from quizengine.services.standard_rates import Rates, branch_rates

from .test_demo import banks  # noqa: F401 - the fixture
from .test_summaries import _any

#: Asia/Shanghai 2026-12-20 18:00: December (and the fourth quarter) open, 20 days in.
NOW = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
DECEMBER = Period.parse("2026-12")
OVERRIDES = [
    None,  # the committee default: 自测 4 次 and the month's exam
    {"period": "month", "rules": [
        {"type": "active_days", "days": 4}, {"type": "points", "points": 60},
        {"type": "contest", "contests": 1, "applies_to": "full"},
    ]},
    {"period": "month", "rules": [
        {"type": "self_test", "questions": 40, "applies_to": "probationary"}, {"type": "active_days", "days": 2},
        {"type": "study_attendance", "percent": 50}, {"type": "topic_practice", "percent": 50},
        {"type": "topic_quiz", "quizzes": 1}, {"type": "exam"},
    ]},
    {"period": "quarter", "rules": [{"type": "self_test", "sessions": 12, "questions": 150}, {"type": "exam"}]},
]  # fmt: skip


@pytest.fixture
def committee(banks: None, session: Session, make_user) -> tuple[User, list[int]]:  # type: ignore[no-untyped-def] # noqa: F811
    """A demo committee of four branches made varied: overrides, joiners, 预备党员, deactivated, study days."""
    clock = FakeClock(NOW)
    seed_demo(session, DemoSize(branches=4, members=14, months=2, seed=31, progress=False), clock=clock)
    admin = make_user(Role.ADMIN, username="admin")
    ids = list(session.scalars(select(Branch.id).order_by(Branch.id)))
    for branch_id, override in zip(ids, OVERRIDES, strict=True):
        if override:
            standards.save_standard(session, admin, branch_id, override)
    for branch_id in ids:
        members = list(
            session.scalars(select(User).where(User.branch_id == branch_id, User.role == Role.MEMBER).order_by(User.id))
        )
        members[1].active = False
        members[2].created_at = datetime(2026, 12, 11, 3, 0, tzinfo=UTC)  # joined on 11 December: pro-rated
        members[3].created_at = datetime(2026, 12, 19, 17, 0, tzinfo=UTC)  # 20 December, local: today
        members[4].member_status = MemberStatus.PROBATIONARY
        members[5].member_status = MemberStatus.PROBATIONARY
    study = ids[2]
    present = list(session.scalars(select(User.id).where(User.branch_id == study).order_by(User.id)))
    contest = session.scalar(select(Contest.id))
    for index, (held, key) in enumerate(
        ((date(2026, 12, 2), "1"), (date(2026, 12, 9), "2"), (date(2026, 12, 16), "3"))
    ):
        day = StudyDay(branch_id=study, plan_slug="jihua", topic_key=key, held_on=held)
        day.contest_id = contest if index == 1 else None
        day.attendance = [StudyAttendance(user_id=user_id) for user_id in present[index::2]]
        session.add(day)
    finished = session.scalars(
        select(Attempt)
        .join(User, User.id == Attempt.user_id)
        .where(User.branch_id == study, Attempt.status == AttemptStatus.FINISHED, Attempt.exam_id.is_(None))
        .order_by(Attempt.id.desc())
        .limit(12)
    )
    for index, attempt in enumerate(finished):
        attempt.study_topic = f"jihua#{index % 3 + 1}"
    session.commit()
    return admin, ids


def test_the_counts_equal_the_per_member_evaluation(session: Session, committee: tuple[User, list[int]]) -> None:
    admin, ids = committee
    clock = FakeClock(NOW)
    [bulk] = branch_rates(session, admin, ids, [DECEMBER], clock=clock)
    statuses: Counter[Status] = Counter()
    for branch_id in ids:
        own, rates = bulk[branch_id]
        rows = standards.branch_standings(session, admin, branch_id, own, clock=clock)
        assert rates == Rates.of(row.evaluation for row in rows), branch_id
        statuses.update(row.evaluation.status for row in rows)
    # the committee is varied enough for the comparison to mean something
    assert all(statuses[status] for status in Status), statuses
    assert bulk[ids[3]][0] == Period.parse("2026-Q4")
    board = overview.committee_overview(session, admin, clock=clock)
    assert {row.branch.id: row.rates for row in board.branches if row.branch} == {b: bulk[b][1] for b in ids}


def test_each_member_summed_and_status_only_as_evaluated_day_by_day(
    session: Session, committee: tuple[User, list[int]]
) -> None:
    _admin, ids = committee
    now, today = NOW, date(2026, 12, 20)
    checked = 0
    for branch_id in ids:
        standard = standards.standard_for_branch(session, branch_id)
        period = standards.current_period(standard, FakeClock(NOW))
        members = list(session.scalars(select(User).where(User.branch_id == branch_id, User.role != Role.ADMIN)))
        rows = standard_facts.member_rows(session, [branch_id])[branch_id]
        assert sorted(row.id for row in rows) == sorted(member.id for member in members)
        days = standard_facts.member_facts(session, members, period, now, hide_scores=False, study=True)
        summed = standard_facts.member_facts(session, rows, period, now, hide_scores=False, study=True, summed=True)
        for member in members:
            evaluation = evaluate(standard, period, days[member.id], today)
            assert outcome(standard, period, days[member.id], today) == (evaluation.status, evaluation.studied)
            if not standard.needs_days:
                assert summed[member.id].totals == PeriodTotals.of(
                    day for day in days[member.id].days if day.day <= today
                )
                assert outcome(standard, period, summed[member.id], today) == (evaluation.status, evaluation.studied)
            checked += 1
    assert checked > 50


def test_totals_cannot_stand_in_for_the_days_of_a_per_day_rule(
    session: Session, committee: tuple[User, list[int]]
) -> None:
    _admin, ids = committee
    standard = standards.standard_for_branch(session, ids[1])  # 学习积分: capped per day
    assert standard.needs_days
    facts = MemberFacts(joined_on=date(2026, 1, 1), totals=PeriodTotals(3, 2, 20))
    with pytest.raises(ValueError, match="per-day rule"):
        evaluate(standard, DECEMBER, facts, date(2026, 12, 20))
    assert outcome(standards.standard_for_branch(session, ids[0]), DECEMBER, facts, date(2026, 12, 20))[1]


def test_the_counts_stay_equal_after_answers_a_move_and_a_deactivation(
    session: Session, committee: tuple[User, list[int]]
) -> None:
    """The open period's totals are kept on write per member and day, not per branch: a member who answers,
    moves to a branch with another standard, or is deactivated is counted as the per-member evaluation says."""
    admin, ids = committee
    clock = FakeClock(NOW)
    bank_ids = tuple(session.scalars(select(Bank.id)))
    movers = list(
        session.scalars(
            select(User).where(User.branch_id == ids[0], User.role == Role.MEMBER, User.active).order_by(User.id)
        )
    )
    for member in movers[-2:]:  # a self-test now, then each of them leaves ids[0]
        request = practice.PracticeRequest(PracticeKind.RANDOM, bank_ids, count=5)
        attempt = practice.start_practice(session, member, request, clock=clock, rng=random.Random(member.id))
        for item in attempt.items:
            practice.answer_item(session, member, attempt.id, item.position, _any(item), clock=clock)
        practice.finish_attempt(session, member, attempt.id, clock=clock)
    movers[-1].branch_id = ids[1]  # to the per-day standard
    movers[-2].active = False
    session.commit()
    [bulk] = branch_rates(session, admin, ids, [DECEMBER], clock=clock)
    for branch_id in ids:
        own, rates = bulk[branch_id]
        rows = standards.branch_standings(session, admin, branch_id, own, clock=clock)
        assert rates == Rates.of(row.evaluation for row in rows), branch_id
    board = overview.committee_overview(session, admin, clock=clock)
    assert {row.branch.id: row.rates for row in board.branches if row.branch} == {b: bulk[b][1] for b in ids}
