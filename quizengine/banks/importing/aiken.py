"""Aiken: single-choice questions, read by Moodle's rules.

    党的最高领导机关是
    A. 党的中央委员会
    B) 党的全国代表大会和它所产生的中央委员会
    ANSWER: B

Every line is trimmed and lines shorter than two characters are skipped. A line starting with a capital
letter and `)` or `.` is an option; a line starting with `ANSWER:` ends the question (its first letter is
the answer); any other line starts a new question (the stem is one line). As in Moodle, these are errors:
an option or ANSWER line before any question ("not started"), fewer than two options at ANSWER ("missing
answers"), and a new question before the previous one had its ANSWER ("not complete": the previous one is
left out). Unlike Moodle, a question still open at the end of the file is reported rather than dropped.
"""

from __future__ import annotations

import re

from .builder import BankBuilder
from .common import MAX_ROWS, Draft, ImportRefused

OPTION = re.compile(r"^[A-Z][).][ \t]?")
ANSWER = re.compile(r"^ANSWER:")


def read_aiken(text: str, builder: BankBuilder) -> None:
    """Every question of an Aiken file into `builder`."""
    current: Draft | None = None
    count = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if len(line) < 2:
            continue
        location = f"{builder.filename}:{number}"
        if OPTION.match(line) or ANSWER.match(line):
            if current is None:
                builder.problem(location, "这一行是选项或 ANSWER 行，但前面没有题干（题目尚未开始）")
                continue
            if OPTION.match(line):
                current.options.append(line[2:].strip())
                continue
            answer = line.split(":", 1)[1].strip()
            if len(current.options) < 2:
                builder.problem(current.location, f"第{number}行 ANSWER 之前的选项少于两个")
            else:
                current.answer = answer[:1]
                if len(answer) > 1:
                    current.notes.append(f"ANSWER 行“{answer}”只取第一个字母 {answer[:1]}（Aiken 只有单选题）")
                builder.add(current)
            current = None
            continue
        if current is not None:
            builder.problem(current.location, f"题目不完整：第{number}行开始了新题，这一题还没有 ANSWER 行，未导入")
        count += 1
        if count > MAX_ROWS:
            raise ImportRefused(f"文件超过 {MAX_ROWS:,} 道题的上限，请分成几个文件导入")
        current = Draft(location, stem=line, type="single")
    if current is not None:
        builder.problem(current.location, "题目不完整：文件结束时这一题还没有 ANSWER 行，未导入")
    if count == 0:
        raise ImportRefused("没有找到 Aiken 题目：题干一行，选项以“A.”或“A)”开头，最后一行写“ANSWER: B”")
