"""The shared wire parser: bounded, finite, typed; bad input raises BadInput with Chinese reasons."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from quizengine.schemas import BadInput, Int, Number, Text, WireSchema, parse
from quizengine.services.spreadsheet import workbook_bytes


class _Sample(WireSchema):
    count = Int(lo=1, hi=100)
    delta = Number(lo=-1000, hi=1000)
    reason = Text(max_length=5)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "x",
        {"count": 2**63},
        {"count": "²"},
        {"count": True},
        {"delta": "nan"},
        {"delta": float("inf")},
        {"delta": True},
        {"reason": "太长了太长了"},
        {"unknown": 1},
    ],
)
def test_bad_payloads_raise_bad_input(payload: object) -> None:
    with pytest.raises(BadInput) as caught:
        parse(_Sample(), payload)
    assert caught.value.message.startswith(("输入有误", "请求内容"))


def test_good_payload_is_typed_and_stripped() -> None:
    assert parse(_Sample(), {"count": "7", "delta": "-2.5", "reason": " 加分 "}) == {
        "count": 7,
        "delta": -2.5,
        "reason": "加分",
    }


def test_field_reasons_are_chinese() -> None:
    with pytest.raises(BadInput) as caught:
        parse(_Sample(), {"delta": "nan", "x": 1})
    assert caught.value.fields == {"delta": "须为有限的数字", "x": "不认识的字段"}


def test_spreadsheet_writes_formula_like_text_as_text() -> None:
    data = workbook_bytes([("s", ["姓名"], [['=HYPERLINK("http://evil","点我")'], ["+1"], ["-2"], ["@A1"], ["张三"]])])
    sheet = load_workbook(io.BytesIO(data))["s"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [cell.value for cell in cells] == ['=HYPERLINK("http://evil","点我")', "+1", "-2", "@A1", "张三"]
    assert all(cell.data_type == "s" for cell in cells)
