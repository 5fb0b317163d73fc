"""支部学习看板: the branch dashboard for its organizer (and an admin, for any branch)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from quizengine.engine.standard import STATUS_LABELS, Period, StandardError, Status
from quizengine.extensions import db
from quizengine.models import Branch, Role
from quizengine.services.access import NotAllowed, can_manage_branch, is_admin, is_inspector, readable_branch_ids
from quizengine.services.assignments import branch_assignments, reminder_lines
from quizengine.services.dashboard import branch_dashboard, reminder_text
from quizengine.services.motivation import points_policy
from quizengine.services.overview import LAG_MET_GAP, LAG_PARTICIPATION, committee_overview, may_view_overview

from .errors import error_response

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/")
@login_required
def index() -> str | Response:
    """An organizer goes to their branch; an admin or an inspector picks one of the branches they may read."""
    if current_user.role == Role.ORGANIZER and current_user.branch_id is not None:
        return redirect(url_for("dashboard.branch", branch_id=current_user.branch_id))
    if not (is_admin(current_user) or is_inspector(current_user)):
        abort(404)
    readable = readable_branch_ids(current_user)
    query = select(Branch).order_by(Branch.name)
    if readable is not None:
        query = query.where(Branch.id.in_(readable))
    return render_template("dashboard/index.html", branches=db.session.scalars(query).all())


@bp.get("/branch/<int:branch_id>")
@login_required
def branch(branch_id: int) -> str | tuple[Response | str, int]:
    """Every member's standing this period (or ?period=2026-11), rates, exams, trend, weak chapters (to assign a
    practice from) and the open 支部布置的练习."""
    period = None
    if request.args.get("period"):
        try:
            period = Period.parse(request.args["period"])
        except StandardError as error:
            return error_response(400, error.message)
    try:
        board = branch_dashboard(
            db.session(), current_user, branch_id, period, policy=points_policy(current_app.config)
        )
        tasks = branch_assignments(db.session(), current_user, branch_id, open_only=True)
    except NotAllowed:
        abort(404)
    link = url_for("main.index", _external=True)
    charts = {
        "trend": [[point.period.label, _percent(point.participation), _percent(point.met)] for point in board.trend],
        "exams": [[summary.exam.title, summary.bands] for summary in board.exams],
    }
    return render_template(
        "dashboard/branch.html",
        board=board,
        reminder=reminder_text(board, link, reminder_lines(tasks)),
        tasks=tasks,
        may_manage=can_manage_branch(current_user, branch_id),
        charts=charts,
        Status=Status,
        labels=STATUS_LABELS,
        previous=board.period.previous(),
        following=board.period.next(),
    )


@bp.get("/overview")
@login_required
def overview() -> str | tuple[Response | str, int]:
    """党委总览: every branch the viewer may read side by side (admin: all; inspector: their branches)."""
    if not may_view_overview(current_user):
        abort(404)
    period = None
    if request.args.get("period"):
        try:
            period = Period.parse(request.args["period"])
        except StandardError as error:
            return error_response(400, error.message)
    board = committee_overview(db.session(), current_user, period, policy=points_policy(current_app.config))
    charts = {
        "trend": [[point.period.label, _percent(point.participation), _percent(point.met)] for point in board.trend],
        "exams": [],
    }
    return render_template(
        "dashboard/overview.html",
        board=board,
        charts=charts,
        lag_participation=LAG_PARTICIPATION,
        lag_gap=LAG_MET_GAP,
        previous=board.period.previous(),
        following=board.period.next(),
    )


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)
