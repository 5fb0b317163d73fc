"""Moodle XML (`<quiz><question type="…">…`): multichoice, truefalse, shortanswer, essay and categories.

Parsed with defusedxml: a file that declares entities (the "billion laughs" XML bomb) or fetches external
ones is refused before anything is expanded. HTML question text becomes plain text. Other question types
(matching, numerical, cloze, calculated…) are reported as unsupported at their line; a `description` is
skipped with a warning.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .builder import BankBuilder
from .common import MAX_ROWS, Draft, ImportRefused, html_to_text

UNSUPPORTED = {
    "matching": "匹配题",
    "numerical": "数值题",
    "multianswer": "完形填空（Cloze）题",
    "calculated": "计算题",
    "calculatedsimple": "计算题",
    "calculatedmulti": "计算题",
    "ddwtos": "拖放题",
    "gapselect": "选词填空题",
    "randomsamatch": "随机匹配题",
    "ordering": "排序题",
}


class _LineBuilder(TreeBuilder):
    """A tree builder that remembers the line where each <question> starts."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[int, int] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        element = super().start(tag, attrs)
        if tag == "question" and self.parser is not None:
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def parse_xml(data: bytes) -> tuple[Element, dict[int, int]]:
    """The document's root and the line of each <question>; refuses entity bombs and malformed XML."""
    target = _LineBuilder()
    parser = DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    target.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as error:
        raise ImportRefused("XML 文件中声明了实体或外部引用（可能是“XML 炸弹”），出于安全考虑拒绝读取") from error
    except ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else 1
        raise ImportRefused(f"XML 格式有误（第{line}行）：文件不完整或不是 Moodle XML") from error
    return root, target.lines


def _text(element: Element | None) -> str:
    """The text of `<x format="…"><text>…</text></x>` as plain bank text."""
    if element is None:
        return ""
    node = element.find("text")
    value = (node.text if node is not None else element.text) or ""
    return html_to_text(value) if element.get("format", "html") == "html" else value.strip()


def _fraction(answer: Element) -> float:
    try:
        return float(answer.get("fraction", "0"))
    except ValueError:
        return 0.0


def _draft(location: str, question: Element, kind: str) -> Draft:
    draft = Draft(location, stem=_text(question.find("questiontext")))
    draft.explanation = _text(question.find("generalfeedback"))
    name = _text(question.find("name"))
    tags = [_text(tag) for tag in question.findall("tags/tag")]
    draft.tags = "|".join(tag for tag in tags if tag)
    answers = question.findall("answer")
    if kind == "truefalse":
        right = [answer for answer in answers if _fraction(answer) >= 100]
        words = [_text(answer).lower() for answer in right]
        draft.type = "judge"
        draft.answer = words[0] if len(words) == 1 else ""
    elif kind == "essay":
        draft.type = "short"
        draft.answer = _text(question.find("graderinfo"))
    elif kind == "shortanswer":
        draft.type = "fill"
        full = [_text(answer) for answer in answers if _fraction(answer) >= 100]
        if len(full) < len(answers):
            draft.notes.append("部分得分的答案没有对应的字段，未导入")
        draft.blanks = [[text for text in full if text and text != "*"]]
        if "__" not in draft.stem and "＿＿" not in draft.stem:
            draft.stem = f"{draft.stem}____"
            draft.notes.append("题干中没有空，已在末尾加上 ____")
    else:
        _choice(draft, question, answers)
    if name and name == name.lower() and all(part.isalnum() and part.isascii() for part in name.split("-")):
        draft.id = name  # our own ids survive a trip through Moodle
    return draft


def _choice(draft: Draft, question: Element, answers: list[Element]) -> None:
    single = (question.findtext("single") or "true").strip().lower() in ("true", "1")
    draft.options = [_text(answer) for answer in answers]
    if single:
        draft.correct = [index for index, answer in enumerate(answers) if _fraction(answer) >= 100]
        if any(0 < _fraction(answer) < 100 for answer in answers):
            draft.notes.append("部分得分的选项按错误选项导入")
        draft.type = "single"
    else:
        draft.correct = [index for index, answer in enumerate(answers) if _fraction(answer) > 0]
        draft.type = "multiple"


def read_moodle_xml(data: bytes, builder: BankBuilder) -> None:
    """Every question of a Moodle XML file into `builder`; categories become chapters."""
    root, lines = parse_xml(data)
    if root.tag != "quiz":
        raise ImportRefused(f"不是 Moodle XML 题库：根元素应为 <quiz>，实际为 <{root.tag}>")
    category = ""
    count = 0
    for question in root.iter("question"):
        location = f"{builder.filename}:{lines.get(id(question), 1)}"
        kind = question.get("type", "")
        if kind == "category":
            path = _text(question.find("category"))
            category = path.rstrip("/").rsplit("/", 1)[-1].strip()
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportRefused(f"文件超过 {MAX_ROWS:,} 道题的上限，请分成几个文件导入")
        if kind in ("multichoice", "truefalse", "shortanswer", "essay"):
            draft = _draft(location, question, kind)
            draft.category = category
            builder.add(draft)
        elif kind == "description":
            builder.warn(location, "说明文字（description），不是题目，已跳过")
        else:
            label = UNSUPPORTED.get(kind, f"题型“{kind}”")
            builder.problem(location, f"Moodle {label}暂不支持，未导入")
    if count == 0:
        raise ImportRefused("没有找到 Moodle XML 题目（<question> 元素）")
