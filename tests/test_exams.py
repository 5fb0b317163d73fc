"""Timed exams: scheduling, the paper made once, autosave, deadline edges, sweeper, grading, regrade, void."""

from __future__ import annotations

import io
import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.errors import DeadlinePassed, InsufficientQuestions
from quizengine.engine.timing import FakeClock
from quizengine.extensions import db
from quizengine.models import Attempt, AttemptItem, AuditEntry, Exam, Question, Role, User
from quizengine.modes.timed_exam import MemberStatus, ReviewPolicy
from quizengine.services import exam_access, exam_admin, exam_grading, exam_saves, exam_setup, exam_taking
from quizengine.services.access import NotAllowed
from quizengine.services.attempt_items import paper_item
from quizengine.services.exam_results import exam_overview, export_workbook

from .conftest import csrf_token, login

BRANCH = "第一党支部"


def _bank(tmp_path: Path) -> Path:
    """A bank for exams: 8 single (answer A), 4 multiple ([A, B]), 6 judge (true), 2 fill, 2 short."""
    lines = ["bank: exam", "title: 考试题库", "questions:"]
    options = "{A: 甲, B: 乙, C: 丙, D: 丁}"
    lines += [f"  - {{id: e-s{n}, type: single, stem: 单选{n}, options: {options}, answer: A}}" for n in range(8)]
    lines += [
        f"  - {{id: e-m{n}, type: multiple, stem: 多选{n}, options: {options}, answer: [A, B]}}" for n in range(4)
    ]
    lines += [f"  - {{id: e-j{n}, type: judge, stem: 判断{n}, answer: true}}" for n in range(6)]
    lines += [f"  - {{id: e-f{n}, type: fill, stem: 填空{n}____, answer: [[一年, 1年]]}}" for n in range(2)]
    lines += [f"  - {{id: e-q{n}, type: short, stem: 简答{n}, answer: 要点}}" for n in range(2)]
    path = tmp_path / "exam.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def setting(runner: FlaskCliRunner, session: Session, make_user, fake_clock: FakeClock, tmp_path: Path):  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["banks", "load", str(_bank(tmp_path))]).exit_code == 0
    organizer = make_user(Role.ORGANIZER, username="org", branch=BRANCH)
    members = [make_user(username=f"m{n}", branch=BRANCH) for n in range(3)]
    return organizer, members


def _spec(session: Session, clock: FakeClock, **changes) -> exam_setup.ExamSpec:
    branch_id = session.scalar(select(User.branch_id).where(User.username == "org"))
    values = {
        "title": "11月月度测试",
        "branch_ids": (branch_id,),
        "opens_at": clock.now() - timedelta(minutes=5),
        "closes_at": clock.now() + timedelta(hours=2),
        "duration_minutes": 30,
        "blueprint": {
            "sections": [
                {"types": ["single"], "count": 5, "points": 4},
                {"types": ["multiple"], "count": 2, "points": 5},
                {"types": ["judge"], "count": 3, "points": 2},
                {"types": ["short"], "count": 1, "points": 10},
            ]
        },
        "pass_mark": 30,
    }
    values.update(changes)
    return exam_setup.ExamSpec(**values)


def scheduled(session: Session, actor: User, spec: exam_setup.ExamSpec) -> Exam:
    """Schedule an exam and publish it at once (its paper as drawn), as most tests need."""
    exam = exam_setup.create_exam(session, actor, spec)
    return exam_setup.publish_exam(session, actor, exam.id)


def _now() -> FakeClock:
    """A clock at the real current time, for tests that go through HTTP (the views use the system clock)."""
    return FakeClock(datetime.now(UTC))


def _right(item: AttemptItem):  # type: ignore[no-untyped-def]
    """The right answer in the keys the member sees."""
    content = item.revision.content
    paper = paper_item(item)
    return {
        "single": lambda: paper.shown_key(content["answer"]),
        "multiple": lambda: [paper.shown_key(key) for key in content["answer"]],
        "judge": lambda: content["answer"],
        "fill": lambda: [group[0] for group in content["answer"]],
        "short": lambda: "党员要认真学习",
    }[content["type"]]()


def test_create_exam_validates_and_audits(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, _ = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    assert exam.id and session.scalar(select(AuditEntry).where(AuditEntry.action == "exams.create"))
    bad = [
        ({"title": " "}, "请填写考试名称"),
        ({"closes_at": fake_clock.now() - timedelta(hours=1)}, "结束时间必须晚于开始时间"),
        ({"duration_minutes": 0}, "考试时长"),
        ({"pass_mark": 500}, "及格分应在 0 到总分 46 之间"),
        ({"blueprint": {"sections": []}}, "请至少设置一个组卷规则"),
    ]
    for change, message in bad:
        with pytest.raises(exam_access.ExamError, match=message):
            scheduled(session, organizer, _spec(session, fake_clock, **change))
    with pytest.raises(InsufficientQuestions, match="需要50题"):
        scheduled(
            session, organizer, _spec(session, fake_clock, blueprint={"sections": [{"types": ["judge"], "count": 50}]})
        )
    other = session.scalar(select(User).where(User.username == "m0"))
    with pytest.raises(NotAllowed):
        scheduled(session, other, _spec(session, fake_clock))
    assert len(session.scalars(select(Exam)).all()) == 1


def test_start_makes_the_paper_once_and_resumes(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    attempt = exam_taking.start_exam(session, member, exam.id, clock=fake_clock, rng=random.Random(1))
    assert attempt.question_count == 11 and attempt.max_score == 46  # 5×4 + 2×5 + 3×2 + 10
    assert attempt.deadline_at == fake_clock.now() + timedelta(minutes=30)
    order = [(item.question_id, tuple(item.option_order)) for item in attempt.items]
    fake_clock.advance(minutes=3)
    again = exam_taking.start_exam(session, member, exam.id, clock=fake_clock, rng=random.Random(99))
    assert again.id == attempt.id and [(i.question_id, tuple(i.option_order)) for i in again.items] == order


def test_deadline_is_cut_by_the_window_close(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock, closes_at=fake_clock.now() + timedelta(minutes=10)))
    attempt = exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
    assert attempt.deadline_at == exam.closes_at


def test_deadline_edges_exact_grace_and_after(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    attempt = exam_taking.start_exam(session, member, exam.id, clock=fake_clock, rng=random.Random(2))
    first, second, third = attempt.items[0], attempt.items[1], attempt.items[2]
    fake_clock.set(attempt.deadline_at)  # exactly at the deadline: on time
    exam_saves.save_answer(session, member.id, attempt.id, 0, _right(first), clock=fake_clock)
    fake_clock.advance(30)  # the last moment of the 30 s grace
    exam_saves.save_answer(session, member.id, attempt.id, 1, _right(second), clock=fake_clock)
    fake_clock.advance(0.5)
    with pytest.raises(DeadlinePassed, match="答题时间已到"):
        exam_saves.save_answer(session, member.id, attempt.id, 2, _right(third), clock=fake_clock)
    session.refresh(attempt)
    assert attempt.status == "finished" and attempt.finished_at == attempt.deadline_at
    assert attempt.items[2].response is None and attempt.items[0].response is not None
    with pytest.raises(exam_access.ExamError, match="试卷已提交"):
        exam_saves.save_answer(session, member.id, attempt.id, 0, _right(first), clock=fake_clock)


def test_answers_change_until_submit_and_submit_twice_scores_once(
    session: Session, setting, fake_clock: FakeClock
) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    attempt = exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
    for item in attempt.items:
        wrong = "D" if item.revision.content["type"] == "single" else None
        exam_saves.save_answer(session, member.id, attempt.id, item.position, wrong or _right(item), clock=fake_clock)
        exam_saves.save_answer(
            session, member.id, attempt.id, item.position, _right(item), clock=fake_clock
        )  # changed mind
    done = exam_taking.submit_exam(session, member, attempt.id, clock=fake_clock)
    assert (done.score, done.pending_count, done.correct_count) == (36, 1, 10)  # the short answer waits
    fake_clock.advance(5)
    again = exam_taking.submit_exam(session, member, attempt.id, clock=fake_clock)
    assert again.score == 36 and again.finished_at == done.finished_at


def test_reload_or_another_device_resumes_every_answer(
    client: FlaskClient, session: Session, setting, fake_clock
) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(
        session,
        organizer,
        _spec(
            session,
            __import__("quizengine.engine.timing").engine.timing.FakeClock(
                __import__("datetime").datetime.now(__import__("datetime").UTC)
            ),
        ),
    )
    login(client, "m0")
    token = csrf_token(client, "/exams/")
    started = client.post(f"/exams/{exam.id}/start", data={"csrf_token": token})
    paper_url = started.headers["Location"]
    page = client.get(paper_url).get_data(as_text=True)
    assert 'id="exam-state"' in page
    attempt = session.scalar(select(Attempt).where(Attempt.user_id == member.id))
    item = attempt.items[0]
    saved = client.post(
        f"{paper_url}/answers", json={"position": 0, "response": _right(item)}, headers={"X-CSRFToken": token}
    )
    assert saved.status_code == 200 and saved.json["ok"]
    other_device = client.application.test_client()
    login(other_device, "m0")
    state = other_device.get(paper_url).get_data(as_text=True)
    assert '"saved":' in state and _shown_json(_right(item)) in state


def _shown_json(value) -> str:  # type: ignore[no-untyped-def]
    import json

    return '"saved": ' + json.dumps(value, ensure_ascii=False)


def test_api_refuses_bad_json_foreign_attempts_and_late_answers(client: FlaskClient, session: Session, setting) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, _now()))
    attempt = exam_taking.start_exam(session, member, exam.id)
    login(client, "m1")
    token = csrf_token(client, "/exams/")
    url = f"/exams/attempts/{attempt.id}/answers"
    assert client.post(url, json={"position": 0, "response": "A"}, headers={"X-CSRFToken": token}).status_code == 404
    assert client.post(url, data="nonsense", headers={"X-CSRFToken": token}).status_code == 400
    assert client.post(url, json={"position": 0, "response": "A"}).status_code == 400  # no CSRF token
    login(client, "m0")
    token = csrf_token(client, "/exams/")
    bad = client.post(url, json={"position": 0, "response": "Z"}, headers={"X-CSRFToken": token})
    assert bad.status_code in (409, 422) and "不存在" in bad.json["message"]
    attempt_row = session.get(Attempt, attempt.id)
    attempt_row.deadline_at = datetime.now(UTC) - timedelta(minutes=5)
    session.commit()
    late = client.post(url, json={"position": 0, "response": "A"}, headers={"X-CSRFToken": token})
    assert late.status_code == 409 and "答题时间已到" in late.json["message"]
    assert all(item.response is None for item in session.get(Attempt, attempt.id).items)


def test_concurrent_saves_of_the_same_answer(app, setting) -> None:  # type: ignore[no-untyped-def]
    organizer, (member, *_) = setting
    with app.app_context():
        session = db.session()
        exam = scheduled(session, organizer, _spec(session, _now()))
        attempt = exam_taking.start_exam(session, session.get(User, member.id), exam.id)
        attempt_id, member_id = attempt.id, member.id
        position = next(i.position for i in attempt.items if i.revision.content["type"] == "single")
    errors: list[BaseException] = []

    def save(key: str) -> None:
        with app.app_context():
            try:
                for _ in range(10):
                    exam_saves.save_answer(db.session(), member_id, attempt_id, position, key)
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=save, args=(key,)) for key in "ABCD"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        stored = db.session.scalar(
            select(AttemptItem.response).where(AttemptItem.attempt_id == attempt_id, AttemptItem.position == position)
        )
        assert stored in {"A", "B", "C", "D"}


def test_sweeper_finalizes_attempts_nobody_came_back_to(
    session: Session, setting, fake_clock: FakeClock, runner
) -> None:
    organizer, (first, second, _) = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    one = exam_taking.start_exam(session, first, exam.id, clock=fake_clock)
    exam_saves.save_answer(session, first.id, one.id, 0, _right(one.items[0]), clock=fake_clock)
    fake_clock.advance(minutes=10)
    two = exam_taking.start_exam(session, second, exam.id, clock=fake_clock)
    fake_clock.advance(minutes=20, seconds=31)  # first is past deadline + grace, second is not
    assert exam_grading.finalize_expired(session, clock=fake_clock) == 1
    session.refresh(one)
    session.refresh(two)
    assert one.status == "finished" and one.answered_count == 1 and one.score > 0
    assert two.status == "open"
    assert exam_grading.finalize_expired(session, clock=fake_clock) == 0


def test_attempts_allowed_and_make_up_override(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    attempt = exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
    exam_taking.submit_exam(session, member, attempt.id, clock=fake_clock)
    with pytest.raises(exam_access.ExamError, match="没有剩余作答次数"):
        exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
    fake_clock.advance(hours=3)  # window closed
    with pytest.raises(exam_access.ExamError, match="考试已结束"):
        exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
    exam_admin.set_override(
        session,
        organizer,
        exam.id,
        member.id,
        opens_at=fake_clock.now(),
        closes_at=fake_clock.now() + timedelta(hours=1),
        duration_minutes=15,
        extra_attempts=1,
    )
    make_up = exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
    assert make_up.number == 2 and make_up.deadline_at == fake_clock.now() + timedelta(minutes=15)


def test_review_visibility_follows_the_policy(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, _ = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    assert not exam_access.review_is_visible(exam, fake_clock.now())
    assert exam_access.review_is_visible(exam, exam.closes_at)
    exam.review_policy = ReviewPolicy.MANUAL
    assert not exam_access.review_is_visible(exam, exam.closes_at + timedelta(days=1))
    exam_admin.release_results(session, organizer, exam.id)
    assert exam_access.review_is_visible(exam, fake_clock.now())


def test_short_answers_graded_then_final_and_audited(session: Session, setting, fake_clock: FakeClock) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    attempt = exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
    short = next(item for item in attempt.items if item.revision.content["type"] == "short")
    exam_saves.save_answer(session, member.id, attempt.id, short.position, "党员要认真学习党章", clock=fake_clock)
    exam_taking.submit_exam(session, member, attempt.id, clock=fake_clock)
    assert attempt.pending_count == 1
    with pytest.raises(exam_access.ExamError, match="得分应在 0 到 10 之间"):
        exam_admin.grade_short_answer(session, organizer, short.id, 11, "")
    exam_admin.grade_short_answer(session, organizer, short.id, 7.5, "要点基本齐全")
    session.refresh(attempt)
    assert attempt.pending_count == 0 and attempt.score == 7.5
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "exams.grade_short")).detail["score"] == 7.5


def test_regrade_after_a_key_fix_with_dry_run(session: Session, setting, fake_clock, runner, tmp_path: Path) -> None:
    organizer, members = setting
    exam = scheduled(
        session,
        organizer,
        _spec(session, fake_clock, blueprint={"fixed_ids": ["e-s0", "e-s1"], "fixed_points": 5}, pass_mark=5),
    )
    for member in members:
        attempt = exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
        for item in attempt.items:
            exam_saves.save_answer(
                session, member.id, attempt.id, item.position, paper_item(item).shown_key("B"), clock=fake_clock
            )
        exam_taking.submit_exam(session, member, attempt.id, clock=fake_clock)
    assert {a.score for a in session.scalars(select(Attempt))} == {0}
    fixed = (
        _bank(tmp_path)
        .read_text(encoding="utf-8")
        .replace(
            "stem: 单选0, options: {A: 甲, B: 乙, C: 丙, D: 丁}, answer: A",
            "stem: 单选0, options: {A: 甲, B: 乙, C: 丙, D: 丁}, answer: B",
        )
    )
    (tmp_path / "exam.yaml").write_text(fixed, encoding="utf-8")
    assert runner.invoke(args=["banks", "load", str(tmp_path / "exam.yaml")]).exit_code == 0
    preview = exam_admin.regrade_exam(session, organizer, exam.id, dry_run=True)
    assert len(preview) == 3 and all((c.before, c.after) == (0, 5) for c in preview)
    assert {a.score for a in session.scalars(select(Attempt))} == {0}  # nothing written by the dry run
    exam_admin.regrade_exam(session, organizer, exam.id, dry_run=False)
    session.expire_all()
    assert {a.score for a in session.scalars(select(Attempt))} == {5}
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "exams.regrade")) is not None


def test_void_question_full_credit_or_removed(session: Session, setting, fake_clock) -> None:
    organizer, (member, other, _) = setting
    blueprint = {"fixed_ids": ["e-s0", "e-s1"], "fixed_points": 5}
    exam = scheduled(session, organizer, _spec(session, fake_clock, blueprint=blueprint, pass_mark=5))
    for who in (member, other):  # e-s0 answered right, e-s1 left blank
        attempt = exam_taking.start_exam(session, who, exam.id, clock=fake_clock)
        item = next(item for item in attempt.items if item.question.external_id == "e-s0")
        exam_saves.save_answer(
            session, who.id, attempt.id, item.position, paper_item(item).shown_key("A"), clock=fake_clock
        )
        exam_taking.submit_exam(session, who, attempt.id, clock=fake_clock)
    first, second = (session.scalar(select(Question.id).where(Question.external_id == qid)) for qid in ("e-s0", "e-s1"))
    changes = exam_admin.void_question(session, organizer, exam.id, second, "full_credit", "题干有歧义")
    assert len(changes) == 2
    assert {(a.score, a.max_score) for a in session.scalars(select(Attempt))} == {(10, 10)}
    exam_admin.void_question(session, organizer, exam.id, first, "removed", "答案有误")
    session.expire_all()
    assert {(a.score, a.max_score) for a in session.scalars(select(Attempt))} == {(5, 5)}
    with pytest.raises(exam_access.ExamError, match="已经作废"):
        exam_admin.void_question(session, organizer, exam.id, first, "removed", "再来一次")
    with pytest.raises(exam_access.ExamError, match="请填写作废原因"):
        exam_admin.void_question(session, organizer, exam.id, second + 999, "removed", " ")
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "exams.void_question")).all()) == 2


def test_overview_shows_everyone_statistics_and_exports(session: Session, setting, fake_clock, make_user) -> None:
    organizer, (first, second, third) = setting
    make_user(username="elsewhere", branch="第二党支部")
    exam = scheduled(
        session,
        organizer,
        _spec(session, fake_clock, blueprint={"fixed_ids": ["e-s0", "e-j0"], "fixed_points": 5}, pass_mark=5),
    )
    for who, right in ((first, True), (second, False)):
        attempt = exam_taking.start_exam(session, who, exam.id, clock=fake_clock)
        for item in attempt.items:
            answer = (
                _right(item) if right or item.revision.content["type"] == "judge" else paper_item(item).shown_key("C")
            )
            exam_saves.save_answer(session, who.id, attempt.id, item.position, answer, clock=fake_clock)
        exam_taking.submit_exam(session, who, attempt.id, clock=fake_clock)
    exam_taking.start_exam(session, third, exam.id, clock=fake_clock)
    overview = exam_overview(session, organizer, exam.id, clock=fake_clock)
    status = {row.member.username: row.status for row in overview.members}
    assert status == {
        "m0": MemberStatus.SUBMITTED,
        "m1": MemberStatus.SUBMITTED,
        "m2": MemberStatus.IN_PROGRESS,
        "org": MemberStatus.NOT_STARTED,
    }
    assert [(row.member.username, row.place) for row in overview.members if row.place] == [("m0", 1), ("m1", 2)]
    stats = {row.external_id: (row.stats.responses, row.stats.facility) for row in overview.items}
    assert stats == {"e-s0": (2, None), "e-j0": (2, None)}  # n shown; too few answers to compute anything
    assert overview.average == 7.5 and overview.pass_rate == 1.0
    from zoneinfo import ZoneInfo

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(export_workbook(overview, ZoneInfo("Asia/Shanghai"))))
    assert book.sheetnames == ["成绩", "题目分析"]
    rows = list(book["成绩"].iter_rows(values_only=True))
    assert rows[0][:4] == ("支部", "姓名", "用户名", "状态") and any(
        row[2] == "org" and row[3] == "未参加" for row in rows
    )
    outsider = session.scalar(select(User).where(User.username == "elsewhere"))
    with pytest.raises(NotAllowed):
        exam_overview(session, outsider, exam.id)


def test_members_outside_the_audience_cannot_start(session: Session, setting, fake_clock, make_user) -> None:
    organizer, _ = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    outsider = make_user(username="far", branch="第三党支部")
    with pytest.raises(NotAllowed, match="不在这场考试的参考范围内"):
        exam_taking.start_exam(session, outsider, exam.id, clock=fake_clock)


def test_exam_pages_authorization(client: FlaskClient, session: Session, setting) -> None:
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, _now()))
    attempt = exam_taking.start_exam(session, member, exam.id)
    login(client, "m1")
    assert client.get(f"/exams/attempts/{attempt.id}").status_code == 404
    assert client.get(f"/exams/{exam.id}/manage").status_code == 403
    assert client.get(f"/exams/{exam.id}/export.xlsx").status_code == 403
    login(client, "org")
    page = client.get(f"/exams/{exam.id}/manage").get_data(as_text=True)
    assert "参考情况（一个不落）" in page and "答题中" in page and "未参加" in page
    export = client.get(f"/exams/{exam.id}/export.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
