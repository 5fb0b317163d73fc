"""Drafts → questions of a YAML v1 bank: type, answer, checks against the bank format, stable ids.

Every question is checked with the bank format's own rules — `format.TYPE_RULES` (options, answers, blanks)
and the validators of `QuestionSchema`'s id, 题组 and 原文 fields; the other fields are written here from
checked values (a type from the list, a difficulty 1–5…), so a whole marshmallow load per row (a third of
the import's time) is not needed. The tests load every converted bank with the real loader.
A question with a problem is left out and reported at its `FILE:ROW`; the others are kept.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from marshmallow import ValidationError

from quizengine.banks.format import SLUG, TYPE_RULES, QuestionSchema, clip, translate

from .answers import choice_answer, fill_answer, judge_answer, question_type, short_answer, split_text
from .common import (
    DIFFICULTY_WORDS,
    OPTION_LETTERS,
    Draft,
    ImportProblem,
    ImportResult,
    RowError,
    clean,
    folded,
    option_keys,
)

FIELD_LABELS = {
    "id": "题目ID",
    "type": "题型",
    "stem": "题干",
    "options": "选项",
    "answer": "答案",
    "fixed": "固定选项",
    "category": "章节",
    "difficulty": "难度",
    "points": "分值",
    "tags": "标签",
    "keypoints": "要点",
    "quote": "原文",
    "group": "题组",
    "explanation": "解析",
    "reference": "出处",
}
_SLUG = re.compile(SLUG)
#: Fields whose values come from the file as written: checked with the schema's own field validators.
_CHECKED_FIELDS = ("id", "group", "quote")
#: Key order of a question in the YAML we write (the order of docs/bank-format.md).
KEY_ORDER = (
    "id",
    "type",
    "category",
    "stem",
    "options",
    "fixed",
    "answer",
    "keypoints",
    "explanation",
    "reference",
    "quote",
    "difficulty",
    "tags",
    "points",
    "group",
)
_LIST_SEPARATORS = re.compile(r"\s*[,，、;；|｜\n]\s*")
_GARBLED = ("\ufffd", "锟斤拷", "烫烫烫", "屯屯屯")


def _number(text: str) -> float | None:
    try:
        value = float(unicodedata.normalize("NFKC", text))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


class BankBuilder:
    """Collects the questions, problems and warnings of one file into a bank mapping."""

    def __init__(self, filename: str, slug: str, title: str, *, explicit: frozenset[str] = frozenset()) -> None:
        self.filename = filename
        self.slug = slug
        self.title = title
        self.source = ""
        #: Bank fields given by the caller (`--bank`, `--title`): what the file says does not replace them.
        self.explicit = explicit
        self.problems: list[ImportProblem] = []
        self.warnings: list[ImportProblem] = []
        self.questions: list[dict[str, Any]] = []
        self.categories: dict[str, str] = {}  # id -> title, in the bank's order
        self._category_ids: dict[str, str] = {}  # folded title or id -> id
        self._ids: dict[str, str] = {}  # id -> location
        self._stems: dict[int, str] = {}  # digest of the folded stem -> location
        self._fields = {name: QuestionSchema().fields[name] for name in _CHECKED_FIELDS}

    # --- messages -------------------------------------------------------------------------------------

    def problem(self, location: str, message: str) -> None:
        """Record a question left out (or a row that could not be read)."""
        self.problems.append(ImportProblem(location, clip(message)))

    def warn(self, location: str, message: str, *, at: int | None = None) -> None:
        """Record something worth saying about an imported question (`at`: before the warning of that index,
        for a note about the whole table known only once its rows are read)."""
        warning = ImportProblem(location, clip(message))
        if at is None:
            self.warnings.append(warning)
        else:
            self.warnings.insert(at, warning)

    def adopt(self, name: str, value: str) -> None:
        """Take the bank's slug, title or source from the file itself, unless the caller gave it."""
        value = clean(value)
        if not value or name in self.explicit or self.questions:
            return
        if name == "slug" and not re.fullmatch(SLUG, value):
            self.warn(self.filename, f"题库标识“{clip(value, 30)}”不合规（只能用小写字母、数字和连字符），未采用")
            return
        setattr(self, name, value)

    # --- categories -----------------------------------------------------------------------------------

    def declare_category(self, category_id: str, title: str) -> None:
        """A chapter the file declares (the 章节 sheet, GIFT/XML categories), kept in the file's order."""
        self.categories.setdefault(category_id, title)
        self._category_ids[folded(title)] = category_id
        self._category_ids[folded(category_id)] = category_id

    def category_id(self, text: str) -> str:
        """The id of the chapter named `text` (a title or an id), declaring it the first time it is seen."""
        if text in self._category_ids:  # the same spelling as a row before: no need to fold it again
            return self._category_ids[text]
        key = folded(text)
        if key in self._category_ids:
            self._category_ids[text] = self._category_ids[key]
            return self._category_ids[key]
        if re.fullmatch(SLUG, text) and text not in self.categories:
            new_id = text
        else:
            number = len(self.categories) + 1
            while f"ch{number}" in self.categories:
                number += 1
            new_id = f"ch{number}"
        self.declare_category(new_id, text)
        return new_id

    # --- questions ------------------------------------------------------------------------------------

    def add(self, draft: Draft) -> None:
        """Build, check and keep one question; a problem leaves it out and is reported at its location."""
        try:
            question = self._build(draft)
            question = self._validated(question)
        except RowError as error:
            self.problem(draft.location, str(error))
            return
        for note in draft.notes:
            self.warn(draft.location, note)
        self.questions.append(question)

    def result(self, fmt: str) -> ImportResult:
        """The bank of every good question, with the problems and warnings, in file order."""
        bank: dict[str, Any] = {"bank": self.slug, "title": self.title}
        if self.source:
            bank["source"] = self.source
        if self.categories:
            bank["categories"] = [{"id": key, "title": title} for key, title in self.categories.items()]
        bank["questions"] = self.questions
        return ImportResult(bank, self.problems, self.warnings, fmt)

    def _build(self, draft: Draft) -> dict[str, Any]:
        stem = clean(draft.stem)
        if not stem:
            raise RowError("题干为空")
        written = "\n".join((stem, draft.answer, *draft.options, draft.explanation, draft.reference))
        if any(mark in written for mark in _GARBLED):
            raise RowError(
                "有乱码（如“�”“锟斤拷”）：文件可能是 GBK 编码却被当作 UTF-8 打开后又保存了，请用原文件重新导入"
            )
        options = [clean(option) for option in draft.options]
        while options and not options[-1]:
            options.pop()
        if len(options) > len(OPTION_LETTERS):
            raise RowError(f"选项最多{len(OPTION_LETTERS)}个（A–H），这里有{len(options)}个")
        kind = question_type(draft, stem, options)
        question: dict[str, Any] = {"id": self._id(draft, stem), "type": kind}
        if draft.category.strip():
            question["category"] = self.category_id(clean(draft.category))
        question["stem"] = stem
        if kind in ("single", "multiple"):
            choice_answer(question, draft, options)
        elif kind == "judge":
            question["answer"] = judge_answer(draft, options)
        elif kind == "fill":
            fill_answer(question, draft, options)
        else:
            short_answer(question, draft)
        self._extras(question, draft)
        return question

    def _extras(self, question: dict[str, Any], draft: Draft) -> None:
        fixed = clean(draft.fixed)
        if fixed:
            keys = option_keys(fixed)
            if keys is None:
                raise RowError(f"固定选项“{clip(fixed, 20)}”应为选项字母，如 D")
            question["fixed"] = keys
        for name in ("explanation", "reference", "quote"):
            text = clean(getattr(draft, name))
            if text:
                question[name] = text
        difficulty = clean(draft.difficulty)
        if difficulty:
            question["difficulty"] = self._difficulty(difficulty)
        points = clean(draft.points)
        if points:
            value = _number(points)
            if value is None or value <= 0:
                raise RowError(f"分值“{clip(points, 20)}”应为大于 0 的数字")
            question["points"] = int(value) if value.is_integer() else value
        tags = list(dict.fromkeys(split_text(draft.tags, _LIST_SEPARATORS)))
        if tags:
            question["tags"] = tags
        group = clean(draft.group)
        if group:
            question["group"] = group

    @staticmethod
    def _difficulty(text: str) -> int:
        word = folded(text)
        if word in DIFFICULTY_WORDS:
            return DIFFICULTY_WORDS[word]
        value = _number(text)
        if value is None or not value.is_integer() or not 1 <= value <= 5:
            raise RowError(f"难度“{clip(text, 20)}”应为 1–5 或 简单/中等/较难/困难")
        return int(value)

    def _id(self, draft: Draft, stem: str) -> str:
        """The id the file gives, or `<bank>-<8 hex of the stem>`: the same file gives the same ids."""
        written = clean(draft.id)
        digest = hashlib.sha1(folded(stem).encode("utf-8")).hexdigest()
        key = int(digest[:16], 16)  # a small int, not a 40-character string, per row: memory stays flat
        if key in self._stems:
            draft.notes.append(f"题干与 {self._stems[key]} 的题目相同（重复的题目？）")
        else:
            self._stems[key] = draft.location
        if written:
            if written in self._ids:
                raise RowError(f"题目ID“{clip(written, 30)}”与 {self._ids[written]} 重复")
            self._ids[written] = draft.location
            return written
        base = f"{self.slug}-{digest[:8]}"
        candidate, number = base, 2
        while candidate in self._ids:
            candidate, number = f"{base}-{number}", number + 1
        self._ids[candidate] = draft.location
        return candidate

    def _validated(self, question: dict[str, Any]) -> dict[str, Any]:
        """Check with the bank format's own rules; return the question in the documented key order."""
        problems = TYPE_RULES[question["type"]](question)
        if problems:
            raise RowError(_first_message(problems))
        for name, field in self._fields.items():
            if name in question and not (name != "quote" and _SLUG.match(question[name])):
                try:
                    field.deserialize(question[name])
                except ValidationError as error:
                    raise RowError(_first_message({name: error.messages})) from None
        return {key: question[key] for key in KEY_ORDER if key in question}


def _first_message(messages: Any, name: str = "") -> str:
    """The schema's first message, named by its Chinese field label."""
    if isinstance(messages, dict):
        key, value = next(iter(messages.items()))
        return _first_message(value, name or str(key))
    if isinstance(messages, list):
        return _first_message(messages[0], name)
    text = translate(str(messages))
    label = FIELD_LABELS.get(name, "")
    return text if not label or folded(label) in folded(text) else f"{label}：{text}"
