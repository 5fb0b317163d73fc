"""Organizers schedule, publish, grade and review exams; readers see results and exports."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from quizengine.engine.analysis import MIN_RESPONSES
from quizengine.engine.errors import QuizError
from quizengine.engine.questions import MultiplePolicy
from quizengine.extensions import db
from quizengine.models import Branch, Role, User
from quizengine.modes.timed_exam import ReviewPolicy
from quizengine.schemas import BadInput, parse_form
from quizengine.schemas.exam import ExamForm, ExamRef, GradeForm, OverrideForm, VoidForm, form_sections
from quizengine.services import exam_access, exam_admin, exam_papers, exam_setup
from quizengine.services.access import NotAllowed, is_organizer
from quizengine.services.attempt_items import engine_question, shown_answer, shown_response
from quizengine.services.bank_admin import visible_banks
from quizengine.services.exam_papers import DEFAULT_TOLERANCE, RANDOM, UNIFORM
from quizengine.services.exam_results import exam_overview, export_filename, export_workbook

from . import bp, readers_only


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def _organizer_only() -> None:
    if not is_organizer(current_user):
        abort(403)


def _form_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=_zone()).astimezone(UTC)
    except ValueError:
        raise QuizError("请填写正确的时间") from None


def _spec_from_form() -> exam_setup.ExamSpec:
    form = parse_form(ExamForm(), request.form)
    sections = form_sections(form)
    paper_mode = form.get("paper_mode", UNIFORM)
    blueprint: dict[str, Any] = {"sections": sections}
    if paper_mode == RANDOM:
        blueprint["difficulty_tolerance"] = form.get("difficulty_tolerance", DEFAULT_TOLERANCE)
    return exam_setup.ExamSpec(
        title=form["title"],
        branch_ids=tuple(form["branch"]),
        opens_at=_form_time(form["opens_at"]),
        closes_at=_form_time(form["closes_at"]),
        duration_minutes=form["duration_minutes"],
        blueprint=blueprint,
        paper_mode=paper_mode,
        shuffle_questions="shuffle_questions" in form,
        shuffle_options="shuffle_options" in form,
        pass_mark=form["pass_mark"],
        attempts_allowed=form["attempts_allowed"],
        review_policy=ReviewPolicy(form.get("review_policy", "after_close")),
        multiple_policy=MultiplePolicy(form.get("multiple_policy", "all_or_nothing")),
        grace_seconds=form["grace_seconds"],
    )


def _branches_for_form() -> list[Branch]:
    session = db.session()
    if current_user.role == Role.ADMIN:
        return list(session.query(Branch).order_by(Branch.name))
    return [current_user.branch] if current_user.branch else []


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response | tuple[str, int]:
    """Schedule an exam."""
    _organizer_only()
    session = db.session()
    banks = visible_banks(session, current_user)
    if request.method == "POST":
        try:
            exam = exam_setup.create_exam(session, current_user, _spec_from_form())
        except (QuizError, BadInput) as error:
            flash(error.message, "error")
            return render_template("exams/new.html", banks=banks, branches=_branches_for_form(), form=request.form), 400
        flash("考试已保存为草稿：请检查试卷，然后发布", "info")
        return redirect(url_for("exams.manage", exam_id=exam.id))
    return render_template("exams/new.html", banks=banks, branches=_branches_for_form(), form={})


@bp.post("/<int:exam_id>/redraw")
@login_required
def redraw(exam_id: int) -> Response:
    """Draw a draft's 统一试卷 again."""
    _organizer_only()
    try:
        exam_setup.redraw_paper(db.session(), current_user, exam_id)
        flash("已重新抽题，请检查新的试卷", "info")
    except NotAllowed:
        raise  # another branch's exam: 404, as every exam page answers
    except QuizError as error:
        flash(error.message, "error")
    return redirect(url_for("exams.manage", exam_id=exam_id))


@bp.post("/<int:exam_id>/publish")
@login_required
def publish(exam_id: int) -> Response:
    """Publish a draft: members see it from now on."""
    _organizer_only()
    try:
        exam_setup.publish_exam(db.session(), current_user, exam_id)
        flash("考试已发布，参考党员可以在开始时间后作答", "info")
    except NotAllowed:
        raise  # another branch's exam: 404, as every exam page answers
    except QuizError as error:
        flash(error.message, "error")
    return redirect(url_for("exams.manage", exam_id=exam_id))


@bp.get("/<int:exam_id>/manage")
@login_required
def manage(exam_id: int) -> str:
    """The organizer's dashboard: 一个不落, distribution, ranking, item analysis, grading, regrade/void."""
    readers_only()
    session = db.session()
    overview = exam_overview(session, current_user, exam_id)
    chart = {"distribution": [[f"{low:g}-{high:g}", count] for low, high, count in overview.distribution]}
    draft = overview.exam.status == "draft"
    return render_template(
        "exams/manage.html",
        overview=overview,
        exam=overview.exam,
        chart=chart,
        preview=exam_papers.preview(session, overview.exam) if draft else None,
        may_change=exam_access.owns_exam(current_user, overview.exam),
        may_act=is_organizer(current_user),
        mode_labels=exam_papers.PAPER_MODE_LABELS,
        min_responses=MIN_RESPONSES,
    )


@bp.get("/<int:exam_id>/export.xlsx")
@login_required
def export(exam_id: int) -> Response:
    """Results and item statistics as an Excel file."""
    readers_only()
    overview = exam_overview(db.session(), current_user, exam_id)
    return send_file(
        io.BytesIO(export_workbook(overview, _zone())),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=export_filename(overview.exam, _zone()),  # Werkzeug adds RFC 5987 filename*=UTF-8''
    )


@bp.get("/<int:exam_id>/grading")
@login_required
def grading(exam_id: int) -> str:
    """The 简答 grading queue."""
    _organizer_only()
    overview = exam_overview(db.session(), current_user, exam_id)
    queue = [
        (row.member, item, engine_question(item))
        for row in overview.members
        if row.attempt and row.attempt.pending_count
        for item in row.attempt.items
        if item.verdict == "pending"
    ]
    return render_template("exams/grading.html", exam=overview.exam, queue=queue)


@bp.post("/items/<int:item_id>/grade")
@login_required
def grade(item_id: int) -> Response:
    """Grade one short answer."""
    _organizer_only()
    exam_id = parse_form(ExamRef(), request.form)["exam_id"]
    try:
        form = parse_form(GradeForm(), request.form)
        item = exam_admin.grade_short_answer(db.session(), current_user, item_id, form["score"], form["comment"])
        flash("已评分", "info")
        exam_id = item.attempt.exam_id
    except (QuizError, BadInput) as error:
        flash(error.message, "error")
    return redirect(url_for("exams.grading", exam_id=exam_id))


@bp.post("/<int:exam_id>/regrade")
@login_required
def regrade(exam_id: int) -> str | Response:
    """Dry run first (shows the score changes), then apply."""
    _organizer_only()
    apply = request.form.get("apply") == "1"
    changes = exam_admin.regrade_exam(db.session(), current_user, exam_id, dry_run=not apply)
    if apply:
        flash(f"已重新评分，{len(changes)} 份试卷成绩变化", "info")
        return redirect(url_for("exams.manage", exam_id=exam_id))
    return render_template("exams/regrade.html", exam=exam_access.get_exam(db.session(), exam_id), changes=changes)


@bp.post("/<int:exam_id>/void")
@login_required
def void(exam_id: int) -> Response:
    """Void a question (full credit, or removed from the total)."""
    _organizer_only()
    try:
        form = parse_form(VoidForm(), request.form)
        changes = exam_admin.void_question(
            db.session(), current_user, exam_id, form["question_id"], form["mode"], form["reason"]
        )
        flash(f"已作废该题，{len(changes)} 份试卷成绩变化", "info")
    except (QuizError, BadInput) as error:
        flash(error.message, "error")
    return redirect(url_for("exams.manage", exam_id=exam_id))


@bp.post("/<int:exam_id>/override")
@login_required
def override(exam_id: int) -> Response:
    """补考 for one member."""
    _organizer_only()
    try:
        form = parse_form(OverrideForm(), request.form)
        exam_admin.set_override(
            db.session(),
            current_user,
            exam_id,
            form["member_id"],
            opens_at=_form_time(form["opens_at"]) if form["opens_at"] else None,
            closes_at=_form_time(form["closes_at"]) if form["closes_at"] else None,
            duration_minutes=form["duration_minutes"],
            extra_attempts=form["extra_attempts"],
        )
        flash("已安排补考", "info")
    except (QuizError, BadInput) as error:
        flash(error.message, "error")
    return redirect(url_for("exams.manage", exam_id=exam_id))


@bp.post("/<int:exam_id>/release")
@login_required
def release(exam_id: int) -> Response:
    """Publish results and answers to members now."""
    _organizer_only()
    exam_admin.release_results(db.session(), current_user, exam_id)
    flash("成绩和答案已公布", "info")
    return redirect(url_for("exams.manage", exam_id=exam_id))


@bp.get("/<int:exam_id>/members/<int:user_id>")
@login_required
def member_attempt(exam_id: int, user_id: int) -> str:
    """An organizer looks at one member's submitted paper."""
    readers_only()
    overview = exam_overview(db.session(), current_user, exam_id)
    row = next((row for row in overview.members if row.member.id == user_id), None)
    if row is None or row.attempt is None:
        abort(404)
    rows = [
        {"item": item, "question": engine_question(item), "given": shown_response(item), "right": shown_answer(item)}
        for item in row.attempt.items
    ]
    member: User = row.member
    return render_template("exams/member.html", exam=overview.exam, member=member, attempt=row.attempt, rows=rows)
