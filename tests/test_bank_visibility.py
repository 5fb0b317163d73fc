"""A branch's own bank (imported by its organizer) is seen and used by that branch only: practice, exam forms and
draws, contest plans and draws, 布置练习, 题库管理's search and question pages — never by another branch."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.errors import QuizError
from quizengine.models import Bank, Branch, Question, Role, User
from quizengine.modes.contest import ContestPlan, QuestionSource, RoundKind, RoundSpec
from quizengine.modes.self_test import PracticeKind
from quizengine.services import assignments, contest_setup, exam_setup, motivation, practice, records, wrong_book

from . import test_exams
from .conftest import csrf_token, login
from .test_practice import _wrong_shown

setting = test_exams.setting  # fixture: exam bank (shared), organizer "org" and members m0..m2 of branch A
OTHER = "第二党支部"
STEM = "第二支部独有的题目"


@pytest.fixture
def own_bank(runner: FlaskCliRunner, session: Session, setting, make_user, tmp_path: Path, app: Flask) -> Bank:
    """Branch B's own bank of 12 single-choice questions, imported under BANKS_PATH/local/ (as an upload is)."""
    make_user(Role.ORGANIZER, username="org2", branch=OTHER)
    make_user(username="b0", branch=OTHER)
    make_user(Role.INSPECTOR, username="inspector2", branch=OTHER)
    make_user(Role.INSPECTOR, username="inspector1", branch=test_exams.BRANCH)
    make_user(Role.ADMIN, username="admin")
    local = Path(app.config["BANKS_PATH"]) / "local"
    local.mkdir()
    lines = ["bank: erzhi", "title: 第二支部题库", "categories:", "  - {id: c1, title: 支部章节}", "questions:"]
    lines += [
        f"  - {{id: erzhi-{n}, type: single, stem: {STEM}{n}, options: {{A: 甲, B: 乙}}, answer: A, category: c1}}"
        for n in range(12)
    ]
    (local / "erzhi.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert runner.invoke(args=["banks", "load", str(local / "erzhi.yaml")]).exit_code == 0
    bank = session.scalar(select(Bank).where(Bank.slug == "erzhi"))
    assert bank is not None
    bank.owner_branch_id = session.scalar(select(Branch.id).where(Branch.name == OTHER))
    session.commit()
    return bank


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def _stems(attempt) -> list[str]:  # type: ignore[no-untyped-def]
    return [item.revision.content["stem"] for item in attempt.items]


def test_practice_shows_and_draws_the_bank_for_its_branch_only(
    client: FlaskClient, session: Session, setting, own_bank: Bank
) -> None:
    _, (member, *_) = setting
    login(client, "m0")
    assert "第二支部题库" not in client.get("/practice/").get_data(as_text=True)
    assert "第二支部题库" not in client.get("/").get_data(as_text=True)
    for kind in (PracticeKind.CUSTOM, PracticeKind.SEQUENTIAL):
        with pytest.raises(QuizError, match="没有找到这个题库"):
            practice.start_practice(session, member, practice.PracticeRequest(kind, bank_ids=(own_bank.id,), count=10))
    with pytest.raises(QuizError):
        practice.start_practice(
            session, member, practice.PracticeRequest(PracticeKind.CUSTOM, chapters=((own_bank.id, "c1"),), count=10)
        )
    for kind in (PracticeKind.RANDOM, PracticeKind.SMART):  # across every bank: never the other branch's
        attempt = practice.start_practice(session, member, practice.PracticeRequest(kind, count=50))
        assert attempt.items and not any(STEM in stem for stem in _stems(attempt))
    login(client, "b0")
    assert "第二支部题库" in client.get("/practice/").get_data(as_text=True)
    own = practice.start_practice(
        session,
        _user(session, "b0"),
        practice.PracticeRequest(PracticeKind.SEQUENTIAL, bank_ids=(own_bank.id,), count=10),
    )
    assert all(STEM in stem for stem in _stems(own))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/practice/")})
    assert "第二支部题库" not in client.get("/").get_data(as_text=True)  # anonymous: shared banks only


def _exam_spec(session: Session, branches: list[str], banks: list[str], count: int = 10) -> exam_setup.ExamSpec:
    now = test_exams._now().now()
    return exam_setup.ExamSpec(
        title="支部测试",
        branch_ids=tuple(session.scalar(select(Branch.id).where(Branch.name == name)) for name in branches),
        opens_at=now - timedelta(minutes=5),
        closes_at=now + timedelta(hours=2),
        duration_minutes=30,
        blueprint={"sections": [{"banks": banks, "types": ["single"], "count": count, "points": 10}]},
        pass_mark=60,
    )


def test_exams_use_a_branch_bank_only_for_that_branch_alone(
    client: FlaskClient, session: Session, setting, own_bank: Bank
) -> None:
    organizer, _ = setting
    login(client, "org")
    assert "第二支部题库" not in client.get("/exams/new").get_data(as_text=True)
    login(client, "org2")
    assert "第二支部题库" in client.get("/exams/new").get_data(as_text=True)
    refused = "题库“erzhi”是其他支部自己的题库"
    with pytest.raises(QuizError, match=refused):  # branch A's organizer naming B's bank
        exam_setup.create_exam(session, organizer, _exam_spec(session, [test_exams.BRANCH], ["erzhi"]))
    admin = _user(session, "admin")
    with pytest.raises(QuizError, match=refused):  # an exam for both branches may not show B's questions to A
        exam_setup.create_exam(session, admin, _exam_spec(session, [test_exams.BRANCH, OTHER], ["erzhi"]))
    exam = exam_setup.create_exam(session, _user(session, "org2"), _exam_spec(session, [OTHER], ["erzhi"]))
    assert exam.paper and all(entry["id"].startswith("erzhi-") for entry in exam.paper)
    shared_only = exam_setup.create_exam(session, admin, _exam_spec(session, [test_exams.BRANCH, OTHER], [], 8))
    assert shared_only.paper and not any(entry["id"].startswith("erzhi-") for entry in shared_only.paper)


def _plan(banks: tuple[str, ...], count: int = 10) -> ContestPlan:
    source = QuestionSource(banks=banks, types=("single",), count=count)
    return ContestPlan("支部竞赛", (RoundSpec(RoundKind.EVERYONE, "全员答题", source, points=10),))


def test_contests_draw_and_offer_the_bank_to_its_branch_only(
    client: FlaskClient, session: Session, setting, own_bank: Bank
) -> None:
    organizer, _ = setting
    with pytest.raises(QuizError, match="题库“erzhi”是其他支部自己的题库"):
        contest_setup.create_contest(session, organizer, _plan(("erzhi",)), rng=random.Random(1))
    everything = contest_setup.create_contest(session, organizer, _plan((), 8), rng=random.Random(1))
    assert not any(external.startswith("erzhi-") for external in everything.revisions)
    theirs = contest_setup.create_contest(session, _user(session, "org2"), _plan(("erzhi",)), rng=random.Random(1))
    assert sum(external.startswith("erzhi-") for external in theirs.revisions) == 10  # (and the tie-break pool)
    login(client, "org")
    assert "erzhi" not in client.get("/contests/plans/new").get_data(as_text=True)
    login(client, "org2")
    assert "第二支部题库" in client.get("/contests/plans/new").get_data(as_text=True)


def test_assignments_and_bank_pages_keep_to_the_branch(
    client: FlaskClient, session: Session, setting, own_bank: Bank
) -> None:
    organizer, _ = setting
    with pytest.raises(QuizError, match="没有找到章节"):
        assignments.create_assignment(
            session, organizer, organizer.branch_id, title="练习", chapters=[f"{own_bank.id}:c1"], count=1
        )
    login(client, "org")
    assert "第二支部题库" not in client.get(f"/assignments/branch/{organizer.branch_id}/new").get_data(as_text=True)
    question = session.scalar(select(Question.id).where(Question.external_id == "erzhi-0"))
    for username in ("org", "inspector1"):
        login(client, username)
        assert "第二支部题库" not in client.get("/banks/").get_data(as_text=True)
        assert '共找到 <strong class="num">0</strong>' in client.get(f"/banks/questions?q={STEM}").get_data(
            as_text=True
        )
        assert client.get(f"/banks/questions/{question}").status_code == 404
        assert client.get(f"/banks/{own_bank.id}/export/xlsx").status_code == 404
    for username in ("org2", "inspector2", "admin"):
        login(client, username)
        assert "第二支部题库" in client.get("/banks/").get_data(as_text=True)
        assert '共找到 <strong class="num">12</strong>' in client.get(f"/banks/questions?q={STEM}").get_data(
            as_text=True
        )
        assert client.get(f"/banks/questions/{question}").status_code == 200


def test_the_owner_is_set_again_from_the_command_line(runner: FlaskCliRunner, session: Session, own_bank: Bank) -> None:
    result = runner.invoke(args=["banks", "owner", "erzhi", "--shared"])
    assert result.exit_code == 0 and "党委共享" in result.output
    session.expire_all()
    assert session.get(Bank, own_bank.id).owner_branch_id is None  # type: ignore[union-attr]
    result = runner.invoke(args=["banks", "owner", "erzhi", "--branch", OTHER])
    assert result.exit_code == 0 and f"{OTHER}自有" in result.output
    session.expire_all()
    assert session.get(Bank, own_bank.id).owner_branch_id is not None  # type: ignore[union-attr]
    for args, message in (
        (["nope", "--shared"], "没有题库“nope”"),
        (["erzhi", "--branch", "第九党支部"], "没有支部“第九党支部”"),
        (["erzhi"], "请指定"),
        (["erzhi", "--shared", "--branch", OTHER], "请指定"),
    ):
        result = runner.invoke(args=["banks", "owner", *args])
        assert result.exit_code != 0 and message in result.output, result.output


def test_the_wrong_answer_book_keeps_to_the_banks_the_member_may_see(
    client: FlaskClient, session: Session, setting, own_bank: Bank
) -> None:
    """A question missed in a branch's own bank leaves the member's wrong-answer book — the list, its size on
    the practice menu and the record, and 错题练习 alike — and the reviews due (智能练习's suggestion) once the
    bank is no longer theirs (the bank went to another branch, or the member moved); it comes back if the bank
    is theirs again."""
    member = _user(session, "b0")
    request = practice.PracticeRequest(PracticeKind.CUSTOM, bank_ids=(own_bank.id,), count=5)
    attempt = practice.start_practice(session, member, request)
    practice.answer_item(session, member, attempt.id, 0, _wrong_shown(attempt.items[0]))
    assert [live.row.bank_id for live in wrong_book.list_wrong_book(session, member)] == [own_bank.id]
    later = datetime.now(UTC) + timedelta(days=3)
    assert "有 1 道题到了复习时间" in _suggestion(session, member, later)

    own_bank.owner_branch_id = session.scalar(select(Branch.id).where(Branch.name == test_exams.BRANCH))
    session.commit()
    assert wrong_book.list_wrong_book(session, member) == []
    with pytest.raises(QuizError, match="错题本中没有符合条件的题目"):
        practice.start_practice(session, member, practice.PracticeRequest(PracticeKind.WRONG_BOOK, count=5))
    assert records.get_learning_record(session, member, member).wrong_book == 0
    assert "到了复习时间" not in _suggestion(session, member, later)
    login(client, "b0")
    assert STEM not in client.get("/practice/wrong-book").get_data(as_text=True)

    own_bank.owner_branch_id = member.branch_id
    session.commit()
    assert len(wrong_book.list_wrong_book(session, member)) == 1
    assert records.get_learning_record(session, member, member).wrong_book == 1
    assert "有 1 道题到了复习时间" in _suggestion(session, member, later)
    assert STEM in client.get("/practice/wrong-book").get_data(as_text=True)


def _suggestion(session: Session, member: User, now: datetime) -> str:
    record = records.get_learning_record(session, member, member)
    return motivation.suggest_next(session, member, record, now).reason


def test_the_owner_change_that_would_break_an_unfinished_random_exam_is_refused(
    runner: FlaskCliRunner, session: Session, setting, own_bank: Bank
) -> None:
    """随机组卷 draws each member's paper at the start: making a bank another branch's own while an exam that
    names it is still to come would refuse every one of its members on the day. The change is refused, naming
    the exam, and nothing changes; it goes through for the exam's own branch, or once the exam has closed."""
    assert runner.invoke(args=["banks", "owner", "erzhi", "--shared"]).exit_code == 0
    spec = replace(_exam_spec(session, [test_exams.BRANCH], ["erzhi"]), title="十二月随机考试", paper_mode="random")
    spec.blueprint["difficulty_tolerance"] = 5
    exam = exam_setup.create_exam(session, _user(session, "admin"), spec)
    uniform = replace(_exam_spec(session, [test_exams.BRANCH], ["erzhi"]), title="统一试卷考试")
    exam_setup.create_exam(session, _user(session, "admin"), uniform)  # drawn already: not held back by it

    result = runner.invoke(args=["banks", "owner", "erzhi", "--branch", OTHER])
    assert result.exit_code != 0 and "十二月随机考试" in result.output and "统一试卷考试" not in result.output
    session.expire_all()
    assert session.get(Bank, own_bank.id).owner_branch_id is None  # type: ignore[union-attr]

    result = runner.invoke(args=["banks", "owner", "erzhi", "--branch", test_exams.BRANCH])  # the exam's own branch
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["banks", "owner", "erzhi", "--shared"]).exit_code == 0
    exam.opens_at, exam.closes_at = exam.opens_at - timedelta(days=2), exam.closes_at - timedelta(days=2)
    session.commit()
    assert runner.invoke(args=["banks", "owner", "erzhi", "--branch", OTHER]).exit_code == 0  # closed: history
