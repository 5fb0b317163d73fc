"""检查督导 and 通报: branches ranked on their study days, attendance, topic practice and 小问答 over a week or a
month; missed study days highlighted; inspectors see their branches only and members nothing; the page, the
printable bulletin and the Excel export; a fixed number of queries whatever the number of branches.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import event
from sqlalchemy.orm import Session

from quizengine.engine.timing import FakeClock
from quizengine.models import Branch, Role
from quizengine.services import practice, study_days, study_plans
from quizengine.services.access import NotAllowed
from quizengine.services.study_checks import CheckPeriod, StudyCheckError, check_workbook, study_check

from .conftest import login
from .test_study_topics import START, _any, _bank, _plan

TODAY = date(2026, 12, 16)  # Wednesday of week 3: the study days of topics 1 and 2 have passed, topic 3's is today
NOW = datetime(2026, 12, 16, 2, 0, tzinfo=UTC)


@pytest.fixture
def committee(app: Flask, session: Session, runner: FlaskCliRunner, make_user):  # type: ignore[no-untyped-def]
    banks = Path(app.config["BANKS_PATH"])
    assert runner.invoke(args=["banks", "load", str(_bank(banks))]).exit_code == 0
    _plan(banks, START)
    people = {
        "a_org": make_user(Role.ORGANIZER, username="a_org", name="甲书记", branch="第一党支部"),
        "a1": make_user(username="a1", name="甲一", branch="第一党支部"),
        "a2": make_user(username="a2", name="甲二", branch="第一党支部"),
        "b_org": make_user(Role.ORGANIZER, username="b_org", name="乙书记", branch="第二党支部"),
        "b1": make_user(username="b1", name="乙一", branch="第二党支部"),
        "admin": make_user(Role.ADMIN, username="admin"),
        "inspector": make_user(Role.INSPECTOR, username="insp", branch="第二党支部"),
    }
    plans = study_plans.load_plans(banks)
    a, b = people["a_org"], people["b_org"]
    record = study_days.record_attendance
    record(session, a, a.branch_id, plans, "jihua", "1", [people["a1"].id, people["a2"].id, a.id], "2026-12-02", TODAY)
    record(session, a, a.branch_id, plans, "jihua", "2", [people["a1"].id, a.id], "2026-12-09", TODAY)
    record(session, b, b.branch_id, plans, "jihua", "1", [people["b1"].id], "2026-12-03", TODAY)
    clock = FakeClock(NOW)
    attempt = study_plans.start_topic_practice(session, people["a1"], plans, "jihua", "2", clock=clock)
    for item in attempt.items:
        practice.answer_item(session, people["a1"], attempt.id, item.position, _any(item), clock=clock)
    practice.finish_attempt(session, people["a1"], attempt.id, clock=clock)
    return people, plans


def test_branches_ranked_with_missed_days_and_the_best_members(session: Session, committee) -> None:  # type: ignore[no-untyped-def]
    people, [plan] = committee
    check = study_check(session, people["admin"], plan, CheckPeriod.parse("2026-12", TODAY), TODAY)
    assert [topic.key for topic in check.topics] == ["1", "2", "3"]
    first, second = check.branches
    assert (first.branch.name, second.branch.name) == ("第一党支部", "第二党支部")
    assert (first.held, len(first.due), first.missed) == (2, 2, [])
    assert (second.held, len(second.due)) == (1, 2)
    assert [row.topic.title for row in second.missed] == ["学党章第二章"]
    assert check.missing == [second]
    assert first.attendance_rate == pytest.approx(5 / 6)  # 3 of 3, then 2 of 3
    assert first.practice_rate == pytest.approx(1 / 9)  # one member practised one of three topics
    assert [topic.held_on for topic in first.topics] == [date(2026, 12, 2), date(2026, 12, 9), None]
    assert not first.topics[2].due  # topic 3's study day is today: not missed yet
    [best] = check.best
    assert (best.member.name, best.sessions, best.answered, best.correct) == ("甲一", 1, 5, 5)

    week = study_check(session, people["admin"], plan, CheckPeriod.parse("2026-12-09", TODAY), TODAY)
    assert week.period.label == "12月7日—12月13日" and [t.key for t in week.topics] == ["2"]
    assert [row.branch.name for row in week.missing] == ["第二党支部"]


def test_inspectors_see_their_branches_and_members_nothing(session: Session, committee) -> None:  # type: ignore[no-untyped-def]
    people, [plan] = committee
    period = CheckPeriod.parse(None, TODAY)
    assert period.key == "2026-12"
    check = study_check(session, people["inspector"], plan, period, TODAY)
    assert [row.branch.name for row in check.branches] == ["第二党支部"] and not check.scope_all
    for name in ("a1", "a_org"):
        with pytest.raises(NotAllowed):
            study_check(session, people[name], plan, period, TODAY)


@pytest.mark.parametrize("value", ["2026/12", "十二月", "2026-13", "2026-12-40"])
def test_a_bad_period_is_refused_in_chinese(value: str) -> None:
    with pytest.raises(StudyCheckError, match="周期格式不正确"):
        CheckPeriod.parse(value, TODAY)


def test_excel_has_the_ranking_the_detail_and_the_best(session: Session, committee) -> None:  # type: ignore[no-untyped-def]
    people, [plan] = committee
    check = study_check(session, people["admin"], plan, CheckPeriod.parse("2026-12", TODAY), TODAY)
    book = load_workbook(io.BytesIO(check_workbook(check)))
    assert book.sheetnames == ["支部排名", "各专题学习日", "表现突出的党员"]
    ranking = list(book["支部排名"].iter_rows(values_only=True))
    assert ranking[1][:6] == (1, "第一党支部", 3, 2, 2, None)
    assert ranking[2][:6] == (2, "第二党支部", 2, 2, 1, "学党章第二章")
    detail = list(book["各专题学习日"].iter_rows(values_only=True))
    assert ("第二党支部", "学党章第二章", "2026-12-07—2026-12-13", "未开展", 0, 2, 0, None) in detail
    assert list(book["表现突出的党员"].iter_rows(values_only=True))[1] == ("甲一", "第一党支部", 1, 5, 5)


def test_a_fixed_number_of_queries_whatever_the_branches(app: Flask, session: Session, committee, make_user) -> None:  # type: ignore[no-untyped-def]
    people, [plan] = committee
    period = CheckPeriod.parse("2026-12", TODAY)

    def queries() -> int:
        seen: list[str] = []
        engine = session.get_bind()
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            session.expunge_all()
            admin = session.get(type(people["admin"]), people["admin"].id)
            study_check(session, admin, plan, period, TODAY)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    before = queries()
    for n in range(4):
        make_user(username=f"c{n}", branch=f"第{n + 3}党支部")
    assert session.query(Branch).count() == 6
    assert queries() == before


def test_pages_bulletin_and_export(client: FlaskClient, committee) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")  # the pages use the real clock: this month
    page = client.get("/study/check/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "学习日检查督导" in html and "第二党支部" in html
    label = CheckPeriod.parse(None, study_plans.today()).label
    bulletin = client.get("/study/check/print").get_data(as_text=True)
    assert f"关于{label}各支部学习日开展情况的通报" in bulletin and 'id="bulletin-ranking"' in bulletin
    export = client.get("/study/check/report.xlsx")
    assert export.status_code == 200 and "filename*=UTF-8''" in export.headers["Content-Disposition"]
    assert client.get("/study/check/?period=bad").status_code == 400
    assert client.get("/study/check/?plan=nope").status_code == 404
