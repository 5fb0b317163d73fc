"""题库管理 pages: the bank list (counts, who sees which bank), exports, search, a question's page."""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.banks.importing import import_bank
from quizengine.banks.loader import load_banks
from quizengine.models import Bank, Branch, Question, QuestionReport, Role
from quizengine.modes.self_test import PracticeKind
from quizengine.services import attempt_items, exam_taking, practice

from . import test_exams
from .conftest import login

setting = test_exams.setting  # fixture: exam bank (shared), organizer "org" and members m0..m2 of branch A
OTHER = "第二党支部"


def _own_bank(runner: FlaskCliRunner, session: Session, tmp_path: Path, branch: str, slug: str = "own") -> Bank:
    """A bank owned by `branch` (as an organizer's upload makes it)."""
    path = tmp_path / f"{slug}.yaml"
    path.write_text(
        f"bank: {slug}\ntitle: 支部自有题库{slug}\ncategories:\n  - {{id: c1, title: 支部章节}}\nquestions:\n"
        f"  - {{id: {slug}-1, type: judge, stem: 支部独有的题目{slug}, answer: true, category: c1}}\n",
        encoding="utf-8",
    )
    assert runner.invoke(args=["banks", "load", str(path)]).exit_code == 0
    bank = session.scalar(select(Bank).where(Bank.slug == slug))
    assert bank is not None
    bank.owner_branch_id = session.scalar(select(Branch.id).where(Branch.name == branch))
    assert bank.owner_branch_id is not None, "make a user of the branch first"
    session.commit()
    return bank


def test_bank_list_counts_and_who_sees_which_bank(
    client: FlaskClient, runner: FlaskCliRunner, session: Session, setting, make_user, tmp_path: Path
) -> None:
    make_user(Role.ORGANIZER, username="org2", branch=OTHER)
    make_user(Role.ADMIN, username="admin")
    _own_bank(runner, session, tmp_path, OTHER)
    login(client, "org")
    page = client.get("/banks/").get_data(as_text=True)
    assert "考试题库" in page and "党委共享题库" in page and "只读" in page
    assert "22</strong> 道题" in page and "单选题 8" in page and "多选题 4" in page and "简答题 2" in page
    assert "支部自有题库" not in page  # another branch's own bank
    login(client, "org2")
    page = client.get("/banks/").get_data(as_text=True)
    assert "支部自有题库own" in page and f"{OTHER}自有题库" in page and "支部章节" in page
    login(client, "admin")
    page = client.get("/banks/").get_data(as_text=True)
    assert "考试题库" in page and "支部自有题库own" in page
    login(client, "m0")
    assert client.get("/banks/").status_code == 403
    assert client.get("/banks/questions").status_code == 403


def test_exports_import_back_and_the_blank_template(
    client: FlaskClient, runner: FlaskCliRunner, session: Session, setting, make_user, tmp_path: Path
) -> None:
    make_user(Role.ORGANIZER, username="org2", branch=OTHER)
    own = _own_bank(runner, session, tmp_path, OTHER)
    shared = session.scalar(select(Bank).where(Bank.slug == "exam"))
    assert shared is not None
    login(client, "org")
    downloads = {}
    for fmt in ("xlsx", "yaml", "gift"):
        response = client.get(f"/banks/{shared.id}/export/{fmt}")
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        downloads[fmt] = response.data
    (tmp_path / "back.yaml").write_bytes(downloads["yaml"])
    (loaded,) = load_banks([tmp_path / "back.yaml"])
    assert loaded.slug == "exam" and len(loaded.questions) == 22
    for fmt, name in (("xlsx", "x.xlsx"), ("gift", "x.gift")):
        result = import_bank(downloads[fmt], name, slug="exam", title="考试题库")
        assert result.ok, result.problems
        assert len(result.bank["questions"]) == 22
    assert client.get(f"/banks/{shared.id}/export/pdf").status_code == 404
    assert client.get(f"/banks/{own.id}/export/yaml").status_code == 404  # another branch's own bank
    template = client.get("/banks/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data), read_only=True).worksheets[0]
    assert "题干" in next(sheet.iter_rows(values_only=True))


def test_search_filters_and_pages(
    client: FlaskClient, runner: FlaskCliRunner, session: Session, setting, make_user, tmp_path: Path
) -> None:
    make_user(Role.ORGANIZER, username="org2", branch=OTHER)
    own = _own_bank(runner, session, tmp_path, OTHER)
    login(client, "org")
    page = client.get("/banks/questions?q=单选").get_data(as_text=True)
    assert '共找到 <strong class="num">8</strong> 道题' in page
    page = client.get("/banks/questions?q=乙").get_data(as_text=True)  # option text
    assert '共找到 <strong class="num">12</strong> 道题' in page
    page = client.get("/banks/questions?type=judge").get_data(as_text=True)
    assert '共找到 <strong class="num">6</strong> 道题' in page and "支部独有" not in page
    page = client.get("/banks/questions").get_data(as_text=True)
    assert '共找到 <strong class="num">22</strong> 道题，第 1 / 2 页' in page and "下一页" in page
    assert "第 2 / 2 页" in client.get("/banks/questions?page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in client.get("/banks/questions?page=99").get_data(as_text=True)
    page = client.get("/banks/questions?difficulty=5").get_data(as_text=True)
    assert '共找到 <strong class="num">0</strong> 道题' in page
    page = client.get(f"/banks/questions?bank={own.id}").get_data(as_text=True)
    assert '共找到 <strong class="num">0</strong> 道题' in page  # another branch's bank: nothing
    for bad in ("bank=%C2%B2", "page=-1", "difficulty=99", "type=<script>", "q=" + "长" * 500, "bank=" + "9" * 30):
        assert client.get(f"/banks/questions?{bad}").status_code == 200, bad


def test_question_page_shows_revisions_usage_facility_and_reports(
    client: FlaskClient, runner: FlaskCliRunner, session: Session, setting, tmp_path: Path
) -> None:
    _organizer, (member, *_) = setting
    question = session.scalar(select(Question).where(Question.external_id == "e-s1"))
    assert question is not None
    drill = practice.start_practice(
        session, member, practice.PracticeRequest(PracticeKind.CUSTOM, types=("single",), count=10)
    )
    for item in drill.items:  # the right option (甲) everywhere but on e-s1 (乙)
        wanted = "乙" if item.question_id == question.id else "甲"
        shown = next(key for key, text in attempt_items.shown_options(item) if text == wanted)
        practice.answer_item(session, member, drill.id, item.position, shown)
    item = next(item for item in drill.items if item.question_id == question.id)
    session.add(
        QuestionReport(
            question_id=question.id,
            revision_id=item.revision_id,
            user_id=member.id,
            branch_id=member.branch_id,
            reason="answer",
            text="答案应为乙",
            source="practice",
            source_id=drill.id,
            open_question_id=question.id,
        )
    )
    session.commit()
    bank = tmp_path / "exam.yaml"
    bank.write_text(bank.read_text(encoding="utf-8").replace("stem: 单选1,", "stem: 改过的单选1,"), encoding="utf-8")
    assert runner.invoke(args=["banks", "load", str(bank)]).exit_code == 0
    login(client, "org")
    page = client.get(f"/banks/questions/{question.id}").get_data(as_text=True)
    assert "改过的单选1" in page and "第 2 版" in page and "改动：题干" in page and "首次导入" in page
    assert "答案应为乙" in page and "待处理的纠错（1）" in page
    assert "自测练习作答" in page and ">0.0%<" in page  # answered once, wrong
    assert client.get("/banks/questions/999999").status_code == 404


def test_question_usage_lists_the_exams_of_readable_branches_only(
    client: FlaskClient, session: Session, setting, make_user
) -> None:
    organizer, (member, *_) = setting
    make_user(Role.ORGANIZER, username="org2", branch=OTHER)
    exam = test_exams.scheduled(session, organizer, test_exams._spec(session, test_exams._now()))
    attempt = exam_taking.start_exam(session, member, exam.id)
    question_id = attempt.items[0].question_id
    login(client, "org")
    page = client.get(f"/banks/questions/{question_id}").get_data(as_text=True)
    assert f'href="/exams/{exam.id}/manage">11月月度测试</a>' in page
    login(client, "org2")
    page = client.get(f"/banks/questions/{question_id}").get_data(as_text=True)
    assert "11月月度测试" not in page and "未用于考试" in page
