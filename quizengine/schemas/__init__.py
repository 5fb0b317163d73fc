"""Wire schemas: every value a client sends (form, JSON, socket event) is parsed here, strictly and bounded.

One rule for the whole app, so no handler can forget it: numbers are finite and within bounds, strings
have a maximum length, unknown fields are refused, and a payload that is not a mapping is refused. A
failure raises `BadInput` with a Chinese message naming the field; it never reaches the database.
Feature schemas live in sibling modules (`schemas.contest`, `schemas.exam`, …) and use these fields.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

#: Bounds every integer from a client must respect unless a field narrows them (fits a signed 32-bit column).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: Default ceiling for a free-text field (names, reasons); long answers declare their own.
TEXT_MAX = 200
#: Deepest nesting of arrays/objects accepted in a JSON body (real payloads need 3).
JSON_MAX_DEPTH = 16

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


class BadInput(ValueError):
    """A client value that fails its schema; `message` is user-facing Chinese, `fields` maps field → reason."""

    def __init__(self, message: str, fields_: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields_ or {})


def Int(*, lo: int = INT_MIN, hi: int = INT_MAX, strict: bool = False, **kwargs: Any) -> fields.Integer:
    """A bounded integer. `strict` refuses strings (JSON and socket payloads); forms send digits as text.

    Booleans are refused either way, and so are Unicode digits such as "²" (int() rejects them).
    """
    return _NoBoolInteger(strict=strict, validate=validate.Range(lo, hi, error=f"须在 {lo} 到 {hi} 之间"), **kwargs)


def Number(*, lo: float, hi: float, **kwargs: Any) -> fields.Float:
    """A finite, bounded number: NaN and ±infinity are refused, as are booleans."""
    return _NoBoolFloat(allow_nan=False, validate=validate.Range(lo, hi, error=f"须在 {lo:g} 到 {hi:g} 之间"), **kwargs)


def Text(*, max_length: int = TEXT_MAX, min_length: int = 0, also: Any = None, **kwargs: Any) -> fields.String:
    """A string of at most `max_length` characters (after stripping surrounding whitespace); `also`: more checks."""
    length = validate.Length(min_length, max_length, error=f"长度须在 {min_length} 到 {max_length} 字之间")
    return _StrippedString(validate=[length, *([also] if also else [])], **kwargs)


class _NoBoolInteger(fields.Integer):
    def _validated(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class _NoBoolFloat(fields.Float):
    def _validated(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class _StrippedString(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class WireSchema(Schema):
    """Base of every client-facing schema: unknown fields are an error, not silently kept."""

    class Meta:
        unknown = RAISE


def parse(schema: Schema, data: Any) -> dict[str, Any]:
    """Load `data` with `schema` or raise `BadInput`; a non-mapping payload (None, a list, a string) is refused."""
    if not isinstance(data, Mapping):
        raise BadInput("请求内容格式不正确")
    try:
        return schema.load(data)
    except ValidationError as error:
        reasons = {name: _first(messages) for name, messages in _flatten(error.messages).items()}
        summary = "；".join(f"{name}：{reason}" for name, reason in reasons.items())
        raise BadInput(f"输入有误（{summary}）", reasons) from None


def parse_form(schema: Schema, form: Any) -> dict[str, Any]:
    """Load the schema's own fields from a form (a Werkzeug MultiDict): list fields take every value.

    Other form keys (the CSRF token, buttons) are not the schema's business and are left out; an absent or
    blank field (an empty number input) is absent, so the field's default applies.
    """
    data: dict[str, Any] = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if isinstance(field, fields.List):
            data[key] = form.getlist(key)
        elif form.get(key, "").strip():
            data[key] = form.get(key)
    return parse(schema, data)


def parse_json(body: bytes, *, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """Decode a JSON request body, refusing nesting deeper than `max_depth` *before* decoding it.

    json.loads recurses once per level: a body of 100,000 `[` is a RecursionError (a 500), and a merely deep
    one costs time in every later walk. Strings are blanked out first so brackets inside them do not count.
    """
    skeleton = _JSON_STRING.sub(b'""', body)
    brackets = skeleton.translate(_BRACKET_STEPS, delete=bytes(set(range(256)) - set(b"[]{}")))
    depth = max(itertools.accumulate(1 if step == 1 else -1 for step in brackets), default=0)
    if depth > max_depth:
        raise BadInput(f"请求内容嵌套过深（超过 {max_depth} 层）")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise BadInput("请求内容不是有效的 JSON") from None


def _flatten(messages: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(messages, Mapping):
        flat: dict[str, Any] = {}
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix or "_": messages}


def _first(messages: Any) -> str:
    text = messages[0] if isinstance(messages, list) and messages else messages
    return _CHINESE.get(str(text), str(text))


#: marshmallow's default English messages, as members read them.
_CHINESE = {
    "Unknown field.": "不认识的字段",
    "Missing data for required field.": "必填",
    "Not a valid integer.": "须为整数",
    "Not a valid number.": "须为数字",
    "Not a valid string.": "须为文字",
    "Not a valid boolean.": "须为是或否",
    "Not a valid list.": "须为列表",
    "Not a valid mapping type.": "格式不正确",
    "Field may not be null.": "不能为空",
    "Special numeric values (nan or infinity) are not permitted.": "须为有限的数字",
    "Invalid input type.": "格式不正确",
}
