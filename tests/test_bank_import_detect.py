"""`--format auto`: which reader a file goes to, by content first and then by name."""

from __future__ import annotations

import pytest

from quizengine.banks.importing import ImportRefused, detect_format

from .bank_files import HEADER, xlsx_bytes


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (xlsx_bytes(HEADER), "题库.dat", "xlsx"),  # a zip is a workbook whatever its name
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "题库.xlsx", "xlsx"),  # OLE: refused by the workbook reader
        ("题干,答案\n题,A\n".encode(), "题库.csv", "csv"),
        ("题干\t答案\n".encode(), "题库.tsv", "csv"),
        (b"Who?{=no one}", "q.gift", "gift"),
        (b"<quiz></quiz>", "q.xml", "moodlexml"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><quiz/>", "q.txt", "moodlexml"),
        ("题目\nA. 甲\nB. 乙\nANSWER: A\n".encode(), "q.txt", "aiken"),
        ("::q1::题目{=甲 ~乙}\n".encode(), "q.txt", "gift"),
        ("$CATEGORY: 党章\n".encode(), "paste", "gift"),
        ("1. 题目\nA. 甲\n答案：A\n".encode("gbk"), "paste.txt", "text"),
    ],
)
def test_detect_format(data: bytes, name: str, expected: str) -> None:
    assert detect_format(data, name) == expected


def test_xls_by_name_is_refused() -> None:
    with pytest.raises(ImportRefused, match=r"不支持旧版 Excel 文件（\.xls）"):
        detect_format(b"<table></table>", "导出.xls")
