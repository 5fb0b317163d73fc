"""The base of every WTForms form here: HTML forms read only form fields, never a JSON body."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto


class HtmlForm(FlaskForm):
    """FlaskForm that ignores JSON bodies.

    Flask-WTF reads a JSON body as form data through `ImmutableMultiDict(request.get_json())`: a body that
    is not an object (`true`, `[1]`) made every form view a 500. Our forms are posted by browsers; a JSON
    post is simply an empty submission, refused by the form's own validators.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            """Form fields and files as Flask-WTF reads them; nothing for a JSON body."""
            if formdata is _Auto and request.is_json:
                return None
            return super().wrap_formdata(form, formdata)
