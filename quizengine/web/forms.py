"""The base of every WTForms form here: HTML forms read only form fields, never a JSON body; messages in Chinese."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms.i18n import get_translations

#: WTForms ships a Simplified Chinese catalogue ("该字段是必填字段。", "选择无效：无法转化类型。", …).
_CHINESE = get_translations(["zh"])


class HtmlForm(FlaskForm):
    """FlaskForm that ignores JSON bodies and speaks Chinese.

    Flask-WTF reads a JSON body as form data through `ImmutableMultiDict(request.get_json())`: a body that
    is not an object (`true`, `[1]`) made every form view a 500. Our forms are posted by browsers; a JSON
    post is simply an empty submission, refused by the form's own validators.
    WTForms' built-in messages (a validator without its own text, a value a field cannot read) are English
    by default, and Flask-WTF's translations need Babel: the Chinese catalogue is used instead.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            """Form fields and files as Flask-WTF reads them; nothing for a JSON body."""
            if formdata is _Auto and request.is_json:
                return None
            return super().wrap_formdata(form, formdata)

        def get_translations(self, form: Any) -> Any:
            """The Chinese catalogue for every message a validator has no own text for."""
            return _CHINESE
