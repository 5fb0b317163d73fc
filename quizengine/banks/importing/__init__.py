"""Question banks from the files people keep them in, and back: Excel/CSV, Word text, GIFT, Aiken, Moodle XML.

Pure code (no Flask, no database): the CLI (`quizengine banks import/export/template`) and the 题库管理
pages call these functions. Every way in produces a YAML v1 bank mapping that `banks check` accepts;
see docs/bank-import.md for the layouts, limits and errors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import PurePath

from .aiken import read_aiken
from .builder import BankBuilder
from .common import MAX_FILE_BYTES, ImportProblem, ImportRefused, ImportResult
from .exporting import EXPORT_FORMATS, bank_from_loaded, bank_to_yaml, blank_template_xlsx, export_bank
from .gift import read_gift
from .moodlexml import read_moodle_xml
from .spreadsheet import read_csv, read_xlsx
from .tables import OLD_EXCEL, OLE_SIGNATURE, decode_text
from .text import read_text

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ImportProblem",
    "ImportRefused",
    "ImportResult",
    "bank_from_loaded",
    "bank_to_yaml",
    "blank_template_xlsx",
    "detect_format",
    "export_bank",
    "import_bank",
]


def _text_reader(read: Callable[[str, BankBuilder], None]) -> Callable[[bytes, BankBuilder], None]:
    def reader(data: bytes, builder: BankBuilder) -> None:
        read(decode_text(data, table=False), builder)

    return reader


#: Format name → reader filling a BankBuilder from the file's bytes.
READERS: dict[str, Callable[[bytes, BankBuilder], None]] = {
    "xlsx": read_xlsx,
    "csv": read_csv,
    "text": _text_reader(read_text),
    "gift": _text_reader(read_gift),
    "aiken": _text_reader(read_aiken),
    "moodlexml": read_moodle_xml,
}
FORMATS = tuple(READERS)
_EXTENSIONS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".csv": "csv", ".tsv": "csv", ".gift": "gift", ".xml": "moodlexml"}
_GIFT_MARKS = re.compile(r"(?m)^\s*(?:::.*?::|\$CATEGORY:)|\{\s*(?:[=~#}]|T\s*\}|F\s*\}|TRUE\b|FALSE\b)")
_AIKEN_ANSWER = re.compile(r"(?m)^\s*ANSWER:\s*[A-Z]")


def detect_format(data: bytes, filename: str) -> str:
    """The format of a file: a zip is an .xlsx; then the extension; then, for text, what its lines look like."""
    suffix = PurePath(filename).suffix.lower()
    if data.startswith((b"PK\x03\x04", OLE_SIGNATURE)):
        return "xlsx"
    if suffix == ".xls":
        raise ImportRefused(OLD_EXCEL)
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<quiz")):
        return "moodlexml"
    text = decode_text(data if len(data) <= 65536 else data[:65536].rsplit(b"\n", 1)[0], table=False)
    if _AIKEN_ANSWER.search(text):
        return "aiken"
    return "gift" if _GIFT_MARKS.search(text) else "text"


def default_slug(filename: str) -> str:
    """A bank slug from the file name: its ASCII words (`dangzhang-2022`), else `bank-<6 hex of the name>`."""
    stem = PurePath(filename).stem
    words = re.findall(r"[a-z0-9]+", stem.lower())
    return "-".join(words)[:40].strip("-") or f"bank-{hashlib.sha1(stem.encode('utf-8')).hexdigest()[:6]}"


def import_bank(
    data: bytes, filename: str, *, fmt: str = "auto", slug: str | None = None, title: str | None = None
) -> ImportResult:
    """Convert one file into a YAML v1 bank mapping with only its good questions.

    Each question left out is in `problems`, each remark in `warnings`, both located as `FILE:ROW` or
    `FILE:LINE`. Raises ImportRefused (a Chinese message) when the file as a whole cannot be read.
    """
    if not data.strip():
        raise ImportRefused("文件是空的")
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(f"文件过大（{len(data) / 1024 / 1024:.1f} MB，上限 {MAX_FILE_BYTES // (1024 * 1024)} MB）")
    name = PurePath(filename).name or filename
    kind = detect_format(data, filename) if fmt == "auto" else fmt
    if kind not in READERS:
        raise ImportRefused(f"未知的格式“{fmt}”，可用：auto、{'、'.join(FORMATS)}")
    explicit = frozenset(key for key, value in (("slug", slug), ("title", title)) if value)
    builder = BankBuilder(filename, slug or default_slug(name), title or PurePath(name).stem, explicit=explicit)
    READERS[kind](data, builder)
    return builder.result(kind)
