"""Aiken files, read by Moodle's rules (and its error cases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from quizengine.banks.importing import ImportRefused, import_bank

from .bank_files import load_result

DATA = Path(__file__).parent / "data" / "import"


def test_aiken_questions(tmp_path: Path) -> None:
    result = import_bank((DATA / "party.aiken.txt").read_bytes(), "party.aiken.txt")
    assert result.format == "aiken" and result.ok and not result.warnings
    first, second = load_result(result, tmp_path).questions
    assert (first.type, first.answer, [option.text for option in first.options]) == (
        "single",
        "B",
        ["十六岁", "十八岁", "二十岁"],
    )
    assert second.options[1].text == "党的全国代表大会和它所产生的中央委员会"


def test_moodles_error_cases_each_with_its_line() -> None:
    result = import_bank((DATA / "broken.aiken.txt").read_bytes(), "broken.txt", fmt="aiken")
    assert [str(problem) for problem in result.problems] == [
        "broken.txt:1: 这一行是选项或 ANSWER 行，但前面没有题干（题目尚未开始）",
        "broken.txt:6: 第8行 ANSWER 之前的选项少于两个",
        "broken.txt:9: 题目不完整：第12行开始了新题，这一题还没有 ANSWER 行，未导入",
        "broken.txt:12: 答案 C 不在选项中（只有 A–B）",
        "broken.txt:16: 题目不完整：文件结束时这一题还没有 ANSWER 行，未导入",
    ]
    assert [question["stem"] for question in result.bank["questions"]] == ["好的题"]


def test_answer_line_takes_the_first_letter_as_moodle_does() -> None:
    result = import_bank("题目\nA. 甲\nB. 乙\nANSWER: BA\n".encode(), "x.txt", fmt="aiken")
    assert result.bank["questions"][0]["answer"] == "B"
    assert result.warnings[0].message == "ANSWER 行“BA”只取第一个字母 B（Aiken 只有单选题）"


def test_not_aiken_at_all() -> None:
    with pytest.raises(ImportRefused, match="没有找到 Aiken 题目"):
        import_bank(b"A. x\n", "x.txt", fmt="aiken")
