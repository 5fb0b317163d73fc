"""Banks out as GIFT, for Moodle: what GIFT can say is kept, the rest is named in a comment.

Each question is `::id::[plain]stem{answers####解析}` (plain text keeps its spaces) under a `$CATEGORY:`
per chapter, with `// [tag:…]` lines for its tags. Single choice `{=right ~wrong}`; multiple choice by
weights (`~%50%` right, `~%-100%` wrong); judge `{TRUE}`/`{FALSE}`; a one-blank fill as a short answer
(`{=一年 =1年}`, the stem keeps its `____`); short as an essay `{}` (its reference answer in a comment).
A fill with several blanks cannot be written in GIFT and is left out with a comment. 出处, 原文, 难度, 题组
and 分值 have no place in GIFT.
"""

from __future__ import annotations

from typing import Any

_SPECIAL = str.maketrans({char: f"\\{char}" for char in "~=#{}:\\"} | {"\n": "\\n"})


def escape(text: str) -> str:
    """Text with GIFT's control characters escaped and line breaks written as `\\n`."""
    return str(text).translate(_SPECIAL)


def _weight(count: int) -> str:
    value = 100 / count
    return str(int(value)) if value.is_integer() else f"{value:.5f}"


def _answers(question: dict[str, Any]) -> str | None:
    kind = question["type"]
    options = question.get("options") or {}
    if kind == "single":
        return " ".join(f"{'=' if key == question['answer'] else '~'}{escape(text)}" for key, text in options.items())
    if kind == "multiple":
        right = set(question["answer"])
        share = _weight(len(right))
        return " ".join(f"~%{share if key in right else '-100'}%{escape(text)}" for key, text in options.items())
    if kind == "judge":
        return "TRUE" if question["answer"] else "FALSE"
    if kind == "fill":
        if len(question["answer"]) != 1:
            return None
        return " ".join(f"={escape(text)}" for text in question["answer"][0])
    return ""


def bank_to_gift(bank: dict[str, Any]) -> str:
    """The bank as GIFT text (UTF-8), one question per paragraph."""
    titles = {item["id"]: item["title"] for item in bank.get("categories", [])}
    lines = [f"// {bank.get('title', '')}（{bank.get('bank', '')}）：由 quizengine 导出", ""]
    current = None
    for question in bank.get("questions", []):
        category = question.get("category")
        if category != current and category in titles:
            lines += [f"$CATEGORY: {bank.get('title', '')}/{titles[category]}", ""]
            current = category
        answers = _answers(question)
        if answers is None:
            lines += [f"// 未导出 {question['id']}：有多个空的填空题无法用 GIFT 表示", ""]
            continue
        if question["type"] == "short" and question.get("answer"):
            lines.append(f"// 参考答案：{' '.join(str(question['answer']).split())}")
        if question.get("tags"):
            lines.append("// " + " ".join(f"[tag:{tag}]" for tag in question["tags"]))
        explanation = question.get("explanation")
        feedback = f"####{escape(explanation)}" if explanation else ""
        lines += [f"::{question['id']}::[plain]{escape(question['stem'])}{{{answers}{feedback}}}", ""]
    return "\n".join(lines)
