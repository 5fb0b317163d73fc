"""学习日小问答: one click from this week's topic starts a short individual live quiz from the topic's chapters;
who joins is the study day's attendance (the organizer adds the rest), results reach each member's record, the
检查督导 quiz average and the topic_quiz rule; a second click reopens the running quiz; refusals change nothing.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.study_plan import Reading, monday_of
from quizengine.models import AuditEntry, Contest, ContestResult, Role, StudyDay, User
from quizengine.realtime import protocol
from quizengine.services import study_days, study_plans, study_quiz
from quizengine.services.access import NotAllowed
from quizengine.services.records import get_learning_record
from quizengine.services.study_checks import CheckPeriod, study_check
from quizengine.services.study_quiz import StudyQuizError

from .conftest import csrf_token, login
from .test_contest_socket import NS, _client, _command, _fresh_caches, _join, _views  # noqa: F401
from .test_study_topics import _bank, _plan

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "question_banks" / "contests" / "xiaowenda.yaml"
BRANCH, OTHER = "第一党支部", "第二党支部"


@pytest.fixture
def people(app: Flask, session: Session, runner: FlaskCliRunner, make_user):  # type: ignore[no-untyped-def]
    """A plan in its second week (topic 2, chapter ch2, is this week's), the template, a branch and others."""
    banks = Path(app.config["BANKS_PATH"])
    assert runner.invoke(args=["banks", "load", str(_bank(banks))]).exit_code == 0
    _plan(banks, monday_of(study_plans.today()) - timedelta(weeks=1))
    (banks / "contests").mkdir(exist_ok=True)
    shutil.copy(TEMPLATE, banks / "contests" / "xiaowenda.yaml")
    found = {
        "org": make_user(Role.ORGANIZER, username="org", name="书记", branch=BRANCH),
        "other": make_user(Role.ORGANIZER, username="other", name="他支部书记", branch=OTHER),
        "inspector": make_user(Role.INSPECTOR, username="insp", branch=BRANCH),
        "admin": make_user(Role.ADMIN, username="admin"),
    }
    for n, name in enumerate("甲乙丙"):
        found[f"m{n}"] = make_user(username=f"m{n}", name=name, branch=BRANCH)
    session.commit()
    return found


def _plans(app: Flask):  # type: ignore[no-untyped-def]
    return study_plans.load_plans(Path(app.config["BANKS_PATH"]))


def _start(app: Flask, session: Session, actor: User, key: str = "2", plans=None):  # type: ignore[no-untyped-def]
    branch = session.scalar(select(User.branch_id).where(User.username == "org"))
    banks = Path(app.config["BANKS_PATH"])
    return study_quiz.start_study_quiz(
        session, actor, branch, plans or _plans(app), "jihua", key, banks, today=study_plans.today()
    )


def _counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Contest)) or 0,
        session.scalar(select(func.count()).select_from(StudyDay)) or 0,
    )


def test_one_click_starts_an_individual_quiz_from_the_topic_and_a_second_click_reopens_it(
    app: Flask, session: Session, people: dict
) -> None:
    started = _start(app, session, people["org"])
    contest = started.contest
    assert not started.reopened and contest.plan["individual"] is True and contest.title == "小问答 · 学党章第二章"
    assert contest.branch_id == people["org"].branch_id and contest.teams == []
    # the topic's chapter has six phone-answerable questions: all six (the template asks for eight, at least five)
    assert sorted(contest.revisions) == [f"ch2-{n}" for n in range(6)]
    [day] = session.scalars(select(StudyDay)).all()
    assert (day.plan_slug, day.topic_key, day.contest_id, day.held_on) == (
        "jihua",
        "2",
        contest.id,
        study_plans.today(),
    )
    assert session.scalar(select(func.count()).where(AuditEntry.action == "study.quiz")) == 1

    again = _start(app, session, people["org"])  # the second click: the running quiz, not another one
    assert again.reopened and again.contest.id == contest.id and _counts(session) == (1, 1)
    admin = _start(app, session, people["admin"])  # an admin reopens it too
    assert admin.reopened and admin.contest.id == contest.id

    contest.finished_at = contest.created_at
    session.commit()
    with pytest.raises(StudyQuizError, match="本专题学习日的小问答已经结束，成绩已计入学习档案"):
        _start(app, session, people["org"])
    assert _counts(session) == (1, 1)


def test_two_clicks_at_once_end_with_one_quiz(app: Flask, session: Session, people: dict, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = _start(app, session, people["org"]).contest
    # the second request read the study day before the first claimed it: it draws a contest of its own ...
    monkeypatch.setattr(study_quiz, "_running", lambda session, day: None)
    second = _start(app, session, people["org"])
    # ... loses the claim, deletes its contest and opens the first one's console
    assert second.reopened and second.contest.id == first.id
    assert _counts(session) == (1, 1) and session.scalars(select(StudyDay.contest_id)).one() == first.id


def test_a_study_day_already_recorded_gets_the_quiz(app: Flask, session: Session, people: dict) -> None:
    org, jia = people["org"], people["m0"]
    today = study_plans.today()
    study_days.record_attendance(session, org, org.branch_id, _plans(app), "jihua", "2", [jia.id], today, today)
    contest = _start(app, session, org).contest
    [day] = session.scalars(select(StudyDay)).all()
    assert day.contest_id == contest.id and [row.user_id for row in day.attendance] == [jia.id]


@pytest.mark.parametrize(
    ("who", "key", "error", "message"),
    [
        ("m0", "2", NotAllowed, "只有本支部的组织员可以开展学习日小问答"),
        ("other", "2", NotAllowed, "只有本支部的组织员可以开展学习日小问答"),
        ("inspector", "2", NotAllowed, "只有本支部的组织员可以开展学习日小问答"),
        ("org", "1", StudyQuizError, "“学党章第一章”不是本周专题"),
        ("org", "3", StudyQuizError, "“通读党章”不是本周专题"),
        ("org", "9", StudyQuizError, "没有找到该专题"),
    ],
)
def test_refusals_say_why_and_change_nothing(
    app: Flask, session: Session, people: dict, who: str, key: str, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        _start(app, session, people[who], key)
    session.rollback()
    assert _counts(session) == (0, 0)


def test_a_topic_without_questions_is_refused(app: Flask, session: Session, people: dict) -> None:
    [plan] = _plans(app)
    topics = list(plan.topics)
    topics[1] = replace(topics[1], questions=(Reading("not-imported", ()),))
    with pytest.raises(StudyQuizError, match=r"只有 0 道可用手机作答的题目.*至少需要 5 道"):
        _start(app, session, people["org"], plans=[replace(plan, topics=tuple(topics))])
    assert _counts(session) == (0, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "找不到小问答方案 contests/xiaowenda.yaml"),
        ("title: 坏方案\n", "小问答方案有误：.*rounds"),
        (
            "title: 团体\nrounds: [{kind: everyone, source: {count: 6}}]\n",
            "应为个人赛（individual: true），只有一轮每人作答的全员答题",
        ),
        ("title: 多\nindividual: true\nrounds: [{kind: everyone, source: {count: 20}}]\n", "题数应为 5 到 10"),
    ],
)
def test_a_bad_template_is_refused(app: Flask, people: dict, text: str | None, message: str) -> None:
    path = Path(app.config["BANKS_PATH"]) / "contests" / "xiaowenda.yaml"
    if text is None:
        path.unlink()
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(StudyQuizError, match=message):
        study_quiz.load_template(Path(app.config["BANKS_PATH"]))


# --- HTTP: who may click ------------------------------------------------------------------------------


def _post(app: Flask, username: str | None, branch_id: int, key: str = "2"):  # type: ignore[no-untyped-def]
    http = app.test_client()
    if username:
        login(http, username)
    token = csrf_token(http) if username else ""
    return http.post(f"/study/branch/{branch_id}/jihua/{key}/quiz", data={"csrf_token": token})


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("m0", "只有本支部的组织员可以开展学习日小问答"),
        ("other", "只有本支部的组织员可以开展学习日小问答"),
        ("inspector", "督导账号只能查看，不能修改任何内容"),  # refused before the view, like every change
    ],
)
def test_only_the_branchs_organizer_may_start_it(
    app: Flask, session: Session, people: dict, who: str, message: str
) -> None:
    response = _post(app, people[who].username, people["org"].branch_id)
    assert response.status_code == 403 and message in response.get_data(as_text=True)
    assert _counts(session) == (0, 0)


def test_anonymous_is_sent_to_log_in_and_a_missing_branch_is_404(app: Flask, session: Session, people: dict) -> None:
    response = _post(app, None, people["org"].branch_id)
    assert response.status_code in (302, 400) and _counts(session) == (0, 0)
    assert _post(app, "admin", 999_999).status_code == 404
    assert app.test_client().get(f"/study/branch/{people['org'].branch_id}/jihua/2/quiz").status_code in (302, 405)


def test_a_refused_click_comes_back_with_the_reason(app: Flask, session: Session, people: dict) -> None:
    http = app.test_client()
    login(http, "org")
    branch = people["org"].branch_id
    response = http.post(f"/study/branch/{branch}/jihua/1/quiz", data={"csrf_token": csrf_token(http)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/study/branch/{branch}")
    assert "“学党章第一章”不是本周专题" in http.get(f"/study/branch/{branch}").get_data(as_text=True)
    assert _counts(session) == (0, 0)


# --- end to end: the real socket path -----------------------------------------------------------------


def test_the_quick_quiz_end_to_end_attendance_record_check_and_rule(app: Flask, session: Session, people: dict) -> None:
    org, jia, yi, bing = people["org"], people["m0"], people["m1"], people["m2"]
    branch = org.branch_id
    host_http = app.test_client()
    login(host_http, "org")
    home = host_http.get("/").get_data(as_text=True)
    assert "学党章第二章" in home and "开展学习日小问答" in home
    clicked = host_http.post(f"/study/branch/{branch}/jihua/2/quiz", data={"csrf_token": csrf_token(host_http)})
    contest = session.scalars(select(Contest)).one()
    assert clicked.status_code == 302 and clicked.headers["Location"].endswith(f"/contests/{contest.id}/host")
    again = host_http.post(f"/study/branch/{branch}/jihua/2/quiz", data={"csrf_token": csrf_token(host_http)})
    assert again.headers["Location"].endswith(f"/contests/{contest.id}/host")
    assert "本专题的小问答正在进行，已为您重新打开主持台" in host_http.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert "打开小问答" in host_http.get(f"/study/branch/{branch}").get_data(as_text=True)

    host = _client(app, host_http)
    assert _join(host, contest=contest.id, role="host")["ok"]
    projector = _client(app)
    assert _join(projector, contest=contest.id, role="projector", token=contest.projector_token)["ok"]
    phones = {}
    for member in (jia, yi):  # 丙 has no phone
        http = app.test_client()
        login(http, member.username)
        phone = _client(app, http)
        joined = _join(phone, pin=contest.pin, role="player")
        assert joined["ok"] and joined["view"]["individual"]
        phones[member.name] = phone

    version = _command(host, "start", 0)["version"]
    for number in range(6):
        version = _command(host, "next", version)["version"]
        version = _command(host, "open", version)["version"]
        question = _views(projector)[-1]["view"]["question"]["id"]
        for name, phone in phones.items():  # 甲 always right (judge: true), 乙 right on the first three
            response = name == "甲" or number < 3
            ack = phone.emit(
                protocol.SUBMIT_ANSWER, {"question": question, "response": response}, namespace=NS, callback=True
            )
            assert ack["ok"], ack
        version = _command(host, "reveal", version)["version"]
    version = _command(host, "next", version)["version"]
    version = _command(host, "next", version)["version"]
    final = _views(projector)[-1]["view"]
    assert final["phase"] == "finished"
    assert [(row["name"], row["place"], row["score"]) for row in final["ranking"]] == [("甲", 1, 60.0), ("乙", 2, 30.0)]

    # attendance: the two who joined; the organizer adds 丙, who attended without a phone
    plans = _plans(app)
    [row, _] = study_days.branch_topics(session, org, branch, plans, study_plans.today())
    assert row.held and sorted(m.name for m in row.present) == ["乙", "甲"]
    form = host_http.get(f"/study/branch/{branch}/jihua/2").get_data(as_text=True)
    assert form.count("已参加小问答") == 2
    saved = host_http.post(
        f"/study/branch/{branch}/jihua/2",
        data={
            "csrf_token": csrf_token(host_http),
            "held_on": study_plans.today().isoformat(),
            "member": [str(bing.id)],
        },
    )
    assert saved.status_code == 302
    session.expire_all()
    [row, _] = study_days.branch_topics(session, org, branch, plans, study_plans.today())
    assert sorted(m.name for m in row.present) == ["丙", "乙", "甲"]
    assert "已结束 · 成绩" in host_http.get(f"/study/branch/{branch}").get_data(as_text=True)

    # each member's record: their own place in the 个人赛
    results = {
        r.user_id: r for r in session.scalars(select(ContestResult).where(ContestResult.contest_id == contest.id))
    }
    assert {uid: (r.team_name, r.team_place, r.correct) for uid, r in results.items()} == {
        jia.id: ("个人赛", 1, 6), yi.id: ("个人赛", 2, 3)
    }  # fmt: skip
    record = get_learning_record(session, jia, jia)
    assert [(r.contest.title, r.team_place) for r in record.contests] == [("小问答 · 学党章第二章", 1)]

    # 检查督导: the study day is held, with the quiz average of those who joined (60 and 30)
    [plan] = plans
    period = CheckPeriod.parse(study_plans.today().isoformat(), study_plans.today())
    check = study_check(session, people["admin"], plan, period, study_plans.today())
    [mine] = [b for b in check.branches if b.branch.id == branch]
    [topic] = [t for t in mine.topics if t.topic.key == "2"]
    assert topic.held and topic.present == 3 and topic.quiz_average == 45.0

    # the topic_quiz rule's facts: joined the quiz or not
    facts = study_days.member_study_facts(
        session, [jia, bing], study_plans.today() - timedelta(days=6), study_plans.today() + timedelta(days=1)
    )
    assert [f.quiz for f in facts[jia.id]] == [True] and [f.quiz for f in facts[bing.id]] == [False]
    assert [f.attended for f in facts[bing.id]] == [True]
