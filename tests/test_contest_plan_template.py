"""The standard contest template draws from the projector-ready set, enough for three contests (issue #17 item 4).

A plan source may filter by question `tags`; the template's rounds and 加赛 take only questions tagged 投影
(short stem and options, checked in test_bank_content.py). Three contests of the template in a row must
never repeat a question: checked in the worst case (the supply check with every count tripled: whatever the
draws, three contests drawn one after another never run dry) and by drawing three contests with one shared
set of drawn questions.
"""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from quizengine.banks.contest_plan import check_plan_against_banks, load_plan, plan_from_mapping
from quizengine.banks.contest_plan_problems import PlanLoadError
from quizengine.banks.loader import Bank, load_banks
from quizengine.config import PROJECT_ROOT
from quizengine.engine.selection import PoolEntry
from quizengine.modes.contest import ContestPlan, QuestionSource
from quizengine.services.contest_setup import draw_plan
from quizengine.web import plan_form

BANKS_DIR = PROJECT_ROOT / "question_banks"
STANDARD = BANKS_DIR / "contests" / "standard.yaml"
PROJECTOR_TAG = "投影"
CONTESTS = 3


@pytest.fixture(scope="module")
def banks() -> list[Bank]:
    return load_banks([BANKS_DIR], strict=True)


@pytest.fixture(scope="module")
def plan() -> ContestPlan:
    return load_plan(STANDARD).plan


def _sources(plan: ContestPlan) -> list[QuestionSource]:
    return [spec.source for spec in plan.rounds] + [plan.tie_break_source]


def _times(plan: ContestPlan, factor: int) -> ContestPlan:
    """The plan with every count multiplied: what `factor` contests in a row take from the banks."""

    def more(source: QuestionSource) -> QuestionSource:
        return dataclasses.replace(source, count=source.count * factor)

    rounds = tuple(dataclasses.replace(spec, source=more(spec.source)) for spec in plan.rounds)
    return dataclasses.replace(plan, rounds=rounds, tie_break_source=more(plan.tie_break_source))


def test_every_round_and_the_tie_break_draw_only_the_projector_set(plan: ContestPlan) -> None:
    assert all(source.tags == (PROJECTOR_TAG,) for source in _sources(plan))


def test_three_contests_in_a_row_can_always_be_supplied(plan: ContestPlan, banks: list[Bank]) -> None:
    """The supply check assumes every earlier draw took the worst questions; with every count tripled it
    proves three contests drawn one after another (no question twice) never run out, at every risk value."""
    problems = check_plan_against_banks(_times(plan, CONTESTS), banks)
    assert problems == [], "\n".join(map(str, problems))


def test_the_tripled_check_can_fail_once_contests_outnumber_the_pool(plan: ContestPlan, banks: list[Bank]) -> None:
    """The check above is not vacuous: asked for enough contests in a row, it names the round whose pool runs
    short (first the 风险题's, drawn from pools the 必答题 share). How many contests the banks carry grows with
    the tagged questions, so the test looks for the first count that fails rather than a fixed one."""
    counts = range(CONTESTS + 1, 40)
    first_short = next((count for count in counts if check_plan_against_banks(_times(plan, count), banks)), None)
    assert first_short is not None, "the check passed for 39 contests in a row: it cannot fail"
    problems = check_plan_against_banks(_times(plan, first_short), banks)
    assert all(re.search(r"第\d+轮", str(problem)) for problem in problems), problems


@pytest.mark.parametrize("seed", range(5))
def test_three_contests_drawn_with_one_shared_set_repeat_no_question(
    plan: ContestPlan, banks: list[Bank], seed: int
) -> None:
    pool = [PoolEntry(question, bank.slug) for bank in banks for question in bank.questions]
    tagged = {entry.question.id for entry in pool if PROJECTOR_TAG in entry.question.tags}
    rng, taken = random.Random(seed), set[str]()
    contests = []
    for _ in range(CONTESTS):
        rounds, risk_pools, tie_pool = draw_plan(plan, pool, rng, taken, teams=len(plan.teams))
        drawn = [qid for questions in rounds for qid in questions] + tie_pool
        drawn += [qid for values in risk_pools.values() for questions in values.values() for qid in questions]
        assert len(drawn) == len(set(drawn))
        assert set(drawn) <= tagged
        contests.append(set(drawn))
    first, second, third = contests
    assert not (first & second or first & third or second & third)
    risk = risk_pools["3"]
    assert {len(questions) for questions in risk.values()} == {plan.rounds[3].source.count}


# ---- the tags filter of a source ---------------------------------------------------------------------


def _plan(source: dict) -> dict:
    return {"title": "测试", "teams": ["甲", "乙"], "rounds": [{"kind": "buzzer", "source": source}]}


def test_a_source_draws_only_questions_with_one_of_its_tags(banks: list[Bank]) -> None:
    plan = plan_from_mapping(_plan({"banks": ["liangxue-yizuo"], "tags": ["投影"], "count": 4}))
    assert plan.rounds[0].source.tags == ("投影",)
    pool = [PoolEntry(question, bank.slug) for bank in banks for question in bank.questions]
    rounds, _, _ = draw_plan(plan, pool, random.Random(1), set(), teams=2)
    by_id = {entry.question.id: entry.question for entry in pool}
    assert len(rounds[0]) == 4 and all("投影" in by_id[qid].tags for qid in rounds[0])


def test_an_unknown_tag_is_reported_against_the_banks(banks: list[Bank]) -> None:
    plan = plan_from_mapping(_plan({"banks": ["liangxue-yizuo"], "tags": ["投影", "无此标签"], "count": 2}))
    [problem] = check_plan_against_banks(plan, banks)
    assert "liangxue-yizuo中没有标签为“无此标签”的题目" in problem.message


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"tags": ["投影", "投影"], "count": 2}, "有重复"),
        ({"tags": [""], "count": 2}, "标签应为 1 到 40 个字符"),
        ({"ids": ["lx-qy-001", "lx-qy-002"], "tags": ["投影"]}, "已用 ids 指定题目时不能再写"),
    ],
)
def test_bad_tags_are_refused_in_chinese(source: dict, message: str) -> None:
    with pytest.raises(PlanLoadError) as error:
        plan_from_mapping(_plan(source))
    assert any(message in problem.message and "tags" in problem.message for problem in error.value.problems)


def test_the_plan_editor_keeps_the_tags(plan: ContestPlan, tmp_path: Path) -> None:
    """Opening the template in the editor and saving it unchanged keeps every source's tags."""
    values = plan_form.values_from_plan(plan)
    assert values["rounds"][0]["source"]["tags"] == "投影"
    form = MultiDict()
    form.add("rounds-0-kind", "buzzer")
    form.add("rounds-0-source-banks", "liangxue-yizuo")
    form.add("rounds-0-source-tags", "投影，无此标签")
    form.add("rounds-0-source-count", "2")
    mapping = plan_form.mapping_from_values(plan_form.values_from_form(form))
    assert mapping["rounds"][0]["source"]["tags"] == ["投影", "无此标签"]
    saved = plan_form.save_plan(plan_form.mapping_from_values(values), tmp_path, "copy", overwrite=False)
    assert all(source.tags == ("投影",) for source in _sources(load_plan(saved).plan))
