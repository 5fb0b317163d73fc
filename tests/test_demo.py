"""The demo organization: deterministic by seed, refuses a database with members, and fills the dashboards."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.standard import met_rate, participation_rate
from quizengine.engine.timing import FakeClock
from quizengine.models import (
    Attempt,
    AttemptItem,
    Base,
    Branch,
    Contest,
    ContestResult,
    Exam,
    MemberDay,
    MemberStatus,
    QuestionProgress,
    Role,
    StandardResult,
    User,
)
from quizengine.services import contest_commands, contest_join, dashboard, standards, summaries
from quizengine.services.banks import check_banks, sync_banks
from quizengine.services.demo import DemoError, DemoSize, chinese_number, seed_demo

from .conftest import login

BANKS = Path(__file__).resolve().parent.parent / "question_banks"
SMALL = DemoSize(branches=2, members=6, months=2, seed=7)
#: A fixed "today" (Asia/Shanghai 2026-12-10 18:00), so the data do not depend on the day the tests run.
NOW = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
BANK_TABLES = {"banks", "bank_categories", "questions", "question_revisions"}


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test's database numbers contests from 1 again: forget the contest caches of earlier tests."""
    _forget_contests()


def _forget_contests() -> None:
    contest_commands._machine_cache.clear()
    contest_commands._player_cache.clear()
    contest_join.throttle.clear()


@pytest.fixture
def banks(session: Session) -> None:
    """The shipped question banks, loaded as first run does."""
    sync_banks(session, check_banks([BANKS], strict=True))


def _snapshot(session: Session) -> dict[str, object]:
    """What the demo wrote, without ids-independent noise (passwords, contest PINs and tokens are random)."""
    users = session.execute(
        select(User.username, User.name, User.role, User.member_status, User.created_at).order_by(User.username)
    ).all()
    days = session.execute(
        select(MemberDay.day, MemberDay.bank_id, MemberDay.category, MemberDay.answered, MemberDay.correct).order_by(
            MemberDay.user_id, MemberDay.day, MemberDay.bank_id, MemberDay.category, MemberDay.attempt_id
        )
    ).all()
    attempts = session.execute(select(Attempt.title, Attempt.started_at, Attempt.score).order_by(Attempt.id)).all()
    results = session.execute(
        select(ContestResult.team_name, ContestResult.team_place).order_by(ContestResult.id)
    ).all()
    return {"users": users, "days": days, "attempts": attempts, "results": results}


def _wipe_demo(session: Session) -> None:
    """Delete everything but the banks and the admin, so the demo can be written again."""
    session.rollback()
    for table in reversed(Base.metadata.sorted_tables):
        if table.name == "users":
            session.execute(table.delete().where(table.c.role != Role.ADMIN))
        elif table.name not in BANK_TABLES:
            session.execute(table.delete())
    session.commit()
    _forget_contests()


def test_the_same_seed_writes_the_same_committee_and_another_seed_does_not(banks: None, session: Session) -> None:
    seed_demo(session, SMALL, clock=FakeClock(NOW))
    first = _snapshot(session)
    _wipe_demo(session)
    seed_demo(session, SMALL, clock=FakeClock(NOW))
    assert _snapshot(session) == first
    _wipe_demo(session)
    seed_demo(session, DemoSize(branches=2, members=6, months=2, seed=8), clock=FakeClock(NOW))
    assert _snapshot(session)["users"] != first["users"]


def test_the_committee_looks_real_and_its_summaries_equal_a_rebuild(banks: None, session: Session) -> None:
    report = seed_demo(session, SMALL, clock=FakeClock(NOW))
    assert [b.name for b in session.scalars(select(Branch).order_by(Branch.id))] == ["第一党支部", "第二党支部"]
    members = session.scalars(select(User).where(User.role.in_((Role.MEMBER, Role.ORGANIZER)))).all()
    assert len(members) == 12 == report.members
    assert all(2 <= len(m.name) <= 3 and not m.must_change_password for m in members)
    assert Counter(m.role for m in members)[Role.ORGANIZER] == 2
    assert all(m.party_group is not None for m in members)
    statuses = set(session.scalars(select(User.member_status).where(User.role == Role.MEMBER)))
    assert MemberStatus.FULL in statuses
    # two months of self-test ending today, one exam a month with results, one finished contest
    assert report.answers == session.scalar(
        select(func.count()).select_from(AttemptItem).join(Attempt).where(Attempt.mode == "self_test")
    )
    assert report.answers > 100
    last = session.scalar(select(func.max(Attempt.finished_at)).where(Attempt.mode == "self_test"))
    assert last is not None and last <= NOW and (NOW - last).days < 7
    assert session.scalar(select(func.count()).select_from(Exam)) == 2 == report.exams
    contest = session.get(Contest, report.contest_id)
    assert contest is not None and contest.state["phase"] == "finished" and not contest.state.get("ended_early")
    assert session.scalar(select(func.count()).select_from(ContestResult)) > 0
    assert session.scalar(select(func.count()).select_from(QuestionProgress)) > 0
    kept = sorted(session.execute(select(MemberDay.user_id, MemberDay.day, MemberDay.bank_id, MemberDay.category,
                                         MemberDay.attempt_id, MemberDay.exam_id, MemberDay.answered,
                                         MemberDay.correct, MemberDay.sessions)).all())  # fmt: skip
    summaries.rebuild(session)
    rebuilt = sorted(session.execute(select(MemberDay.user_id, MemberDay.day, MemberDay.bank_id, MemberDay.category,
                                            MemberDay.attempt_id, MemberDay.exam_id, MemberDay.answered,
                                            MemberDay.correct, MemberDay.sessions)).all())  # fmt: skip
    assert kept == rebuilt


def test_a_database_with_members_is_refused_and_left_alone(
    app: Flask, banks: None, session: Session, make_user
) -> None:
    make_user(Role.MEMBER, "real1")
    users = session.scalar(select(func.count()).select_from(User))
    with pytest.raises(DemoError, match="空库"):
        seed_demo(session, SMALL)
    result = app.test_cli_runner().invoke(args=["demo", "--branches", "1", "--members", "2"])
    assert result.exit_code == 1
    assert "未生成演示数据" in result.output and "未做任何修改" in result.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(User)) == users
    assert session.scalar(select(func.count()).select_from(Attempt)) == 0
    assert session.scalar(select(func.count()).select_from(Branch)) == 1


def test_an_empty_database_without_banks_is_refused(session: Session) -> None:
    with pytest.raises(DemoError, match="题库"):
        seed_demo(session, SMALL)


def test_the_cli_prints_the_accounts_and_the_dashboard_and_record_show_the_data(
    app: Flask, banks: None, session: Session, client: FlaskClient
) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "--branches", "2", "--members", "6", "--months", "2"])
    assert result.exit_code == 0, result.output
    assert "演示数据已生成" in result.output and "zb01" in result.output and "dudao" in result.output
    password = next(line for line in result.output.splitlines() if "密码都是" in line).split("：")[1].split("（")[0]
    login(client, "zb01", password)
    board = client.get("/dashboard/", follow_redirects=True)
    text = board.get_data(as_text=True)
    assert board.status_code == 200
    organizer = session.scalar(select(User).where(User.username == "zb01"))
    members = session.scalars(select(User).where(User.branch_id == organizer.branch_id)).all()
    assert all(member.name in text for member in members)
    assert "未达标" in text or "达标" in text
    assert "学习测试" in text  # the month's exam with its results
    member = next(m for m in members if m.role == Role.MEMBER and session.scalar(
        select(func.count()).select_from(MemberDay).where(MemberDay.user_id == m.id)))  # fmt: skip
    record = client.get(f"/record/{member.id}")
    assert record.status_code == 200 and member.name in record.get_data(as_text=True)
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 1 and "空库" in again.output


def test_chinese_numbers_name_the_branches() -> None:
    assert [chinese_number(n) for n in (1, 10, 12, 20, 50, 99)] == ["一", "十", "十二", "二十", "五十", "九十九"]


def test_the_dashboard_trend_of_stored_months_equals_the_evaluated_one(banks: None, session: Session) -> None:
    seed_demo(session, DemoSize(branches=1, members=8, months=3, seed=3), clock=FakeClock(NOW))
    admin = session.scalar(select(User).where(User.username == "zb01"))
    branch_id = admin.branch_id
    first = dashboard.branch_dashboard(session, admin, branch_id, clock=FakeClock(NOW))  # evaluates, stores
    assert session.scalar(select(func.count()).select_from(StandardResult)) > 0
    second = dashboard.branch_dashboard(session, admin, branch_id, clock=FakeClock(NOW))  # reads the stored months
    assert second.trend == first.trend
    for point in first.trend[:-1]:
        rows = [r.evaluation for r in standards.branch_standings(session, admin, branch_id, point.period,
                                                                  clock=FakeClock(NOW))]  # fmt: skip
        assert (point.participation, point.met) == (participation_rate(rows), met_rate(rows))
    assert any(point.participation for point in first.trend[:-1])
