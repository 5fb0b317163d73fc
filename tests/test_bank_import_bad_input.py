"""Files that must be refused whole, or read carefully, each with a Chinese message (issue #13 item 6)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from quizengine.banks.importing import ImportRefused, common, import_bank, spreadsheet

from .bank_files import HEADER, add_merges, by_stem, load_result, set_formula, xlsx_bytes

GOOD_ROW = ["单选题", "年满多少岁可以申请入党？", "十六岁", "十八岁", "二十岁", "二十二岁", "B", ""]


def _refused(data: bytes, name: str = "题库.xlsx", **kwargs: str) -> str:
    with pytest.raises(ImportRefused) as refused:
        import_bank(data, name, **kwargs)
    return str(refused.value)


def test_damaged_xlsx() -> None:
    data = xlsx_bytes(HEADER, GOOD_ROW)
    assert "文件已损坏" in _refused(data[: len(data) // 2])
    assert "文件已损坏" in _refused(b"PK\x03\x04 not a zip at all")


def test_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert "文件已损坏或不是表格" in _refused(buffer.getvalue())


def test_old_xls_is_refused_with_how_to_convert() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    assert _refused(ole).startswith("不支持旧版 Excel 文件（.xls）")
    assert _refused(b"<html><table></table></html>", "导出.xls").startswith("不支持旧版 Excel 文件（.xls）")


def test_password_protected_workbook() -> None:
    # An encrypted .xlsx is an OLE compound file holding an "EncryptedPackage" stream (MS-OFFCRYPTO).
    directory_entry = "EncryptedPackage".encode("utf-16-le").ljust(64, b"\x00")
    encrypted = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + directory_entry + bytes(448)
    assert _refused(encrypted).startswith("工作簿设有打开密码")


def test_zip_bomb_is_refused_before_inflating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "MAX_UNZIPPED_BYTES", 1024 * 1024)
    from quizengine.banks.importing import tables

    monkeypatch.setattr(tables, "MAX_UNZIPPED_BYTES", 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (2 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 10_000
    assert re.search(r"超过 1 MB 的上限（可能是“压缩炸弹”）", _refused(data))


def test_the_stated_zip_bomb_limit_is_200_mb() -> None:
    assert common.MAX_UNZIPPED_BYTES == 200 * 1024 * 1024


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    assert common.MAX_ROWS == 100_000
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 3)
    rows = [HEADER, *[[*GOOD_ROW[:1], f"题{number}", *GOOD_ROW[2:]] for number in range(4)]]
    assert _refused(xlsx_bytes(*rows)) == "文件超过 3 行的上限，请分成几个文件导入"
    csv = "\n".join(",".join(row) for row in rows).encode()
    assert _refused(csv, "题库.csv") == "文件超过 3 行的上限，请分成几个文件导入"
    assert import_bank(xlsx_bytes(*rows[:4]), "题库.xlsx").ok  # exactly the limit is fine


def test_file_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    from quizengine import banks

    monkeypatch.setattr(banks.importing, "MAX_FILE_BYTES", 100)
    assert _refused(b"x" * 101, "a.txt").startswith("文件过大")


def test_formulas_give_their_cached_values_and_are_never_evaluated(tmp_path: Path) -> None:
    data = xlsx_bytes(HEADER, GOOD_ROW, ["单选题", "没有缓存值的公式", "甲", "乙", "", "", "A", ""])
    data = set_formula(data, "D2", 'CONCAT("十八","岁")', "十八岁（缓存）")
    data = set_formula(data, "B3", '"题"&"干"', None)  # never calculated by Excel: no cached value
    result = import_bank(data, "公式.xlsx")
    assert [str(problem) for problem in result.problems] == ["公式.xlsx:3: 题干为空"]
    assert result.bank["questions"][0]["options"]["B"] == "十八岁（缓存）"


def test_text_that_looks_like_a_formula_or_html_stays_text(tmp_path: Path) -> None:
    stem = '<script>alert("x")</script><b>加粗</b> =1+1'
    row = ["单选题", stem, "=SUM(A1:A3)", "@cmd", "+1", "-1", "A", "<img src=x onerror=alert(1)>"]
    result = import_bank(xlsx_bytes(HEADER, row), "脚本.xlsx")
    question = load_result(result, tmp_path).questions[0]
    assert question.stem == stem
    assert [option.text for option in question.options] == ["=SUM(A1:A3)", "@cmd", "+1", "-1"]
    assert question.explanation == "<img src=x onerror=alert(1)>"


def test_gbk_file_read_as_utf8_by_mistake() -> None:
    # Someone opened a GBK CSV as UTF-8 (every Chinese character became U+FFFD) and saved it again.
    garbled = ",".join(HEADER).encode("gbk").decode("utf-8", errors="replace").encode("utf-8")
    message = _refused(garbled + b"\n", "乱码.csv")
    assert "乱码" in message and "GBK" in message
    row = ",".join(GOOD_ROW).encode("gbk").decode("utf-8", errors="replace")
    result = import_bank((",".join(HEADER) + "\n" + row).encode("utf-8"), "乱码.csv")
    assert [problem.location for problem in result.problems] == ["乱码.csv:2"]
    assert "GBK" in result.problems[0].message


def test_gbk_csv_is_detected_and_read() -> None:
    data = "\n".join([",".join(HEADER), ",".join(GOOD_ROW)]).encode("gbk")
    assert import_bank(data, "题库.csv").bank["questions"][0]["stem"] == GOOD_ROW[1]


def test_undecodable_csv() -> None:
    assert (
        _refused(b"\xe5\xa7\x93\xe5,\xff\x80\n", "x.csv")
        == "无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码后再上传"
    )


def test_empty_files_and_sheets() -> None:
    assert _refused(b"") == "文件是空的"
    assert _refused(xlsx_bytes()) == "工作簿中没有内容（所有工作表都是空的）"
    assert _refused(xlsx_bytes([], [None, None])) == "工作簿中没有内容（所有工作表都是空的）"
    assert "没有找到表头行" in _refused(xlsx_bytes(["随便写的", "内容"]))
    assert _refused(b"\n\n,,\n", "空.csv") == "文件中没有内容"


def test_questions_on_a_later_sheet_after_an_empty_one() -> None:
    data = xlsx_bytes(extra={"题目": [HEADER, GOOD_ROW]})
    assert import_bank(data, "题库.xlsx").bank["questions"][0]["answer"] == "B"


def test_header_only_gives_an_empty_bank() -> None:
    result = import_bank(xlsx_bytes(HEADER), "题库.xlsx")
    assert result.ok and result.bank["questions"] == []


def test_repeated_column_is_refused() -> None:
    assert "有重复的列：答案" in _refused(xlsx_bytes(["题干", "答案", "正确答案"], ["题", "A", "B"]))


def test_merged_cells_give_their_value_to_every_row(tmp_path: Path) -> None:
    rows = [
        ["党章题库（合并的标题行）"],
        HEADER,
        ["单选题", "第一题", "甲", "乙", "", "", "A", "同一解析"],
        [None, "第二题", "甲", "乙", "", "", "B", None],
        [None, "第三题", "甲", "乙", "", "", "A", None],
    ]
    data = add_merges(xlsx_bytes(*rows), "A1:H1", "A3:A5", "H3:H5")
    result = import_bank(data, "合并.xlsx")
    assert result.ok, result.problems
    questions = by_stem(load_result(result, tmp_path))
    assert {question.type for question in questions.values()} == {"single"}
    assert {question.explanation for question in questions.values()} == {"同一解析"}
    assert [str(warning) for warning in result.warnings] == [
        "合并.xlsx:3: 合并单元格的内容已填入第3–5行",
        "合并.xlsx:3: 合并单元格的内容已填入第3–5行",
    ]


def test_huge_cell_messages_stay_short() -> None:
    result = import_bank(xlsx_bytes(HEADER, ["奇怪题型" * 1000, "题", "", "", "", "", "", ""]), "x.xlsx")
    assert len(result.problems[0].message) < 120
