"""Questions pasted from Word as plain text: numbered stems, lettered options, 答案/解析 lines.

    一、单项选择题（每题2分）
    1. 年满多少岁……可以申请加入中国共产党？
    A. 十六岁  B. 十八岁
    C. 二十岁  D. 二十二岁
    答案：B
    解析：党章第一条……

Stems are numbered `1.` `1、` `（1）` `第1题`; options `A.` `A、` `A．` `A)` one or several to a line; answers
`答案：B`, `【答案】B`, `正确答案：AB`; a section heading such as `三、判断题` sets the type of the questions
below it; a judge mark `（√）`/`（×）` in the stem, or a choice answer `（B）` in its brackets, is the answer.
A line that is none of these continues what came before it (the stem, an option, the 解析…).
"""

from __future__ import annotations

import re

from .builder import BankBuilder
from .common import MAX_ROWS, OPTION_LETTERS, Draft, ImportRefused, type_word

_NUMBER = r"[0-9０-９]+"
QUESTION = re.compile(
    rf"^\s*(?:第\s*{_NUMBER}\s*题\s*[.、．:：]?|{_NUMBER}\s*[.、．:：)）](?![0-9０-９])|[（(]\s*{_NUMBER}\s*[)）])\s*(.*)$"
)
HEADING = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+\s*[、.．]|[【\[])?\s*([^\s（(【\]】]{2,10}?)\s*[】\]]?\s*(?:[（(].*[)）])?\s*$"
)
_OPTION_MARK = re.compile(r"(?:^|(?<=\s))(?:([A-H])\s*[.、．:：)）]|[（(]([A-H])[)）])\s*")
_LABELS = {
    "answer": "正确答案|参考答案|标准答案|答案",
    "explanation": "答案解析|试题解析|题目解析|解析",
    "reference": "出处|依据",
    "difficulty": "难度",
    "category": "章节|知识点",
    "points": "分值",
    "type_text": "题型",
    "keypoints": "得分要点|评分要点|要点",
}
FIELD_LINE = re.compile(
    r"^\s*(?:[【\[]\s*(?P<b>{0})\s*[】\]]\s*[:：]?|(?P<c>{0})\s*[:：])\s*(?P<rest>.*)$".format(
        "|".join(_LABELS.values())
    )
)
_LABEL_FIELD = {label: name for name, labels in _LABELS.items() for label in labels.split("|")}
_JUDGE_MARK = re.compile(r"[（(]\s*([√×✓✔✗✘])\s*[)）]")
_CHOICE_IN_STEM = re.compile(r"[（(]\s*([A-H]{1,8})\s*[)）]")


class _Question:
    """The lines of one question while it is read."""

    def __init__(self, location: str, first: str, type_text: str) -> None:
        self.draft = Draft(location, type_text=type_text)
        self.stem = [first]
        self.fields: dict[str, list[str]] = {}
        self.last = "stem"

    def add_options(self, line: str) -> bool:
        """Take the options on `line` if it starts with the next letter; False when it is not an options line."""
        marks = []
        expected = len(self.draft.options)
        for match in _OPTION_MARK.finditer(line):
            letter = match.group(1) or match.group(2)
            if expected + len(marks) < len(OPTION_LETTERS) and letter == OPTION_LETTERS[expected + len(marks)]:
                marks.append(match)
        if not marks or marks[0].start() != len(line) - len(line.lstrip()):
            return False
        for mark, following in zip(marks, [*marks[1:], None], strict=True):
            end = following.start() if following else len(line)
            self.draft.options.append(line[mark.end() : end].strip())
        self.last = "option"
        return True

    def continue_with(self, line: str) -> None:
        if self.last == "stem":
            self.stem.append(line)
        elif self.last == "option":
            self.draft.options[-1] = f"{self.draft.options[-1]} {line.strip()}".strip()
        else:
            self.fields[self.last].append(line)

    def finish(self) -> Draft:
        draft = self.draft
        stem = "\n".join(self.stem).strip()
        for name, lines in self.fields.items():
            setattr(draft, name, "\n".join(lines).strip())
        judge = _JUDGE_MARK.search(stem)
        if judge and not draft.answer:
            draft.answer = judge.group(1)
            stem = (stem[: judge.start()] + stem[judge.end() :]).strip()
        choice = _CHOICE_IN_STEM.search(stem)
        if choice and draft.options and not draft.answer:
            draft.answer = choice.group(1)
            stem = f"{stem[: choice.start()]}（  ）{stem[choice.end() :]}"
        draft.stem = stem
        return draft


def section_type(line: str) -> str | None:
    """The type word of a heading line such as `一、单项选择题（每题2分）` or `【判断题】`, else None."""
    match = HEADING.match(line)
    if not match:
        return None
    word = match.group(1)
    return word if type_word(word) else None


def read_text(text: str, builder: BankBuilder) -> None:
    """Every question of pasted text into `builder`."""
    section = ""
    current: _Question | None = None
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        heading = section_type(line)
        question = QUESTION.match(line)
        field = FIELD_LINE.match(line)
        if heading:
            section = heading
        elif question:
            if current:
                builder.add(current.finish())
            count += 1
            if count > MAX_ROWS:
                raise ImportRefused(f"文件超过 {MAX_ROWS:,} 道题的上限，请分成几个文件导入")
            current = _Question(f"{builder.filename}:{number}", question.group(1), section)
        elif current is None:
            continue  # a title or a note above the first question
        elif field:
            name = _LABEL_FIELD[field.group("b") or field.group("c")]
            current.fields[name] = [field.group("rest")]
            current.last = name
        elif current.last in ("stem", "option") and current.add_options(line):
            pass
        else:
            current.continue_with(line)
    if current:
        builder.add(current.finish())
    if count == 0:
        raise ImportRefused(
            "没有找到编号的题目：每道题以“1.”“1、”“（1）”或“第1题”开头，选项以“A.”开头，答案写成“答案：B”"
        )
