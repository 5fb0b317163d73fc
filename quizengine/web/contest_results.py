"""A contest's results page (with its A4 print view), the Excel export, ending and archiving from the list.

Only whoever may host the contest (its host, an organizer of its branch, an admin) sees or changes these.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from quizengine.extensions import db
from quizengine.models import Contest
from quizengine.modes.contest import Command, ContestError, Role
from quizengine.realtime.publisher import publish
from quizengine.services import contest_results as results_service
from quizengine.services.contest_commands import apply_command, can_host
from quizengine.services.roster import XLSX_MIMETYPE

bp = Blueprint("contest_results", __name__, url_prefix="/contests")


def _hosted(contest_id: int) -> Contest:
    contest = db.session.get(Contest, contest_id)
    if contest is None:
        abort(404)
    if not can_host(current_user, contest):
        abort(403)
    return contest


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


@bp.get("/<int:contest_id>/results")
@login_required
def results(contest_id: int) -> str:
    """Team ranking, per-round scores, player ranking and every adjustment; prints on A4."""
    contest = _hosted(contest_id)
    return render_template("contests/results.html", results=results_service.contest_results(db.session(), contest))


@bp.get("/<int:contest_id>/results.xlsx")
@login_required
def export(contest_id: int) -> Response:
    """The results as Excel, named with the contest's title and date (RFC 5987 `filename*`)."""
    contest = _hosted(contest_id)
    data = results_service.export_workbook(results_service.contest_results(db.session(), contest), _zone())
    return send_file(
        io.BytesIO(data),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=results_service.export_name(contest, _zone()),
    )


@bp.post("/<int:contest_id>/archive")
@login_required
def archive(contest_id: int) -> Response:
    """结束并归档 / 归档 / 取消归档: an unfinished (abandoned) contest is ended first, on every screen."""
    contest = _hosted(contest_id)
    archived = request.form.get("action") != "restore"
    try:
        if archived and contest.finished_at is None:
            version = contest.version
            applied = apply_command(
                db.session(), contest_id, Command("end", Role.HOST, version), actor=f"host:{current_user.id}"
            )
            publish(contest_id, applied.machine, applied.events)
            db.session.refresh(contest)
        results_service.archive(db.session(), contest, archived)
    except ContestError as error:
        flash(error.message, "error")
        return redirect(url_for("contests.index"))
    flash(f"已归档“{contest.title}”" if archived else f"已取消归档“{contest.title}”", "info")
    return redirect(url_for("contests.index", archived=1 if not archived else None))
