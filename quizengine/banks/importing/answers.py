"""The type of a question and its answer, read from what a file wrote (letters, 对/错, blanks…)."""

from __future__ import annotations

import re
from typing import Any

from quizengine.banks.format import clip
from quizengine.engine.questions import BLANK_PATTERN

from .common import OPTION_LETTERS, TYPE_LABELS, Draft, RowError, clean, folded, judge_word, option_keys, type_word

_EMPTY_BRACKETS = re.compile(r"[（(][\s\u3000]*[)）]")
_ALTERNATIVES = re.compile(r"\s*[|｜／]\s*")
_ONE_BLANK_ALTERNATIVES = re.compile(r"\s*[|｜／；;]\s*")
_BLANK_SEPARATORS = re.compile(r"\s*[；;]\s*")
_KEYPOINT_SEPARATORS = re.compile(r"\s*[\n|｜]\s*")


def split_text(text: str, pattern: re.Pattern[str]) -> list[str]:
    """The cleaned, non-empty parts of `text` between separators."""
    return [part for part in (clean(item) for item in pattern.split(text)) if part]


def question_type(draft: Draft, stem: str, options: list[str]) -> str:
    """The type the file names, or the one its answer implies (with a note saying so)."""
    if draft.type:
        return draft.type
    written = clean(draft.type_text)
    kind = type_word(written) if written else None
    if kind in TYPE_LABELS:
        return kind
    if written and kind is None and not folded(written).isdigit():
        raise RowError(f"无法识别的题型“{clip(written, 20)}”，可填：单选、多选、判断、填空、简答")
    inferred = _inferred(draft, stem, options, choice_only=kind == "choice")
    if kind == "choice":
        reason = f"题型“{written}”未分单选多选"
    else:
        reason = f"题型代码“{written}”没有说明" if written else "未注明题型"
    draft.notes.append(f"{reason}，按答案推断为{TYPE_LABELS[inferred]}")
    return inferred


def _inferred(draft: Draft, stem: str, options: list[str], *, choice_only: bool) -> str:
    keys = _keys(draft, options) if options else None
    if options and keys is not None:
        if not choice_only and len(options) == 2 and all(judge_word(text) is not None for text in options):
            return "judge"
        return "single" if len(keys) == 1 else "multiple"
    if choice_only:
        raise RowError("选择题的答案应为选项字母（如 B 或 ABD）")
    if draft.truth is not None or judge_word(draft.answer) is not None:
        return "judge"
    has_blank = BLANK_PATTERN.search(stem) or _EMPTY_BRACKETS.search(stem)
    if draft.blanks or (has_blank and draft.answer.strip()):
        return "fill"
    if options and not clean(draft.answer):
        raise RowError("没有填写答案")
    if options:
        raise RowError(f"有选项但答案“{clip(clean(draft.answer), 20)}”不是选项字母，无法判断题型，请填写题型")
    return "short"


def _keys(draft: Draft, options: list[str]) -> list[str] | None:
    """The right option keys: from marks in the file, letters in the answer, or an option's own text."""
    if draft.correct is not None:
        return [OPTION_LETTERS[index] for index in draft.correct] or None
    answer = clean(draft.answer)
    keys = option_keys(answer)
    if keys is None and answer:
        matches = [index for index, text in enumerate(options) if folded(text) == folded(answer)]
        if len(matches) == 1:
            return [OPTION_LETTERS[matches[0]]]
    return keys


def choice_answer(question: dict[str, Any], draft: Draft, options: list[str]) -> None:
    """Options and answer key(s) of a single/multiple question."""
    label = TYPE_LABELS[question["type"]]
    if len(options) < 2:
        raise RowError(f"{label}至少需要两个选项（选项A、选项B…）")
    empty = [OPTION_LETTERS[index] for index, text in enumerate(options) if not text]
    if empty:
        raise RowError(f"选项{'、'.join(empty)}为空，但后面还有选项")
    keys = _keys(draft, options)
    if keys is None:
        shown = clip(clean(draft.answer), 20)
        raise RowError(f"答案“{shown}”无法识别：{label}的答案填选项字母，如 B 或 ABD" if shown else "没有填写答案")
    if len(set(keys)) != len(keys):
        raise RowError(f"答案中有重复的选项：{''.join(keys)}")
    outside = [key for key in keys if key not in OPTION_LETTERS[: len(options)]]
    if outside:
        raise RowError(f"答案 {'、'.join(outside)} 不在选项中（只有 A–{OPTION_LETTERS[len(options) - 1]}）")
    if question["type"] == "single" and len(keys) != 1:
        raise RowError(f"单选题只能有一个答案，这里是 {''.join(keys)}（应为多选题？）")
    if question["type"] == "multiple" and len(keys) < 2:
        raise RowError(f"多选题至少有两个正确选项，这里只有 {''.join(keys) or '0 个'}（应为单选题？）")
    question["options"] = dict(zip(OPTION_LETTERS, options, strict=False))
    question["answer"] = keys[0] if question["type"] == "single" else sorted(keys)


def judge_answer(draft: Draft, options: list[str]) -> bool:
    """The truth value of a judge question (对/错, √/×, T/F, or A/B against 正确/错误 options)."""
    if draft.truth is not None:
        return draft.truth
    if draft.correct is not None and len(draft.correct) == 1 and options:
        truth = judge_word(options[draft.correct[0]])
        if truth is not None:
            return truth
    answer = clean(draft.answer)
    truth = judge_word(answer)
    if truth is None and option_keys(answer) in (["A"], ["B"]):
        index = OPTION_LETTERS.index(answer.strip().upper()[0])
        written = judge_word(options[index]) if index < len(options) else None
        truth = written if written is not None else index == 0
    if truth is None:
        shown = clip(answer, 20)
        raise RowError(f"判断题答案“{shown}”无法识别，请填 对/错、正确/错误 或 √/×" if shown else "没有填写答案")
    return truth


def fill_answer(question: dict[str, Any], draft: Draft, options: list[str]) -> None:
    """Accepted answers per blank (the stem's empty brackets become blanks when it has none)."""
    stem = question["stem"]
    if not BLANK_PATTERN.search(stem) and _EMPTY_BRACKETS.search(stem):
        question["stem"] = stem = _EMPTY_BRACKETS.sub("____", stem)
        draft.notes.append("题干中的空括号已改为填空线 ____")
    blanks = len(BLANK_PATTERN.findall(stem))
    if blanks == 0:
        raise RowError("填空题题干中没有空：用一串下划线 ____ 表示每个空")
    groups = draft.blanks
    answer = clean(draft.answer)
    if groups is None and answer:
        parts = split_text(answer, _BLANK_SEPARATORS) if blanks > 1 else []
        if blanks > 1 and len(parts) == blanks:
            groups = [split_text(part, _ALTERNATIVES) for part in parts]
        else:
            groups = [split_text(answer, _ONE_BLANK_ALTERNATIVES if blanks == 1 else _ALTERNATIVES)]
    elif groups is None:
        groups = [split_text(option, _ALTERNATIVES) for option in options if option]
    if not groups:
        raise RowError("没有填写答案（填空题的答案填在“答案”列，或每个空一列填在选项列）")
    if len(groups) != blanks:
        raise RowError(
            f"题干有{blanks}个空，答案有{len(groups)}组（多个空的答案用“；”分开，同一空的多种写法用“|”分开）"
        )
    question["answer"] = groups


def short_answer(question: dict[str, Any], draft: Draft) -> None:
    """Reference text (may be empty: the grader decides) and key points."""
    question["answer"] = clean(draft.answer)
    if not question["answer"]:
        draft.notes.append("简答题没有参考答案，将由阅卷人评判")
    points = split_text(draft.keypoints, _KEYPOINT_SEPARATORS)
    if points:
        question["keypoints"] = points
