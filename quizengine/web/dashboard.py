"""支部学习看板: the branch dashboard for its organizer (and an admin, for any branch)."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from quizengine.engine.errors import StandardError
from quizengine.engine.periods import Period
from quizengine.engine.standard import STATUS_LABELS, Status
from quizengine.engine.timing import SystemClock
from quizengine.extensions import db
from quizengine.models import Branch, Role
from quizengine.services.access import NotAllowed, can_manage_branch, is_admin, is_inspector, readable_branch_ids
from quizengine.services.assignments import branch_assignments, reminder_lines
from quizengine.services.dashboard import Dashboard, TrendPoint, branch_dashboard, reminder_text
from quizengine.services.motivation import points_policy
from quizengine.services.overview import (
    LAG_MET_GAP,
    LAG_PARTICIPATION,
    Overview,
    committee_overview,
    may_view_overview,
)
from quizengine.services.reports import (
    branch_file_name,
    branch_workbook,
    overview_file_name,
    overview_workbook,
)
from quizengine.services.roster import XLSX_MIMETYPE
from quizengine.services.standards import standard_for_branch
from quizengine.services.summaries import ZONE

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
    try:
        period = _requested_period()
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
    charts = {**_trend_chart(board.trend), "exams": [[summary.exam.title, summary.bands] for summary in board.exams]}
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
    board = _overview_or_error()
    if not isinstance(board, Overview):
        return board
    charts = _trend_chart(board.trend)
    return render_template(
        "dashboard/overview.html",
        board=board,
        charts=charts,
        lag_participation=LAG_PARTICIPATION,
        lag_gap=LAG_MET_GAP,
        previous=board.period.previous(),
        following=board.period.next(),
    )


@bp.get("/branch/<int:branch_id>/print")
@login_required
def branch_print(branch_id: int) -> str | tuple[Response | str, int]:
    """The branch's A4 report for a period (print view: summary, members, trend chart, exams, weak chapters)."""
    board = _board_or_error(branch_id)
    if not isinstance(board, Dashboard):
        return board
    return render_template(
        "dashboard/print_branch.html",
        board=board,
        charts=_trend_chart(board.trend),
        Status=Status,
        generated=_generated(),
        standard_lines=standard_for_branch(db.session(), branch_id).describe(),
    )


@bp.get("/branch/<int:branch_id>/report.xlsx")
@login_required
def branch_export(branch_id: int) -> Response | tuple[Response | str, int]:
    """The branch dashboard as Excel (member × rule with status and progress), named after branch and period."""
    board = _board_or_error(branch_id)
    if not isinstance(board, Dashboard):
        return board
    return _xlsx(branch_workbook(db.session(), board), branch_file_name(board.branch.name, board.period))


@bp.get("/overview/print")
@login_required
def overview_print() -> str | tuple[Response | str, int]:
    """The committee's A4 report for a period (the overview's branches, total and trend)."""
    board = _overview_or_error()
    if not isinstance(board, Overview):
        return board
    return render_template(
        "dashboard/print_overview.html",
        board=board,
        charts=_trend_chart(board.trend),
        generated=_generated(),
        lag_participation=LAG_PARTICIPATION,
        lag_gap=LAG_MET_GAP,
    )


@bp.get("/overview/report.xlsx")
@login_required
def overview_export() -> Response | tuple[Response | str, int]:
    """The committee overview as Excel, named after the period."""
    board = _overview_or_error()
    if not isinstance(board, Overview):
        return board
    return _xlsx(overview_workbook(board), overview_file_name(board.period))


def _requested_period() -> Period | None:
    """`?period=` (None: the current one); a bad key raises StandardError with a Chinese message."""
    key = request.args.get("period")
    return Period.parse(key) if key else None


def _board_or_error(branch_id: int) -> Dashboard | tuple[Response | str, int]:
    try:
        period = _requested_period()
    except StandardError as error:
        return error_response(400, error.message)
    try:
        return branch_dashboard(db.session(), current_user, branch_id, period, policy=points_policy(current_app.config))
    except NotAllowed:
        abort(404)


def _overview_or_error() -> Overview | tuple[Response | str, int]:
    if not may_view_overview(current_user):
        abort(404)
    try:
        period = _requested_period()
    except StandardError as error:
        return error_response(400, error.message)
    return committee_overview(db.session(), current_user, period, policy=points_policy(current_app.config))


def _trend_chart(trend: list[TrendPoint]) -> dict[str, object]:
    return {"trend": [[p.period.label, _percent(p.participation), _percent(p.met)] for p in trend], "exams": []}


def _generated() -> str:
    return f"{SystemClock().now().astimezone(ZONE):%Y-%m-%d %H:%M}"


def _xlsx(data: bytes, name: str) -> Response:
    """A workbook download; Werkzeug writes the Chinese name as RFC 5987 `filename*=UTF-8''…`."""
    return send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)
