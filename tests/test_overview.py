"""党委总览: branches side by side, lagging rule, exam averages, trend, scope per role, fixed query count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from quizengine.engine.periods import Period
from quizengine.engine.timing import FakeClock
from quizengine.extensions import db
from quizengine.models import Role
from quizengine.services import exam_taking, overview, standards
from quizengine.services.access import NotAllowed

from .conftest import login
from .test_exams import _spec, scheduled
from .test_standards_service import OLD, _session_of, branch  # noqa: F401 - the fixture

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def committee(session: Session, branch, make_user):  # type: ignore[no-untyped-def] # noqa: F811
    """Branch 第一 (书记, 甲 failing the exam, 乙 idle) and 第二 (丙 and 丁, both meeting the standard)."""
    organizer, busy, _idle = branch
    clock = FakeClock(NOW)
    second = [make_user(username=f"b{i}", name=name, branch="第二党支部") for i, name in enumerate("丙丁")]
    for user in second:
        user.created_at = OLD
    session.commit()
    for member in (busy, *second):
        for _ in range(4):
            _session_of(session, member, clock, count=5)
    exam = scheduled(session, organizer, _spec(session, clock, pass_mark=10))
    attempt = exam_taking.start_exam(session, busy, exam.id, clock=clock)
    exam_taking.submit_exam(session, busy, attempt.id, clock=clock)
    admin = make_user(Role.ADMIN, username="admin")
    inspector = make_user(Role.INSPECTOR, username="ducha", branch="第二党支部")
    return organizer, busy, second, admin, inspector


def test_branches_side_by_side_with_totals_lagging_and_trend(session: Session, committee) -> None:  # type: ignore[no-untyped-def]
    _organizer, _busy, _second, admin, _ = committee
    board = overview.committee_overview(session, admin, clock=FakeClock(NOW))
    assert board.period == Period.parse("2026-12") and board.scope_all
    first, second = board.branches
    assert (first.name, first.evaluated, first.participation, first.met_rate) == ("第一党支部", 3, 1 / 3, 0)
    assert (second.name, second.evaluated, second.participation, second.met_rate) == ("第二党支部", 2, 1, 1)
    assert first.exam_average == 0.0 and second.exam_average is None  # 甲 scored 0 of the paper
    assert board.total is not None and board.total.name == "合计"
    assert (board.total.evaluated, board.total.met_rate, board.total.exam_average) == (5, 2 / 5, 0.0)
    # 第一: 参学率 33.3 % < 80 %, 达标率 0 % is 40 points below the total's 40 %
    assert first.lagging == ["参学率 33.3%，低于 80%", "达标率 0.0%，比合计低 40.0 个百分点"]
    assert second.lagging == [] and board.lagging == [first]
    assert len(board.trend) == 12 and board.trend[-1].period == board.period
    assert board.trend[-1].met == pytest.approx(0.4) and board.trend[0].participation == 0
    assert second.trend[-1].met == 1 and second.change == 1.0  # November: nobody met
    # the closed periods were stored by that read; read back (status and `studied` only) they give the same trend
    again = overview.committee_overview(session, admin, clock=FakeClock(NOW))
    assert again.trend == board.trend and [row.trend for row in again.branches] == [first.trend, second.trend]
    later = FakeClock(datetime(2027, 1, 5, 2, 0, tzinfo=UTC))  # December closed: stored on the first read
    stored, read_back = (overview.committee_overview(session, admin, clock=later) for _ in range(2))
    assert stored.trend[-2].period == Period.parse("2026-12")
    assert stored.trend[-2] == read_back.trend[-2] and read_back.trend[-2].participation == pytest.approx(0.6)
    assert read_back.trend[-2].met == pytest.approx(0.4)
    # another period: nobody studied in November
    november = overview.committee_overview(session, admin, Period.parse("2026-11"), clock=FakeClock(NOW))
    assert [row.met_rate for row in november.branches] == [0, 0]


def test_a_branch_with_its_own_period_kind_shows_its_own_period(session: Session, committee) -> None:  # type: ignore[no-untyped-def]
    _organizer, _busy, second, admin, _ = committee
    standards.save_standard(session, admin, second[0].branch_id, {"period": "quarter", "rules": [{"type": "exam"}]})
    board = overview.committee_overview(session, admin, clock=FakeClock(NOW))
    assert [row.period.key for row in board.branches] == ["2026-12", "2026-Q4"]
    assert board.branches[1].met_rate == 1  # no exam this quarter for 第二: met


def test_the_inspector_sees_assigned_branches_only_and_others_are_refused(session: Session, committee) -> None:  # type: ignore[no-untyped-def]
    organizer, busy, _second, _admin, inspector = committee
    board = overview.committee_overview(session, inspector, clock=FakeClock(NOW))
    assert [row.name for row in board.branches] == ["第二党支部"] and not board.scope_all
    assert board.total is not None and board.total.evaluated == 2
    for viewer in (organizer, busy):
        with pytest.raises(NotAllowed):
            overview.committee_overview(session, viewer, clock=FakeClock(NOW))
    with pytest.raises(NotAllowed):
        standards.standings_by_branch(session, inspector, [organizer.branch_id], [Period.parse("2026-12")])


def test_the_number_of_queries_does_not_grow_with_branches(session: Session, committee, make_user) -> None:  # type: ignore[no-untyped-def]
    *_, admin, _ = committee

    def queries() -> int:
        session.expire_all()
        count = 0

        def counted(*_args: object) -> None:
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counted)
        try:
            overview.committee_overview(session, admin, clock=FakeClock(NOW))
        finally:
            event.remove(db.engine, "before_cursor_execute", counted)
        return count

    queries()  # closed periods are stored on the first read
    before = queries()
    for index in range(5):
        make_user(username=f"x{index}", branch=f"新支部{index}").created_at = OLD
    session.commit()
    queries()
    assert queries() == before


def test_the_page_by_role_and_drill_down_read_only(
    app: Flask, client: FlaskClient, session: Session, committee
) -> None:  # type: ignore[no-untyped-def]
    organizer, _busy, second, _admin, _inspector = committee
    assert client.get("/dashboard/overview").headers["Location"].startswith("/login")
    login(client, "admin")
    html = client.get("/dashboard/overview").get_data(as_text=True)
    assert "党委总览" in html and "第一党支部" in html and "第二党支部" in html and "落后" in html
    assert f"/dashboard/branch/{organizer.branch_id}?period=" in html
    bad = client.get("/dashboard/overview?period=2026-13", headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "无法识别的考核周期" in bad.get_data(as_text=True)
    client.post("/logout")
    login(client, "ducha")
    html = client.get("/dashboard/overview").get_data(as_text=True)
    assert "第二党支部" in html and "第一党支部" not in html and "您督导的支部" in html
    branch_page = client.get(f"/dashboard/branch/{second[0].branch_id}?period=2026-12")
    assert branch_page.status_code == 200 and f"/record/{second[0].id}" in branch_page.get_data(as_text=True)
    assert client.get(f"/record/{second[0].id}").status_code == 200
    assert client.get(f"/dashboard/branch/{organizer.branch_id}").status_code == 404
    for username in ("org", "busy"):
        client.post("/logout")
        login(client, username)
        assert client.get("/dashboard/overview").status_code == 404
