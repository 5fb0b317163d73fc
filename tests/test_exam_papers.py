"""Fair exam papers: 统一试卷 drawn once (draft, preview, redraw, publish), 随机组卷 balanced per member,
item analysis with n and a minimum, rankings that compare like with like."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.errors import InsufficientQuestions
from quizengine.engine.timing import FakeClock
from quizengine.models import Attempt, AuditEntry, Exam, User
from quizengine.services import exam_access, exam_papers, exam_saves, exam_setup, exam_taking
from quizengine.services.access import NotAllowed
from quizengine.services.exam_results import exam_overview

from . import test_exams
from .conftest import csrf_token, login
from .test_exams import _bank, _now, _right, _spec

setting = test_exams.setting  # the fixture, shared

RANDOM_BLUEPRINT = {
    "sections": [
        {"types": ["single"], "count": 4, "points": 5},
        {"types": ["judge"], "count": 3, "points": 5},
    ],
    "difficulty_tolerance": 1,
}


def _levels(tmp_path: Path, runner: FlaskCliRunner) -> None:
    """Reload the test bank with difficulties 1..5 spread over the single and judge questions."""
    text = _bank(tmp_path).read_text(encoding="utf-8")
    for n in range(8):
        text = text.replace(f"stem: 单选{n},", f"stem: 单选{n}, difficulty: {1 + n % 5},")
    for n in range(6):
        text = text.replace(f"stem: 判断{n},", f"stem: 判断{n}, difficulty: {1 + n % 5},")
    (tmp_path / "exam.yaml").write_text(text, encoding="utf-8")
    assert runner.invoke(args=["banks", "load", str(tmp_path / "exam.yaml")]).exit_code == 0


def test_uniform_exam_is_a_draft_until_published(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, (member, *_) = setting
    exam = exam_setup.create_exam(session, organizer, _spec(session, fake_clock), rng=random.Random(1))
    assert exam.status == "draft" and exam.paper_mode == "uniform" and len(exam.paper) == 11
    assert exam_access.list_member_exams(session, member) == []
    with pytest.raises(exam_access.ExamError, match="考试尚未发布"):
        exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
    first = [entry["id"] for entry in exam.paper]
    preview = exam_papers.preview(session, exam)
    assert [item.external_id for item in preview.items] == first and preview.total_points == 46
    redrawn = exam_setup.redraw_paper(session, organizer, exam.id, rng=random.Random(2))
    assert [entry["id"] for entry in redrawn.paper] != first
    exam_setup.publish_exam(session, organizer, exam.id, clock=fake_clock)
    assert exam.status == "published" and exam.published_at == fake_clock.now()
    with pytest.raises(exam_access.ExamError, match="考试已发布"):
        exam_setup.redraw_paper(session, organizer, exam.id)
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("exams.%"))).all()
    assert actions == ["exams.create", "exams.redraw", "exams.publish"]
    assert [e.id for e, _ in exam_access.list_member_exams(session, member)] == [exam.id]


def test_every_member_gets_the_same_questions_in_their_own_order(
    session: Session, setting, fake_clock: FakeClock, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    organizer, members = setting
    exam = exam_setup.create_exam(session, organizer, _spec(session, fake_clock))
    exam_setup.publish_exam(session, organizer, exam.id)
    stored = sorted((entry["q"], entry["r"]) for entry in exam.paper)
    first = exam_taking.start_exam(session, members[0], exam.id, clock=fake_clock, rng=random.Random(1))
    # a key fix loaded after publishing: the paper stays what the organizer published (regrade handles fixes)
    fixed = _bank(tmp_path).read_text(encoding="utf-8").replace("stem: 单选0,", "stem: 单选零,")
    (tmp_path / "exam.yaml").write_text(fixed, encoding="utf-8")
    assert runner.invoke(args=["banks", "load", str(tmp_path / "exam.yaml")]).exit_code == 0
    others = [
        exam_taking.start_exam(session, m, exam.id, clock=fake_clock, rng=random.Random(n))
        for n, m in enumerate(members[1:], 2)
    ]
    papers = [first, *others]
    for attempt in papers:
        assert sorted((item.question_id, item.revision_id) for item in attempt.items) == stored
        assert attempt.max_score == 46
    orders = {tuple(item.question_id for item in attempt.items) for attempt in papers}
    assert len(orders) > 1  # shuffled per member (shuffle_questions is on)
    kinds = [[item.revision.content["type"] for item in attempt.items] for attempt in papers]
    assert all(kind == kinds[0] for kind in kinds)  # sections keep their place: types stay grouped


def test_random_papers_are_balanced_per_member(
    session: Session, setting, fake_clock: FakeClock, runner: FlaskCliRunner, tmp_path: Path, make_user
) -> None:
    organizer, members = setting
    _levels(tmp_path, runner)
    members += [make_user(username=f"extra{n}", branch="第一党支部") for n in range(9)]
    spec = _spec(session, fake_clock, blueprint=RANDOM_BLUEPRINT, paper_mode="random", pass_mark=20)
    exam = exam_setup.create_exam(session, organizer, spec)
    assert exam.paper is None
    preview = exam_papers.preview(session, exam)
    assert preview.target is not None and abs(preview.total_difficulty - preview.target) <= 1
    exam_setup.publish_exam(session, organizer, exam.id)
    target = preview.target
    papers = [
        exam_taking.start_exam(session, m, exam.id, clock=fake_clock, rng=random.Random(n))
        for n, m in enumerate(members)
    ]
    for attempt in papers:
        kinds = sorted(item.revision.content["type"] for item in attempt.items)
        assert kinds == ["judge"] * 3 + ["single"] * 4 and attempt.max_score == 35
        difficulty = sum(item.revision.content.get("difficulty", 3) for item in attempt.items)
        assert abs(difficulty - target) <= 1
    assert len({frozenset(item.question_id for item in attempt.items) for attempt in papers}) > 1


def test_random_mode_checks_its_blueprint(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, _ = setting
    untyped = {"sections": [{"count": 3, "points": 5}], "difficulty_tolerance": 1}
    with pytest.raises(exam_access.ExamError, match="每个组卷规则都要选定一种题型"):
        exam_setup.create_exam(session, organizer, _spec(session, fake_clock, blueprint=untyped, paper_mode="random"))
    flat = {"sections": [{"types": ["judge"], "count": 3}], "difficulty_tolerance": 0}
    exam_setup.create_exam(  # every judge question is difficulty 3: 9 exactly, always
        session, organizer, _spec(session, fake_clock, blueprint=flat, paper_mode="random", pass_mark=1)
    )
    with pytest.raises(exam_access.ExamError, match="组卷方式只能是"):
        exam_setup.create_exam(session, organizer, _spec(session, fake_clock, paper_mode="mixed"))
    with pytest.raises(exam_access.ExamError, match="难度容差应在 0 到 20 之间"):
        bad = {**RANDOM_BLUEPRINT, "difficulty_tolerance": -1}
        exam_setup.create_exam(session, organizer, _spec(session, fake_clock, blueprint=bad, paper_mode="random"))
    with pytest.raises(InsufficientQuestions, match="需要9题"):
        many = {"sections": [{"types": ["judge"], "count": 9}], "difficulty_tolerance": 1}
        exam_setup.create_exam(session, organizer, _spec(session, fake_clock, blueprint=many, paper_mode="random"))
    assert session.scalar(select(Exam.id).where(Exam.paper_mode == "random")) is not None


def test_random_mode_ranks_by_share_of_the_own_paper(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, (first, second, _) = setting
    spec = _spec(session, fake_clock, blueprint=RANDOM_BLUEPRINT, paper_mode="random", pass_mark=20)
    exam = exam_setup.create_exam(session, organizer, spec)
    exam_setup.publish_exam(session, organizer, exam.id)
    for who, right in ((first, 2), (second, 5)):
        attempt = exam_taking.start_exam(session, who, exam.id, clock=fake_clock)
        for item in attempt.items[:right]:
            exam_saves.save_answer(session, who.id, attempt.id, item.position, _right(item), clock=fake_clock)
        exam_taking.submit_exam(session, who, attempt.id, clock=fake_clock)
    session.execute(  # make the papers differ in total: the first member's paper is worth less
        Attempt.__table__.update().where(Attempt.user_id == first.id).values(max_score=10)
    )
    session.commit()
    overview = exam_overview(session, organizer, exam.id, clock=fake_clock)
    places = {row.member.username: row.place for row in overview.members if row.place}
    assert places == {"m0": 1, "m1": 2}  # 10/10 beats 25/35
    assert "得分率" in overview.ranking_rule


def test_draft_pages_preview_redraw_and_publish(client: FlaskClient, session: Session, setting) -> None:
    organizer, _ = setting
    exam = exam_setup.create_exam(session, organizer, _spec(session, _now()))
    login(client, "m0")
    assert "11月月度测试" not in client.get("/exams/").get_data(as_text=True)
    login(client, "org")
    token = csrf_token(client, "/exams/new")
    page = client.get(f"/exams/{exam.id}/manage").get_data(as_text=True)
    assert 'id="paper-preview"' in page and "重新抽题" in page and "发布考试" in page and "草稿" in page
    assert "（草稿，未发布）" in client.get("/exams/").get_data(as_text=True)
    assert "名次：按得分排名" in page and "作答人数少于 10 人" in page
    before = [entry["id"] for entry in exam.paper]
    for _ in range(5):  # five redraws: at least one differs from the first draw
        client.post(f"/exams/{exam.id}/redraw", data={"csrf_token": token})
    session.expire_all()
    assert [entry["id"] for entry in session.get(Exam, exam.id).paper] != before
    client.post(f"/exams/{exam.id}/publish", data={"csrf_token": token})
    session.expire_all()
    assert session.get(Exam, exam.id).status == "published"
    assert "发布考试" not in client.get(f"/exams/{exam.id}/manage").get_data(as_text=True)
    refused = client.post(f"/exams/{exam.id}/redraw", data={"csrf_token": token}, follow_redirects=True)
    assert "考试已发布，试卷不能再更改" in refused.get_data(as_text=True)
    login(client, "m0")
    assert "11月月度测试" in client.get("/exams/").get_data(as_text=True)


def test_new_exam_form_takes_the_paper_mode(client: FlaskClient, session: Session, setting) -> None:
    login(client, "org")
    token = csrf_token(client, "/exams/new")
    now = _now().now() + timedelta(hours=8)  # the form's times are Asia/Shanghai wall clock
    form = {
        "csrf_token": token,
        "title": "随机月考",
        "branch": str(session.scalar(select(User.branch_id).where(User.username == "org"))),
        "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "30",
        "pass_mark": "5",
        "paper_mode": "random",
        "difficulty_tolerance": "1.5",
        "s0_type": "single",
        "s0_count": "3",
        "s0_points": "2",
    }
    created = client.post("/exams/new", data=form)
    assert created.status_code == 302
    exam = session.scalar(select(Exam).where(Exam.title == "随机月考"))
    assert exam.paper_mode == "random" and exam.blueprint["difficulty_tolerance"] == 1.5 and exam.status == "draft"
    refused = client.post("/exams/new", data={**form, "s0_type": ""})
    assert refused.status_code == 400 and "每个组卷规则都要选定一种题型" in refused.get_data(as_text=True)


def test_only_an_owner_of_every_branch_publishes(session: Session, setting, fake_clock, make_user) -> None:
    organizer, _ = setting
    other = make_user(username="org2", branch="第二党支部", role=organizer.role)
    exam = exam_setup.create_exam(session, organizer, _spec(session, fake_clock))
    with pytest.raises(NotAllowed):
        exam_setup.publish_exam(session, other, exam.id)
