"""学习计划 pages: the plan's topics (this week's first), one topic's reading and the start of its practice.

Views read the plans folder through services.study_plans and stay a few lines each.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from quizengine.engine.errors import QuizError
from quizengine.engine.study_plan import StudyPlan
from quizengine.extensions import db
from quizengine.services import study_plans
from quizengine.services.access import is_inspector

bp = Blueprint("study", __name__, url_prefix="/study")


def plans() -> list[StudyPlan]:
    """The committee's study plans (question_banks/plans by default)."""
    return study_plans.load_plans(Path(current_app.config["BANKS_PATH"]))


@bp.get("/")
@login_required
def index() -> str:
    """This week's topic of each running plan, then the past topics with the member's progress, then what is next."""
    day, found = study_plans.today(), plans()
    return render_template(
        "study/index.html",
        current=study_plans.current_topics(db.session(), current_user, found, day),
        past=study_plans.past_topics(db.session(), current_user, found, day),
        upcoming=[(plan, topic) for plan in found for topic in plan.upcoming(day)],
        week_label=study_plans.week_label,
        studies=not is_inspector(current_user),
    )


@bp.get("/<slug>/<key>")
@login_required
def topic(slug: str, key: str) -> str:
    """One topic: what to read with 原文 excerpts, the member's progress, the practice button."""
    try:
        view = study_plans.topic_view(db.session(), current_user, plans(), slug, key, study_plans.today())
    except study_plans.StudyPlanError:
        abort(404)
    return render_template(
        "study/topic.html", view=view, week_label=study_plans.week_label, studies=not is_inspector(current_user)
    )


@bp.post("/<slug>/<key>/practice")
@login_required
def practise(slug: str, key: str) -> Response:
    """Start a topic practice (an ordinary self-test session of the plan's size from the topic's chapters)."""
    try:
        attempt = study_plans.start_topic_practice(db.session(), current_user, plans(), slug, key)
    except QuizError as error:  # unknown or future topic, or no questions left to draw
        flash(error.message, "error")
        return redirect(url_for("study.index"))
    return redirect(url_for("practice.attempt", attempt_id=attempt.id))
