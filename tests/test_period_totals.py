"""`member_activity` and `member_months` (each member's days and months summed by kind, what the 验收标准's
period totals read) stay equal to a recount after every kind of write: self-test answers and sessions across a
local (Asia/Shanghai) midnight, exam submit, short-answer grading, a void and a regrade, an exam answered across
midnight (its answer-only day counts once the review is visible); the migration backfills them and the CLI
rebuilds them. Runs on SQLite and, with QUIZENGINE_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.member_facts import PeriodTotals
from quizengine.engine.periods import Period
from quizengine.engine.questions import Verdict
from quizengine.engine.timing import FakeClock
from quizengine.extensions import db
from quizengine.models import Attempt, MemberActivity, MemberMonth, Question, Role, User
from quizengine.services import exam_admin, exam_saves, exam_taking, period_totals, standard_facts, summaries
from quizengine.services.schema import alembic_config

from .test_exams import _spec, scheduled
from .test_summaries import _any, _seed

NOVEMBER, DECEMBER = Period.parse("2026-11"), Period.parse("2026-12")


def _activity(session: Session) -> list[tuple]:
    session.expire_all()
    return sorted(
        session.execute(
            select(
                MemberActivity.user_id,
                MemberActivity.day,
                MemberActivity.practice_answered,
                MemberActivity.practice_sessions,
                MemberActivity.exam_sessions,
                MemberActivity.exam_answered,
            )
        ).all()
    )


def _months(session: Session) -> list[tuple]:
    session.expire_all()
    return sorted(
        session.execute(
            select(
                MemberMonth.user_id,
                MemberMonth.month,
                MemberMonth.active_days,
                MemberMonth.practice_sessions,
                MemberMonth.practice_answered,
                MemberMonth.exam_only_days,
                MemberMonth.last_day,
            )
        ).all()
    )


def _equals_a_recount(session: Session) -> list[tuple]:
    """The days and months kept on write equal those recomputed from `member_days` (which test_summaries checks
    against the attempts; a month's last day kept is at least the last day recounted); returns the days."""
    kept, months = _activity(session), _months(session)
    period_totals.rebuild(session)
    session.commit()
    assert _activity(session) == kept
    recounted = _months(session)
    assert [row[:-1] for row in months] == [row[:-1] for row in recounted]
    assert all(mine[-1] >= theirs[-1] for mine, theirs in zip(months, recounted, strict=True))
    return kept


def _totals_agree(session: Session, now: datetime) -> None:
    """Every member's summed period totals equal the totals of their days, in November and December."""
    members = list(session.scalars(select(User).where(User.role != Role.ADMIN)))
    for period in (NOVEMBER, DECEMBER):
        days = standard_facts.member_facts(session, members, period, now, hide_scores=False)
        summed = standard_facts.member_facts(session, members, period, now, hide_scores=False, summed=True)
        for member in members:
            today = summaries.local_day(now)
            expected = PeriodTotals.of(day for day in days[member.id].days if day.day <= today)
            assert summed[member.id].totals == expected, (member.username, period.key)


def test_activity_equals_a_recount_after_each_write(
    session: Session, runner: FlaskCliRunner, make_user, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # self-test from 23:50 to 00:05 local (answers on two days), an open session, an exam submitted by two
    organizer, member, _other, exam, clock = _seed(session, runner, make_user, tmp_path)
    rows = _equals_a_recount(session)
    mine = {row[1]: row for row in rows if row[0] == member.id}
    assert {day.isoformat() for day in mine} == {"2026-11-30", "2026-12-01"}  # local days, not UTC days
    assert mine[min(mine)][3] == 0 and mine[max(mine)][3] == 1  # the session on the day it finished
    assert any(row[4] == 1 and row[5] > 0 for row in mine.values())  # the exam: its session and its answers
    _totals_agree(session, clock.now())
    _totals_agree(session, datetime(2026, 11, 29, 4, 0, tzinfo=UTC))  # days after "today": summed from the days
    short = next(
        item
        for item in session.scalars(select(Attempt).where(Attempt.exam_id == exam.id, Attempt.user_id == member.id))
        .one()
        .items
        if item.verdict == Verdict.PENDING
    )
    exam_admin.grade_short_answer(session, organizer, short.id, 10, "")
    after_grading = _equals_a_recount(session)
    assert after_grading != rows  # the graded short answer now counts
    voided = session.scalar(select(Question.id).where(Question.external_id == "e-j0"))
    exam_admin.void_question(session, organizer, exam.id, voided, "removed", "题干有歧义")
    exam_admin.regrade_exam(session, organizer, exam.id, dry_run=False)
    _equals_a_recount(session)  # the attempts' rows replaced again (a void changes what is correct, not counted)
    _totals_agree(session, clock.now())
    _totals_agree(session, clock.now() + timedelta(days=1))  # the exam closed: its answers are visible


def test_an_exam_answered_across_midnight_counts_its_first_day_once_visible(
    session: Session, runner: FlaskCliRunner, make_user, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _seed(session, runner, make_user, tmp_path)
    organizer = session.scalar(select(User).where(User.username == "org"))
    late = make_user(username="m3")
    clock = FakeClock(datetime(2026, 11, 30, 15, 55, tzinfo=UTC))  # 23:55 local on 30 November
    exam = scheduled(session, organizer, _spec(session, clock, title="跨夜测试"))
    attempt = exam_taking.start_exam(session, late, exam.id, clock=clock)
    for item in attempt.items:
        exam_saves.save_answer(session, late.id, attempt.id, item.position, _any(item), clock=clock)
    clock.advance(minutes=10)  # submitted at 00:05 on 1 December
    exam_taking.submit_exam(session, late, attempt.id, clock=clock)
    rows = [row for row in _equals_a_recount(session) if row[0] == late.id]
    assert [(row[1].isoformat(), row[4], row[5] > 0) for row in rows] == [
        ("2026-11-30", 0, True),  # answers only: counted once the review is visible
        ("2026-12-01", 1, False),
    ]
    november = [row for row in _months(session) if row[0] == late.id and row[1] == NOVEMBER.start]
    assert [row[2:6] for row in november] == [(0, 0, 0, 1)]  # no active day for sure, one exam-only day
    hidden, visible = clock.now(), exam.closes_at + timedelta(minutes=1)
    for now, days in ((hidden, 0), (visible, 1)):
        [facts] = standard_facts.member_facts(session, [late], NOVEMBER, now, hide_scores=False, summed=True).values()
        assert facts.totals == PeriodTotals(days, 0, 0)
        _totals_agree(session, now)


def test_the_migration_backfills_and_the_cli_rebuilds_the_totals(
    app: Flask, session: Session, runner: FlaskCliRunner, make_user, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _seed(session, runner, make_user, tmp_path)
    expected = _equals_a_recount(session)
    assert expected
    session.execute(MemberMonth.__table__.delete())
    session.execute(MemberActivity.__table__.delete())
    session.commit()
    result = runner.invoke(args=["records", "rebuild-summaries"])
    assert result.exit_code == 0 and "已重建" in result.output
    assert _activity(session) == expected
    months = _months(session)
    assert months
    session.close()
    db.session.remove()
    url = app.config["DATABASE_URL"]
    command.downgrade(alembic_config(url), "0011_bank_owner")
    command.upgrade(alembic_config(url), "head")
    assert _activity(session) == expected and _months(session) == months
