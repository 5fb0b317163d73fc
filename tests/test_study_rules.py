"""验收标准 over the study plan (issue #16 item 5): 学习日出勤率, 专题练习完成率 and 小问答 rules, counted against the
study days the branch held; in the engine, through the service from recorded study days, and in the editor.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from quizengine.engine.errors import StandardError
from quizengine.engine.member_facts import MemberFacts, StudyDayFacts
from quizengine.engine.periods import Period
from quizengine.engine.standard import Standard, Status, evaluate, rule_from_json, standard_from_json
from quizengine.engine.study_rules import StudyAttendanceRule, TopicPracticeRule, TopicQuizRule
from quizengine.engine.timing import FakeClock
from quizengine.models import Contest, ContestPlayer, Role
from quizengine.services import practice, standards, study_days, study_plans

from .conftest import csrf_token, login
from .test_study_topics import NOW, START, _any, _bank, _plan

DECEMBER = Period.parse("2026-12")
TODAY = date(2026, 12, 31)


def _days(*flags: tuple[bool, bool, bool | None]) -> list[StudyDayFacts]:
    return [StudyDayFacts(date(2026, 12, 2 + 7 * n), *flag) for n, flag in enumerate(flags)]


def _evaluate(rule, days) -> object:  # type: ignore[no-untyped-def]
    facts = MemberFacts(joined_on=date(2026, 1, 1), study_days=days)
    return evaluate(Standard(DECEMBER.kind, (rule,)), DECEMBER, facts, TODAY)


def test_attendance_counts_the_study_days_held() -> None:
    three_of_four = _days((True, 0, None), (True, 0, None), (False, 0, None), (True, 0, None))
    result = _evaluate(StudyAttendanceRule(percent=75), three_of_four)
    assert result.status is Status.MET and result.rules[0].progress == "学习日出勤 3/4 次（要求 3 次）"
    result = _evaluate(StudyAttendanceRule(percent=80), three_of_four)  # 80 % of 4 → 4
    assert result.status is Status.NOT_MET and result.missing == ["学习日出勤还差 1 次"]
    none_held = _evaluate(StudyAttendanceRule(), [])
    assert none_held.rules[0].met and none_held.rules[0].progress == "本期支部未开展学习日"


def test_topic_practice_and_quiz() -> None:
    days = _days((True, True, True), (True, False, False), (False, True, None), (True, True, None), (True, True, None))
    practised = _evaluate(TopicPracticeRule(percent=80), days)  # 4 of 5 topics
    assert practised.status is Status.MET and practised.rules[0].progress == "专题练习 4/5 个专题（要求 4 个）"
    assert _evaluate(TopicPracticeRule(percent=100), days).missing == ["还需完成 1 个专题的专题练习"]
    quiz = _evaluate(TopicQuizRule(quizzes=3), days)  # only two 小问答 were run: both are needed, one was taken
    assert quiz.status is Status.NOT_MET and quiz.rules[0].progress == "小问答 1/2 次"
    assert _evaluate(TopicQuizRule(quizzes=1), days).status is Status.MET
    assert _evaluate(TopicQuizRule(), _days((True, True, None))).rules[0].progress == "本期支部未开展小问答"


def test_attending_a_study_day_is_studying() -> None:
    result = _evaluate(StudyAttendanceRule(percent=100), _days((False, False, None), (False, False, None)))
    assert result.status is Status.NOT_STARTED and not result.studied  # nothing done yet: 未开始
    attended = _evaluate(TopicQuizRule(), _days((True, False, None)))
    assert attended.studied


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "study_attendance", "percent": 0}, "学习日出勤率应在 1% 到 100% 之间"),
        ({"type": "topic_practice", "percent": 101}, "专题练习完成率应在 1% 到 100% 之间"),
        ({"type": "topic_quiz", "quizzes": 0}, "小问答次数应在 1 到 100 之间"),
        ({"type": "topic_quiz", "quizzes": "1"}, "考核规则中的数量应为整数"),
    ],
)
def test_bad_rules_are_refused(data: dict, message: str) -> None:
    with pytest.raises(StandardError, match=message):
        rule_from_json(data)


def test_rules_round_trip_and_describe() -> None:
    data = {
        "period": "month",
        "rules": [
            {"type": "study_attendance", "percent": 75},
            {"type": "topic_practice", "percent": 80},
            {"type": "topic_quiz", "quizzes": 1},
        ],
    }
    standard = standard_from_json(data)
    assert standard.to_json() == data
    assert standard.describe() == ["学习日出勤率不低于 75%", "专题练习完成率不低于 80%", "参加学习日小问答不少于 1 次"]


def test_the_service_reads_the_recorded_study_days(
    app: Flask, session: Session, runner: FlaskCliRunner, make_user
) -> None:  # type: ignore[no-untyped-def]
    banks = Path(app.config["BANKS_PATH"])
    assert runner.invoke(args=["banks", "load", str(_bank(banks))]).exit_code == 0
    _plan(banks, START)
    plans = study_plans.load_plans(banks)
    admin = make_user(Role.ADMIN, username="admin")
    organizer = make_user(Role.ORGANIZER, username="org", branch="第一党支部")
    jia, yi = (make_user(username=name, branch="第一党支部") for name in ("jia", "yi"))
    rules = [{"type": "study_attendance", "percent": 100}, {"type": "topic_practice", "percent": 50}]
    standards.save_standard(session, admin, None, {"period": "month", "rules": [*rules, {"type": "topic_quiz"}]})
    record = study_days.record_attendance
    record(session, organizer, organizer.branch_id, plans, "jihua", "1", [jia.id, yi.id], "2026-12-02", TODAY)
    day = record(session, organizer, organizer.branch_id, plans, "jihua", "2", [jia.id], "2026-12-09", TODAY)
    contest = Contest(
        title="小问答", host_id=organizer.id, branch_id=organizer.branch_id, pin="654321",
        projector_token="p", plan={}, revisions={}, state={}, version=0,
    )  # fmt: skip
    session.add(contest)
    session.flush()
    session.add(ContestPlayer(contest_id=contest.id, player=str(yi.id), user_id=yi.id, team="t1", joined_seq=1))
    day.contest_id = contest.id  # yi joined week 2's 小问答: present without a tick
    session.commit()
    clock = FakeClock(NOW)
    attempt = study_plans.start_topic_practice(session, jia, plans, "jihua", "2", clock=clock)
    for item in attempt.items:
        practice.answer_item(session, jia, attempt.id, item.position, _any(item), clock=clock)
    practice.finish_attempt(session, jia, attempt.id, clock=clock)

    at = FakeClock(NOW.replace(day=28))
    first = standards.member_standing(session, organizer, jia, DECEMBER, clock=at)
    assert [rule.progress for rule in first.rules] == [
        "学习日出勤 2/2 次（要求 2 次）",
        "专题练习 1/2 个专题（要求 1 个）",
        "小问答 0/1 次",
    ]
    assert first.missing == ["还需参加小问答 1 次"]
    second = standards.member_standing(session, organizer, yi, DECEMBER, clock=at)
    assert second.rules[0].met and not second.rules[1].met and second.rules[2].met


def test_the_editor_sets_the_study_rules(client: FlaskClient, session: Session, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user(Role.ADMIN, username="admin")
    login(client, "admin")
    token = csrf_token(client, "/standards/committee")
    form = {"csrf_token": token, "period": "month", "sessions": "2", "study_attendance": "75", "topic_quiz": "1"}
    assert client.post("/standards/committee", data=form).status_code == 302
    assert standards.standard_for_branch(session, None).describe() == [
        "自测不少于 2 次",
        "学习日出勤率不低于 75%",
        "参加学习日小问答不少于 1 次",
    ]
    page = client.get("/standards/committee").get_data(as_text=True)
    assert 'name="study_attendance"' in page and 'value="75"' in page
    bad = client.post("/standards/committee", data={**form, "topic_practice": "120"})
    assert bad.status_code == 400 and "专题练习完成率不低于（%）应在 1 到 100 之间" in bad.get_data(as_text=True)
    assert standards.standard_for_branch(session, None).describe()[1] == "学习日出勤率不低于 75%"
