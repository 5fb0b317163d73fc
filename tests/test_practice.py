"""Self-test services and pages: start, answer with feedback, resume, wrong-answer book, record, authorization."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.errors import DeadlinePassed
from quizengine.models import Attempt, AttemptItem, Bank, QuestionProgress, Role
from quizengine.modes.self_test import PracticeKind
from quizengine.services import attempt_items, practice, wrong_book
from quizengine.services.access import NotAllowed
from quizengine.services.records import get_learning_record

from .conftest import DATA, csrf_token, login


@pytest.fixture
def sample(runner: FlaskCliRunner, session: Session) -> Bank:
    assert runner.invoke(args=["banks", "load", str(DATA / "sample_bank.yaml")]).exit_code == 0
    return session.scalar(select(Bank).where(Bank.slug == "sample"))


def _right_shown(item: AttemptItem):  # type: ignore[no-untyped-def]
    """The correct answer in the keys the member sees."""
    question = attempt_items.engine_question(item)
    paper = attempt_items.paper_item(item)
    return {
        "single": lambda: paper.shown_key(question.answer),
        "multiple": lambda: [paper.shown_key(key) for key in question.answer],
        "judge": lambda: question.answer,
        "fill": lambda: [accepted[0] for accepted in question.answer],
        "short": lambda: "党员要学习",
    }[question.type]()


def _wrong_shown(item: AttemptItem):  # type: ignore[no-untyped-def]
    question = attempt_items.engine_question(item)
    paper = attempt_items.paper_item(item)
    if question.type == "single":
        return next(paper.shown_key(k) for k in question.option_keys if k != question.answer)
    if question.type == "multiple":
        return [paper.shown_key(question.answer[0])]
    if question.type == "judge":
        return not question.answer
    if question.type == "fill":
        return ["错"] * question.blank_count
    return "不知道"


def test_custom_practice_stores_revisions_and_option_order(
    session: Session, sample: Bank, make_user, fake_clock
) -> None:
    member = make_user()
    request = practice.PracticeRequest(PracticeKind.CUSTOM, (sample.id,), types=("single", "multiple"), count=5)
    attempt = practice.start_practice(session, member, request, clock=fake_clock, rng=random.Random(1))
    assert attempt.question_count == 2 and attempt.status == "open"
    for item in attempt.items:
        assert item.revision.number == 1 and sorted(item.option_order) == ["A", "B", "C", "D"]
    multiple = next(item for item in attempt.items if item.question.external_id == "s-multiple-1")
    assert multiple.option_order[3] == "D"  # fixed option stays last


def test_answers_are_graded_saved_and_update_spacing_and_wrong_book(
    session: Session, sample: Bank, make_user, fake_clock
) -> None:
    member = make_user()
    attempt = practice.start_practice(
        session, member, practice.PracticeRequest(PracticeKind.CUSTOM, (sample.id,), count=5), clock=fake_clock
    )
    first, second = attempt.items[0], attempt.items[1]
    answered = practice.answer_item(session, member, attempt.id, 0, _wrong_shown(first), clock=fake_clock)
    assert answered.verdict in ("wrong", "pending") and answered.answered_at == fake_clock.now()
    again = practice.answer_item(session, member, attempt.id, 0, _right_shown(first), clock=fake_clock)
    assert again.verdict == answered.verdict  # answered once; a resend returns the stored answer
    practice.answer_item(session, member, attempt.id, 1, _right_shown(second), clock=fake_clock)
    session.refresh(attempt)
    assert attempt.answered_count == 2 and practice.current_position(attempt) == 2
    progress = {p.question_id: p for p in session.scalars(select(QuestionProgress))}
    if first.question.type != "short":
        assert progress[first.question_id].in_wrong_book and progress[first.question_id].box == 0
    if second.question.type != "short":
        assert progress[second.question_id].box == 1
        assert progress[second.question_id].due_at == fake_clock.now() + timedelta(days=1)


def test_finishing_all_questions_closes_the_attempt_and_two_right_answers_clear_the_book(
    session: Session, sample: Bank, make_user, fake_clock
) -> None:
    member = make_user()
    request = practice.PracticeRequest(PracticeKind.CUSTOM, (sample.id,), types=("judge",), count=5)
    first = practice.start_practice(session, member, request, clock=fake_clock)
    practice.answer_item(session, member, first.id, 0, _wrong_shown(first.items[0]), clock=fake_clock)
    session.refresh(first)
    assert first.status == "finished"
    assert len(wrong_book.list_wrong_book(session, member)) == 1
    for _ in range(2):
        fake_clock.advance(minutes=15)
        retry = practice.start_practice(
            session, member, practice.PracticeRequest(PracticeKind.WRONG_BOOK, count=5), clock=fake_clock
        )
        practice.answer_item(session, member, retry.id, 0, _right_shown(retry.items[0]), clock=fake_clock)
    assert wrong_book.list_wrong_book(session, member) == []
    with pytest.raises(practice.PracticeError, match="错题本中没有符合条件的题目"):
        practice.start_practice(session, member, practice.PracticeRequest(PracticeKind.WRONG_BOOK, count=5))


def test_sequential_practice_resumes_where_the_member_stopped(session: Session, sample: Bank, make_user) -> None:
    member = make_user()
    request = practice.PracticeRequest(PracticeKind.SEQUENTIAL, (sample.id,), count=5)
    first = practice.start_practice(session, member, request)
    assert [item.question.external_id for item in first.items] == [
        "s-single-1",
        "s-multiple-1",
        "s-judge-1",
        "s-fill-1",
        "s-short-1",
    ]
    assert first.items[0].option_order == ["A", "B", "C", "D"]
    practice.answer_item(session, member, first.id, 0, "B")
    practice.answer_item(session, member, first.id, 1, ["A", "C"])
    practice.finish_attempt(session, member, first.id)
    resumed = practice.start_practice(session, member, request)
    assert resumed.items[0].question.external_id == "s-judge-1"
    with pytest.raises(practice.PracticeError, match="顺序练习请选择一个题库"):
        practice.start_practice(session, member, practice.PracticeRequest(PracticeKind.SEQUENTIAL, count=5))


def _mock_bank(tmp_path: Path) -> Path:
    """A bank large enough for the mock paper: 12 single, 6 multiple, 6 judge questions."""
    lines = ["bank: mock", "title: 模拟题库", "questions:"]
    options = "{A: 甲, B: 乙, C: 丙, D: 丁}"
    for n in range(12):
        lines += [f"  - {{id: m-s{n}, type: single, stem: 单选{n}, options: {options}, answer: A}}"]
    for n in range(6):
        lines += [f"  - {{id: m-m{n}, type: multiple, stem: 多选{n}, options: {options}, answer: [A, B]}}"]
        lines += [f"  - {{id: m-j{n}, type: judge, stem: 判断{n}, answer: true}}"]
    path = tmp_path / "mock.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_mock_exam_is_timed_and_refuses_late_answers(
    session: Session, runner: FlaskCliRunner, make_user, fake_clock, tmp_path: Path
) -> None:
    assert runner.invoke(args=["banks", "load", str(_mock_bank(tmp_path))]).exit_code == 0
    member = make_user()
    attempt = practice.start_practice(
        session, member, practice.PracticeRequest(PracticeKind.MOCK, count=10), clock=fake_clock
    )
    assert attempt.question_count == 20 and attempt.max_score == 10 * 4 + 5 * 6 + 5 * 4
    assert attempt.deadline_at == fake_clock.now() + timedelta(minutes=20)
    fake_clock.advance(minutes=20, seconds=30)  # within grace
    practice.answer_item(session, member, attempt.id, 0, _right_shown(attempt.items[0]), clock=fake_clock)
    fake_clock.advance(seconds=1)
    with pytest.raises(DeadlinePassed, match="答题时间已到"):
        practice.answer_item(session, member, attempt.id, 1, _right_shown(attempt.items[1]), clock=fake_clock)
    session.refresh(attempt)
    assert attempt.status == "finished" and attempt.answered_count == 1


def test_a_member_cannot_touch_another_members_attempt(session: Session, sample: Bank, make_user) -> None:
    owner, other = make_user(), make_user()
    attempt = practice.start_practice(session, owner, practice.PracticeRequest(PracticeKind.RANDOM, count=5))
    with pytest.raises(NotAllowed):
        practice.answer_item(session, other, attempt.id, 0, "A")
    assert session.get(Attempt, attempt.id).answered_count == 0


def test_bad_practice_requests_are_refused_and_create_nothing(session: Session, sample: Bank, make_user) -> None:
    member = make_user()
    with pytest.raises(practice.PracticeError, match="题量只能选择"):
        practice.start_practice(session, member, practice.PracticeRequest(PracticeKind.RANDOM, count=7))
    with pytest.raises(practice.PracticeError, match="没有符合条件的题目"):
        practice.start_practice(
            session, member, practice.PracticeRequest(PracticeKind.CUSTOM, (sample.id,), types=("nope",))
        )
    assert session.scalars(select(Attempt)).all() == []


def test_record_totals_points_streak_and_mastery(session: Session, sample: Bank, make_user, fake_clock) -> None:
    member = make_user()
    attempt = practice.start_practice(
        session, member, practice.PracticeRequest(PracticeKind.SEQUENTIAL, (sample.id,), count=5), clock=fake_clock
    )
    practice.answer_item(session, member, attempt.id, 0, "B", clock=fake_clock)  # right
    practice.answer_item(session, member, attempt.id, 1, ["A"], clock=fake_clock)  # wrong
    practice.answer_item(session, member, attempt.id, 2, False, clock=fake_clock)  # right
    practice.answer_item(session, member, attempt.id, 3, ["1年", "上级党组织"], clock=fake_clock)  # right
    practice.answer_item(session, member, attempt.id, 4, "党员要学习", clock=fake_clock)  # pending: not counted
    record = get_learning_record(session, member, member, clock=fake_clock)
    assert (record.answered, record.correct, record.wrong_book) == (4, 3, 1)
    assert record.points == 3 + 5 and record.streak == 1
    assert [(m.title, m.answered, m.correct) for m in record.chapters] == [
        ("测试题库 · 第一章", 2, 1),
        ("测试题库 · 第二章", 2, 2),
    ]
    fake_clock.advance(days=2)
    assert get_learning_record(session, member, member, clock=fake_clock).streak == 0


def test_record_visibility(session: Session, make_user) -> None:
    member = make_user(branch="第一党支部")
    organizer = make_user(Role.ORGANIZER, branch="第一党支部")
    stranger = make_user(Role.ORGANIZER, branch="第二党支部")
    admin = make_user(Role.ADMIN)
    for viewer in (member, organizer, admin):
        assert get_learning_record(session, viewer, member).member is member
    for viewer in (stranger, make_user()):
        with pytest.raises(NotAllowed):
            get_learning_record(session, viewer, member)


def test_practice_over_http_with_feedback_and_resume(client: FlaskClient, sample: Bank, make_user) -> None:
    make_user(username="phone")
    login(client, "phone")
    assert "测试题库" in client.get("/practice/").get_data(as_text=True)
    token = csrf_token(client, "/practice/")
    started = client.post(
        "/practice/start", data={"csrf_token": token, "kind": "sequential", "bank": sample.id, "count": 5}
    )
    attempt_url = started.headers["Location"]
    page = client.get(attempt_url).get_data(as_text=True)
    assert "预备党员的预备期为多长时间" in page and "第 1 / 5 题" in page
    answered = client.post(
        f"{attempt_url}/answer", data={"csrf_token": token, "position": 0, "type": "single", "choice": "B"}
    )
    feedback = client.get(answered.headers["Location"]).get_data(as_text=True)
    assert "回答正确" in feedback and "预备期为一年" in feedback and "《中国共产党章程》第一章第七条" in feedback
    assert "下一题" in feedback
    # leave and come back: the attempt resumes at the next question
    resumed = client.get("/practice/").get_data(as_text=True)
    assert "已答 1/5" in resumed
    assert "下列属于党的纪律处分种类的有" in client.get(attempt_url).get_data(as_text=True)
    wrong = client.post(
        f"{attempt_url}/answer", data={"csrf_token": token, "position": 1, "type": "multiple", "choice": ["A"]}
    )
    assert "回答错误" in client.get(wrong.headers["Location"]).get_data(as_text=True)
    assert "已答 0" not in client.get("/practice/wrong-book").get_data(as_text=True)
    record = client.get("/record/").get_data(as_text=True)
    assert "我的学习档案" in record and "顺序练习 · 测试题库" in record


def test_practice_pages_require_login_and_hide_others_attempts(
    client: FlaskClient, session: Session, sample: Bank, make_user
) -> None:
    owner = make_user(username="owner")
    attempt = practice.start_practice(session, owner, practice.PracticeRequest(PracticeKind.RANDOM, count=5))
    assert client.get("/practice/").status_code == 302
    make_user(username="nosy")
    login(client, "nosy")
    assert client.get(f"/practice/{attempt.id}").status_code == 404
    assert client.get(f"/practice/{attempt.id}/summary").status_code == 404
    token = csrf_token(client, "/practice/")
    assert (
        client.post(
            f"/practice/{attempt.id}/answer", data={"csrf_token": token, "position": 0, "choice": "A"}
        ).status_code
        == 404
    )
    assert client.get(f"/record/{owner.id}").status_code == 404


def test_bad_form_input_gets_a_clear_message(client: FlaskClient, sample: Bank, make_user) -> None:
    make_user(username="typo")
    login(client, "typo")
    token = csrf_token(client, "/practice/")
    response = client.post("/practice/start", data={"csrf_token": token, "kind": "custom", "bank": "x", "count": 5})
    assert response.status_code == 302
    assert "输入有误（bank.0：须为整数）" in client.get("/practice/").get_data(as_text=True)
    response = client.post("/practice/start", data={"csrf_token": token, "kind": "nonsense", "count": 5})
    assert "请选择练习方式" in client.get("/practice/").get_data(as_text=True)
    for count in ("²", "9" * 30, "nan"):  # a Unicode digit, a huge number, not a number: refused, no 500
        client.post("/practice/start", data={"csrf_token": token, "kind": "custom", "count": count})
        assert "count：" in client.get("/practice/").get_data(as_text=True)
