"""Exam results stay private until the review policy allows, organizers act only on their own branch's members,
exports write user and bank text as text, and scores are shown one way everywhere."""

from __future__ import annotations

import io
import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import Attempt, AttemptItem, Branch, Exam, ExamOverride, Role, User
from quizengine.modes.timed_exam import ReviewPolicy, review_visible
from quizengine.services import exam_access, exam_admin, exam_saves, exam_setup, exam_taking
from quizengine.services.access import NotAllowed
from quizengine.services.attempt_items import paper_item
from quizengine.web import answer_text, format_score

from .conftest import csrf_token, login
from .test_exams import scheduled

INJECTED_NAME = '=HYPERLINK("http://x","y")'
INJECTED_STEM = "=cmd|' /C calc'!A0"


def _bank(tmp_path: Path) -> Path:
    lines = [
        "bank: scope",
        "title: 范围题库",
        "questions:",
        "  - {id: x-s0, type: single, stem: 单选0, options: {A: 甲, B: 乙}, answer: A}",
        f'  - {{id: x-s1, type: single, stem: "{INJECTED_STEM}", options: {{A: 甲, B: 乙}}, answer: A}}',
        "  - {id: x-q0, type: short, stem: 简答0, answer: 参考答案：要点一；要点二}",
    ]
    path = tmp_path / "scope.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def joint(runner: FlaskCliRunner, session: Session, make_user, tmp_path: Path):  # type: ignore[no-untyped-def]
    """An admin's exam for two branches, each with its organizer and one member who submitted."""
    assert runner.invoke(args=["banks", "load", str(_bank(tmp_path))]).exit_code == 0
    admin = make_user(Role.ADMIN, username="admin")
    org_a = make_user(Role.ORGANIZER, username="orga", branch="甲支部")
    org_b = make_user(Role.ORGANIZER, username="orgb", branch="乙支部")
    member_a = make_user(username="ma", branch="甲支部")
    member_b = make_user(username="mb", branch="乙支部", name=INJECTED_NAME)
    now = datetime.now(UTC)
    exam = scheduled(
        session,
        admin,
        exam_setup.ExamSpec(
            title="联合考试/十一月",
            branch_ids=(org_a.branch_id, org_b.branch_id),
            opens_at=now - timedelta(minutes=5),
            closes_at=now + timedelta(hours=1),
            duration_minutes=30,
            blueprint={"fixed_ids": ["x-s0", "x-s1", "x-q0"], "fixed_points": 5},
            pass_mark=5,
        ),
    )
    for member in (member_a, member_b):
        attempt = exam_taking.start_exam(session, member, exam.id)
        for item in attempt.items:
            kind = item.revision.content["type"]
            answer = paper_item(item).shown_key("A") if kind == "single" else "我的回答"
            exam_saves.save_answer(session, member.id, attempt.id, item.position, answer)
        exam_taking.submit_exam(session, member, attempt.id)
    return exam, admin, org_a, org_b, member_a, member_b


def _short_item(session: Session, member: User) -> AttemptItem:
    return session.scalars(
        select(AttemptItem)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(Attempt.user_id == member.id, AttemptItem.verdict == "pending")
    ).one()


# ---- #11.4: the learning record does not leak exam results ---------------------------------------------


def test_visibility_filter_agrees_with_the_review_policy(session: Session, joint) -> None:
    """exam_items_visible (SQL) and review_is_visible (Python) are the same rule for every policy and moment."""
    exam = joint[0]
    now = datetime.now(UTC)
    for policy, released, closed in itertools.product(ReviewPolicy, (False, True), (False, True)):
        exam.review_policy, exam.results_released = policy.value, released
        exam.closes_at = now - timedelta(minutes=1) if closed else now + timedelta(hours=1)
        session.commit()
        shown = bool(
            session.scalars(
                select(Attempt.id).where(Attempt.exam_id == exam.id, exam_access.exam_items_visible(now))
            ).all()
        )
        assert shown == exam_access.review_is_visible(exam, now) == review_visible(policy, released, closed)


def _record_numbers(client: FlaskClient) -> tuple[str, str]:
    page = client.get("/record/").get_data(as_text=True)
    answered = re.search(r'stat-value num">(\d+)</span><span class="stat-label">累计答题', page)
    history = page[page.index('id="exam-history"') :]
    assert answered
    return answered.group(1), history[: history.index("</table>")]


def test_record_counts_exam_answers_only_once_results_are_published(client: FlaskClient, session: Session, joint):  # type: ignore[no-untyped-def]
    exam = joint[0]
    login(client, "ma")
    answered, history = _record_numbers(client)
    assert answered == "0" and "待公布" in history  # after_close, exam still open: nothing right/wrong yet
    page = client.get("/record/").get_data(as_text=True)
    assert "范围题库" not in page  # no bank or chapter mastery from the exam either
    exam.closes_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    answered, history = _record_numbers(client)
    assert answered == "2" and "10 / 15" in history  # two graded answers; the short answer is still pending
    exam.review_policy, exam.closes_at = ReviewPolicy.MANUAL.value, datetime.now(UTC) + timedelta(hours=1)
    session.commit()
    assert _record_numbers(client)[0] == "0"
    exam_admin.release_results(session, joint[1], exam.id)
    assert _record_numbers(client)[0] == "2"


# ---- #11.5: organizers act only on their own branch's members ------------------------------------------


def test_organizer_of_a_joint_exam_sees_and_grades_only_their_branch(
    client: FlaskClient, session: Session, joint
) -> None:
    exam, admin, org_a, _org_b, member_a, member_b = joint
    item_b = _short_item(session, member_b)
    with pytest.raises(NotAllowed):
        exam_admin.grade_short_answer(session, org_a, item_b.id, 5, "")
    login(client, "orga")
    token = csrf_token(client, "/exams/new")
    page = client.get(f"/exams/{exam.id}/manage").get_data(as_text=True)
    assert member_a.name in page and INJECTED_NAME.replace('"', "&#34;") not in page and "乙支部" not in page
    assert client.get(f"/exams/{exam.id}/members/{member_b.id}").status_code == 404
    assert client.get(f"/exams/{exam.id}/members/{member_a.id}").status_code == 200
    grading = client.get(f"/exams/{exam.id}/grading").get_data(as_text=True)
    assert grading.count("保存评分") == 1
    client.post(f"/exams/items/{item_b.id}/grade", data={"score": "5", "exam_id": exam.id, "csrf_token": token})
    session.expire_all()
    assert _short_item(session, member_b).graded_at is None
    client.post(
        f"/exams/{exam.id}/override", data={"member_id": member_b.id, "extra_attempts": "1", "csrf_token": token}
    )
    assert session.scalar(select(ExamOverride.id)) is None
    rows = list(load_workbook(io.BytesIO(client.get(f"/exams/{exam.id}/export.xlsx").data))["成绩"].values)
    assert [row[1] for row in rows[1:]] == [member_a.name, org_a.name]
    for action in ("regrade", "release"):  # exam-wide changes would reach branch B's papers
        assert client.post(f"/exams/{exam.id}/{action}", data={"csrf_token": token}).status_code == 404
    question_id = item_b.question_id
    client.post(
        f"/exams/{exam.id}/void",
        data={"question_id": question_id, "mode": "removed", "reason": "有误", "csrf_token": token},
    )
    session.expire_all()
    assert session.get(Attempt, item_b.attempt_id).max_score == 15
    assert exam_admin.grade_short_answer(session, org_a, _short_item(session, member_a).id, 5, "").score == 5
    assert exam_admin.grade_short_answer(session, admin, _short_item(session, member_b).id, 4, "").score == 4


def test_make_up_only_for_own_branch_members(session: Session, joint) -> None:
    exam, _admin, org_a, _org_b, member_a, member_b = joint
    with pytest.raises(NotAllowed, match="只能为本支部党员安排补考"):
        exam_admin.set_override(
            session, org_a, exam.id, member_b.id, opens_at=None, closes_at=None, duration_minutes=None, extra_attempts=1
        )
    made = exam_admin.set_override(
        session, org_a, exam.id, member_a.id, opens_at=None, closes_at=None, duration_minutes=None, extra_attempts=1
    )
    assert made.user_id == member_a.id


def test_organizer_of_a_single_branch_exam_keeps_every_action(session: Session, joint) -> None:
    exam, _admin, org_a, _org_b, _member_a, _member_b = joint
    exam.branches = [session.get(Branch, org_a.branch_id)]
    session.commit()
    assert exam_admin.regrade_exam(session, org_a, exam.id) == []
    exam_admin.release_results(session, org_a, exam.id)
    assert session.get(Exam, exam.id).results_released


# ---- #11.10 and #10.5: exports ---------------------------------------------------------------------------


def test_export_writes_names_and_stems_as_text_with_a_chinese_file_name(client: FlaskClient, joint) -> None:
    exam = joint[0]
    login(client, "admin")
    response = client.get(f"/exams/{exam.id}/export.xlsx")
    disposition = response.headers["Content-Disposition"]
    day = exam.opens_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    assert f"filename*=UTF-8''{quote(f'联合考试_十一月-成绩-{day}.xlsx')}" in disposition
    book = load_workbook(io.BytesIO(response.data))
    cells = [cell for row in book["成绩"].iter_rows() for cell in row if cell.value == INJECTED_NAME]
    stems = [cell for row in book["题目分析"].iter_rows() for cell in row if cell.value == INJECTED_STEM]
    assert cells and stems and all(cell.data_type == "s" for cell in cells + stems)


def test_roster_template_is_written_through_the_text_helper(client: FlaskClient, make_user) -> None:
    make_user(Role.ADMIN, username="admin")
    login(client, "admin")
    book = load_workbook(io.BytesIO(client.get("/org/roster-template.xlsx").data))
    assert all(cell.data_type == "s" for cell in book["党员名册"][1])


# ---- #10.10: one score formatter, no doubled label ------------------------------------------------------


def test_one_score_formatter() -> None:
    assert [format_score(v) for v in (14.0, 60.0, 7.5, 0.25, 0.0, 2.345, None)] == [
        "14",
        "60",
        "7.5",
        "0.25",
        "0",
        "2.35",
        "",
    ]
    assert answer_text("参考答案：要点") == "要点" and answer_text("要点") == "要点"


def test_score_pages_show_whole_scores_and_one_answer_label(client: FlaskClient, session: Session, joint) -> None:
    exam, *_ = joint
    exam.review_policy = ReviewPolicy.IMMEDIATELY.value
    session.commit()
    login(client, "ma")
    record = client.get("/record/").get_data(as_text=True)
    assert "10 / 15" in record and "10.0" not in record
    attempt = session.scalar(select(Attempt).where(Attempt.user_id == joint[4].id))
    result = client.get(f"/exams/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "得分 10 / 15" in result and "参考答案：参考答案" not in result
    login(client, "orga")
    grading = client.get(f"/exams/{exam.id}/grading").get_data(as_text=True)
    assert "参考答案：</strong>要点一；要点二" in grading and "参考答案：参考答案" not in grading
