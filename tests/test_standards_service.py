"""The 验收标准 service over stored data: local period boundaries, exams, contests, access, hidden scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.errors import StandardError
from quizengine.engine.periods import Period, PeriodKind
from quizengine.engine.standard import DEFAULT_STANDARD, Status
from quizengine.engine.timing import FakeClock
from quizengine.models import AuditEntry, MemberStatus, Role
from quizengine.services import exam_taking, practice, standards
from quizengine.services.access import NotAllowed

from .test_exams import _bank as exam_bank
from .test_exams import _spec, scheduled
from .test_summaries import _any, _banks

# 2026-11-30 16:30 UTC is 00:30 on 1 December in Shanghai.
DEC_FIRST_LOCAL = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
OLD = datetime(2025, 1, 1, tzinfo=UTC)


def _session_of(session: Session, member, clock: FakeClock, count: int = 5) -> None:  # type: ignore[no-untyped-def]
    attempt = practice.start_practice(
        session,
        member,
        practice.PracticeRequest(practice.PracticeKind.RANDOM, _banks(session), count=count),
        clock=clock,
    )
    for item in attempt.items:
        practice.answer_item(session, member, attempt.id, item.position, _any(item), clock=clock)


@pytest.fixture
def branch(session: Session, runner: FlaskCliRunner, make_user, tmp_path):  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["banks", "load", str(exam_bank(tmp_path))]).exit_code == 0
    organizer = make_user(Role.ORGANIZER, username="org", name="书记")
    busy = make_user(username="busy", name="甲")
    idle = make_user(username="idle", name="乙", member_status=MemberStatus.PROBATIONARY)
    for user in (organizer, busy, idle):
        user.created_at = OLD
    session.commit()
    return organizer, busy, idle


def test_branch_standings_follow_local_period_boundaries(session: Session, branch) -> None:  # type: ignore[no-untyped-def]
    organizer, busy, _idle = branch
    clock = FakeClock(DEC_FIRST_LOCAL - timedelta(hours=1))  # 23:30 on 30 November, local time
    _session_of(session, busy, clock)
    clock.set(DEC_FIRST_LOCAL)
    for _ in range(4):
        _session_of(session, busy, clock)
    december = Period.parse("2026-12")
    rows = standards.branch_standings(session, organizer, organizer.branch_id, december, clock=clock)
    by_name = {row.member.name: row.evaluation for row in rows}
    assert [row.member.name for row in rows] == sorted(by_name)  # organizer included, name order
    assert by_name["甲"].status is Status.MET and by_name["甲"].rules[0].progress == "自测 4/4 次"
    assert by_name["乙"].status is Status.NOT_STARTED and by_name["乙"].reason == "还需自测 4 次"
    november = standards.branch_standings(session, organizer, organizer.branch_id, december.previous(), clock=clock)
    assert {row.member.name: row.evaluation.status for row in november}["甲"] is Status.NOT_MET  # closed: 1/4
    assert standards.current_period(standards.standard_for_branch(session, None), clock) == december


def test_period_exam_counts_with_its_pass_mark_and_stays_hidden_from_the_member(session: Session, branch) -> None:  # type: ignore[no-untyped-def]
    organizer, busy, _ = branch
    clock = FakeClock(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    exam = scheduled(session, organizer, _spec(session, clock, pass_mark=30))
    attempt = exam_taking.start_exam(session, busy, exam.id, clock=clock)
    exam_taking.submit_exam(session, busy, attempt.id, clock=clock)  # blank paper: 0 points
    seen_by_organizer = standards.member_standing(session, organizer, busy, clock=clock)
    assert seen_by_organizer.rules[1].progress == "11月月度测试 0 分（及格 30）"
    seen_by_member = standards.member_standing(session, busy, busy, clock=clock)
    assert seen_by_member.rules[1].progress == "11月月度测试 已交卷，成绩未公布"
    clock.advance(days=1)  # the exam closed: its review is visible
    assert standards.member_standing(session, busy, busy, clock=clock).rules[1].progress.endswith("（及格 30）")


def test_only_the_branch_organizer_or_an_admin_sees_the_branch(session: Session, branch, make_user) -> None:  # type: ignore[no-untyped-def]
    organizer, busy, idle = branch
    other = make_user(Role.ORGANIZER, branch="第二党支部")
    admin = make_user(Role.ADMIN)
    assert len(standards.branch_standings(session, admin, organizer.branch_id)) == 3
    for viewer in (other, busy):
        with pytest.raises(NotAllowed):
            standards.branch_standings(session, viewer, organizer.branch_id)
    with pytest.raises(NotAllowed):
        standards.member_standing(session, other, busy)
    with pytest.raises(NotAllowed):
        standards.member_standing(session, idle, busy)


def test_deactivated_and_new_members_are_exempt(session: Session, branch, make_user) -> None:  # type: ignore[no-untyped-def]
    organizer, _busy, idle = branch
    idle.active = False
    session.commit()
    clock = FakeClock(datetime(2026, 11, 20, tzinfo=UTC))
    rows = {
        row.member.name: row.evaluation
        for row in standards.branch_standings(session, organizer, organizer.branch_id, clock=clock)
    }
    assert rows["乙"].status is Status.EXEMPT
    newcomer = make_user(name="丙")  # created now (after November): not yet enrolled then
    assert standards.member_standing(session, organizer, newcomer, clock=clock).status is Status.EXEMPT


def test_stored_standards_branch_override_audit_and_refusals(session: Session, branch, make_user) -> None:  # type: ignore[no-untyped-def]
    organizer, _, _ = branch
    admin = make_user(Role.ADMIN)
    other = make_user(Role.ORGANIZER, branch="第二党支部")
    assert standards.standard_for_branch(session, organizer.branch_id) == DEFAULT_STANDARD
    committee = {"period": "quarter", "rules": [{"type": "active_days", "days": 10}]}
    with pytest.raises(NotAllowed):
        standards.save_standard(session, organizer, None, committee)
    standards.save_standard(session, admin, None, committee)
    assert standards.standard_for_branch(session, other.branch_id).period_kind is PeriodKind.QUARTER
    own = {"period": "month", "rules": [{"type": "self_test", "questions": 50}]}
    with pytest.raises(NotAllowed):
        standards.save_standard(session, other, organizer.branch_id, own)
    with pytest.raises(StandardError):
        standards.save_standard(session, organizer, organizer.branch_id, {"period": "month", "rules": []})
    standards.save_standard(session, organizer, organizer.branch_id, own)
    assert standards.standard_for_branch(session, organizer.branch_id).to_json() == own
    assert standards.has_override(session, organizer.branch_id)
    standards.reset_standard(session, organizer, organizer.branch_id)
    assert standards.standard_for_branch(session, organizer.branch_id).to_json() == committee
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if a.startswith("standards.")] == ["standards.update"] * 2 + ["standards.reset"]


def test_a_closed_period_keeps_its_result_when_the_standard_changes(session: Session, branch, make_user) -> None:  # type: ignore[no-untyped-def]
    organizer, busy, _ = branch
    clock = FakeClock(datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    _session_of(session, busy, clock)
    november = Period.parse("2026-11")
    live = standards.member_standing(session, organizer, busy, november, clock=clock)
    assert live.status is Status.NOT_MET and live.rules[0].progress == "自测 1/4 次"
    clock.set(datetime(2026, 12, 2, tzinfo=UTC))
    closed = standards.member_standing(session, organizer, busy, november, clock=clock)  # stored now
    assert closed.status is Status.NOT_MET
    easy = {"period": "month", "rules": [{"type": "self_test", "sessions": 1}]}
    standards.save_standard(session, organizer, organizer.branch_id, easy)
    again = standards.branch_standings(session, organizer, organizer.branch_id, november, clock=clock)
    assert {row.member.name: row.evaluation for row in again}["甲"] == closed  # history is not rewritten
    current = standards.member_standing(session, organizer, busy, clock=clock)
    assert current.period == Period.parse("2026-12") and current.rules[0].progress == "自测 0/1 次"  # live
