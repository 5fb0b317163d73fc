"""Exam inputs: the autosave JSON body and the organizers' forms (schedule, grade, void, 补考)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from quizengine.engine.questions import MultiplePolicy
from quizengine.modes.timed_exam import ReviewPolicy

from . import Int, Number, Text, WireSchema
from .answers import Answer

#: Sections on the schedule form (s0_… to s4_…).
FORM_SECTIONS = 5
#: Largest score one question can be worth, and the largest pass mark.
POINTS_MAX = 1_000.0
PASS_MARK_MAX = 100_000.0
COMMENT_MAX = 500
REASON_MAX = 200
TITLE_MAX = 100


class SaveAnswer(WireSchema):
    """Autosave: `{position, response}`; position is a JSON integer (never a string or true)."""

    position = Int(lo=0, strict=True, required=True)
    response = Answer()


def _choice(values: list[str], message: str) -> fields.String:
    return fields.String(validate=validate.OneOf(values, error=message))


def section_fields() -> dict[str, fields.Field]:
    """The blueprint rows of a form (s0_… to s4_…): bank, type, difficulty, count and points per row."""
    section: dict[str, fields.Field] = {}
    for index in range(FORM_SECTIONS):
        section[f"s{index}_count"] = Int(lo=0, hi=1_000)
        section[f"s{index}_points"] = Number(lo=0.01, hi=POINTS_MAX)
        section[f"s{index}_difficulty"] = Int(lo=1, hi=5)
        section[f"s{index}_bank"] = Text(max_length=100)
        section[f"s{index}_type"] = Text(max_length=20)
    return section


def form_sections(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The blueprint sections of a parsed form, as exams store them (rows without a count are skipped).

    The schedule form and the printed-paper form share the rows, so a paper is drawn from the same rules.
    """
    return [
        {
            "banks": [form[f"s{index}_bank"]] if form.get(f"s{index}_bank") else [],
            "types": [form[f"s{index}_type"]] if form.get(f"s{index}_type") else [],
            "difficulties": [form[f"s{index}_difficulty"]] if f"s{index}_difficulty" in form else [],
            "count": form[f"s{index}_count"],
            "points": form.get(f"s{index}_points", 1.0),
        }
        for index in range(FORM_SECTIONS)
        if form.get(f"s{index}_count") is not None
    ]


class _ExamForm(WireSchema):
    title = Text(max_length=TITLE_MAX, load_default="")
    branch = fields.List(Int(lo=1), validate=validate.Length(max=500))
    opens_at = Text(max_length=40, load_default="")
    closes_at = Text(max_length=40, load_default="")
    duration_minutes = Int(lo=0, hi=24 * 60, load_default=0)
    pass_mark = Number(lo=0, hi=PASS_MARK_MAX, load_default=60.0)
    attempts_allowed = Int(lo=1, hi=100, load_default=1)
    review_policy = _choice([policy.value for policy in ReviewPolicy], "请选择查看答案的方式")
    multiple_policy = _choice([policy.value for policy in MultiplePolicy], "请选择多选题计分方式")
    grace_seconds = Int(lo=0, hi=3_600, load_default=30)
    shuffle_questions = Text(max_length=10)
    shuffle_options = Text(max_length=10)
    paper_mode = _choice(["uniform", "random"], "请选择组卷方式")  # services.exam_papers UNIFORM / RANDOM
    difficulty_tolerance = Number(lo=0, hi=20)


#: The schedule form: the exam's settings and up to FORM_SECTIONS blueprint sections (blank ones skipped).
ExamForm = WireSchema.from_dict(
    {**_ExamForm._declared_fields, **section_fields()},
    name="ExamForm",
)


class ExamRef(WireSchema):
    """The exam a form came from (where to go back to)."""

    exam_id = Int(lo=0, load_default=0)


class GradeForm(WireSchema):
    """A 简答 grade: score and an optional comment."""

    score = Number(lo=0, hi=POINTS_MAX, required=True)
    comment = Text(max_length=COMMENT_MAX, load_default="")


class VoidForm(WireSchema):
    """Void one question: which, how (full credit or removed) and why."""

    question_id = Int(lo=1, required=True)
    mode = Text(max_length=20, load_default="")
    reason = Text(max_length=REASON_MAX, load_default="")


class OverrideForm(WireSchema):
    """补考 for one member: a window of their own, a duration and extra attempts (blank: the exam's)."""

    member_id = Int(lo=1, required=True)
    opens_at = Text(max_length=40, load_default="")
    closes_at = Text(max_length=40, load_default="")
    duration_minutes = Int(lo=1, hi=24 * 60, load_default=None, allow_none=True)
    extra_attempts = Int(lo=0, hi=100, load_default=0)
