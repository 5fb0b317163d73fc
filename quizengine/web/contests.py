"""Live contest pages: create from a plan, host console, projector, team device, player phone.

The pages only bootstrap; everything live goes over Socket.IO (quizengine/realtime).
"""

from __future__ import annotations

import io
from pathlib import Path

import segno
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from quizengine.banks.contest_plan import PlanLoadError, load_plan, plan_files
from quizengine.engine.errors import QuizError
from quizengine.extensions import db
from quizengine.models import Contest
from quizengine.modes.live_contest import ContestError
from quizengine.services import contests as service
from quizengine.services.access import is_organizer

bp = Blueprint("contests", __name__, url_prefix="/contests")


def _plans_dir() -> Path:
    return Path(current_app.config["BANKS_PATH"]) / "contests"


def _contest(contest_id: int) -> Contest:
    contest = db.session.get(Contest, contest_id)
    if contest is None:
        abort(404)
    return contest


@bp.get("/")
@login_required
def index() -> str:
    """Organizers: plans to start a contest from, and their contests."""
    if not is_organizer(current_user):
        return render_template("contests/join.html")
    plans = plan_files([_plans_dir()]) if _plans_dir().is_dir() else []
    mine = db.session.scalars(select(Contest).order_by(Contest.created_at.desc()).limit(30)).all()
    mine = [contest for contest in mine if service.can_host(current_user, contest)]
    return render_template("contests/index.html", plans=plans, contests=mine)


@bp.post("/")
@login_required
def create() -> Response:
    """Start a contest from a plan file (its questions are drawn now)."""
    if not is_organizer(current_user):
        abort(403)
    name = request.form.get("plan", "")
    path = next((p for p in plan_files([_plans_dir()]) if p.name == name), None) if _plans_dir().is_dir() else None
    try:
        if path is None:
            raise ContestError("请选择一个竞赛方案")
        contest = service.create_contest(db.session(), current_user, load_plan(path).plan)
    except PlanLoadError as error:
        flash(f"竞赛方案有误：{error.problems[0]}", "error")
        return redirect(url_for("contests.index"))
    except QuizError as error:
        flash(error.message, "error")
        return redirect(url_for("contests.index"))
    return redirect(url_for("contests.host", contest_id=contest.id))


@bp.get("/<int:contest_id>/host")
@login_required
def host(contest_id: int) -> str:
    """The host console (joins the contest over Socket.IO with the login)."""
    contest = _contest(contest_id)
    if not service.can_host(current_user, contest):
        abort(403)
    return render_template("contests/host.html", contest=contest, teams=contest.teams)


@bp.get("/<int:contest_id>/projector/<token>")
def projector(contest_id: int, token: str) -> str:
    """The projector: a secret link, read-only, no login (the room's PC)."""
    contest = _contest(contest_id)
    if token != contest.projector_token:
        abort(404)
    return render_template("contests/projector.html", contest=contest)


@bp.get("/<int:contest_id>/team")
def team(contest_id: int) -> str:
    """A team device: join with the team's code (then re-attaches with its device token)."""
    return render_template("contests/team.html", contest=_contest(contest_id), code=request.args.get("code", ""))


@bp.get("/play")
@login_required
def play() -> str:
    """A member's phone for 全员答题: PIN and team, then answer."""
    pin = request.args.get("pin", "")
    contest = db.session.scalar(select(Contest).where(Contest.pin == pin)) if pin else None
    return render_template("contests/player.html", contest=contest, pin=pin)


@bp.get("/<int:contest_id>/join.svg")
def join_qr(contest_id: int) -> Response:
    """The join QR code for the projector, generated on the server (no external service)."""
    contest = _contest(contest_id)
    target = url_for("contests.play", pin=contest.pin, _external=True)
    buffer = io.BytesIO()
    segno.make(target, error="m").save(buffer, kind="svg", scale=8, border=2, dark="#222", light="#fff")
    return Response(buffer.getvalue(), mimetype="image/svg+xml")
