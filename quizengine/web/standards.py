"""验收标准 pages: the committee default (admin) and each branch's override (its organizer or an admin).

Views parse the form into the standard's JSON and call services.standards, which checks access, validates
through the engine (`StandardError`, Chinese) and writes the audit entry.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField
from wtforms.validators import NumberRange, Optional

from quizengine.engine.errors import StandardError
from quizengine.engine.periods import PERIOD_KIND_LABELS
from quizengine.engine.standard import Standard
from quizengine.extensions import db
from quizengine.models import Branch
from quizengine.services.access import NotAllowed, can_manage_branch, is_admin, is_organizer
from quizengine.services.standards import has_override, reset_standard, save_standard, standard_for_branch

from .forms import HtmlForm

bp = Blueprint("standards", __name__, url_prefix="/standards")

Page = str | Response | tuple[str, int]


def _count(label: str, most: int) -> IntegerField:
    # WTForms formats the message with %: a "%" in the label must be doubled
    message = f"{label}应在 1 到 {most} 之间".replace("%", "%%")
    return IntegerField(label, validators=[Optional(), NumberRange(1, most, message)])


#: The study-plan rules' form fields (named after the rule type) and the value each holds.
_STUDY_FIELDS = {"study_attendance": "percent", "topic_practice": "percent", "topic_quiz": "quizzes"}


class StandardForm(HtmlForm):
    """One field per rule; an empty count leaves its rule out."""

    period = SelectField(
        "考核周期", choices=[SelectChoice(kind.value, label) for kind, label in PERIOD_KIND_LABELS.items()]
    )
    sessions = _count("自测次数不少于", 10_000)
    questions = _count("或答题数不少于", 10_000)
    active_days = _count("学习天数不少于", 366)
    exam = BooleanField("参加本期考试并及格")
    points = _count("学习积分不少于", 100_000)
    contests = _count("参加知识竞赛不少于（次）", 100)
    study_attendance = _count("学习日出勤率不低于（%）", 100)
    topic_practice = _count("专题练习完成率不低于（%）", 100)
    topic_quiz = _count("参加学习日小问答不少于（次）", 100)

    @classmethod
    def of(cls, standard: Standard) -> StandardForm:
        """A form filled with a stored standard."""
        data: dict[str, Any] = {"period": standard.period_kind.value}
        for rule in standard.rules:
            values = rule.to_json()
            if values["type"] == "exam":
                data["exam"] = True
            for key in ("sessions", "questions", "days", "points", "contests"):
                if key in values:
                    data["active_days" if key == "days" else key] = values[key]
            if values["type"] in _STUDY_FIELDS:
                data[values["type"]] = values[_STUDY_FIELDS[values["type"]]]
        return cls(data=data)

    def to_json(self) -> dict[str, Any]:
        """The standard's JSON (the engine validates it)."""
        rules: list[dict[str, Any]] = []
        if self.sessions.data or self.questions.data:
            rule = {"type": "self_test", "sessions": self.sessions.data, "questions": self.questions.data}
            rules.append({key: value for key, value in rule.items() if value is not None})
        if self.active_days.data:
            rules.append({"type": "active_days", "days": self.active_days.data})
        if self.exam.data:
            rules.append({"type": "exam"})
        if self.points.data:
            rules.append({"type": "points", "points": self.points.data})
        if self.contests.data:
            rules.append({"type": "contest", "contests": self.contests.data})
        for kind, key in _STUDY_FIELDS.items():
            if getattr(self, kind).data:
                rules.append({"type": kind, key: getattr(self, kind).data})
        return {"period": self.period.data, "rules": rules}


@bp.get("/")
@login_required
def index() -> str:
    """The committee default and the branches the viewer may edit, with the standard each follows."""
    if not is_organizer(current_user):
        abort(404)
    session = db.session()
    query = select(Branch).order_by(Branch.name)
    if not is_admin(current_user):
        query = query.where(Branch.id == current_user.branch_id)
    branches = [
        (branch, standard_for_branch(session, branch.id), has_override(session, branch.id))
        for branch in session.scalars(query)
    ]
    return render_template(
        "standards/index.html",
        committee=standard_for_branch(session, None),
        branches=branches,
        kinds=PERIOD_KIND_LABELS,
    )


def _edit(branch: Branch | None) -> Page:
    session = db.session()
    branch_id = branch.id if branch else None
    form = StandardForm.of(standard_for_branch(session, branch_id)) if request.method == "GET" else StandardForm()
    if form.validate_on_submit():
        try:
            save_standard(session, current_user, branch_id, form.to_json())
        except StandardError as error:
            flash(error.message, "error")
        else:
            flash("验收标准已保存", "info")
            return redirect(url_for("standards.index"))
    return (
        render_template("standards/edit.html", form=form, branch=branch),
        400 if request.method == "POST" else 200,
    )


@bp.route("/committee", methods=["GET", "POST"])
@login_required
def committee() -> Page:
    """Edit the committee default (admin only)."""
    if not is_admin(current_user):
        abort(404)
    return _edit(None)


def _branch(branch_id: int) -> Branch:
    branch = db.session.get(Branch, branch_id)
    if branch is None or not can_manage_branch(current_user, branch_id):
        abort(404)
    return branch


@bp.route("/branch/<int:branch_id>", methods=["GET", "POST"])
@login_required
def branch(branch_id: int) -> Page:
    """Edit a branch's own standard (its organizer or an admin)."""
    return _edit(_branch(branch_id))


@bp.post("/branch/<int:branch_id>/reset")
@login_required
def reset(branch_id: int) -> Response:
    """Drop the branch's own standard: it follows the committee default again."""
    branch = _branch(branch_id)
    try:
        reset_standard(db.session(), current_user, branch.id)
    except NotAllowed:
        abort(404)
    flash(f"{branch.name}已恢复使用党委的验收标准", "info")
    return redirect(url_for("standards.index"))
