"""Marshmallow schemas for the YAML bank format v1 (see docs/bank-format.md).

Schemas check shape and value ranges; per-type rules (answer among the options, blanks vs. answers,
…) live in `TYPE_RULES`, one function per question type. Every message is Chinese, for bank authors.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from quizengine.engine.questions import BLANK_PATTERN, OPTION_KEYS, QUESTION_TYPES

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

#: Longest 原文 (`quote`): a few sentences of an article, never a whole chapter pasted in.
QUOTE_MAX = 600

#: marshmallow's built-in English messages, as bank authors read them.
MESSAGES_ZH = {
    "Missing data for required field.": "缺少必填字段",
    "Unknown field.": "未知字段（请检查拼写）",
    "Field may not be null.": "不能为空值",
    "Not a valid string.": "应为文字",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid list.": "应为列表",
    "Not a valid mapping type.": "应为键值映射",
    "Invalid input type.": "格式不正确",
}


#: Longest message we print for one problem: a message quoting a value never grows with the value.
MESSAGE_MAX = 300
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict, _SHOWN.maxstring, _SHOWN.maxother = 2, 4, 4, 40, 40


def translate(message: str) -> str:
    """Return the Chinese form of a marshmallow message (custom messages are already Chinese), clipped."""
    return clip(MESSAGES_ZH.get(message, message))


def clip(text: str, limit: int = MESSAGE_MAX) -> str:
    """`text` cut to `limit` characters (with an ellipsis), so a huge value never floods a report."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: Any) -> str:
    """A short rendering of a bank value for a message (strings as written, containers abridged)."""
    return clip(value, 40) if isinstance(value, str) else _SHOWN.repr(value)


class CategorySchema(Schema):
    """A chapter of a bank: `{id: ch1, title: 第一章 党员}`."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(SLUG, error="章节 id 只能由小写字母、数字和连字符组成"))
    title = fields.String(required=True, validate=validate.Length(min=1, error="章节标题不能为空"))


class BankSchema(Schema):
    """The top level of a bank file; questions are validated one by one by QuestionSchema."""

    class Meta:
        unknown = RAISE

    bank = fields.String(
        required=True, validate=validate.Regexp(SLUG, error="题库 bank 只能由小写字母、数字和连字符组成")
    )
    title = fields.String(required=True, validate=validate.Length(min=1, error="题库标题不能为空"))
    source = fields.String(load_default="")
    categories = fields.List(fields.Nested(CategorySchema), load_default=list)
    questions = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1, error="题库中没有题目"))


def scalar_text(value: Any) -> str | None:
    """YAML may read 1921 or 3.5 as numbers; authors mean the text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


def _check_options(data: dict[str, Any]) -> dict[str, Any]:
    options = data.get("options")
    if not isinstance(options, dict) or len(options) < 2:
        return {"options": ["选择题至少需要两个选项，写成 {A: …, B: …}"]}
    keys = list(options)
    expected = list(OPTION_KEYS[: len(keys)])
    if len(keys) > len(OPTION_KEYS) or sorted(str(key) for key in keys) != expected:
        return {"options": [f"选项键应依次为 {'、'.join(expected)}，实际为 {'、'.join(map(str, keys))}"]}
    texts = [scalar_text(options[key]) for key in keys]
    empty = [key for key, text in zip(keys, texts, strict=True) if text is None]
    if empty:
        return {"options": [f"选项 {'、'.join(empty)} 的内容为空"]}
    if len(set(texts)) != len(texts):
        return {"options": ["有内容相同的选项"]}
    unknown_fixed = [key for key in data.get("fixed", []) if key not in options]
    if unknown_fixed:
        return {"fixed": [f"fixed 中的 {'、'.join(unknown_fixed)} 不是选项键"]}
    return {}


def _no_options(data: dict[str, Any], label: str) -> dict[str, Any]:
    if data.get("options") is not None:
        return {"options": [f"{label}不应有 options"]}
    if data.get("fixed"):
        return {"fixed": [f"{label}不应有 fixed"]}
    return {}


def _single_rules(data: dict[str, Any]) -> dict[str, Any]:
    problems = _check_options(data)
    if problems:
        return problems
    answer = data["answer"]
    if not isinstance(answer, str) or answer not in data["options"]:
        return {"answer": [f"答案“{shown(answer)}”不在选项中（单选题答案为一个选项键，如 B）"]}
    return {}


def _multiple_rules(data: dict[str, Any]) -> dict[str, Any]:
    problems = _check_options(data)
    if problems:
        return problems
    answer = data["answer"]
    if not isinstance(answer, list) or len(answer) < 2:
        return {"answer": ["多选题答案应为至少两个选项键的列表，如 [A, C]"]}
    if not all(isinstance(key, str) for key in answer):
        return {"answer": [f"多选题答案的每一项应为一个选项键（如 [A, C]），实际为 {shown(answer)}"]}
    outside = [str(key) for key in answer if key not in data["options"]]
    if outside:
        return {"answer": [f"答案 {'、'.join(outside)} 不在选项中"]}
    if len(set(answer)) != len(answer):
        return {"answer": ["答案中有重复的选项键"]}
    return {}


def _judge_rules(data: dict[str, Any]) -> dict[str, Any]:
    problems = _no_options(data, "判断题")
    if problems:
        return problems
    if not isinstance(data["answer"], bool):
        return {"answer": [f"判断题答案应为 true 或 false，实际为“{shown(data['answer'])}”"]}
    return {}


def _fill_rules(data: dict[str, Any]) -> dict[str, Any]:
    problems = _no_options(data, "填空题")
    if problems:
        return problems
    blanks = len(BLANK_PATTERN.findall(data["stem"]))
    if blanks == 0:
        return {"stem": ["填空题题干中没有空（用一串下划线 ____ 表示一个空）"]}
    answer = data["answer"]
    if not isinstance(answer, list) or not all(isinstance(group, list) for group in answer):
        return {"answer": ["填空题答案应为每个空一个列表，如 [[一年, 1年]]"]}
    if len(answer) != blanks:
        return {"answer": [f"题干有{blanks}个空，答案有{len(answer)}组（每个空的答案写成一个列表，如 [[一年, 1年]]）"]}
    for number, group in enumerate(answer, start=1):
        if not group or any(scalar_text(item) is None for item in group):
            return {"answer": [f"第{number}个空的答案为空"]}
    return {}


def _short_rules(data: dict[str, Any]) -> dict[str, Any]:
    problems = _no_options(data, "简答题")
    if problems:
        return problems
    answer = data["answer"]
    if isinstance(answer, bool) or not isinstance(answer, str | int | float):
        return {"answer": ["简答题答案应为参考答案文字（没有参考答案时写 ''，由阅卷人评判）"]}
    return {}


#: Authoring rules per question type: each returns {field: [messages]} (empty when the question is fine).
TYPE_RULES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "single": _single_rules,
    "multiple": _multiple_rules,
    "judge": _judge_rules,
    "fill": _fill_rules,
    "short": _short_rules,
}


class QuestionSchema(Schema):
    """One question of a bank; `validates_schema` applies the rules of its type."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(SLUG, error="题目 id 只能由小写字母、数字和连字符组成"))
    type = fields.String(
        required=True,
        validate=validate.OneOf(list(QUESTION_TYPES), error="未知题型“{input}”，可用题型：{choices}"),
    )
    stem = fields.String(required=True, validate=validate.Length(min=1, error="题干不能为空"))
    options = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=None)
    answer = fields.Raw(required=True, allow_none=False)
    explanation = fields.String(load_default="")
    reference = fields.String(load_default="")
    category = fields.String(load_default=None)
    difficulty = fields.Integer(
        load_default=3, strict=True, validate=validate.Range(1, 5, error="难度应为 1 到 5 的整数，实际为 {input}")
    )
    tags = fields.List(fields.String(), load_default=list)
    points = fields.Float(load_default=None, validate=validate.Range(min=0, min_inclusive=False, error="分值应大于 0"))
    fixed = fields.List(fields.String(), load_default=list)
    keypoints = fields.List(fields.String(), load_default=list)
    quote = fields.String(
        load_default="",
        validate=[
            validate.Regexp(r"\s*\S", error="原文（quote）不能为空白；没有原文时请删去此字段"),
            validate.Length(max=QUOTE_MAX, error=f"原文（quote）最多{QUOTE_MAX}字，只摘录决定答案的句子"),
        ],
    )
    group = fields.String(
        load_default=None, validate=validate.Regexp(SLUG, error="题组 group 只能由小写字母、数字和连字符组成")
    )

    @validates_schema
    def check_type_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Apply the authoring rules of the question's type."""
        rules = TYPE_RULES.get(data.get("type", ""))
        if rules is None:
            return
        problems = rules(data)
        if problems:
            raise ValidationError(problems)
