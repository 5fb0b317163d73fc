"""学习日: organizers record each topic's study day and who attended; 小问答 players count as present; bad forms
change nothing; only the branch's organizer (or an admin) writes; the branch page shows held / missed days,
attendance and topic practice completion.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.study_plan import monday_of
from quizengine.engine.timing import FakeClock
from quizengine.models import AuditEntry, Contest, ContestPlayer, Role, StudyAttendance, StudyDay
from quizengine.services import practice, study_days, study_plans
from quizengine.services.access import NotAllowed
from quizengine.services.study_days import StudyDayError

from .conftest import csrf_token, login
from .test_study_topics import NOW, START, _any, _bank, _plan

BRANCH = "第一党支部"
WEDNESDAY = date(2026, 12, 9)  # week 2 of the plan (topic 2)


@pytest.fixture
def branch(app: Flask, session: Session, runner: FlaskCliRunner, make_user):  # type: ignore[no-untyped-def]
    banks = Path(app.config["BANKS_PATH"])
    assert runner.invoke(args=["banks", "load", str(_bank(banks))]).exit_code == 0
    _plan(banks, START)
    organizer = make_user(Role.ORGANIZER, username="org", name="书记", branch=BRANCH)
    members = [make_user(username=f"m{n}", name=name, branch=BRANCH) for n, name in enumerate("甲乙丙")]
    members[2].active = False
    session.commit()
    return organizer, members


def _plans(app: Flask):  # type: ignore[no-untyped-def]
    return study_plans.load_plans(Path(app.config["BANKS_PATH"]))


def test_record_attendance_and_see_it_on_the_branch(app: Flask, session: Session, branch) -> None:  # type: ignore[no-untyped-def]
    organizer, (jia, yi, _) = branch
    plans = _plans(app)
    rows = study_days.branch_topics(session, organizer, organizer.branch_id, plans, WEDNESDAY)
    assert [row.topic.key for row in rows] == ["2", "1"]  # started topics, this week's first
    assert not any(row.held for row in rows)
    assert [member.name for member in rows[0].members] == sorted(["书记", "甲", "乙"])  # not the deactivated 丙

    day = study_days.record_attendance(
        session, organizer, organizer.branch_id, plans, "jihua", "2", [str(jia.id)], "2026-12-09", WEDNESDAY
    )
    assert day.held_on == WEDNESDAY
    # recording again replaces the list
    study_days.record_attendance(
        session, organizer, organizer.branch_id, plans, "jihua", "2", [yi.id, organizer.id], WEDNESDAY, WEDNESDAY
    )
    assert session.scalar(select(func.count()).select_from(StudyDay)) == 1
    [row, _] = study_days.branch_topics(session, organizer, organizer.branch_id, plans, WEDNESDAY)
    assert row.held and [m.name for m in row.present] == sorted(["书记", "乙"]) and row.attendance_rate == 2 / 3
    assert [m.name for m in row.absent] == ["甲"]
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action == "study.attendance")).all()
    assert len(actions) == 2


def test_quiz_players_count_as_present(app: Flask, session: Session, branch) -> None:  # type: ignore[no-untyped-def]
    organizer, (jia, *_) = branch
    plans = _plans(app)
    day = study_days.record_attendance(
        session, organizer, organizer.branch_id, plans, "jihua", "2", [], WEDNESDAY, WEDNESDAY
    )
    contest = Contest(
        title="学习日小问答", host_id=organizer.id, branch_id=organizer.branch_id, pin="123456",
        projector_token="t", plan={}, revisions={}, state={}, version=0,
    )  # fmt: skip
    session.add(contest)
    session.flush()
    session.add(ContestPlayer(contest_id=contest.id, player=str(jia.id), user_id=jia.id, team="t1", joined_seq=1))
    day.contest_id = contest.id
    session.commit()
    [row, _] = study_days.branch_topics(session, organizer, organizer.branch_id, plans, WEDNESDAY)
    assert row.held and [m.name for m in row.present] == ["甲"]
    assert study_days.quiz_players(session, row) == {jia.id}


@pytest.mark.parametrize(
    ("members", "held_on", "message"),
    [
        (["999999"], WEDNESDAY, "所选党员不属于本支部或已停用"),
        (["abc"], WEDNESDAY, "所选党员不属于本支部或已停用"),
        ([], "12/09", "学习日日期格式不正确"),
        ([], "2026-12-01", "学习日应在专题的学习周内（2026-12-07 至 2026-12-13）"),
        ([], "2026-12-10", "学习日还没有到"),
    ],
)
def test_bad_forms_are_refused_in_chinese_and_write_nothing(
    app: Flask, session: Session, branch, members: list[str], held_on: object, message: str
) -> None:  # type: ignore[no-untyped-def]
    organizer, _ = branch
    with pytest.raises(StudyDayError, match=message):
        study_days.record_attendance(
            session, organizer, organizer.branch_id, _plans(app), "jihua", "2", members, held_on, WEDNESDAY
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(StudyDay)) == 0


def test_deactivated_members_and_future_topics_are_refused(app: Flask, session: Session, branch) -> None:  # type: ignore[no-untyped-def]
    organizer, (_, _, bing) = branch
    plans = _plans(app)
    with pytest.raises(StudyDayError, match="不属于本支部或已停用"):
        study_days.record_attendance(
            session, organizer, organizer.branch_id, plans, "jihua", "2", [bing.id], WEDNESDAY, WEDNESDAY
        )
    session.rollback()
    with pytest.raises(StudyDayError, match="还不能记录学习日"):
        study_days.record_attendance(session, organizer, organizer.branch_id, plans, "jihua", "3", [], None, WEDNESDAY)
    assert session.scalar(select(func.count()).select_from(StudyAttendance)) == 0


def test_only_the_branch_organizer_or_an_admin_records(app: Flask, session: Session, branch, make_user) -> None:  # type: ignore[no-untyped-def]
    organizer, (jia, *_) = branch
    other = make_user(Role.ORGANIZER, username="other", branch="第二党支部")
    admin = make_user(Role.ADMIN, username="admin")
    plans = _plans(app)
    for actor in (jia, other):
        with pytest.raises(NotAllowed):
            study_days.record_attendance(
                session, actor, organizer.branch_id, plans, "jihua", "2", [], WEDNESDAY, WEDNESDAY
            )
    with pytest.raises(NotAllowed):
        study_days.branch_topics(session, other, organizer.branch_id, plans, WEDNESDAY)
    study_days.record_attendance(session, admin, organizer.branch_id, plans, "jihua", "2", [], WEDNESDAY, WEDNESDAY)


def test_topic_practice_completion_counts_members_with_a_finished_session(app: Flask, session: Session, branch) -> None:  # type: ignore[no-untyped-def]
    organizer, (jia, yi, _) = branch
    plans, clock = _plans(app), FakeClock(NOW)
    for member, finish in ((jia, True), (yi, False)):
        attempt = study_plans.start_topic_practice(session, member, plans, "jihua", "2", clock=clock)
        practice.answer_item(session, member, attempt.id, 0, _any(attempt.items[0]), clock=clock)
        if finish:
            practice.finish_attempt(session, member, attempt.id, clock=clock)
    rows = study_days.branch_topics(session, organizer, organizer.branch_id, plans, WEDNESDAY)
    assert study_days.practice_completion(session, rows) == {("jihua", "2"): 1, ("jihua", "1"): 0}


def test_pages_branch_and_attendance_form(app: Flask, client: FlaskClient, session: Session, branch) -> None:  # type: ignore[no-untyped-def]
    organizer, (jia, *_) = branch
    _plan(Path(app.config["BANKS_PATH"]), monday_of(study_plans.today()) - timedelta(weeks=1))
    login(client, "org")
    page = client.get(f"/study/branch/{organizer.branch_id}").get_data(as_text=True)
    assert "学党章第二章" in page and "未开展" in page and "0/3" in page
    form = client.get(f"/study/branch/{organizer.branch_id}/jihua/2")
    assert form.status_code == 200 and "保存出勤" in form.get_data(as_text=True)
    bad = client.post(
        f"/study/branch/{organizer.branch_id}/jihua/2",
        data={"csrf_token": csrf_token(client), "held_on": "2000-01-01", "member": [str(jia.id)]},
    )
    assert bad.status_code == 400 and "学习日应在专题的学习周内" in bad.get_data(as_text=True)
    assert f'value="{jia.id}" checked' in bad.get_data(as_text=True)  # the form keeps what was ticked
    assert session.scalar(select(func.count()).select_from(StudyDay)) == 0
    today = study_plans.today()
    good = client.post(
        f"/study/branch/{organizer.branch_id}/jihua/2",
        data={"csrf_token": csrf_token(client), "held_on": today.isoformat(), "member": [str(jia.id)]},
    )
    assert good.headers["Location"].endswith(f"/study/branch/{organizer.branch_id}")
    page = client.get(f"/study/branch/{organizer.branch_id}").get_data(as_text=True)
    assert f"{today.month}月{today.day}日" in page and "1/3" in page
    assert client.get(f"/study/branch/{organizer.branch_id}/jihua/3").status_code == 404  # not started
