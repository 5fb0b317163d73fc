"""学习计划 pages: the plan's topics (this week's first), one topic's reading and the start of its practice.

Views read the plans folder through services.study_plans and stay a few lines each.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from quizengine.engine.errors import QuizError
from quizengine.engine.study_plan import StudyPlan
from quizengine.extensions import db
from quizengine.models import Branch
from quizengine.services import study_days, study_plans, study_quiz
from quizengine.services.access import NotAllowed, can_manage_branch, is_inspector

from .errors import readable_branch_or_404, safe_referrer

bp = Blueprint("study", __name__, url_prefix="/study")

Page = str | Response | tuple[str, int]


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


@bp.get("/branch/<int:branch_id>")
@login_required
def branch(branch_id: int) -> str:
    """学习日 of the branch: each started topic's study day, attendance and topic practice completion."""
    branch, today = readable_branch_or_404(branch_id), study_plans.today()
    rows = study_days.branch_topics(db.session(), current_user, branch_id, plans(), today)
    return render_template(
        "study/branch.html",
        branch=branch,
        rows=rows,
        today=today,
        quizzes=study_quiz.quiz_contests(db.session(), [row.day for row in rows]),
        completion=study_days.practice_completion(db.session(), rows),
        week_label=study_plans.week_label,
        may_manage=can_manage_branch(current_user, branch_id),
    )


@bp.post("/branch/<int:branch_id>/<slug>/<key>/quiz")
@login_required
def quiz(branch_id: int, slug: str, key: str) -> Response:
    """学习日小问答 in one click: start the topic's short individual quiz (a second click reopens the running one)
    and open its host console. Anyone but the branch's organizers (and admins) is refused with the reason."""
    if db.session.get(Branch, branch_id) is None:
        abort(404)
    banks = Path(current_app.config["BANKS_PATH"])
    try:
        started = study_quiz.start_study_quiz(
            db.session(), current_user, branch_id, plans(), slug, key, banks, today=study_plans.today()
        )
    except NotAllowed as error:
        abort(403, error.message)
    except QuizError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(safe_referrer() or url_for("study.branch", branch_id=branch_id))
    if started.reopened:
        flash("本专题的小问答正在进行，已为您重新打开主持台", "info")
    return redirect(url_for("contests.host", contest_id=started.contest.id))


@bp.route("/branch/<int:branch_id>/<slug>/<key>", methods=["GET", "POST"])
@login_required
def attendance(branch_id: int, slug: str, key: str) -> Page:
    """Record a topic's study day: its date and who was present (小问答 players count already)."""
    session, today = db.session(), study_plans.today()
    error = None
    if request.method == "POST":
        try:
            study_days.record_attendance(
                session, current_user, branch_id, plans(), slug, key,
                request.form.getlist("member"), request.form.get("held_on"), today,
            )  # fmt: skip
            flash("已记录学习日出勤", "info")
            return redirect(url_for("study.branch", branch_id=branch_id))
        except NotAllowed:
            abort(404)
        except study_days.StudyDayError as error_:
            session.rollback()
            error = error_.message
    branch = readable_branch_or_404(branch_id)
    try:
        row = study_days.branch_topic(session, current_user, branch_id, plans(), slug, key, today)
    except study_days.StudyDayError:
        abort(404)
    if not can_manage_branch(current_user, branch_id):
        abort(403)
    page = render_template(
        "study/attendance.html",
        branch=branch,
        row=row,
        quiz_players=study_days.quiz_players(session, row),
        default_day=study_days.default_day(row, today),
        chosen=set(request.form.getlist("member")) if error else None,
        week_label=study_plans.week_label,
        error=error,
    )
    return (page, 400) if error else page
