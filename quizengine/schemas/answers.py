"""A member's answer as it arrives from a form or the exam autosave, bounded before any question type sees it."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

#: Longest short answer (简答题) a member may send; a 50 MB "answer" once reached the database.
ANSWER_TEXT_MAX = 2_000
#: Most items in a list answer (option keys of a multiple choice, blanks of a fill-in).
ANSWER_ITEMS_MAX = 26
#: Longest item of a list answer (one blank).
ANSWER_ITEM_MAX = 200


class Answer(fields.Field):
    """null (blank), true/false, a text, or a list of short texts — the shapes question types accept.

    The question type then checks the shape against the question (InvalidResponse); this field only keeps
    the size bounded and the value flat.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            if len(value) > ANSWER_TEXT_MAX:
                raise ValidationError(f"答案过长（最多 {ANSWER_TEXT_MAX} 字）")
            return value
        if isinstance(value, list):
            if len(value) > ANSWER_ITEMS_MAX or not all(isinstance(item, str) for item in value):
                raise ValidationError("答案格式不正确")
            if any(len(item) > ANSWER_ITEM_MAX for item in value):
                raise ValidationError(f"每空答案最多 {ANSWER_ITEM_MAX} 字")
            return value
        raise ValidationError("答案格式不正确")
