"""Reading spreadsheets safely: .xlsx (streamed, read-only) and CSV/TSV text, as rows of cell texts.

Shared by the bank importer and the roster import. A whole file that cannot be used raises `ImportRefused`
with a Chinese message: damaged or foreign files, old .xls, password-protected workbooks (an encrypted
OOXML package is an OLE file, like .xls), zip bombs (checked on the archive's declared sizes, which
Python's zipfile also enforces while inflating), text in an unknown encoding. Formulas are never evaluated:
openpyxl's `data_only` gives the value Excel cached when it last saved the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

from .common import MAX_UNZIPPED_BYTES, ImportRefused

NOT_A_TABLE = "无法读取该文件：文件已损坏或不是表格，请上传 Excel 工作簿（.xlsx）或 CSV 文件"
OLD_EXCEL = "不支持旧版 Excel 文件（.xls），请在 Excel 或 WPS 中另存为 .xlsx 或 CSV 后再上传"
ENCRYPTED = "工作簿设有打开密码，无法读取：请在 Excel 或 WPS 中取消密码（文件→信息→保护工作簿）后另存再上传"
UNKNOWN_ENCODING = "无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码后再上传"
UNKNOWN_TEXT_ENCODING = "无法识别文本文件的编码，请另存为 UTF-8 或 GBK 编码后再上传"
NOT_TEXT = "无法读取该文件：它不是文本文件（可能已损坏），请检查文件格式"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]{1,3}\d+(?::[A-Z]{1,3}\d+)?)"')


def cell_text(value: Any, number_format: str | None = None) -> str:
    """A cell as the text Excel shows: 1921 not 1921.0, 0.1 not 0.1000000000000001, dates as ISO dates, and a
    number through its format (0.005 as 0.5% in a percent cell, 3.5 as 3.50 with two decimals)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if number_format and number_format != "General" and isinstance(value, int | float):
        shown = formatted_number(value, number_format)
        if shown is not None:
            return shown
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


_FORMAT_NOISE = re.compile(r"\[[^\]]*\]|_.|\*.")  # [Red], [$-409], padding (_) and fill (*x) characters
_FORMAT_LITERAL = re.compile(r'"([^"]*)"|\\(.)')
_NUMBER_PART = re.compile(r"[0#?][0#?,]*(?:\.[0#?]*)?|\.[0#?]+")
_NOT_A_PLAIN_NUMBER = re.compile(r"[yYmMdDhHsSeE@/]")  # dates, times, scientific, text and fractions


def formatted_number(value: float, number_format: str) -> str | None:
    """`value` as Excel shows it through `number_format` — percent, fixed decimals, thousands separators and
    literal text around the number (¥, 元) — or None for formats left to the plain rule (dates, scientific…).

    Rounds half away from zero on the decimal value, as Excel does; a negative value takes the format's
    second section when it has one (its sign or brackets come from there), else a leading minus.
    """
    sections = number_format.split(";")
    section = _FORMAT_NOISE.sub("", sections[1] if value < 0 and len(sections) > 1 else sections[0])
    literals: list[str] = []

    def hold(match: re.Match[str]) -> str:  # quoted text may hold 0, %, letters: keep it aside
        literals.append(match.group(1) if match.group(1) is not None else match.group(2))
        return "\x00"

    section = _FORMAT_LITERAL.sub(hold, section)
    number = _NUMBER_PART.search(section)
    if number is None or _NOT_A_PLAIN_NUMBER.search(section):
        return None
    pattern = number.group()
    decimals = len(pattern.partition(".")[2])
    amount = Decimal(repr(abs(value))) * 100 ** section.count("%")
    rounded = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    digits = format(rounded, f"{',' if ',' in pattern else ''}.{decimals}f")
    sign = "-" if value < 0 and len(sections) < 2 and rounded else ""
    text = section[: number.start()] + sign + digits + section[number.end() :]
    pieces = iter(literals)
    return "".join(next(pieces) if char == "\x00" else char for char in text)


def decode_text(data: bytes, *, table: bool = True) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else GB18030 (covers GBK).

    `table` says whether a CSV was expected (for the messages) or a text format (Word text, GIFT, Aiken).
    """
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    elif b"\x00" in data:  # binary, not text
        raise ImportRefused(NOT_A_TABLE if table else NOT_TEXT)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(UNKNOWN_ENCODING if table else UNKNOWN_TEXT_ENCODING)


def refuse_ole(data: bytes) -> None:
    """Refuse an OLE compound file: an encrypted workbook (password to open) or an old .xls."""
    if data.startswith(OLE_SIGNATURE):
        raise ImportRefused(ENCRYPTED if _ENCRYPTED_STREAM in data else OLD_EXCEL)


def check_archive(data: bytes) -> None:
    """Refuse a damaged zip, or one that would inflate past MAX_UNZIPPED_BYTES (a zip bomb), before reading it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ImportRefused(NOT_A_TABLE) from error
    if total > MAX_UNZIPPED_BYTES:
        raise ImportRefused(
            f"工作簿解压后有 {total / 1024 / 1024:.0f} MB，超过 {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB 的上限"
            "（可能是“压缩炸弹”），未读取"
        )


@contextmanager
def open_workbook(data: bytes) -> Iterator[Workbook]:
    """A read-only workbook with cached formula values; refuses .xls, encrypted, damaged and bomb files."""
    refuse_ole(data)
    check_archive(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops (data validation, …)
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign package
        raise ImportRefused(NOT_A_TABLE) from error
    try:
        yield workbook
    finally:
        workbook.close()


@dataclass(frozen=True)
class Merge:
    """A merged range, 1-based and inclusive: its value sits in (min_row, min_col)."""

    min_col: int
    min_row: int
    max_col: int
    max_row: int


def merged_ranges(workbook: Workbook, sheet: Any) -> list[Merge]:
    """The sheet's merged ranges, scanned from its XML (read-only sheets do not load them), by first row.

    The scan inflates the sheet once more and looks only for `<mergeCell ref=…>`: no XML tree is built.
    """
    path = getattr(sheet, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if path is None or archive is None:
        return []
    merges, tail = [], b""
    with archive.open(path) as source:
        while chunk := source.read(1 << 20):
            buffer = tail + chunk
            cut = buffer.rfind(b"<")
            found, tail = (buffer[:cut], buffer[cut:]) if cut > 0 else (buffer, b"")
            merges.extend(_MERGE.findall(found))
    merges.extend(_MERGE.findall(tail))
    ranges = [Merge(*range_boundaries(ref.decode("ascii"))) for ref in merges]
    return sorted(ranges, key=lambda merge: merge.min_row)


def sheet_rows(sheet: Any, merges: list[Merge] | None = None) -> Iterator[tuple[int, list[str]]]:
    """Every row of a read-only sheet as (row number as Excel shows it, cell texts).

    A range merged over several rows gives its value to each of its rows (in its first column), as the
    person who merged the cells meant; other cells of a merge stay empty.
    """
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # some writers record a wrong used range; read what is really there
    pending = [merge for merge in merges or [] if merge.max_row > merge.min_row]
    next_merge = 0
    active: list[tuple[Merge, str]] = []
    try:
        for number, row in enumerate(sheet.iter_rows(), start=1):
            cells = [_shown(cell) for cell in row]
            if active:
                active = [(merge, text) for merge, text in active if merge.max_row >= number]
                for merge, text in active:
                    _put(cells, merge.min_col - 1, text)
            while next_merge < len(pending) and pending[next_merge].min_row <= number:
                merge = pending[next_merge]
                next_merge += 1
                index = merge.min_col - 1
                active.append((merge, cells[index] if index < len(cells) else ""))
            yield number, cells
    except ImportRefused:
        raise
    except Exception as error:  # a broken sheet inside a valid zip
        raise ImportRefused(NOT_A_TABLE) from error


def _shown(cell: Any) -> str:
    """A cell's text; a number's format is looked up only for numbers (most cells are text)."""
    value = cell.value
    if type(value) is float or type(value) is int:
        return cell_text(value, cell.number_format)
    return cell_text(value)


def _put(cells: list[str], index: int, text: str) -> None:
    while len(cells) <= index:
        cells.append("")
    if not cells[index]:
        cells[index] = text


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Rows of CSV/TSV text (comma, tab or semicolon, guessed from the first lines), numbered as Excel shows."""
    sample = text[:4096].split("\n", 5)[:5]
    delimiter = max(",\t;", key=lambda char: sum(line.count(char) for line in sample))
    number = 0
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            yield number, values
    except csv.Error as error:
        raise ImportRefused(f"CSV 文件格式有误（第{number + 1}行附近）：{error}") from error
