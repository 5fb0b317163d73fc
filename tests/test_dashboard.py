"""The branch dashboard: statuses and rates, the reminder text, exams, trend and weakest chapters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from quizengine.engine.periods import Period
from quizengine.engine.standard import Status
from quizengine.engine.timing import FakeClock
from quizengine.models import Role
from quizengine.services import dashboard, exam_taking
from quizengine.services.access import NotAllowed

from .conftest import login
from .test_exams import _spec, scheduled
from .test_standards_service import _session_of, branch  # noqa: F401 - the fixture

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)


def test_dashboard_counts_rates_reminder_exams_and_trend(session: Session, branch, make_user) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    organizer, busy, _idle = branch
    clock = FakeClock(NOW)
    for _ in range(4):
        _session_of(session, busy, clock, count=5)
    exam = scheduled(session, organizer, _spec(session, clock, pass_mark=10))
    attempt = exam_taking.start_exam(session, busy, exam.id, clock=clock)
    exam_taking.submit_exam(session, busy, attempt.id, clock=clock)
    board = dashboard.branch_dashboard(session, organizer, organizer.branch_id, clock=clock)
    assert board.period == Period.parse("2026-12")
    assert {row.member.name: row.evaluation.status for row in board.standings} == {
        "书记": Status.NOT_STARTED,
        "甲": Status.NOT_MET,  # the exam: 0 points, pass mark 10
        "乙": Status.NOT_STARTED,
    }
    assert board.participation == pytest.approx(1 / 3) and board.met_rate == 0
    text = dashboard.reminder_text(board, "https://dj.example.cn/")
    assert text.splitlines()[0] == "【第一党支部学习提醒】2026年12月的学习要求还有以下同志未完成："
    assert "· 乙：还需自测 4 次；还需参加11月月度测试" in text and "· 甲：11月月度测试未及格" in text
    assert text.index("乙") < text.index("甲")  # 未开始 before 未达标
    assert text.endswith("请抓紧登录完成学习：https://dj.example.cn/")
    [summary] = board.exams
    assert (summary.submitted, summary.audience, summary.average) == (1, 3, 0.0)
    assert dict(summary.bands)["60%以下"] == 1
    assert len(board.trend) == 12 and board.trend[-1].period == board.period
    assert board.trend[0].period == Period.parse("2026-01") and board.trend[0].participation == 0


def test_weakest_chapters_need_a_sample_and_come_worst_first(session: Session, branch) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    _organizer, busy, idle = branch
    clock = FakeClock(NOW)
    for _ in range(6):
        _session_of(session, busy, clock, count=5)
    period = Period.parse("2026-12")
    counted = dashboard.weakest_chapters(session, [busy.id, idle.id], period)
    assert counted and all(c.answered >= 20 for c in counted) and sum(c.answered for c in counted) <= 30
    assert dashboard.weakest_chapters(session, [busy.id, idle.id], period, minimum=31) == []
    assert dashboard.weakest_chapters(session, [busy.id, idle.id], period.previous(), minimum=1) == []
    chapters = dashboard.weakest_chapters(session, [busy.id, idle.id], period, minimum=1)
    assert chapters and all(c.answered >= 1 for c in chapters)
    assert [c.accuracy for c in chapters] == sorted(c.accuracy for c in chapters)


def test_dashboard_access_and_bad_period(client: FlaskClient, session: Session, branch, make_user) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    organizer, busy, _ = branch
    other = make_user(Role.ORGANIZER, username="other", branch="第二党支部")
    with pytest.raises(NotAllowed):
        dashboard.branch_dashboard(session, other, organizer.branch_id)
    with pytest.raises(NotAllowed):
        dashboard.branch_dashboard(session, busy, organizer.branch_id)
    login(client, "org")
    page = client.get(f"/dashboard/branch/{organizer.branch_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "第一党支部学习看板" in html and "复制提醒" in html
    bad = client.get(f"/dashboard/branch/{organizer.branch_id}?period=2026-13", headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "无法识别的考核周期" in bad.get_data(as_text=True)
    assert client.get("/dashboard/").headers["Location"].endswith(f"/dashboard/branch/{organizer.branch_id}")
