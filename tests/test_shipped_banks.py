"""The shipped banks: they load strictly and meet the content targets (content checks: test_bank_content.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from quizengine.banks.loader import Bank, load_banks
from quizengine.config import PROJECT_ROOT

BANKS_DIR = PROJECT_ROOT / "question_banks"

#: Minimum questions per source document (issue #3); the speeches and the 20th Congress report share one target.
MINIMUMS = {
    ("dangzhang-2022",): 180,
    ("jilv-chufen-2023",): 80,
    ("lianjie-zilv-2015",): 25,
    ("zhibu-gongzuo-2018",): 50,
    ("dangyuan-jiaoyu-guanli-2019",): 40,
    ("dangnei-zhengzhi-shenghuo-2016",): 30,
    ("fazhan-dangyuan-2014",): 50,
    ("xilie-jianghua", "ershida-baogao"): 100,
    ("liangxue-yizuo",): 30,
    ("wenze-2019",): 45,
    ("baxiang-guiding",): 40,
    ("dangyuan-quanli-2020",): 25,
    ("xianfa-2018",): 150,
    ("dangzu-gongzuo-2019",): 30,
    ("zuzhi-gongzuo-2021",): 20,
}

#: Target share of each type over all banks, with the tolerance allowed around it.
TYPE_MIX = {"single": 0.45, "multiple": 0.15, "judge": 0.25, "fill": 0.10, "short": 0.05}
TOLERANCE = 0.05


@pytest.fixture(scope="module")
def banks() -> list[Bank]:
    return load_banks([BANKS_DIR], strict=True)


def test_every_shipped_bank_loads_strictly(banks: list[Bank]) -> None:
    assert {bank.slug for bank in banks} == {slug for group in MINIMUMS for slug in group}
    assert sum(len(bank.questions) for bank in banks) >= 600


@pytest.mark.parametrize(("slugs", "minimum"), MINIMUMS.items(), ids=["+".join(group) for group in MINIMUMS])
def test_each_document_has_enough_questions(banks: list[Bank], slugs: tuple[str, ...], minimum: int) -> None:
    assert sum(len(bank.questions) for bank in banks if bank.slug in slugs) >= minimum


def test_type_mix_over_all_banks(banks: list[Bank]) -> None:
    counts = Counter(question.type for bank in banks for question in bank.questions)
    total = sum(counts.values())
    for qtype, share in TYPE_MIX.items():
        assert abs(counts[qtype] / total - share) <= TOLERANCE, f"{qtype}: {counts[qtype] / total:.0%}"


def test_difficulty_is_spread_with_most_at_two_and_three(banks: list[Bank]) -> None:
    levels = Counter(question.difficulty for bank in banks for question in bank.questions)
    assert len(levels) >= 4
    assert levels[2] + levels[3] > sum(levels.values()) / 2


def test_every_question_has_a_chapter_an_explanation_and_a_reference(banks: list[Bank]) -> None:
    for bank in banks:
        for question in bank.questions:
            assert question.category, f"{bank.slug} {question.id} has no category"
            assert question.explanation, f"{bank.slug} {question.id} has no explanation"
            assert len(question.reference) >= 6, f"{bank.slug} {question.id}: the reference should cite its source"


def test_judge_statements_are_balanced_in_every_bank(banks: list[Bank]) -> None:
    for bank in banks:
        truths = Counter(question.answer for question in bank.questions if question.type == "judge")
        assert truths[True] and truths[False], bank.slug
        assert min(truths.values()) / sum(truths.values()) >= 0.3, f"{bank.slug}: {dict(truths)}"


def test_no_catch_all_options_unless_fixed(banks: list[Bank]) -> None:
    catch_all = ("以上都", "以上均", "以上全")
    for bank in banks:
        for question in bank.questions:
            for option in question.options:
                if option.text.startswith(catch_all):
                    assert option.key in question.fixed, f"{question.id}: “{option.text}” must be fixed"
