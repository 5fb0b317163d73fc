"""Banks out: YAML text the loader accepts, the Excel template the importer reads, GIFT for Moodle.

The Excel layout is the import template itself (题目 sheet with a 题型 drop-down, 章节, 题库信息 and 填写说明
sheets), so a bank exported to Excel and imported again gives the same questions. Every cell is written
through `services.spreadsheet.append_row`: bank text never becomes a live formula.
"""

from __future__ import annotations

import io
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from quizengine.banks.loader import Bank
from quizengine.engine.questions import Question
from quizengine.services.spreadsheet import append_row

from .common import MAX_ROWS, TYPE_LABELS
from .gift_out import bank_to_gift

EXPORT_FORMATS = ("xlsx", "yaml", "gift")

#: The 题目 sheet's columns, in order: what a secretary fills in first comes first.
TEMPLATE_COLUMNS = (
    "题型",
    "题干",
    *(f"选项{letter}" for letter in "ABCDEFGH"),
    "答案",
    "解析",
    "出处",
    "章节",
    "难度",
    "分值",
    "标签",
    "要点",
    "固定选项",
    "原文",
    "题组",
    "题目ID",
)
_WIDTHS = {"题型": 10, "题干": 48, "答案": 14, "解析": 36, "出处": 24, "章节": 16, "原文": 36}
INSTRUCTIONS = (
    "“题目”表每行一道题；第一行是表头，列的顺序可以调整，不用的列可以删除。",
    "题型：单选题、多选题、判断题、填空题、简答题（可从下拉列表选择）。不填时按答案推断，并给出提示。",
    "题干：必填。填空题用一串下划线 ____ 表示每个空（也可写空括号（  ），导入时改为 ____）。",
    "选项A–选项H：单选题、多选题的选项，从 A 起依次填写，至少两个。",
    "答案：单选题填一个字母，如 B；多选题填多个字母，如 ABD、A,B,D 或 A、B、D；判断题填 对/错、正确/错误 或 √/×；",
    "　　填空题填每个空的答案，同一空的多种写法用“|”分开（如 一年|1年），多个空用“；”分开；简答题填参考答案，可留空。",
    "解析、出处：建议填写，会在练习反馈和考试回顾中显示。",
    "章节：章节名称；名称与“章节”表中的一致时使用表中的章节ID，否则自动编号。",
    "难度：1–5 或 简单/中等/较难/困难，留空为 3。分值：大于 0 的数字，留空按试卷设置。",
    "标签：多个标签用“、”分开。要点：简答题的得分要点，每行一条。",
    "固定选项：打乱选项时位置不动的选项字母，如 D（“以上都是”）。",
    "原文：决定答案的原文句子。题组：测同一知识点的题目填同一个组名（小写字母、数字和连字符），同一试卷不会同时抽到。",
    "题目ID：可留空，导入时按题干生成固定的ID（同一文件重复导入ID不变）；填写时只能用小写字母、数字和连字符。",
    f"每个文件最多 {MAX_ROWS:,} 行。有错误的行会逐条列出（行号与 Excel 中一致），改正后重新导入。",
    "单元格中的公式只读取 Excel 保存时算出的结果，不会重新计算；请勿设置打开密码，不支持旧版 .xls 文件。",
)
JUDGE_TEXT = {True: "正确", False: "错误"}


def bank_from_loaded(bank: Bank) -> dict[str, Any]:
    """A loaded bank (engine questions) as the YAML v1 mapping, leaving out fields at their defaults."""
    data: dict[str, Any] = {"bank": bank.slug, "title": bank.title}
    if bank.source:
        data["source"] = bank.source
    if bank.categories:
        data["categories"] = [{"id": category.id, "title": category.title} for category in bank.categories]
    data["questions"] = [_question_mapping(question) for question in bank.questions]
    return data


def _question_mapping(question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {"id": question.id, "type": question.type}
    if question.category:
        item["category"] = question.category
    item["stem"] = question.stem
    if question.options:
        item["options"] = {option.key: option.text for option in question.options}
    if question.fixed:
        item["fixed"] = list(question.fixed)
    answer = question.answer
    if question.type == "multiple":
        answer = list(answer)
    elif question.type == "fill":
        answer = [list(group) for group in answer]
    item["answer"] = answer if answer is not None else ""
    optional = {
        "keypoints": list(question.keypoints),
        "explanation": question.explanation,
        "reference": question.reference,
        "quote": question.quote,
        "difficulty": question.difficulty if question.difficulty != 3 else None,
        "tags": list(question.tags),
        "points": question.points,
        "group": question.group,
    }
    item.update({key: value for key, value in optional.items() if value})
    return item


# --- YAML ------------------------------------------------------------------------------------------------


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line: `{A: 十六岁, B: 十八岁}`."""


class _FlowList(list):  # type: ignore[type-arg]
    """A list written on one line: `[A, C]`."""


class _Dumper(yaml.SafeDumper):
    """Block scalars (`|`) for multi-line text, flow style for options, keys and short lists."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(_Flow, lambda dumper, value: dumper.represent_mapping("tag:yaml.org,2002:map", value, True))
_Dumper.add_representer(
    _FlowList, lambda dumper, value: dumper.represent_sequence("tag:yaml.org,2002:seq", value, True)
)


def _styled_question(question: dict[str, Any]) -> dict[str, Any]:
    styled = dict(question)
    if isinstance(styled.get("options"), dict):
        styled["options"] = _Flow(styled["options"])
    answer = styled.get("answer")
    if isinstance(answer, list):
        styled["answer"] = _FlowList(_FlowList(group) if isinstance(group, list) else group for group in answer)
    for name in ("fixed", "tags"):
        if name in styled:
            styled[name] = _FlowList(styled[name])
    return styled


def bank_to_yaml(bank: dict[str, Any]) -> str:
    """The bank as YAML v1 text (docs/bank-format.md) that `banks check` accepts, in the documented key order."""
    styled = dict(bank)
    if "categories" in styled:
        styled["categories"] = [_Flow(category) for category in styled["categories"]]
    styled["questions"] = [_styled_question(question) for question in bank.get("questions", [])]
    return yaml.dump(styled, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)


# --- Excel -----------------------------------------------------------------------------------------------


def _answer_cell(question: dict[str, Any]) -> str:
    answer = question.get("answer")
    kind = question["type"]
    if kind == "multiple":
        return "".join(answer)
    if kind == "judge":
        return JUDGE_TEXT[bool(answer)]
    if kind == "fill":
        return "；".join("|".join(group) for group in answer)
    return str(answer or "")


def _row(question: dict[str, Any], categories: dict[str, str]) -> list[Any]:
    options = list((question.get("options") or {}).values())
    values = {
        "题型": TYPE_LABELS[question["type"]],
        "题干": question["stem"],
        **{f"选项{letter}": text for letter, text in zip("ABCDEFGH", options, strict=False)},
        "答案": _answer_cell(question),
        "解析": question.get("explanation", ""),
        "出处": question.get("reference", ""),
        "章节": categories.get(question.get("category") or "", ""),
        "难度": question.get("difficulty", 3),
        "分值": question.get("points"),
        "标签": "、".join(question.get("tags", [])),
        "要点": "\n".join(question.get("keypoints", [])),
        "固定选项": "".join(question.get("fixed", [])),
        "原文": question.get("quote", ""),
        "题组": question.get("group", ""),
        "题目ID": question["id"],
    }
    return [values.get(column) for column in TEMPLATE_COLUMNS]


def _workbook(bank: dict[str, Any] | None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题目"
    append_row(sheet, list(TEMPLATE_COLUMNS))
    sheet.freeze_panes = "C2"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = _WIDTHS.get(str(cell.value), 12)
    categories = {item["id"]: item["title"] for item in (bank or {}).get("categories", [])}
    for question in (bank or {}).get("questions", []):
        append_row(sheet, _row(question, categories))
    choice = DataValidation(type="list", formula1=f'"{",".join(TYPE_LABELS.values())}"', allow_blank=True)
    choice.error, choice.errorTitle = "请从列表中选择题型", "题型"
    choice.add(f"A2:A{MAX_ROWS + 1}")
    sheet.add_data_validation(choice)
    chapters = workbook.create_sheet("章节")
    append_row(chapters, ["章节ID", "章节名称"])
    for key, title in categories.items():
        append_row(chapters, [key, title])
    info = workbook.create_sheet("题库信息")
    for label, key in (("题库标识", "bank"), ("题库名称", "title"), ("来源", "source")):
        append_row(info, [label, (bank or {}).get(key, "")])
    notes = workbook.create_sheet("填写说明")
    for line in INSTRUCTIONS:
        append_row(notes, [line])
    notes.column_dimensions["A"].width = 120
    for extra in (chapters, info):
        extra.column_dimensions["A"].width, extra.column_dimensions["B"].width = 16, 48
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def blank_template_xlsx() -> bytes:
    """The import template with no questions: the header, a 题型 drop-down and the instructions sheet."""
    return _workbook(None)


def export_bank(bank: dict[str, Any], fmt: str) -> bytes:
    """The bank as an .xlsx (the import template), YAML v1 or GIFT file."""
    if fmt == "xlsx":
        return _workbook(bank)
    if fmt == "yaml":
        return bank_to_yaml(bank).encode("utf-8")
    if fmt == "gift":
        return bank_to_gift(bank).encode("utf-8")
    raise ValueError(f"未知的导出格式“{fmt}”，可用：{'、'.join(EXPORT_FORMATS)}")
