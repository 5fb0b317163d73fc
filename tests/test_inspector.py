"""The inspector (督导): reads everything of the assigned branches, changes nothing, never plays a contest."""

from __future__ import annotations

import random

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.extensions import db, socketio
from quizengine.models import Role, User
from quizengine.modes.contest import ContestPlan, QuestionSource, RoundKind, RoundSpec
from quizengine.realtime import protocol
from quizengine.services import contest_setup, exam_taking
from quizengine.services.access import can_read_branch, can_view_member, member_read_clause, readable_branch_ids

from . import test_exams
from .conftest import csrf_token, login
from .test_exam_autosave import _answers, _single, statements
from .test_exams import BRANCH, _now, _spec, scheduled

setting = test_exams.setting  # fixture: exam bank, organizer "org" and members m0..m2 of branch A


def test_the_read_rule_covers_assigned_branches_only(session: Session, make_user) -> None:
    inspector = make_user(Role.INSPECTOR, username="watch", branch=BRANCH)
    mine = make_user(username="a1", branch=BRANCH)
    other = make_user(username="b1", branch="第二党支部")
    assert readable_branch_ids(inspector) == {mine.branch_id}
    assert can_read_branch(inspector, mine.branch_id) and not can_read_branch(inspector, other.branch_id)
    assert can_view_member(inspector, mine) and not can_view_member(inspector, other)
    visible = session.scalars(select(User.username).where(member_read_clause(inspector))).all()
    assert sorted(visible) == ["a1"]
    assert inspector.branch_id is None  # the inspected branch is not their own


def test_inspector_reads_records_exam_results_and_branch_pages(
    client: FlaskClient, session: Session, make_user, setting
) -> None:
    organizer, (member, *_) = setting
    make_user(Role.INSPECTOR, username="watch", branch=BRANCH)
    stranger = make_user(username="b1", branch="第二党支部")
    exam = scheduled(session, organizer, _spec(session, _now()))
    login(client, "watch")
    assert client.get(f"/record/{member.id}").status_code == 200
    assert client.get(f"/record/{stranger.id}").status_code == 404
    page = client.get(f"/exams/{exam.id}/manage").get_data(as_text=True)
    assert member.name in page and "安排补考" not in page and "简答评阅（" not in page
    assert "督导支部的考试" in client.get("/exams/").get_data(as_text=True)
    branch_page = client.get(f"/org/branches/{member.branch_id}").get_data(as_text=True)
    assert f"/record/{member.id}" in branch_page
    assert "新增党员" not in branch_page and "重置密码" not in branch_page and "批量导入名册" not in branch_page
    home = client.get("/").get_data(as_text=True)
    assert "督导支部" in home and 'href="/practice/"' not in home and "今日" not in home
    token = csrf_token(client, "/exams/")
    url = f"/org/branches/{member.branch_id}/groups"
    refused = client.post(url, data={"group-name": "新小组", "group-csrf_token": token})
    assert refused.status_code == 403 and "督导账号只能查看" in refused.get_data(as_text=True)
    assert client.post(url, json={}, headers={"X-CSRFToken": token}).json["code"] == "read_only"
    assert not session.get(type(member.branch), member.branch_id).groups  # type: ignore[union-attr]


def test_autosave_refuses_an_inspector_without_extra_queries_for_members(
    client: FlaskClient, session: Session, setting
) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, _now()))
    attempt = exam_taking.start_exam(session, member, exam.id)
    login(client, "m0")
    token = csrf_token(client, "/exams/")
    url, item = f"/exams/attempts/{attempt.id}/answers", _single(attempt)
    assert client.get(f"/exams/attempts/{attempt.id}").status_code == 200  # the paper page caches the paper
    with statements(db.engine) as seen:
        saved = client.post(url, json={"position": item.position, "response": "A"}, headers={"X-CSRFToken": token})
    assert saved.status_code == 200
    assert len(seen) == 1  # the member's save is still one statement (the role is checked inside it)
    client.post(url, json={"position": item.position, "response": None}, headers={"X-CSRFToken": token})
    session.get(User, member.id).role = Role.INSPECTOR  # type: ignore[union-attr]  # appointed mid-exam
    session.commit()
    refused = client.post(url, json={"position": item.position, "response": "A"}, headers={"X-CSRFToken": token})
    assert refused.status_code == 403 and refused.json["code"] == "read_only"
    assert _answers(session, attempt.id) == [None] * attempt.question_count


def test_an_inspector_cannot_host_or_join_a_contest(
    app: Flask, client: FlaskClient, session: Session, make_user, setting
) -> None:
    organizer, _ = setting
    make_user(Role.INSPECTOR, username="watch", branch=BRANCH)
    plan = ContestPlan("支部知识竞赛", (RoundSpec(RoundKind.EVERYONE, "全员答题", QuestionSource(count=1), points=10),))
    contest = contest_setup.create_contest(session, organizer, plan, rng=random.Random(1))
    login(client, "watch")
    sio = socketio.test_client(app, namespace=protocol.NAMESPACE, flask_test_client=client)
    attempts = (
        {"contest": contest.id, "role": "host"},
        {"pin": contest.pin, "role": "player"},
        {"contest": contest.id, "role": "team", "code": contest.teams[0].join_secret},
    )
    for data in attempts:
        ack = sio.emit(protocol.JOIN, data, namespace=protocol.NAMESPACE, callback=True)
        assert ack["ok"] is False, data
        assert ack["code"] in {"not_host", "read_only"}, ack
    assert ack["code"] == "read_only"
    sio.disconnect(namespace=protocol.NAMESPACE)
    session.expire_all()
    assert not session.get(type(contest), contest.id).teams[0].last_seen_at  # type: ignore[union-attr]
