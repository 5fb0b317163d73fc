"""Timed exams over plain HTTP: members take them (autosave JSON API, `taking`), organizers schedule and
review them (`desk`). One blueprint, so every endpoint keeps its name (``exams.manage``, ``exams.save``…)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from quizengine.engine.errors import QuizError
from quizengine.services.access import NotAllowed, is_reader

bp = Blueprint("exams", __name__, url_prefix="/exams")


def readers_only() -> None:
    """Result pages and printed papers: organizers and admins, and inspectors (the service applies the branch
    rule); never a member (a printed paper carries its key)."""
    if not is_reader(current_user):
        abort(403)


@bp.errorhandler(NotAllowed)
def not_allowed(error: NotAllowed) -> tuple[str, int]:
    """Another branch's exam (or none the user may read): 404 with the reason, as every exam page answers."""
    return render_template("exams/error.html", message=error.message), 404


@bp.errorhandler(QuizError)
def refused(error: QuizError) -> tuple[str, int]:
    """A rule the service enforces (no such exam, closed, …) that a view did not turn into a message itself."""
    return render_template("exams/error.html", message=error.message), 400


from . import desk, taking  # noqa: E402, F401  (their views register on bp)
