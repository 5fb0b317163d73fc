"""Branch-owned banks everywhere a question is drawn or shown (issue #13's remainder): printed papers, a blueprint
section without banks (全部题库) next to one that names a bank, and study plans' topic practice and 小问答.

Branch B (第二党支部) owns the bank `erzhi` (12 single-choice questions, fixture `own_bank`); branch A's organizer
`org` and members m0..m2 share the committee bank `exam`.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.errors import QuizError
from quizengine.engine.study_plan import monday_of
from quizengine.models import Bank, Contest, Role, StudyDay, User
from quizengine.services import exam_setup, printed_papers, study_plans, study_quiz

from . import test_bank_visibility, test_exams
from .conftest import login
from .test_exams import _now, _spec
from .test_study_topics import _bank as _plan_bank
from .test_study_topics import _plan

setting = test_exams.setting
own_bank = test_bank_visibility.own_bank
OTHER, STEM = test_bank_visibility.OTHER, test_bank_visibility.STEM
PAPER_STEM = re.compile(r'<p class="paper-stem"><span class="paper-no">\d+\.</span>(.*?)</p>', re.S)
TEMPLATE = Path(__file__).resolve().parents[1] / "question_banks" / "contests" / "xiaowenda.yaml"


def _stems(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", text) for text in PAPER_STEM.findall(page)]


def _extra_bank(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """A second committee bank of 4 single-choice questions (stems 补充0..3)."""
    lines = ["bank: extra", "title: 补充题库", "questions:"]
    lines += [
        f"  - {{id: x-s{n}, type: single, stem: 补充{n}, options: {{A: 甲, B: 乙}}, answer: A}}" for n in range(4)
    ]
    path = tmp_path / "extra.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert runner.invoke(args=["banks", "load", str(path)]).exit_code == 0


# 1. printed papers ------------------------------------------------------------------------------------------------


def test_a_printed_paper_draws_from_another_branchs_bank_never(client: FlaskClient, setting, own_bank: Bank) -> None:
    login(client, "org")
    form = client.get("/papers/draw").get_data(as_text=True)
    assert "第二支部题库" not in form and 'value="erzhi"' not in form and "考试题库" in form
    crafted = client.get("/papers/draw?go=1&seed=1&s0_bank=erzhi&s0_count=2")
    page = crafted.get_data(as_text=True)
    assert crafted.status_code == 400 and "题库“erzhi”是其他支部自己的题库" in page, page[-1500:]
    assert 'class="paper-stem"' not in page and "第二支部题库" not in page
    # 全部题库 for branch A: the committee's 8 single questions only, never branch B's 12
    nine = client.get("/papers/draw?go=1&seed=1&s0_type=single&s0_count=9").get_data(as_text=True)
    assert "需要9题，题库中只有8题" in nine
    shared = client.get("/papers/draw?go=1&seed=1&s0_bank=exam&s0_type=single&s0_count=8").get_data(as_text=True)
    assert len(_stems(shared)) == 8 and not any(STEM in stem for stem in _stems(shared))

    login(client, "org2")  # branch B's organizer: its own bank and the committee's
    assert "第二支部题库" in client.get("/papers/draw").get_data(as_text=True)
    theirs = client.get("/papers/draw?go=1&seed=1&s0_bank=erzhi&s0_count=3").get_data(as_text=True)
    assert len(_stems(theirs)) == 3 and all(STEM in stem for stem in _stems(theirs))
    both = client.get("/papers/draw?go=1&seed=1&s0_type=single&s0_count=20").get_data(as_text=True)
    assert len(_stems(both)) == 20
    mixed = client.get("/papers/draw?go=1&seed=1&s0_bank=exam&s0_type=judge&s0_count=2").get_data(as_text=True)
    assert len(_stems(mixed)) == 2

    login(client, "admin")  # an admin names any bank; 全部题库 is the committee's shared banks
    assert "第二支部题库" in client.get("/papers/draw").get_data(as_text=True)
    named = client.get("/papers/draw?go=1&seed=1&s0_bank=erzhi&s0_count=12").get_data(as_text=True)
    assert len(_stems(named)) == 12
    unnamed = client.get("/papers/draw?go=1&seed=1&s0_type=single&s0_count=9").get_data(as_text=True)
    assert "需要9题，题库中只有8题" in unnamed


def test_a_random_exams_sample_paper_keeps_to_the_exams_banks(session: Session, setting, own_bank: Bank) -> None:
    organizer, _ = setting
    blueprint = {"sections": [{"types": ["single"], "count": 8, "points": 5}], "difficulty_tolerance": 5}
    exam = exam_setup.create_exam(
        session, organizer, _spec(session, _now(), blueprint=blueprint, paper_mode="random", pass_mark=20)
    )
    for seed in range(5):
        paper = printed_papers.exam_sample(session, exam, seed, ZoneInfo("Asia/Shanghai"))
        stems = [q.stem_parts[0] for section in paper.sections for q in section.questions]
        assert len(stems) == 8 and not any(STEM in stem for stem in stems)


# 2. a section without banks next to one naming a bank ----------------------------------------------------------------

MIXED = {
    "sections": [
        {"banks": ["exam"], "types": ["judge"], "count": 2, "points": 2},
        {"types": ["single"], "count": 12, "points": 2},  # 全部题库: exam's 8 and extra's 4
    ]
}


def test_a_section_without_banks_draws_from_every_bank_in_an_exam(
    session: Session, setting, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    organizer, _ = setting
    _extra_bank(runner, tmp_path)
    exam = exam_setup.create_exam(session, organizer, _spec(session, _now(), blueprint=MIXED, pass_mark=10))
    ids = [entry["id"] for entry in exam.paper]
    assert sum(qid.startswith("e-j") for qid in ids) == 2
    assert sum(qid.startswith("x-s") for qid in ids) == 4 and sum(qid.startswith("e-s") for qid in ids) == 8


def test_a_section_without_banks_draws_from_every_bank_on_a_printed_paper(
    client: FlaskClient, setting, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    _extra_bank(runner, tmp_path)
    login(client, "org")
    query = "go=1&seed=4&s0_bank=exam&s0_type=judge&s0_count=2&s1_type=single&s1_count=12"
    stems = _stems(client.get(f"/papers/draw?{query}").get_data(as_text=True))
    assert len(stems) == 14 and sum(stem.startswith("补充") for stem in stems) == 4


# 3. study plans ------------------------------------------------------------------------------------------------------


@pytest.fixture
def branch_plan(app: Flask, session: Session, runner: FlaskCliRunner, make_user):  # type: ignore[no-untyped-def]
    """The study-plan test bank `zhangcheng`, owned by 第一党支部, a plan in its second week naming it, the
    小问答 template; 第一党支部's organizer and member, 第二党支部's organizer and member, an admin."""
    banks = Path(app.config["BANKS_PATH"])
    assert runner.invoke(args=["banks", "load", str(_plan_bank(banks))]).exit_code == 0
    _plan(banks, monday_of(study_plans.today()) - timedelta(weeks=1))
    (banks / "contests").mkdir(exist_ok=True)
    shutil.copy(TEMPLATE, banks / "contests" / "xiaowenda.yaml")
    people = {
        "org": make_user(Role.ORGANIZER, username="org", branch=test_exams.BRANCH),
        "m0": make_user(username="m0", branch=test_exams.BRANCH),
        "org2": make_user(Role.ORGANIZER, username="org2", branch=OTHER),
        "b0": make_user(username="b0", branch=OTHER),
        "admin": make_user(Role.ADMIN, username="admin"),
    }
    bank = session.scalar(select(Bank).where(Bank.slug == "zhangcheng"))
    assert bank is not None
    bank.owner_branch_id = people["org"].branch_id
    session.commit()
    return people


def _plans(app: Flask):  # type: ignore[no-untyped-def]
    return study_plans.load_plans(Path(app.config["BANKS_PATH"]))


def _quiz(app: Flask, session: Session, actor: User, branch_id: int):  # type: ignore[no-untyped-def]
    banks = Path(app.config["BANKS_PATH"])
    today = study_plans.today()
    return study_quiz.start_study_quiz(session, actor, branch_id, _plans(app), "jihua", "2", banks, today=today)


def test_a_plan_on_a_branchs_own_bank_works_for_that_branch(app: Flask, session: Session, branch_plan) -> None:
    attempt = study_plans.start_topic_practice(session, branch_plan["m0"], _plans(app), "jihua", "2")
    assert attempt.question_count == 5 and {item.question.category for item in attempt.items} == {"ch2"}
    [view] = study_plans.current_topics(session, branch_plan["m0"], _plans(app), study_plans.today())
    assert view.reading and view.reading[0].excerpts
    started = _quiz(app, session, branch_plan["org"], branch_plan["org"].branch_id)
    assert sorted(started.contest.revisions) == [f"ch2-{n}" for n in range(6)]


def test_a_plan_on_another_branchs_bank_is_refused_clearly(app: Flask, session: Session, branch_plan) -> None:
    message = "专题“学党章第二章”的题目在其他支部自己的题库里"
    with pytest.raises(QuizError, match=message):
        study_plans.start_topic_practice(session, branch_plan["b0"], _plans(app), "jihua", "2")
    for actor in (branch_plan["org2"], branch_plan["admin"]):  # an admin, too, for branch B's study day
        with pytest.raises(QuizError, match=message):
            _quiz(app, session, actor, branch_plan["org2"].branch_id)
    assert session.scalar(select(func.count()).select_from(Contest)) == 0
    assert session.scalar(select(func.count()).select_from(StudyDay)) == 0
    [view] = study_plans.current_topics(session, branch_plan["b0"], _plans(app), study_plans.today())
    assert view.reading == []  # the other branch's questions' 原文 is not shown either
