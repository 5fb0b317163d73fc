"""Every Excel cell we write from user or bank text goes through here: exports are code.

A cell whose text starts with `=`, `+`, `-`, `@` (or a tab/CR that Excel strips first) is a live formula in
Excel and WPS (CSV/formula injection). openpyxl would store such a string as a formula; `text_cell` stores
it as a plain string cell instead, so the sheet shows exactly what the member typed and nothing runs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Characters no file name may hold on Windows, macOS or Linux (and control characters).
_UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def text_cell(sheet: Worksheet, value: Any) -> Cell | Any:
    """A value ready for `sheet.append`: a string that Excel would read as a formula becomes a text cell."""
    if isinstance(value, str):
        if not value.startswith(_FORMULA_STARTS):
            return value
        cell = Cell(sheet)
        cell._value = value  # openpyxl's setter would turn "=…" into a formula; this keeps it a string
        cell.data_type = "s"
        cell.quotePrefix = True  # Excel keeps it text even when someone edits the cell
        return cell
    if value is None or isinstance(value, int | float | datetime):
        return value
    return text_cell(sheet, str(value))


def append_row(sheet: Worksheet, values: Sequence[Any]) -> None:
    """Append one row, every string written as text."""
    sheet.append([text_cell(sheet, value) for value in values])


def workbook_bytes(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An .xlsx of (title, header, rows) sheets with a bold header; every string cell written as text."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        append_row(sheet, header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            append_row(sheet, row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def safe_file_name(text: str, fallback: str) -> str:
    """`text` usable as (part of) a download's file name: unsafe characters become "_", at most 80 characters."""
    return _UNSAFE_IN_FILE_NAMES.sub("_", text).strip(" ._")[:80] or fallback
