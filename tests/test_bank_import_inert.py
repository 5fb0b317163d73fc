"""HTML and script in imported cells stay text end to end (issue #13 item 6: "stored as text, shown inert").

A workbook whose stem, options and 解析 hold markup is converted, written as YAML and loaded like any bank;
then every page that shows a question — the practice question and its feedback, the exam paper's data, the
printed paper and its key — shows the markup as text (escaped), never as elements of the page.
"""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from quizengine.banks.importing import bank_to_yaml, import_bank
from quizengine.models import Role
from quizengine.modes.self_test import PracticeKind
from quizengine.services import exam_setup, exam_taking, practice

from .bank_files import HEADER, xlsx_bytes
from .conftest import csrf_token, login
from .test_exams import _now, _spec

STEM = '<script>alert("题干")</script>党的最高领导机关是<b>什么</b>？'
OPTION = "<img src=x onerror=alert(1)>全国代表大会"
EXPLANATION = '<a href="javascript:alert(2)">解析</a>'
RAW = ("<script>alert", "<img src=x", "<b>什么</b>", '<a href="javascript')


def _load(runner: FlaskCliRunner, tmp_path: Path) -> None:
    rows = [["单选题", f"{STEM}（{n}）", OPTION, "中央委员会", "", "", "A", EXPLANATION] for n in range(5)]
    result = import_bank(xlsx_bytes(HEADER, *rows), "脚本.xlsx", slug="inert", title="标记题库")
    assert result.ok, result.problems
    path = tmp_path / "inert.yaml"
    path.write_text(bank_to_yaml(result.bank), encoding="utf-8")
    assert runner.invoke(args=["banks", "load", str(path)]).exit_code == 0


def _inert(page: str) -> None:
    for raw in RAW:
        assert raw not in page, raw
    assert "&lt;script&gt;" in page or "\\u003cscript\\u003e" in page


def test_imported_markup_is_shown_as_text_everywhere(
    client: FlaskClient, runner: FlaskCliRunner, session: Session, make_user, tmp_path: Path
) -> None:
    _load(runner, tmp_path)
    member = make_user(username="m0", branch="第一党支部")
    organizer = make_user(Role.ORGANIZER, username="org", branch="第一党支部")
    drill = practice.start_practice(session, member, practice.PracticeRequest(PracticeKind.RANDOM, count=5))
    exam = exam_setup.create_exam(
        session, organizer, _spec(session, _now(), blueprint={"sections": [{"count": 1}]}, pass_mark=1)
    )
    exam_setup.publish_exam(session, organizer, exam.id)
    attempt = exam_taking.start_exam(session, member, exam.id)

    login(client, "m0")
    question = client.get(f"/practice/{drill.id}").get_data(as_text=True)
    _inert(question)
    assert "&lt;img src=x onerror=alert(1)&gt;全国代表大会" in question
    token = csrf_token(client, f"/practice/{drill.id}")
    answered = client.post(f"/practice/{drill.id}/answer", data={"position": "0", "choice": "A", "csrf_token": token})
    assert answered.status_code == 302
    _inert(client.get(f"/practice/{drill.id}/feedback/0").get_data(as_text=True))
    _inert(client.get(f"/exams/attempts/{attempt.id}").get_data(as_text=True))  # the paper's JSON for exam.js

    login(client, "org")
    printed = client.get(f"/papers/exam/{exam.id}?part=all").get_data(as_text=True)
    _inert(printed)
    assert "&lt;a href=&#34;javascript:alert(2)&#34;&gt;解析&lt;/a&gt;" in printed
