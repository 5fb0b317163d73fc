"""Paper selection: reproducible, no repeats, least used first, fixed options kept in place."""

from __future__ import annotations

import random

import pytest

from quizengine.engine.errors import InsufficientQuestions, InvalidResponse
from quizengine.engine.questions import Option, Question, grade
from quizengine.engine.selection import (
    Blueprint,
    PaperItem,
    PoolEntry,
    Section,
    difficulty_target,
    paper_difficulty,
    personalize,
    select_balanced_paper,
    select_paper,
    shuffle_options,
)


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


# ---- 随机组卷: balanced per-member papers; 统一试卷: the same questions in a member's own order --------


def _level_pool() -> list[PoolEntry]:
    """40 single (difficulty 1..5, eight each) and 20 judge (difficulty 1..5, four each)."""
    singles = [PoolEntry(_question(n, "single", difficulty=1 + n % 5), "bank") for n in range(40)]
    judges = [PoolEntry(_question(100 + n, "judge", difficulty=1 + n % 5), "bank") for n in range(20)]
    return singles + judges


BALANCED = Blueprint((Section(6, points=2, types=("single",)), Section(4, points=1, types=("judge",))))


def test_balanced_papers_have_equal_counts_and_difficulty_within_tolerance() -> None:
    pool = _level_pool()
    target = difficulty_target(pool, BALANCED)
    assert target == 30.0  # 6 × 3 + 4 × 3
    papers = [select_balanced_paper(pool, BALANCED, random.Random(seed), 1.0) for seed in range(200)]
    kinds = {q.question.id: q.question.type for q in pool}
    for paper in papers:
        counts = sorted(kinds[item.question_id] for item in paper.items)
        assert counts == ["judge"] * 4 + ["single"] * 6 and paper.total_points == 16
        assert abs(paper_difficulty(paper, pool) - target) <= 1
        assert len(set(paper.question_ids)) == 10
    assert len({paper.question_ids for paper in papers}) > 150  # still each member's own draw
    assert select_balanced_paper(pool, BALANCED, random.Random(3), 1.0) == papers[3]  # reproducible


def test_balancing_works_from_a_skewed_start_and_with_zero_tolerance() -> None:
    pool = _level_pool()
    for seed in range(50):
        paper = select_balanced_paper(pool, BALANCED, random.Random(seed), 0, target=40)
        assert paper_difficulty(paper, pool) == 40


def test_balancing_reports_a_pool_that_cannot_meet_the_band() -> None:
    flat = [PoolEntry(_question(n, "single", difficulty=3), "bank") for n in range(10)]
    blueprint = Blueprint((Section(5, types=("single",)),))
    assert paper_difficulty(select_balanced_paper(flat, blueprint, random.Random(1), 0), flat) == 15
    with pytest.raises(InsufficientQuestions, match=r"总难度在 20±1 之内.*最接近的一份为 15"):
        select_balanced_paper(flat, blueprint, random.Random(1), 1, target=20)
    with pytest.raises(InsufficientQuestions, match="需要11题"):
        select_balanced_paper(flat, Blueprint((Section(11),)), random.Random(1), 1)


def test_personalize_keeps_the_questions_and_shuffles_within_sections() -> None:
    drawn = select_paper(
        POOL, Blueprint((Section(5, types=("single",)), Section(3, types=("judge",)))), random.Random(1)
    )
    by_id = {entry.question.id: entry.question for entry in POOL}
    stored = [(by_id[item.question_id], item.points, item.section) for item in drawn.items]
    blueprint = Blueprint(shuffle_questions=True, shuffle_options=True)
    copies = [personalize(list(stored), blueprint, random.Random(seed)) for seed in range(20)]
    for copy in copies:
        assert sorted(copy.question_ids) == sorted(drawn.question_ids)
        assert [item.section for item in copy.items] == [0] * 5 + [1] * 3
    assert len({copy.question_ids for copy in copies}) > 1
    assert len({copy.items[0].option_order for copy in copies}) > 1
    plain = personalize(list(stored), Blueprint(shuffle_questions=False, shuffle_options=False), random.Random(2))
    assert plain.question_ids == drawn.question_ids and plain.items[0].option_order == ("A", "B", "C", "D")
