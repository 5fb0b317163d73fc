"""What every importer shares: results, limits, the `Draft` a reader fills in and the words files use.

A reader (spreadsheet, text, GIFT, Aiken, Moodle XML) turns its file into `Draft`s — one question as
written, every field still text — and hands them to `BankBuilder` (builder.py), which decides the type,
reads the answer, checks the question against the bank format and gives it a stable id.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

#: Largest file accepted (an .xlsx is compressed: 20 MB holds far more than the row limit).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Largest uncompressed content of an .xlsx (a "zip bomb" inflates far past it and is refused unread).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: Most data rows (or questions, in text formats) one file may hold.
MAX_ROWS = 100_000

TYPE_LABELS = {"single": "单选题", "multiple": "多选题", "judge": "判断题", "fill": "填空题", "short": "简答题"}


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong (or worth saying) about one question or row, located as `FILE:ROW` / `FILE:LINE`."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class ImportResult:
    """A converted bank: only the good questions, plus every problem (left out) and warning (imported)."""

    bank: dict[str, Any]
    problems: list[ImportProblem]
    warnings: list[ImportProblem]
    format: str

    @property
    def ok(self) -> bool:
        """True when no question was left out."""
        return not self.problems


class ImportRefused(Exception):
    """The whole file is unusable (damaged, .xls, encrypted, a bomb, too many rows); the message is Chinese."""


class RowError(Exception):
    """A question that cannot be built; the message is Chinese."""


@dataclass
class Draft:
    """One question as a file wrote it, before anything is decided; every field is text as written."""

    location: str
    stem: str = ""
    #: The type as written (题型 cell, section heading); "" when the file does not say.
    type_text: str = ""
    #: The type when the format itself fixes it (GIFT, Aiken, Moodle XML); wins over `type_text`.
    type: str | None = None
    options: list[str] = field(default_factory=list)
    #: Indexes of the right options when the file marks them (one row per option, GIFT, XML).
    correct: list[int] | None = None
    answer: str = ""
    truth: bool | None = None
    #: Accepted answers per blank when the format gives them apart (GIFT, XML).
    blanks: list[list[str]] | None = None
    explanation: str = ""
    reference: str = ""
    category: str = ""
    difficulty: str = ""
    points: str = ""
    tags: str = ""
    quote: str = ""
    group: str = ""
    fixed: str = ""
    keypoints: str = ""
    id: str = ""
    #: Warnings the reader found on the way (partial credit dropped, HTML removed, …).
    notes: list[str] = field(default_factory=list)


#: Zero-width characters go, non-breaking spaces become spaces (one translate table: this runs per cell).
_CLEAN_CHARS = re.compile("[\u200b\u200c\u200d\u2060\ufeff\xa0\u2007\u202f]")
_CLEAN_TABLE = {
    **dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff")),
    **{ord(char): " " for char in "\xa0\u2007\u202f"},
}


def clean(text: str) -> str:
    """Trim a value: NBSP as a space, zero-width characters gone, each line's trailing blanks and the edges.

    Full-width spaces inside the text stay (they are often the writing space of a blank, `（　　）`).
    """
    if not text:
        return ""
    if _CLEAN_CHARS.search(text):
        text = text.translate(_CLEAN_TABLE)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" in text:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip()


def folded(text: str) -> str:
    """`text` for comparing words: NFKC (full-width letters as ASCII), no whitespace, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


#: Words for the question types, compared folded and without a trailing 题.
TYPE_WORDS: dict[str, str] = {
    **dict.fromkeys(("单选", "单项选择", "单选择", "单项", "single", "singlechoice", "radio", "sc"), "single"),
    **dict.fromkeys(
        ("多选", "多项选择", "不定项", "不定项选择", "多项", "multiple", "multiplechoice", "mc"), "multiple"
    ),
    **dict.fromkeys(("判断", "是非", "对错", "正误", "judge", "truefalse", "true/false", "tf", "boolean"), "judge"),
    **dict.fromkeys(("填空", "fill", "blank", "fillblank", "fillintheblank", "completion"), "fill"),
    **dict.fromkeys(("简答", "问答", "论述", "主观", "名词解释", "案例分析", "short", "essay", "shortanswer"), "short"),
}
#: Type words that only say "a choice": single or multiple is read from the answer.
CHOICE_WORDS = ("选择", "choice")


@functools.lru_cache(maxsize=256)
def type_word(text: str) -> str | None:
    """The type named by `text` (单选题, 多项选择题, judge…), "choice" for 选择题, or None when unknown."""
    word = folded(text).removesuffix("题")
    if word in TYPE_WORDS:
        return TYPE_WORDS[word]
    return "choice" if word in CHOICE_WORDS else None


TRUE_WORDS = frozenset(("对", "正确", "√", "✓", "✔", "是", "t", "true", "y", "yes", "对的", "正确的"))
FALSE_WORDS = frozenset(("错", "错误", "×", "x", "✗", "✘", "否", "f", "false", "n", "no", "错的", "错误的"))


def judge_word(text: str) -> bool | None:
    """True/False for 对/错/正确/错误/√/×/T/F (any width, trailing 。 ignored); None for anything else."""
    word = folded(text).rstrip("。.!！")
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


OPTION_LETTERS = "ABCDEFGH"
_KEY_SEPARATORS = re.compile(r"[\s,，、;；/|和及]+")


def option_keys(text: str) -> list[str] | None:
    """Option letters as written (`B`, `ABD`, `A,B,D`, `A、B、D`, `ａｂ`), in order; None if not only letters."""
    letters = _KEY_SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper().rstrip(".。")
    if not letters or any(letter not in OPTION_LETTERS for letter in letters):
        return None
    return list(letters)


#: 难度 words → level 1–5.
DIFFICULTY_WORDS = {
    **dict.fromkeys(("很简单", "非常简单", "简单", "容易", "易", "低"), 1),
    **dict.fromkeys(("较简单", "较易", "较容易", "偏易"), 2),
    **dict.fromkeys(("中等", "一般", "适中", "中", "普通"), 3),
    **dict.fromkeys(("较难", "偏难", "较困难"), 4),
    **dict.fromkeys(("困难", "难", "很难", "非常难", "高"), 5),
}


_BLOCK_TAGS = frozenset(
    ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table")
)


class _TextOf(HTMLParser):
    """Collects the text of an HTML fragment: block elements break lines, script and style say nothing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of question HTML (Moodle, GIFT `[html]`): tags dropped, entities decoded, paragraphs kept."""
    if "<" not in markup and "&" not in markup:
        return clean(markup)
    reader = _TextOf()
    reader.feed(markup)
    reader.close()
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in "".join(reader.parts).split("\n")]
    return clean(re.sub(r"\n{2,}", "\n", "\n".join(lines)))
