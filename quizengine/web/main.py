"""Home page and the account's display preference."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from quizengine.engine.standard import Status, member_hint
from quizengine.extensions import db
from quizengine.services import study_plans
from quizengine.services.access import can_manage_branch, is_inspector
from quizengine.services.accounts import set_large_text
from quizengine.services.assignments import member_assignments
from quizengine.services.banks import list_banks_with_counts
from quizengine.services.health import database_answers
from quizengine.services.motivation import points_policy, today_progress
from quizengine.services.standards import member_standing

from . import study
from .errors import error_response, safe_referrer

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """The banks with their live question counts; for a signed-in member also this week's 专题 of the study plan,
    today's goal, next practice, the standard's progress and the 支部布置的练习 not done yet."""
    session = db.session()
    today = suggestion = standing = None
    tasks, this_week = [], []
    if current_user.is_authenticated and not is_inspector(current_user):  # a 督导 does not study here
        config = current_app.config
        today, suggestion = today_progress(
            session, current_user, points_policy(config), config["DAILY_GOAL"], ZoneInfo(config["DISPLAY_TIMEZONE"])
        )
        if current_user.branch_id is not None:
            standing = member_standing(session, current_user, current_user, policy=points_policy(config))
            standing = None if standing.status is Status.EXEMPT else standing
        tasks = member_assignments(session, current_user, pending_only=True)
        this_week = study_plans.current_topics(session, current_user, study.plans(), study_plans.today())
    return render_template(
        "index.html",
        banks=list_banks_with_counts(session, current_user if current_user.is_authenticated else None),
        today=today,
        suggestion=suggestion,
        standing=standing,
        hints=member_hint(standing) if standing else [],
        member_tasks=tasks,
        this_week=this_week,
        week_label=study_plans.week_label,
        own=True,
        # the organizer runs the study day's 小问答 from the card (their branch's)
        quiz_branch=current_user.branch_id
        if current_user.is_authenticated and can_manage_branch(current_user, current_user.branch_id)
        else None,
    )


@bp.post("/account/large-text")
@login_required
def large_text() -> Response | tuple[Response | str, int]:
    """Turn 大字模式 on ("1") or off ("0") and go back to the page the member was on."""
    value = request.form.get("on")
    if value not in {"0", "1"}:
        return error_response(400, "请求格式不正确：大字模式只能打开或关闭")
    set_large_text(db.session(), current_user, value == "1")
    return redirect(safe_referrer() or url_for("main.index"))


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Which worker answered and whether its database does: for nginx checks, monitoring and the scale-out test."""
    healthy = database_answers(db.session())
    body = {"status": "ok" if healthy else "database_unavailable", "worker": current_app.config["WORKER"]}
    return jsonify(body), 200 if healthy else 503
