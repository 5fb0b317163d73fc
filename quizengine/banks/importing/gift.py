"""Moodle's GIFT format: parsed into the question nodes gift-pegjs produces, then into bank questions.

`parse_gift` follows gift-pegjs (the peer suite in shared/peer-suites/gift-pegjs is its test data) and Moodle:
questions are separated by blank lines; `//` lines are comments (`// [id:…]`, `// [tag:…]` set the next question's id
and tags); `::title::`, a `[html]`/`[markdown]`/`[plain]`/`[moodle]` text format, and an answer block `{…}`
that may sit inside the stem (the stem then shows `_____`). `\\~ \\= \\# \\{ \\} \\:` are escaped control
characters, `\\n` a new line. Supported: multiple choice (single, or several right answers by `=` or by
positive `%weight%`), true/false, short answer (→ fill), essay (→ short), `$CATEGORY` (→ chapters);
numerical and matching questions are reported as unsupported at their line; a description (text without
an answer block) is skipped with a warning.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from .builder import BankBuilder
from .common import MAX_ROWS, Draft, ImportRefused, html_to_text

_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]")
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_ESCAPED = "~=#{}:\\"
BLANK = "_____"


def _unescaped(text: str, targets: str) -> list[int]:
    """Positions of the characters of `targets` in `text` that are not escaped with a backslash."""
    found, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char in targets:
            found.append(index)
        index += 1
    return found


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        if char == "n":
            return "\n"
        return char if char in _ESCAPED else match.group(0)

    return re.sub(r"\\(.)", replace, text, flags=re.DOTALL)


def _formatted(raw: str, default: str) -> dict[str, str]:
    """`{format, text}` as gift-pegjs gives it: moodle text has its line breaks and runs of spaces joined."""
    match = _FORMAT.match(raw)
    fmt = match.group(1) if match else default
    text = _unescape(raw[match.end() :] if match else raw)
    if fmt == "moodle":  # Moodle's auto-format joins lines; plain text keeps its spaces and line breaks
        text = re.sub(r"\s\s+", " ", re.sub(r"[\r\n]", " ", text))
    return {"format": fmt, "text": text.strip()}


def _feedback(raw: str | None, default: str) -> dict[str, str] | None:
    if raw is None:
        return None
    value = _formatted(raw, default)
    return value if value["text"] else None


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _split_at(text: str, positions: list[int]) -> list[str]:
    bounds = [0, *positions, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


def _choices(block: str, fmt: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The `=`/`~` answers of a block (without its #### general feedback), and their markers."""
    starts = _unescaped(block, "=~")
    choices, markers = [], []
    for part in _split_at(block, starts)[1:]:
        marker, body = part[0], part[1:]
        weight = _WEIGHT.match(body)
        if weight:
            body = body[weight.end() :]
        hashes = _unescaped(body, "#")
        text, feedback = (body[: hashes[0]], body[hashes[0] + 1 :]) if hashes else (body, None)
        choices.append(
            {
                "isCorrect": marker == "=",
                "weight": _number(weight.group(1)) if weight else None,
                "text": _formatted(text, fmt),
                "feedback": _feedback(feedback, fmt),
            }
        )
        markers.append(marker)
    return choices, markers


def _general_feedback(body: str) -> tuple[str, str | None]:
    """The block without its `####` general feedback, and that feedback (None when there is none)."""
    index = body.find("####")
    while index > 0 and body[index - 1] == "\\":
        index = body.find("####", index + 1)
    return (body[:index], body[index + 4 :]) if index != -1 else (body, None)


def _answer_block(block: str, fmt: str, node: dict[str, Any]) -> None:
    """Fill in the type and the answers of a question node from the text between its braces."""
    body = block.strip()
    if body.startswith("#") and not body.startswith("####"):
        node["type"] = "Numerical"
        return
    main, overall = _general_feedback(body)
    node["globalFeedback"] = _feedback(overall, fmt)
    if not main.strip():
        node["type"] = "Essay"
        return
    parts = _split_at(main, _unescaped(main, "#"))
    head = parts[0].strip()
    if head in _TRUE_FALSE:
        feedbacks = [part[1:] for part in parts[1:]]
        node.update(type="TF", isTrue=_TRUE_FALSE[head])
        node["trueFeedback"] = _feedback(feedbacks[0], fmt) if feedbacks else None
        node["falseFeedback"] = _feedback(feedbacks[1], fmt) if len(feedbacks) > 1 else None
        return
    if main.strip()[:1] not in ("=", "~"):
        main = "=" + main.strip()  # `{One}`: a single right answer written bare
    choices, markers = _choices(main, fmt)
    if all(marker == "=" for marker in markers) and all("->" in choice["text"]["text"] for choice in choices):
        node["type"] = "Matching"  # recognised, not modelled: it is refused on import
        return
    node["type"] = "Short" if all(marker == "=" for marker in markers) else "MC"
    node["choices"] = choices


def parse_question(text: str) -> dict[str, Any]:
    """One question (already stripped of comments) as a gift-pegjs node."""
    node: dict[str, Any] = {"type": "Description", "title": None}
    rest = text.strip()
    if rest.startswith("::"):
        ends = [index for index in _unescaped(rest[2:], ":") if rest[2 + index : 4 + index] == "::"]
        if ends:
            node["title"] = re.sub(r"\s+", " ", _unescape(rest[2 : 2 + ends[0]])).strip()
            rest = rest[4 + ends[0] :]
    opens = _unescaped(rest, "{")
    if not opens:
        node["stem"] = _formatted(rest, "moodle")
        node["hasEmbeddedAnswers"] = False
        return node
    closes = [index for index in _unescaped(rest, "}") if index > opens[0]]
    if not closes:
        raise ValueError("答案块缺少右花括号“}”")
    before, block, after = rest[: opens[0]], rest[opens[0] + 1 : closes[0]], rest[closes[0] + 1 :]
    match = _FORMAT.match(before)
    fmt = match.group(1) if match else "moodle"
    embedded = bool(after.strip())
    stem_raw = f"{before.rstrip()} {BLANK} {after.lstrip()}" if embedded else before
    node["stem"] = _formatted(stem_raw, "moodle")
    node["hasEmbeddedAnswers"] = embedded
    node["globalFeedback"] = None
    _answer_block(block, fmt, node)
    return node


def _meta(line: str, meta: dict[str, Any]) -> None:
    for kind, value in re.findall(r"\[(id|tag):([^\]]*)\]", line):
        if kind == "id":
            meta["id"] = value.strip()
        else:
            meta.setdefault("tags", []).append(value.strip())


def parse_gift(text: str) -> list[tuple[int, dict[str, Any] | str]]:
    """Every question of a GIFT file as (line, gift-pegjs node), or (line, Chinese problem) when it cannot be read."""
    found: list[tuple[int, dict[str, Any] | str]] = []
    chunk: list[str] = []
    start = 0
    meta: dict[str, Any] = {}

    def flush() -> None:
        nonlocal chunk, meta
        if chunk and "".join(chunk).strip():
            try:
                node = parse_question("\n".join(chunk))
            except ValueError as error:
                found.append((start, str(error)))
            else:
                if node["type"] != "Category":
                    node = {"id": meta.get("id"), "tags": meta.get("tags"), **node}
                found.append((start, node))
            meta = {}
        chunk = []

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("//"):
            _meta(stripped, meta)
        elif stripped.startswith("$CATEGORY:"):
            flush()
            found.append((number, {"type": "Category", "title": stripped[len("$CATEGORY:") :].strip()}))
        elif not stripped:
            flush()
        else:
            if not chunk:
                start = number
            chunk.append(line)
    flush()
    return found


def _plain(text: dict[str, str] | None) -> str:
    """A gift text as bank text: HTML becomes plain text (tags dropped, entities decoded); the rest as written."""
    if not text:
        return ""
    return html_to_text(text["text"]) if text["format"] == "html" else text["text"]


UNSUPPORTED = {
    "Numerical": "数值题（{#…}）暂不支持，未导入",
    "Matching": "匹配题（=…->…）暂不支持，未导入",
}


def _draft(location: str, node: dict[str, Any]) -> Draft:
    draft = Draft(location, stem=_plain(node["stem"]), explanation=_plain(node.get("globalFeedback")))
    title = node.get("title") or ""
    if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", title):
        draft.id = title  # our own export names each question by its id
    draft.tags = "|".join(node.get("tags") or [])
    choices = node.get("choices") or []
    if any(choice.get("feedback") for choice in choices) or node.get("trueFeedback") or node.get("falseFeedback"):
        draft.notes.append("选项的反馈（#…）没有对应的字段，未导入")
    kind = node["type"]
    if kind == "TF":
        draft.type, draft.truth = "judge", node["isTrue"]
    elif kind == "Essay":
        draft.type = "short"
    elif kind == "Short":
        draft.type = "fill"
        full = [choice for choice in choices if choice["weight"] in (None, 100) and choice["text"]["text"] != "*"]
        if len(full) < len(choices):
            draft.notes.append("部分得分（%…%）和通配（*）的答案没有对应的字段，未导入")
        draft.blanks = [[_plain(choice["text"]) for choice in full]]
        if not re.search(r"[_＿]{2,}", draft.stem):
            draft.stem = f"{draft.stem}____"
            draft.notes.append("题干中没有空，已在末尾加上 ____")
    else:
        _choice_draft(draft, choices)
    return draft


def _choice_draft(draft: Draft, choices: list[dict[str, Any]]) -> None:
    draft.options = [_plain(choice["text"]) for choice in choices]
    marked = [index for index, choice in enumerate(choices) if choice["isCorrect"]]
    weighted = [index for index, choice in enumerate(choices) if (choice["weight"] or 0) > 0]
    if marked:
        draft.correct = marked
        if set(weighted) - set(marked):
            draft.notes.append("部分得分（%…%）的选项按错误选项导入")
    else:
        draft.correct = weighted
    draft.type = "single" if len(draft.correct) == 1 else "multiple"


def read_gift(text: str, builder: BankBuilder) -> None:
    """Every question of a GIFT file into `builder`; categories become chapters."""
    category = ""
    count = 0
    for line, node in parse_gift(text):
        location = f"{builder.filename}:{line}"
        if isinstance(node, str):
            builder.problem(location, node)
            continue
        if node["type"] == "Category":
            category = node["title"].rstrip("/").rsplit("/", 1)[-1].strip()
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportRefused(f"文件超过 {MAX_ROWS:,} 道题的上限，请分成几个文件导入")
        if node["type"] in UNSUPPORTED:
            builder.problem(location, f"GIFT {UNSUPPORTED[node['type']]}")
        elif node["type"] == "Description":
            builder.warn(location, "说明文字（没有答案块 {…}），不是题目，已跳过")
        else:
            draft = _draft(location, node)
            draft.category = category
            builder.add(draft)
    if count == 0:
        raise ImportRefused("没有找到 GIFT 题目：每道题写成“题干{答案}”，题与题之间空一行")
