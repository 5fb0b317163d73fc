"""Question types and grading: pure engine, no app, no database."""

from __future__ import annotations

import pytest

from quizengine.engine.errors import InvalidResponse, UnknownQuestionType
from quizengine.engine.questions import (
    QUESTION_TYPES,
    MultiplePolicy,
    Option,
    Question,
    Verdict,
    get_type,
    grade,
    normalize_text,
)

SINGLE = Question(
    "q1", "single", "预备期多长？", "B", options=(Option("A", "半年"), Option("B", "一年"), Option("C", "两年"))
)
MULTIPLE = Question("q2", "multiple", "哪些是处分？", ("A", "C", "D"), options=tuple(Option(k, k * 2) for k in "ABCD"))
JUDGE = Question("q3", "judge", "预备期为两年。", False)
FILL = Question("q4", "fill", "预备期为____，由____批准。", (("一年", "1年"), ("上级党组织",)))
SHORT = Question("q5", "short", "简述党员义务。", "参考答案", keypoints=("学习",))


def test_registry_has_every_type_with_chinese_label() -> None:
    assert set(QUESTION_TYPES) == {"single", "multiple", "judge", "fill", "short"}
    assert get_type("single").label == "单选题"
    assert not get_type("short").auto_graded


def test_unknown_type_has_user_facing_message() -> None:
    with pytest.raises(UnknownQuestionType, match="未知题型“essay”"):
        get_type("essay")


@pytest.mark.parametrize(
    ("response", "verdict"), [("B", Verdict.CORRECT), ("b ", Verdict.CORRECT), ("A", Verdict.WRONG)]
)
def test_single_choice(response: str, verdict: Verdict) -> None:
    assert grade(SINGLE, response).verdict is verdict


def test_single_choice_rejects_unknown_key_and_lists() -> None:
    with pytest.raises(InvalidResponse, match="选项“E”不存在"):
        grade(SINGLE, "E")
    with pytest.raises(InvalidResponse):
        grade(SINGLE, ["A", "B"])


def test_blank_response_is_wrong_and_unanswered() -> None:
    for question in (SINGLE, MULTIPLE, JUDGE, FILL, SHORT):
        outcome = grade(question, None)
        assert outcome.verdict is Verdict.WRONG and not outcome.answered and outcome.credit == 0
    assert not grade(FILL, ["", " "]).answered


def test_multiple_all_or_nothing_by_default() -> None:
    assert grade(MULTIPLE, ["D", "A", "C"]).is_correct
    assert grade(MULTIPLE, "acd").is_correct
    assert grade(MULTIPLE, ["A", "C"]).verdict is Verdict.WRONG
    assert grade(MULTIPLE, ["A", "B", "C", "D"]).verdict is Verdict.WRONG


def test_multiple_partial_policy_rewards_wrong_free_subsets_only() -> None:
    partial = grade(MULTIPLE, ["A", "C"], MultiplePolicy.PARTIAL)
    assert partial.verdict is Verdict.PARTIAL and partial.credit == pytest.approx(2 / 3)
    assert grade(MULTIPLE, ["A", "B"], MultiplePolicy.PARTIAL).credit == 0
    assert grade(MULTIPLE, ["A", "C", "D"], MultiplePolicy.PARTIAL).credit == 1


def test_judge_accepts_bools_and_words() -> None:
    assert grade(JUDGE, False).is_correct
    assert grade(JUDGE, "错").is_correct
    assert grade(JUDGE, "true").verdict is Verdict.WRONG
    with pytest.raises(InvalidResponse):
        grade(JUDGE, "maybe")


def test_fill_folds_unicode_whitespace_and_case() -> None:
    assert normalize_text(" １ 年\u3000") == "1年"
    assert normalize_text("ABC") == normalize_text("abc")
    assert grade(FILL, ["１年", " 上级 党组织 "]).is_correct
    assert grade(FILL, ["一年", "上级党组织"]).is_correct


def test_fill_partial_credit_per_blank_and_blank_count_checked() -> None:
    outcome = grade(FILL, ["两年", "上级党组织"])
    assert outcome.verdict is Verdict.PARTIAL and outcome.credit == 0.5
    with pytest.raises(InvalidResponse, match="本题有2个空"):
        grade(FILL, ["一年"])


def test_short_answer_is_pending_for_a_human() -> None:
    outcome = grade(SHORT, "党员要认真学习")
    assert outcome.verdict is Verdict.PENDING and outcome.answered


def test_content_hash_is_stable_and_round_trips() -> None:
    for question in (SINGLE, MULTIPLE, JUDGE, FILL, SHORT):
        rebuilt = Question.from_content(question.id, question.content())
        assert rebuilt == question
        assert rebuilt.content_hash == question.content_hash
    changed = Question("q1", "single", "预备期多长？", "A", options=SINGLE.options)
    assert changed.content_hash != SINGLE.content_hash


def test_blank_count_counts_runs_of_underscores() -> None:
    assert FILL.blank_count == 2
    assert Question("x", "fill", "全角＿＿＿也算", (("a",),)).blank_count == 1


def test_storable_keeps_what_the_member_meant() -> None:
    assert get_type("judge").storable(JUDGE, "true") is True
    assert get_type("multiple").storable(MULTIPLE, "dca") == ["A", "C", "D"]
    assert get_type("single").storable(SINGLE, " b") == "B"
    assert get_type("fill").storable(FILL, [" １年 ", "上级党组织"]) == ["１年", "上级党组织"]
    assert get_type("short").storable(SHORT, "  学习 ") == "学习"
    assert get_type("single").storable(SINGLE, None) is None
