"""Paper selection: reproducible, no repeats, least used first, fixed options kept in place."""

from __future__ import annotations

import random

import pytest

from quizengine.engine.errors import InsufficientQuestions, InvalidResponse
from quizengine.engine.questions import Option, Question, grade
from quizengine.engine.selection import Blueprint, PaperItem, PoolEntry, Section, select_paper, shuffle_options


def _question(number: int, qtype: str = "single", category: str = "ch1", difficulty: int = 2) -> Question:
    options = tuple(Option(key, f"选项{key}{number}") for key in "ABCD") if qtype in ("single", "multiple") else ()
    answer = {"single": "A", "multiple": ("A", "B"), "judge": True}.get(qtype, (("x",),))
    return Question(
        f"q{number}", qtype, f"题{number}", answer, options=options, category=category, difficulty=difficulty
    )


POOL = [PoolEntry(_question(n, "single" if n % 3 else "judge", f"ch{n % 2}", 1 + n % 5), "bank") for n in range(60)]


def test_same_seed_same_paper_different_seed_different_paper() -> None:
    blueprint = Blueprint((Section(10, points=2),))
    first = select_paper(POOL, blueprint, random.Random(7))
    assert select_paper(POOL, blueprint, random.Random(7)) == first
    assert select_paper(POOL, blueprint, random.Random(8)) != first
    assert first.total_points == 20


def test_sections_filter_and_never_repeat_a_question() -> None:
    blueprint = Blueprint(
        (Section(15, types=("single",)), Section(5, types=("judge",), points=1), Section(20, points=0.5))
    )
    paper = select_paper(POOL, blueprint, random.Random(1))
    ids = paper.question_ids
    assert len(ids) == len(set(ids)) == 40
    types = {entry.question.id: entry.question.type for entry in POOL}
    assert all(types[item.question_id] == "single" for item in paper.items[:15])
    assert all(types[item.question_id] == "judge" for item in paper.items[15:20])


def test_category_difficulty_and_bank_filters() -> None:
    pool = [*POOL, PoolEntry(_question(99, category="ch9"), "other")]
    paper = select_paper(pool, Blueprint((Section(1, banks=("other",)),)), random.Random(0))
    assert paper.question_ids == ("q99",)
    hard = select_paper(POOL, Blueprint((Section(3, difficulties=(5,), categories=("ch0",)),)), random.Random(0))
    chosen = {entry.question.id: entry.question for entry in POOL}
    assert all(chosen[qid].difficulty == 5 and chosen[qid].category == "ch0" for qid in hard.question_ids)


def test_insufficient_questions_names_the_section() -> None:
    with pytest.raises(InsufficientQuestions, match="第1部分（题型判断题）需要30题，题库中只有20题"):
        select_paper(POOL, Blueprint((Section(30, types=("judge",)),)), random.Random(0))


def test_least_used_questions_come_first() -> None:
    pool = [PoolEntry(entry.question, "bank", usage=0 if n < 5 else 3) for n, entry in enumerate(POOL)]
    for seed in range(5):
        paper = select_paper(pool, Blueprint((Section(5),)), random.Random(seed))
        assert set(paper.question_ids) == {"q0", "q1", "q2", "q3", "q4"}


def test_fixed_list_blueprint_and_missing_ids() -> None:
    paper = select_paper(POOL, Blueprint(fixed_ids=("q1", "q2", "q4"), shuffle_questions=False), random.Random(0))
    assert paper.question_ids == ("q1", "q2", "q4")
    with pytest.raises(InsufficientQuestions, match="q404"):
        select_paper(POOL, Blueprint(fixed_ids=("q1", "q404")), random.Random(0))


def test_fixed_options_keep_their_place() -> None:
    rng = random.Random(3)
    for _ in range(50):
        order = shuffle_options("ABCD", ["D"], rng)
        assert order[3] == "D" and sorted(order) == list("ABCD")
    orders = {shuffle_options("ABCD", [], random.Random(seed)) for seed in range(30)}
    assert len(orders) > 5


def test_shown_keys_map_back_to_authoring_keys() -> None:
    question = Question("m", "multiple", "选", ("A", "C"), options=tuple(Option(k, k) for k in "ABCD"))
    item = PaperItem("m", 2, option_order=("C", "D", "A", "B"))
    assert item.original_key("a") == "C"
    assert item.shown_key("A") == "C"
    assert grade(question, item.to_original(["A", "C"])).is_correct
    assert grade(question, item.to_original("AC")).is_correct
    with pytest.raises(InvalidResponse):
        item.original_key("E")


def test_options_are_not_shuffled_when_disabled() -> None:
    paper = select_paper(POOL, Blueprint((Section(5, types=("single",)),), shuffle_options=False), random.Random(2))
    assert all(item.option_order == ("A", "B", "C", "D") for item in paper.items)
