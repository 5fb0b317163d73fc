"""Self-test forms: the practice menu and one answer."""

from __future__ import annotations

from marshmallow import fields, validate

from quizengine.modes.self_test import COUNTS, PracticeKind

from . import TEXT_MAX, Int, Text, WireSchema
from .answers import Answer


class StartPractice(WireSchema):
    """The practice menu: kind, banks, chapters (`bank-id:chapter-key`), types and count."""

    kind = fields.String(
        required=True, validate=validate.OneOf([kind.value for kind in PracticeKind], error="请选择练习方式")
    )
    count = Int(lo=1, hi=max(COUNTS), load_default=10)
    bank = fields.List(Int(lo=1), validate=validate.Length(max=100))
    chapter = fields.List(
        Text(max_length=TEXT_MAX, also=validate.Regexp(r"^[0-9]{1,10}:.+$", error="章节无效")),
        validate=validate.Length(max=500),
    )
    type = fields.List(Text(max_length=20), validate=validate.Length(max=10))


class PracticeAnswer(WireSchema):
    """One answer on the question page: its position in the session and the response."""

    position = Int(lo=0, required=True)
    response = Answer()
