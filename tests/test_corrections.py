"""纠错: reporting from practice, exam review and a finished contest; the organizer queue; the reporter's outcome."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.models import (
    AuditEntry,
    Contest,
    ContestAnswer,
    ContestResult,
    Question,
    QuestionReport,
    ReportStatus,
    Role,
)
from quizengine.modes.contest import ContestPlan, QuestionSource, RoundKind, RoundSpec
from quizengine.modes.self_test import PracticeKind
from quizengine.modes.timed_exam import ReviewPolicy
from quizengine.services import contest_setup, corrections, exam_taking, practice

from . import test_exams
from .conftest import csrf_token, login
from .test_exams import _now, _spec

setting = test_exams.setting  # fixture: exam bank, organizer "org" and members m0..m2 of branch A


def _reports(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(QuestionReport)) or 0


def _answered_item(session: Session, member):  # type: ignore[no-untyped-def]
    drill = practice.start_practice(session, member, practice.PracticeRequest(PracticeKind.CUSTOM, count=5))
    kind = drill.items[0].revision.content["type"]
    response = {"single": "A", "multiple": ["A", "B"], "judge": True, "fill": ["x"], "short": "x"}[kind]
    practice.answer_item(session, member, drill.id, 0, response)
    return drill


def _post(client: FlaskClient, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def test_member_reports_a_practice_question_once_and_bad_input_saves_nothing(
    client: FlaskClient, session: Session, setting
) -> None:
    _, (member, other, _) = setting
    drill = _answered_item(session, member)
    answered, unanswered = drill.items[0], drill.items[1]
    login(client, "m0")
    url = f"/corrections/item/{answered.id}"
    page = client.get(url).get_data(as_text=True)
    assert answered.revision.content["stem"] in page and "问题类型" in page
    for data, message in [
        ({"reason": "bogus"}, "请选择问题类型"),
        ({"text": "没选类型"}, "必填"),
        ({"reason": "other"}, "选择“其他问题”时请写明问题"),
        ({"reason": "answer", "text": "长" * 501}, "长度须在 0 到 500 字之间"),
    ]:
        response = _post(client, url, data)
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    assert _reports(session) == 0
    response = _post(client, url, {"reason": "answer", "text": "  答案应为 B  "})
    assert response.status_code == 302 and response.headers["Location"].endswith("/corrections/mine")
    report = session.scalar(select(QuestionReport))
    assert report is not None
    assert (report.question_id, report.revision_id) == (answered.question_id, answered.revision_id)
    assert (report.reason, report.text, report.source, report.status) == ("answer", "答案应为 B", "practice", "open")
    assert report.branch_id == member.branch_id and report.source_id == drill.id
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "corrections.report"))
    assert audit is not None and audit.actor_id == member.id
    # one open report per member and question: the form is gone, a second post is refused, nothing saved
    assert "你已报告过这道题" in client.get(url).get_data(as_text=True)
    response = _post(client, url, {"reason": "stem"})
    assert response.status_code == 400 and "你已报告过这道题" in response.get_data(as_text=True)
    assert _reports(session) == 1
    # before its answer is shown: refused; someone else's item: not found
    response = client.get(f"/corrections/item/{unanswered.id}")
    assert response.status_code == 409 and "答案公布后才能纠错" in response.get_data(as_text=True)
    other_drill = _answered_item(session, other)
    assert client.get(f"/corrections/item/{other_drill.items[0].id}").status_code == 404
    mine = client.get("/corrections/mine").get_data(as_text=True)
    assert "待处理" in mine and "答案应为 B" in mine


def test_exam_review_item_is_reportable_only_once_review_is_visible(
    client: FlaskClient, session: Session, setting
) -> None:
    organizer, (member, *_) = setting
    hidden = test_exams.scheduled(session, organizer, _spec(session, _now()))
    attempt = exam_taking.start_exam(session, member, hidden.id)
    exam_taking.submit_exam(session, member, attempt.id)
    shown = test_exams.scheduled(
        session, organizer, _spec(session, _now(), title="随堂测", review_policy=ReviewPolicy.IMMEDIATELY)
    )
    reviewed = exam_taking.start_exam(session, member, shown.id)
    exam_taking.submit_exam(session, member, reviewed.id)
    login(client, "m0")
    assert client.get(f"/corrections/item/{attempt.items[0].id}").status_code == 409
    result = client.get(f"/exams/attempts/{reviewed.id}/result").get_data(as_text=True)
    url = f"/corrections/item/{reviewed.items[0].id}"
    assert url in result  # the review links each question to its report form
    assert _post(client, url, {"reason": "explanation", "text": "出处条款号不对"}).status_code == 302
    report = session.scalar(select(QuestionReport))
    assert report is not None and report.source == "exam" and report.source_id == reviewed.id


def _finished_contest(session: Session, organizer, member) -> Contest:  # type: ignore[no-untyped-def]
    plan = ContestPlan("支部知识竞赛", (RoundSpec(RoundKind.EVERYONE, "全员答题", QuestionSource(count=2), points=10),))
    contest = contest_setup.create_contest(session, organizer, plan, rng=random.Random(1))
    asked = next(iter(contest.revisions))
    now = datetime.now(UTC)
    session.add(
        ContestAnswer(
            contest_id=contest.id,
            question_seq=1,
            question_id=asked,
            participant=f"player:{member.id}",
            user_id=member.id,
            verdict="wrong",
            at=now,
        )
    )
    session.add(ContestResult(contest_id=contest.id, user_id=member.id, team_name="一队", team_place=1, team_score=10))
    session.commit()
    return contest


def test_contest_questions_open_to_reports_once_finished(client: FlaskClient, session: Session, setting) -> None:
    organizer, (member, *_) = setting
    contest = _finished_contest(session, organizer, member)
    asked = session.scalar(select(Question).where(Question.external_id == next(iter(contest.revisions))))
    assert asked is not None
    login(client, "m0")
    response = client.get(f"/corrections/contest/{contest.id}")
    assert response.status_code == 409 and "比赛结束后" in response.get_data(as_text=True)
    contest.finished_at = datetime.now(UTC)
    session.commit()
    page = client.get(f"/corrections/contest/{contest.id}").get_data(as_text=True)
    url = f"/corrections/contest/{contest.id}/{asked.id}"
    assert (
        url in page and page.count(f'href="/corrections/contest/{contest.id}/') == 1
    )  # only the question that was asked
    assert f"/corrections/contest/{contest.id}" in client.get("/corrections/mine").get_data(as_text=True)
    assert _post(client, url, {"reason": "options", "text": ""}).status_code == 302
    report = session.scalar(select(QuestionReport))
    assert report is not None and report.source == "contest" and report.question_id == asked.id
    assert report.revision_id == contest.revisions[asked.external_id]
    other = session.scalar(select(Question).where(Question.external_id.not_in(list(contest.revisions))))
    assert other is not None
    assert client.get(f"/corrections/contest/{contest.id}/{other.id}").status_code == 409
    client.post("/logout", data={"csrf_token": csrf_token(client, "/corrections/mine")})
    login(client, "m1")  # took no part
    assert client.get(f"/corrections/contest/{contest.id}").status_code == 404
    assert client.get(url).status_code == 404


def _edit_stem(runner: FlaskCliRunner, tmp_path: Path, external_id: str) -> None:
    bank = tmp_path / "exam.yaml"
    text = bank.read_text(encoding="utf-8")
    stem = {"e-s": "单选", "e-m": "多选", "e-j": "判断", "e-f": "填空", "e-q": "简答"}[external_id[:3]]
    number = external_id[3:]
    old = f"id: {external_id}, type: "
    line = next(line for line in text.splitlines() if old in line)
    bank.write_text(text.replace(line, line.replace(f"stem: {stem}{number}", f"stem: 改正后的{stem}{number}")))
    result = runner.invoke(args=["banks", "load", str(bank)])
    assert result.exit_code == 0, result.output


def test_queue_per_branch_and_resolution_seen_by_the_reporter(
    client: FlaskClient, runner: FlaskCliRunner, session: Session, setting, make_user, tmp_path: Path
) -> None:
    _, (member, *_) = setting
    make_user(Role.ORGANIZER, username="foreign", branch="第二党支部")
    drill = _answered_item(session, member)
    login(client, "m0")
    _post(client, f"/corrections/item/{drill.items[0].id}", {"reason": "answer", "text": "答案错了"})
    report = session.scalar(select(QuestionReport))
    assert report is not None
    stem = drill.items[0].revision.content["stem"]
    assert client.get("/corrections/queue").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/corrections/mine")})

    login(client, "foreign")  # another branch's organizer: an empty queue, and may not resolve
    assert stem not in client.get("/corrections/queue").get_data(as_text=True)
    assert _post(client, f"/corrections/{report.id}/resolve", {"outcome": "rejected", "note": "不"}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/corrections/queue")})

    login(client, "org")
    page = client.get("/corrections/queue").get_data(as_text=True)
    assert stem in page and "答案错了" in page and "第 1 版" in page
    resolve = f"/corrections/{report.id}/resolve"
    for data, message in [
        ({"outcome": "fixed", "revision": "2"}, "还没有第 1 版之后的修订"),
        ({"outcome": "rejected"}, "不采纳时请写明原因"),
        ({"outcome": "maybe"}, "请选择处理结果"),
        ({"outcome": "rejected", "note": "长" * 501}, "长度须在 0 到 500 字之间"),
        ({"outcome": "fixed", "revision": "99999999999"}, "须在"),
    ]:
        _post(client, resolve, data)
        assert message in client.get("/corrections/queue").get_data(as_text=True), data
    session.expire_all()
    assert session.get(QuestionReport, report.id).status == ReportStatus.OPEN  # type: ignore[union-attr]

    _edit_stem(runner, tmp_path, drill.items[0].question.external_id)  # the bank fix: revision 2
    _post(client, resolve, {"outcome": "fixed", "revision": "3"})
    assert "请填写更正后的版本号（2 到 2 之间）" in client.get("/corrections/queue").get_data(as_text=True)
    _post(client, resolve, {"outcome": "fixed", "revision": "2", "note": "已改正题干"})
    session.expire_all()
    done = session.get(QuestionReport, report.id)
    assert done is not None and (done.status, done.fixed_revision, done.open_question_id) == ("fixed", 2, None)
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "corrections.resolve")) is not None
    assert "这条纠错已经处理过了" not in page
    _post(client, resolve, {"outcome": "rejected", "note": "再来一次"})
    assert "这条纠错已经处理过了" in client.get("/corrections/queue").get_data(as_text=True)
    assert "已改正题干" in client.get("/corrections/queue?status=fixed").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/corrections/queue")})

    login(client, "m0")
    mine = client.get("/corrections/mine").get_data(as_text=True)
    assert "已在第 2 版更正：已改正题干" in mine
    # resolved: the member may report the same question again
    again = _post(client, f"/corrections/item/{drill.items[0].id}", {"reason": "stem"})
    assert again.status_code == 302 and _reports(session) == 2


def test_rejected_report_shows_the_reason(client: FlaskClient, session: Session, setting) -> None:
    _, (member, *_) = setting
    drill = _answered_item(session, member)
    login(client, "m0")
    _post(client, f"/corrections/item/{drill.items[0].id}", {"reason": "outdated"})
    report = session.scalar(select(QuestionReport))
    assert report is not None
    client.post("/logout", data={"csrf_token": csrf_token(client, "/corrections/mine")})
    login(client, "org")
    _post(client, f"/corrections/{report.id}/resolve", {"outcome": "rejected", "note": "题目依据现行党章，未过时"})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/corrections/queue")})
    login(client, "m0")
    assert "未采纳：题目依据现行党章，未过时" in client.get("/corrections/mine").get_data(as_text=True)


@pytest.mark.parametrize("reason", ["answer", "stem", "options", "explanation", "outdated"])
def test_every_listed_reason_is_accepted_without_text(
    client: FlaskClient, session: Session, setting, reason: str
) -> None:
    _, (member, *_) = setting
    drill = _answered_item(session, member)
    login(client, "m0")
    assert _post(client, f"/corrections/item/{drill.items[0].id}", {"reason": reason}).status_code == 302
    assert _reports(session) == 1


def test_the_queue_shows_a_question_once_with_its_reports(client: FlaskClient, session: Session, setting) -> None:
    """Issue #13 item 4: the organizer's queue shows the question and its reports — two members reporting the
    same question of one exam give one entry with both reports, each resolved on its own."""
    organizer, (first, second, _) = setting
    exam = test_exams.scheduled(
        session, organizer, _spec(session, _now(), title="随堂测", review_policy=ReviewPolicy.IMMEDIATELY)
    )
    items = []
    for member in (first, second):
        attempt = exam_taking.start_exam(session, member, exam.id)
        exam_taking.submit_exam(session, member, attempt.id)
        items.append(min(attempt.items, key=lambda item: item.question_id))  # the same question on both papers
    assert items[0].question_id == items[1].question_id
    for username, item, text in (("m0", items[0], "答案应为 B"), ("m1", items[1], "选项有错字")):
        login(client, username)
        assert _post(client, f"/corrections/item/{item.id}", {"reason": "answer", "text": text}).status_code == 302
    [entry] = corrections.queue(session, organizer)
    assert [report.text for report in entry.reports] == ["答案应为 B", "选项有错字"]
    login(client, "org")
    page = client.get("/corrections/queue").get_data(as_text=True)
    assert page.count('class="card queue-entry"') == 1 and "答案应为 B" in page and "选项有错字" in page
    first_report = entry.reports[0]
    _post(client, f"/corrections/{first_report.id}/resolve", {"outcome": "rejected", "note": "答案无误"})
    session.expire_all()
    [left] = corrections.queue(session, organizer)
    assert [report.text for report in left.reports] == ["选项有错字"]
    assert "答案无误" in client.get("/corrections/queue?status=rejected").get_data(as_text=True)
