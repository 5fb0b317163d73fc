"""Fixtures the bank-import tests write themselves: workbooks, CSV bytes, and loading a converted bank."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl

from quizengine.banks.importing import ImportResult, bank_to_yaml
from quizengine.banks.loader import Bank, load_banks
from quizengine.services.spreadsheet import append_row

HEADER = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析"]


def xlsx_bytes(*rows: Sequence[Any], title: str = "Sheet", extra: dict[str, list[list[Any]]] | None = None) -> bytes:
    """An .xlsx whose first sheet holds `rows` as given (header included), plus extra named sheets."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        append_row(sheet, list(row))  # text stays text ("=1+1" too), as Excel stores what people type as text
    for name, extra_rows in (extra or {}).items():
        other = workbook.create_sheet(name)
        for row in extra_rows:
            append_row(other, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite_sheet(data: bytes, change: Any, member: str = "xl/worksheets/sheet1.xml") -> bytes:
    """The same .xlsx with one member's XML text changed by `change(text) -> text` (for cached formulas, merges)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == member:
                content = change(content.decode("utf-8")).encode("utf-8")
            target.writestr(info.filename, content)
    return buffer.getvalue()


def add_merges(data: bytes, *refs: str) -> bytes:
    """The workbook with merged ranges added to its first sheet."""
    cells = "".join(f'<mergeCell ref="{ref}"/>' for ref in refs)
    return rewrite_sheet(
        data,
        lambda text: text.replace("</sheetData>", f'</sheetData><mergeCells count="{len(refs)}">{cells}</mergeCells>'),
    )


def set_formula(data: bytes, ref: str, formula: str, cached: str | None) -> bytes:
    """Replace cell `ref` by a formula with (or without) the value Excel would have cached."""

    def change(text: str) -> str:
        value = f"<v>{cached}</v>" if cached is not None else ""
        kind = ' t="str"' if cached is not None else ""
        pattern = re.compile(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)')
        assert pattern.search(text), ref
        return pattern.sub(f'<c r="{ref}"{kind}><f>{escape(formula)}</f>{value}</c>', text, count=1)

    return rewrite_sheet(data, change)


def load_result(result: ImportResult, tmp_path: Path, name: str = "out.yaml") -> Bank:
    """The converted bank written as YAML and loaded back by the real loader (what `banks check` does)."""
    path = tmp_path / name
    path.write_text(bank_to_yaml(result.bank), encoding="utf-8")
    [bank] = load_banks([path])
    return bank


def by_stem(bank: Bank) -> dict[str, Any]:
    """The bank's questions keyed by stem."""
    return {question.stem: question for question in bank.questions}
