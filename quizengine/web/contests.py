"""Live contest pages: create from a plan, the plan editor, host console, projector, team device, player phone.

The pages only bootstrap; everything live goes over Socket.IO (quizengine/realtime).
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import segno
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from quizengine.banks.contest_plan import PlanLoadError, PlanProblem, load_plan, plan_files
from quizengine.banks.loader import Bank, BankLoadError
from quizengine.engine.errors import QuizError
from quizengine.extensions import db
from quizengine.models import Contest, ContestTeam
from quizengine.modes.contest import ContestError
from quizengine.services import bank_uploads, contest_plans
from quizengine.services.access import is_organizer
from quizengine.services.banks import check_banks
from quizengine.services.contest_commands import can_host
from quizengine.services.contest_setup import create_contest

from . import plan_form
from .links import join_url

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
    plans = [(path.name, _plan_title(path)) for path in contest_plans.visible(db.session(), current_user, plans)]
    archived = request.args.get("archived") == "1"  # archived contests are hidden unless asked for
    query = select(Contest).where(Contest.archived_at.is_not(None) if archived else Contest.archived_at.is_(None))
    mine = db.session.scalars(query.order_by(Contest.created_at.desc()).limit(30)).all()
    mine = [contest for contest in mine if can_host(current_user, contest)]
    return render_template("contests/index.html", plans=plans, contests=mine, archived=archived)


@bp.post("/")
@login_required
def create() -> Response:
    """Start a contest from a plan file (its questions are drawn now)."""
    if not is_organizer(current_user):
        abort(403)
    name = request.form.get("plan", "")
    path = _plan_path(name)
    try:
        if path is None:
            raise ContestError("请选择一个竞赛方案")
        refusal = contest_plans.use_refusal(db.session(), current_user, path.name)
        if refusal:
            raise ContestError(refusal)
        allow_guests = request.form.get("allow_guests") == "1"
        contest = create_contest(db.session(), current_user, load_plan(path).plan, allow_guests=allow_guests)
    except PlanLoadError as error:
        flash(f"竞赛方案有误：{error.problems[0]}", "error")
        return redirect(url_for("contests.index"))
    except QuizError as error:
        flash(error.message, "error")
        return redirect(url_for("contests.index"))
    return redirect(url_for("contests.host", contest_id=contest.id))


def _plan_title(path: Path) -> str:
    """People choose a plan by its title; a plan that does not load is named by its file, marked as faulty."""
    try:
        return load_plan(path).plan.title
    except PlanLoadError:
        return f"{path.stem}（方案有误）"


def _plan_path(name: str) -> Path | None:
    """A plan file of the contests folder by its file name (never a path outside it)."""
    return next((p for p in plan_files([_plans_dir()]) if p.name == name), None) if _plans_dir().is_dir() else None


def _banks() -> tuple[list[Bank], list[PlanProblem]]:
    """The banks a plan is checked against, as `quizengine contests check` loads them, and the banks imported in
    题库管理 that the user sees (another branch's own bank is not offered)."""
    banks_path = Path(current_app.config["BANKS_PATH"])
    local = bank_uploads.local_banks_for(db.session(), current_user, banks_path)
    if local and not any(banks_path.glob("*.yaml")):
        return local, []
    try:
        return check_banks([banks_path]) + local, []
    except BankLoadError as error:
        return [], [PlanProblem("", 0, None, f"题库有 {len(error.problems)} 个错误，无法检查方案：{error.problems[0]}")]


def _editor(values: dict, problems: list[PlanProblem], banks: list[Bank], status: int = 200) -> tuple[str, int]:
    form = request.form
    return render_template(
        "contests/plan.html",
        values=values,
        problems=problems,
        banks=banks,
        file_name=form.get("file_name", request.args.get("from", "standard.yaml").removesuffix(".yaml")),
        overwrite=bool(form.get("overwrite")),
        blank_round=plan_form.blank_round(),
        kinds=plan_form.kind_choices(),
        round_fields=plan_form.round_fields(),
        editor_kinds=plan_form.editor_kinds(),
    ), status


@bp.get("/plans/new")
@login_required
def plan_new() -> tuple[str, int]:
    """The plan editor, filled in from a plan file (`?from=standard.yaml`, the default)."""
    if not is_organizer(current_user):
        abort(403)
    banks, problems = _banks()
    name = request.args.get("from", "standard.yaml")
    path = _plan_path(name) if name else None
    if path is None and request.args.get("from"):
        abort(404)
    refusal = contest_plans.use_refusal(db.session(), current_user, path.name) if path else None
    if refusal:
        flash(refusal, "error")
        path = None
    plan = plan_form.empty_plan()
    try:
        plan = load_plan(path).plan if path else plan
    except PlanLoadError as error:
        problems += [plan_form.translate(problem) for problem in error.problems]
    return _editor(plan_form.values_from_plan(plan), problems, banks)


@bp.post("/plans")
@login_required
def plan_submit() -> Response | tuple[str, int]:
    """检查 / 保存为方案 / 创建竞赛 from the editor; any problem re-renders it (400) and changes nothing."""
    if not is_organizer(current_user):
        abort(403)
    banks, problems = _banks()
    values = plan_form.values_from_form(request.form)
    mapping = plan_form.mapping_from_values(values)
    plan, found = plan_form.check(mapping, banks)
    problems += found
    action = request.form.get("action", "check")
    file_name, overwrite = request.form.get("file_name", "").strip(), bool(request.form.get("overwrite"))
    refusal = _save_refusal(file_name, overwrite) if action == "save" else None
    if refusal:
        problems.append(PlanProblem("", 0, None, refusal))
    if problems or plan is None:
        return _editor(values, problems, banks, 400)
    if action == "save":
        new = not (_plans_dir() / f"{file_name}.yaml").exists()
        try:
            path = plan_form.save_plan(mapping, _plans_dir(), file_name, overwrite=overwrite)
        except ValueError as error:  # the file appeared since the check
            return _editor(values, [PlanProblem("", 0, None, str(error))], banks, 400)
        contest_plans.record_saved(db.session(), current_user, path.name, new=new)
        flash(f"已保存竞赛方案 {path.name}", "info")
        return redirect(url_for("contests.plan_new", **{"from": path.name}))
    if action == "create":
        try:
            contest = create_contest(db.session(), current_user, plan)
        except QuizError as error:
            return _editor(values, [PlanProblem("", 0, None, error.message)], banks, 400)
        return redirect(url_for("contests.host", contest_id=contest.id))
    flash("检查通过：方案可以使用。", "info")
    return _editor(values, [], banks)


def _save_refusal(file_name: str, overwrite: bool) -> str | None:
    """A bad or taken file name, or a plan that belongs to another branch (or a shipped template)."""
    refusal = plan_form.save_refusal(_plans_dir(), file_name, overwrite=overwrite)
    if refusal is None:
        exists = (_plans_dir() / f"{file_name}.yaml").exists()
        refusal = contest_plans.save_refusal(db.session(), current_user, f"{file_name}.yaml", exists=exists)
    return refusal


@bp.get("/<int:contest_id>/host")
@login_required
def host(contest_id: int) -> str:
    """The host console (joins the contest over Socket.IO with the login)."""
    contest = _contest(contest_id)
    if not can_host(current_user, contest):
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
def play() -> str | Response:
    """A phone for 全员答题: PIN and team, then answer. Members sign in; an open event also takes guests by name."""
    pin = request.args.get("pin", "")
    contest = db.session.scalar(select(Contest).where(Contest.pin == pin)) if pin else None
    guest = not current_user.is_authenticated
    if guest and (contest is None or not contest.allow_guests):
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    return render_template("contests/player.html", contest=contest, pin=pin, guest=guest)


@bp.get("/<int:contest_id>/join.svg")
def join_qr(contest_id: int) -> Response:
    """The join QR code (it carries the PIN): for the projector (its secret token) and the contest's hosts."""
    contest = _contest(contest_id)
    token = request.args.get("token", "")
    if not secrets.compare_digest(token.encode(), contest.projector_token.encode()) and not _may_host(contest):
        abort(404)
    return _qr_svg(join_url("contests.play", pin=contest.pin))


def _may_host(contest: Contest) -> bool:
    return bool(current_user.is_authenticated and can_host(current_user, contest))


def _qr_svg(target: str) -> Response:
    """A QR code generated on the server (no external service), never cached by shared caches."""
    buffer = io.BytesIO()
    segno.make(target, error="m").save(buffer, kind="svg", scale=8, border=2, dark="#222", light="#fff")
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _team_link(contest: Contest, team: ContestTeam) -> str:
    """A team device's join link: the team's secret (≥ 128 bits) rides in it, so scanning it is never throttled."""
    return join_url("contests.team", contest_id=contest.id, code=team.join_secret)


@bp.get("/<int:contest_id>/teams/<key>/qr.svg")
@login_required
def team_qr(contest_id: int, key: str) -> Response:
    """One team's device QR code (the host console and the printed sheet); the contest's hosts only."""
    contest = _contest(contest_id)
    if not can_host(current_user, contest):
        abort(403)
    team = next((team for team in contest.teams if team.key == key), None)
    if team is None:
        abort(404)
    return _qr_svg(_team_link(contest, team))


@bp.get("/<int:contest_id>/teams/print")
@login_required
def team_codes(contest_id: int) -> str:
    """A printable A4 sheet of every team's QR code and short code, to hand to the teams; hosts only."""
    contest = _contest(contest_id)
    if not can_host(current_user, contest):
        abort(403)
    teams = [(team, _team_link(contest, team)) for team in contest.teams]
    return render_template("contests/team_codes.html", contest=contest, teams=teams)
