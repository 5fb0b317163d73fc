"""YAML bank loader: a valid bank loads; every malformed bank fails with file:line, the id and the problem.

Each malformed case also runs through `quizengine banks load` against a database that already holds a
bank, and checks that nothing in the database changed (all or nothing).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.banks.loader import BankLoadError, load_banks
from quizengine.models import AuditEntry, Bank, BankCategory, Question, QuestionRevision

from .conftest import DATA

HEADER = """\
bank: broken
title: 出错的题库
categories:
  - {id: ch1, title: 第一章}
questions:
"""
SINGLE = """\
  - id: b-1
    type: single
    stem: 题干
    options: {A: 甲, B: 乙}
    answer: A
"""


def test_sample_bank_loads_into_engine_objects() -> None:
    [bank] = load_banks([DATA / "sample_bank.yaml"], strict=True)
    assert bank.slug == "sample" and [c.id for c in bank.categories] == ["ch1", "ch2"]
    by_id = {q.id: q for q in bank.questions}
    assert by_id["s-multiple-1"].answer == ("A", "C") and by_id["s-multiple-1"].fixed == ("D",)
    assert by_id["s-fill-1"].answer == (("一年", "1年"), ("上级党组织",))
    assert by_id["s-judge-1"].answer is False
    assert by_id["s-short-1"].keypoints == ("认真学习", "贯彻执行党的基本路线")
    assert by_id["s-single-1"].difficulty == 1 and by_id["s-multiple-1"].difficulty == 3
    assert bank.question_lines["s-single-1"] == 8


SHORT = """\
  - id: b-1
    type: short
    stem: 简述
"""
#: "Billion laughs": nine levels of nine aliases each, ~4e8 values once expanded, in 10 lines.
BOMB = "    answer:\n      - &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"      - &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]\n" for level in range(1, 9)
)

# (name, file text or bytes, expected line, expected question id, expected message part)
CASES = [
    (
        "unknown type",
        HEADER + "  - id: b-1\n    type: essay\n    stem: 题\n    answer: x\n",
        7,
        "b-1",
        "未知题型“essay”",
    ),
    ("answer not among options", HEADER + SINGLE.replace("answer: A", "answer: E"), 10, "b-1", "答案“E”不在选项中"),
    (
        "multiple answer outside options",
        HEADER
        + "  - id: b-1\n    type: multiple\n    stem: 题\n    options: {A: 甲, B: 乙, C: 丙}\n    answer: [A, F]\n",
        10,
        "b-1",
        "答案 F 不在选项中",
    ),
    ("duplicate id", HEADER + SINGLE + SINGLE, 11, "b-1", "题目 id 重复（第6行已使用）"),
    ("missing stem", HEADER + "  - id: b-1\n    type: judge\n    answer: true\n", 6, "b-1", "stem：缺少必填字段"),
    ("empty stem", HEADER + "  - id: b-1\n    type: judge\n    stem: ''\n    answer: true\n", 8, "b-1", "题干不能为空"),
    (
        "empty options",
        HEADER + "  - id: b-1\n    type: single\n    stem: 题\n    options: {}\n    answer: A\n",
        9,
        "b-1",
        "选择题至少需要两个选项",
    ),
    (
        "missing options",
        HEADER + "  - id: b-1\n    type: single\n    stem: 题\n    answer: A\n",
        6,
        "b-1",
        "至少需要两个选项",
    ),
    ("difficulty out of range", HEADER + SINGLE + "    difficulty: 7\n", 11, "b-1", "难度应为 1 到 5 的整数，实际为 7"),
    ("difficulty not a number", HEADER + SINGLE + "    difficulty: 难\n", 11, "b-1", "difficulty：应为整数"),
    (
        "fill answers fewer than blanks",
        HEADER + "  - id: b-1\n    type: fill\n    stem: 预备期为____，由____批准。\n    answer: [[一年]]\n",
        9,
        "b-1",
        "题干有2个空，答案有1组",
    ),
    (
        "fill flat list",
        HEADER + "  - id: b-1\n    type: fill\n    stem: 预备期为____。\n    answer: [一年, 1年]\n",
        9,
        "b-1",
        "每个空一个列表",
    ),
    (
        "fill without blanks",
        HEADER + "  - id: b-1\n    type: fill\n    stem: 预备期为一年。\n    answer: [[一年]]\n",
        8,
        "b-1",
        "题干中没有空",
    ),
    ("unknown category", HEADER + SINGLE + "    category: ch9\n", 11, "b-1", "未知章节“ch9”，已声明的章节：ch1"),
    (
        "judge answer not boolean",
        HEADER + "  - id: b-1\n    type: judge\n    stem: 题\n    answer: 对\n",
        9,
        "b-1",
        "应为 true 或 false",
    ),
    (
        "judge with options",
        HEADER + "  - id: b-1\n    type: judge\n    stem: 题\n    options: {A: 对, B: 错}\n    answer: true\n",
        9,
        "b-1",
        "判断题不应有 options",
    ),
    ("misspelled field", HEADER + SINGLE + "    explanaton: 解析\n", 11, "b-1", "explanaton：未知字段"),
    (
        "option keys with a gap",
        HEADER + "  - id: b-1\n    type: single\n    stem: 题\n    options: {A: 甲, B: 乙, D: 丁}\n    answer: A\n",
        9,
        "b-1",
        "选项键应依次为 A、B、C",
    ),
    (
        "empty option text",
        HEADER + "  - id: b-1\n    type: single\n    stem: 题\n    options: {A: 甲, B: ''}\n    answer: A\n",
        9,
        "b-1",
        "选项 B 的内容为空",
    ),
    (
        "multiple with one key",
        HEADER + "  - id: b-1\n    type: multiple\n    stem: 题\n    options: {A: 甲, B: 乙}\n    answer: [A]\n",
        10,
        "b-1",
        "至少两个选项键",
    ),
    (
        "missing answer",
        HEADER + "  - id: b-1\n    type: single\n    stem: 题\n    options: {A: 甲, B: 乙}\n",
        6,
        "b-1",
        "answer：缺少必填字段",
    ),
    ("bad id", HEADER + SINGLE.replace("b-1", "B 1"), 6, "B 1", "题目 id 只能由小写字母"),
    ("duplicate field", HEADER + SINGLE + "    answer: B\n", 11, "b-1", "字段“answer”重复出现"),
    ("fixed key not an option", HEADER + SINGLE + "    fixed: [D]\n", 11, "b-1", "fixed 中的 D 不是选项键"),
    (
        "short answer not text",
        HEADER + "  - id: b-1\n    type: short\n    stem: 简述\n    answer: [甲, 乙]\n",
        9,
        "b-1",
        "参考答案文字",
    ),
    ("yaml syntax error", HEADER + SINGLE + "    stem: [unclosed\n", 12, None, "YAML 语法错误"),
    ("top level is a list", "- id: b-1\n  type: judge\n", 1, None, "顶层应为键值映射"),
    ("empty file", "", 1, None, "文件为空"),
    ("missing bank slug", HEADER.replace("bank: broken\n", "") + SINGLE, 1, None, "bank：缺少必填字段"),
    ("no questions", HEADER.replace("questions:\n", "questions: []\n"), 5, None, "题库中没有题目"),
    (
        "duplicate category",
        HEADER.replace("categories:\n", "categories:\n  - {id: ch1, title: 重复}\n") + SINGLE,
        3,
        None,
        "章节 id 重复",
    ),
    ("non utf-8 file", (HEADER + SINGLE).encode("gbk"), 2, None, "文件不是 UTF-8 编码"),
    (
        "duplicate option key",
        HEADER + SINGLE.replace("{A: 甲, B: 乙}", "{A: 甲, B: 乙, A: 丙}"),
        9,
        "b-1",
        "字段“A”重复出现",
    ),
    (
        "duplicate key in a category",
        HEADER.replace("{id: ch1, title: 第一章}", "{id: ch1, title: 第一章, title: 又一章}") + SINGLE,
        4,
        None,
        "字段“title”重复出现",
    ),
    (
        "multiple answer with a nested list",
        HEADER
        + "  - id: b-1\n    type: multiple\n    stem: 题\n    options: {A: 甲, B: 乙, C: 丙}\n    answer: [[A], B]\n",
        10,
        "b-1",
        "每一项应为一个选项键",
    ),
    ("alias bomb", HEADER + SHORT + BOMB, 15, None, "展开后超过"),
    ("recursive alias", HEADER + SHORT + "    keypoints: &loop [*loop]\n", 9, None, "不允许递归引用"),
    ("deep nesting", HEADER + SHORT + "    answer: " + "[" * 40 + "]" * 40 + "\n", 9, None, "嵌套层数过深"),
    ("huge scalar", HEADER + SHORT + "    explanation: " + "很" * 100_001 + "\n", 9, None, "单个值过长"),
]


def _write(tmp_path: Path, content: str | bytes, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "line", "question_id", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_bank_names_file_line_id_and_problem(
    tmp_path: Path, content: str | bytes, line: int, question_id: str | None, message: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(BankLoadError) as raised:
        load_banks([path])
    problems = raised.value.problems
    assert any(
        p.path == str(path) and p.line == line and p.question_id == question_id and message in p.message
        for p in problems
    ), "\n".join(map(str, problems))
    first = str(problems[0])
    assert first.startswith(f"{path}:{problems[0].line}: ")


def _snapshot(session: Session) -> tuple:
    session.expire_all()
    counts = tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Bank, BankCategory, Question, QuestionRevision, AuditEntry)
    )
    revisions = tuple(session.execute(select(QuestionRevision.question_id, QuestionRevision.content_hash)).all())
    retired = tuple(session.execute(select(Question.external_id, Question.retired)).all())
    return counts, revisions, retired


@pytest.mark.parametrize("content", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_bank_changes_nothing_in_the_database(
    runner: FlaskCliRunner, session: Session, tmp_path: Path, content: str | bytes
) -> None:
    assert runner.invoke(args=["banks", "load", str(DATA / "sample_bank.yaml")]).exit_code == 0
    before = _snapshot(session)
    good = _write(
        tmp_path,
        (DATA / "sample_bank.yaml").read_text(encoding="utf-8").replace("s-", "t-").replace("sample", "other"),
        "good.yaml",
    )
    result = runner.invoke(args=["banks", "load", str(good), str(_write(tmp_path, content))])
    assert result.exit_code == 1
    assert "未做任何修改" in result.output
    assert _snapshot(session) == before


def test_duplicate_ids_and_slugs_across_files(tmp_path: Path) -> None:
    first = _write(tmp_path, HEADER + SINGLE, "a.yaml")
    second = _write(
        tmp_path,
        HEADER.replace("broken", "other") + "  - {id: x-0, type: judge, stem: 题, answer: true}\n" + SINGLE,
        "b.yaml",
    )
    third = _write(tmp_path, HEADER + "  - {id: z-1, type: judge, stem: 题, answer: true}\n", "c.yaml")
    with pytest.raises(BankLoadError) as raised:
        load_banks([tmp_path])
    messages = [str(p) for p in raised.value.problems]
    assert f"{second}:7: b-1: 题目 id 与题库文件 {first} 中的题目重复" in messages
    assert f"{third}:1: 题库 bank“broken”与 {first} 重复" in messages


def test_strict_mode_requires_explanation_and_reference(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + SINGLE)
    assert load_banks([path])  # fine for a private bank
    with pytest.raises(BankLoadError) as raised:
        load_banks([path], strict=True)
    assert [str(p) for p in raised.value.problems] == [
        f"{path}:6: b-1: 缺少解析（explanation），随附题库必须填写",
        f"{path}:6: b-1: 缺少出处（reference），随附题库必须填写",
    ]


def test_numbers_in_options_and_fill_answers_are_read_as_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER
        + "  - id: b-1\n    type: single\n    stem: 建党年份\n    options: {A: 1921, B: 1949}\n    answer: A\n"
        + "  - id: b-2\n    type: fill\n    stem: 党成立于____年\n    answer: [[1921]]\n",
    )
    [bank] = load_banks([path])
    assert bank.questions[0].options[0].text == "1921"
    assert bank.questions[1].answer == (("1921",),)


def test_directory_without_banks_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BankLoadError, match=r"没有找到 \.yaml 题库文件"):
        load_banks([tmp_path])
