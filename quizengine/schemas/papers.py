"""Printed-paper inputs: which part of a paper to show, and the form that draws a paper from blueprint rows."""

from __future__ import annotations

from marshmallow import fields, validate

from . import INT_MAX, Int, Text, WireSchema
from .exam import TITLE_MAX, section_fields

#: What a printed paper shows: the paper alone, the paper and then its answer key, or the key alone.
PARTS = ("paper", "all", "key")


class PaperView(WireSchema):
    """The part of a paper to show and, for a drawn paper, the seed that draws it again."""

    part = fields.String(load_default="paper", validate=validate.OneOf(PARTS, error="请选择打印试卷、答案或两者"))
    seed = Int(lo=0, hi=INT_MAX, load_default=None)


class _DrawForm(PaperView):
    title = Text(max_length=TITLE_MAX, load_default="")
    date = Text(max_length=40, load_default="")
    minutes = Int(lo=1, hi=600, load_default=None)


#: The printed-paper form: heading details, the seed and the same blueprint rows as the schedule form.
DrawForm = WireSchema.from_dict({**_DrawForm._declared_fields, **section_fields()}, name="DrawForm")
