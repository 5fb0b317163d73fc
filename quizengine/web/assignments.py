"""支部布置的练习 pages: the organizer sets a practice for the branch and sees who has done it; a member starts it.

Views read the form and call services.assignments, which checks access, validates (Chinese messages) and audits.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from quizengine.extensions import db
from quizengine.models import Branch
from quizengine.services import assignments
from quizengine.services.access import NotAllowed, can_manage_branch
from quizengine.services.banks import list_banks_for_practice
from quizengine.services.organization import list_members

from .errors import readable_branch_or_404

bp = Blueprint("assignments", __name__, url_prefix="/assignments")

Page = str | Response | tuple[str, int]


@bp.get("/branch/<int:branch_id>")
@login_required
def index(branch_id: int) -> str:
    """The branch's assignments with how many have done each (its organizer, an admin, its inspectors)."""
    branch = readable_branch_or_404(branch_id)
    rows = assignments.branch_assignments(db.session(), current_user, branch_id)
    return render_template(
        "assignments/index.html",
        branch=branch,
        assignments=rows,
        may_manage=can_manage_branch(current_user, branch_id),
        due_label=assignments.due_label,
    )


@bp.route("/branch/<int:branch_id>/new", methods=["GET", "POST"])
@login_required
def new(branch_id: int) -> Page:
    """The form (a weak chapter of the dashboard arrives as ?chapter=bank:key); a bad form changes nothing."""
    session = db.session()
    branch = session.get(Branch, branch_id)
    if branch is None or not can_manage_branch(current_user, branch_id):
        abort(404)
    error = None
    if request.method == "POST":
        form = request.form
        try:
            assignment = assignments.create_assignment(
                session,
                current_user,
                branch_id,
                title=form.get("title", ""),
                chapters=form.getlist("chapter"),
                count=form.get("count", ""),
                due_on=form.get("due_on", ""),
                member_ids=None if form.get("audience", "all") == "all" else form.getlist("member"),
            )
        except assignments.AssignmentError as problem:
            error = problem.message
        else:
            flash(f"已布置练习“{assignment.title}”", "info")
            return redirect(url_for("assignments.detail", assignment_id=assignment.id))
    banks = list_banks_for_practice(session, current_user)
    chosen = request.form.getlist("chapter") if request.method == "POST" else request.args.getlist("chapter")
    titles = {f"{bank.id}:{key}": title for bank in banks for key, title, _ in bank.chapters}
    default_title = "专项练习：" + "、".join(titles[value] for value in chosen if value in titles)
    page = render_template(
        "assignments/new.html",
        branch=branch,
        banks=banks,
        members=[member for member in list_members(session, current_user, branch_id) if member.active],
        chosen=set(chosen),
        open_banks={value.partition(":")[0] for value in chosen},
        values=request.form if request.method == "POST" else {"title": default_title if chosen else "", "count": "10"},
        chosen_members=set(request.form.getlist("member")),
        today=assignments.today().isoformat(),
        error=error,
        max_count=assignments.MAX_COUNT,
    )
    return (page, 400) if error else page


@bp.get("/<int:assignment_id>")
@login_required
def detail(assignment_id: int) -> str:
    """Who has done the assignment and who not."""
    try:
        progress = assignments.assignment_progress(db.session(), current_user, assignment_id)
    except NotAllowed:
        abort(404)
    return render_template(
        "assignments/detail.html",
        progress=progress,
        may_manage=can_manage_branch(current_user, progress.assignment.branch_id),
        due_label=assignments.due_label,
    )


@bp.post("/<int:assignment_id>/close")
@login_required
def close(assignment_id: int) -> Response:
    """End the assignment: members no longer see it."""
    try:
        assignments.close_assignment(db.session(), current_user, assignment_id)
        flash("已结束该练习，党员页面不再显示", "info")
    except NotAllowed:
        abort(404)
    except assignments.AssignmentError as error:
        flash(error.message, "error")
    return redirect(url_for("assignments.detail", assignment_id=assignment_id))


@bp.post("/<int:assignment_id>/start")
@login_required
def start(assignment_id: int) -> Response:
    """The member starts (or resumes) the assignment's practice session."""
    try:
        attempt = assignments.start_assignment(db.session(), current_user, assignment_id)
    except NotAllowed:
        abort(404)
    except assignments.AssignmentError as error:
        flash(error.message, "error")
        return redirect(url_for("main.index"))
    return redirect(url_for("practice.attempt", attempt_id=attempt.id))
