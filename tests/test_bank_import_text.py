"""Questions pasted from Word: numbering styles, options on one line or several, 答案/解析 lines, sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from quizengine.banks.importing import ImportRefused, import_bank

from .bank_files import load_result

DATA = Path(__file__).parent / "data" / "import"


def test_a_word_paste_with_every_style(tmp_path: Path) -> None:
    data = (DATA / "word_paste.txt").read_bytes()
    result = import_bank(data, "word_paste.txt")
    assert result.format == "text" and result.ok, result.problems
    bank = load_result(result, tmp_path)
    got = [(question.type, question.answer) for question in bank.questions]
    assert got == [
        ("single", "B"),
        ("single", "C"),
        ("multiple", ("A", "B", "D")),
        ("multiple", ("A", "B", "C", "D")),
        ("judge", False),
        ("judge", True),
        ("judge", True),
        ("fill", (("一年", "1年"),)),
        ("short", "认真学习马克思列宁主义……\n贯彻执行党的基本路线和各项方针、政策……"),
        ("short", ""),
    ]
    first, second = bank.questions[:2]
    assert first.stem.startswith("年满多少岁") and first.stem.endswith("可以申请加入中国共产党？")
    assert [option.text for option in first.options] == ["十六岁", "十八岁", "二十岁", "二十二岁"]
    assert first.reference == "《中国共产党章程》第一章第一条"
    assert first.explanation.startswith("党章第一条规定")
    assert second.stem == "党的最高领导机关是（  ）。"
    assert bank.questions[4].stem == "预备党员的预备期为两年。"
    assert bank.questions[2].explanation == "罚款不是党纪处分。"
    assert [str(warning) for warning in result.warnings] == ["word_paste.txt:45: 简答题没有参考答案，将由阅卷人评判"]


def test_problems_point_at_the_question_line() -> None:
    text = (
        "一、单选题\n1. 没有答案的题\nA. 甲\nB. 乙\n\n"
        "2. 好的题\nA. 甲\nB. 乙\n答案：A\n"
        "3. 答案不在选项\nA. 甲 B. 乙\n答案：D\n"
    )
    result = import_bank(text.encode("utf-8"), "paste.txt")
    assert [str(problem) for problem in result.problems] == [
        "paste.txt:2: 没有填写答案",
        "paste.txt:10: 答案 D 不在选项中（只有 A–B）",
    ]
    assert len(result.bank["questions"]) == 1


def test_gbk_text_and_full_width_numbers() -> None:
    text = "１．党成立于____年。\n答案：1921\n"
    result = import_bank(text.encode("gbk"), "paste.txt")
    assert result.bank["questions"][0]["answer"] == [["1921"]]
    assert result.warnings[0].message == "未注明题型，按答案推断为填空题"


def test_decimal_numbers_do_not_start_a_question() -> None:
    text = "1. 党费按月工资的\n0.5% 交纳，这一说法（  ）。\n答案：对\n"
    question = import_bank(text.encode("utf-8"), "paste.txt").bank["questions"][0]
    assert question["stem"] == "党费按月工资的\n0.5% 交纳，这一说法（  ）。"


def test_text_without_numbered_questions_is_refused() -> None:
    with pytest.raises(ImportRefused, match="没有找到编号的题目"):
        import_bank("这只是一段话。\n没有题目。".encode(), "paste.txt")
