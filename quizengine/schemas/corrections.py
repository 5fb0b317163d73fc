"""纠错 forms: a member's report and an organizer's resolution."""

from __future__ import annotations

from marshmallow import fields, validate

from quizengine.services.corrections import REASONS, TEXT_MAX

from . import Int, Text, WireSchema


class ReportForm(WireSchema):
    """A report: what kind of problem, and in the member's words (optional except for 其他问题)."""

    reason = fields.String(required=True, validate=validate.OneOf(list(REASONS), error="请选择问题类型"))
    text = Text(max_length=TEXT_MAX, load_default="")


class ResolveForm(WireSchema):
    """A resolution: fixed (in revision N) or rejected (with a reason)."""

    outcome = fields.String(required=True, validate=validate.OneOf(["fixed", "rejected"], error="请选择处理结果"))
    revision = Int(lo=1, load_default=None)
    note = Text(max_length=TEXT_MAX, load_default="")
