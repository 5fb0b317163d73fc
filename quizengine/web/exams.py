"""Timed exams over plain HTTP: members take them (autosave JSON API), organizers schedule and review them."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask import session as cookie_session
from flask_login import current_user, login_required

from quizengine.engine.analysis import MIN_RESPONSES
from quizengine.engine.errors import DeadlinePassed, QuizError
from quizengine.engine.questions import OPTION_KEYS, MultiplePolicy
from quizengine.extensions import csrf, db, login_manager
from quizengine.models import AttemptStatus, Branch, Role, User
from quizengine.modes.timed_exam import REVIEW_LABELS, ReviewPolicy, passed
from quizengine.schemas import BadInput, parse, parse_form, parse_json
from quizengine.schemas.exam import ExamForm, ExamRef, GradeForm, OverrideForm, VoidForm, form_sections
from quizengine.services import exam_access, exam_admin, exam_papers, exam_setup, exam_taking
from quizengine.services.access import NotAllowed, ReadOnly, is_organizer, is_reader
from quizengine.services.accounts import parse_session_id
from quizengine.services.attempt_items import engine_question, shown_answer, shown_response
from quizengine.services.bank_admin import visible_banks
from quizengine.services.exam_papers import DEFAULT_TOLERANCE, RANDOM, UNIFORM
from quizengine.services.exam_results import exam_overview, export_filename, export_workbook
from quizengine.web import autosave

bp = Blueprint("exams", __name__, url_prefix="/exams")


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def _organizer_only() -> None:
    if not is_organizer(current_user):
        abort(403)


def readers_only() -> None:
    """Result pages and printed papers: organizers and admins, and inspectors (the service applies the branch
    rule); never a member (a printed paper carries its key)."""
    if not is_reader(current_user):
        abort(403)


@bp.errorhandler(NotAllowed)
def not_allowed(error: NotAllowed) -> tuple[str, int]:
    """Another branch's exam (or none the user may read): 404 with the reason, as every exam page answers."""
    return render_template("exams/error.html", message=error.message), 404


@bp.errorhandler(QuizError)
def refused(error: QuizError) -> tuple[str, int]:
    """A rule the service enforces (no such exam, closed, …) that a view did not turn into a message itself."""
    return render_template("exams/error.html", message=error.message), 400


# ---- members -----------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index() -> str:
    """My exams (and, for organizers, the exams they manage)."""
    session = db.session()
    now = datetime.now(UTC)
    mine = [
        (exam, attempts, exam_access.window_for(session, exam, current_user))
        for exam, attempts in exam_access.list_member_exams(session, current_user)
    ]
    managed = exam_access.list_managed_exams(session, current_user) if is_reader(current_user) else []
    return render_template("exams/index.html", mine=mine, managed=managed, now=now)


@bp.post("/<int:exam_id>/start")
@login_required
def start(exam_id: int) -> Response:
    """Start (or resume) my attempt and go to the paper."""
    try:
        attempt = exam_taking.start_exam(db.session(), current_user, exam_id)
    except QuizError as error:
        flash(error.message, "error")
        return redirect(url_for("exams.index"))
    return redirect(url_for("exams.take", attempt_id=attempt.id))


def _paper(entries: list[exam_taking.PaperEntry]) -> list[dict[str, Any]]:
    """The paper as the page needs it: shown options, blanks and the saved answer in shown keys."""
    questions = []
    for entry in entries:
        question, order = entry.question, entry.option_order
        saved = entry.response
        if saved is not None and order:
            keys = saved if isinstance(saved, list) else [saved]
            saved = "".join(sorted(OPTION_KEYS[order.index(key)] for key in keys))
            if question.type == "multiple":
                saved = list(saved)
        texts = {option.key: option.text for option in question.options}
        questions.append(
            {
                "position": entry.position,
                "type": question.type,
                "stem": question.stem,
                "points": entry.points,
                "options": [(OPTION_KEYS[index], texts[key]) for index, key in enumerate(order)],
                "blanks": question.blank_count,
                "saved": saved,
            }
        )
    return questions


@bp.get("/attempts/<int:attempt_id>")
@login_required
def take(attempt_id: int) -> str | Response:
    """The exam page: countdown, navigator, every answer autosaved."""
    attempt = exam_taking.get_exam_attempt(db.session(), current_user, attempt_id)
    if attempt.status != AttemptStatus.OPEN:
        return redirect(url_for("exams.result", attempt_id=attempt_id))
    state = {
        "attemptId": attempt.id,
        "deadline": attempt.deadline_at.isoformat(),
        "serverNow": datetime.now(UTC).isoformat(),
        "saveUrl": url_for("exams.save", attempt_id=attempt.id),
        "tabUrl": url_for("exams.tab_switch", attempt_id=attempt.id),
        "submitUrl": url_for("exams.submit", attempt_id=attempt.id),
        "questions": _paper(exam_taking.paper_entries(db.session(), attempt.id)),
    }
    return render_template("exams/take.html", attempt=attempt, state=state)


def _json_error(error: QuizError, status: int) -> tuple[Response, int]:
    return jsonify(
        {"ok": False, "code": error.code, "message": error.message, "serverNow": datetime.now(UTC).isoformat()}
    ), status


@bp.post("/attempts/<int:attempt_id>/answers")
@csrf.exempt  # checked by autosave.check_csrf_header, first, as CSRFProtect would
def save(attempt_id: int) -> Response | tuple[Response, int]:
    """Autosave one answer: JSON {position, response} -> {ok, savedAt, serverNow}.

    The hot path of an exam: the account is checked by the save's own conditional update instead of
    loading the user (see services.exam_taking.save_answer); refusals are the same as on every other page.
    """
    autosave.check_csrf_header(request, current_app, cookie_session)
    signed_in = parse_session_id(cookie_session.get("_user_id"))  # what Flask-Login's login_user stored
    if signed_in is None:
        return login_manager.unauthorized()
    user_id, epoch = signed_in
    try:
        answer = parse(autosave.SAVE_ANSWER, parse_json(request.get_data()))
    except BadInput as error:
        answer, refusal = None, error
    try:
        if answer is None:  # the account's refusal (log in again, change password) comes first, as for a save
            exam_access.check_account(db.session(), user_id, epoch)
            return _json_error(QuizError(refusal.message), 400)
        saved = exam_taking.save_answer(  # the scoped session itself: made only if the slow path needs it
            db.session, user_id, attempt_id, answer["position"], answer["response"], epoch=epoch
        )
    except exam_access.NotSignedIn:
        return login_manager.unauthorized()
    except exam_access.PasswordChangeRequired:
        return redirect(url_for("auth.change_password"))
    except ReadOnly as error:
        return _json_error(error, 403)
    except NotAllowed as error:
        return _json_error(error, 404)
    except DeadlinePassed as error:
        return _json_error(error, 409)
    except QuizError as error:
        return _json_error(error, 422 if error.code == "invalid_response" else 409)
    return autosave.saved_reply(saved.position, saved.saved_at.isoformat())


@bp.post("/attempts/<int:attempt_id>/tab-switch")
@login_required
def tab_switch(attempt_id: int) -> tuple[str, int]:
    """Count one tab switch (shown to the organizer; never fails anyone)."""
    exam_taking.record_tab_switch(db.session(), current_user, attempt_id)
    return "", 204


@bp.post("/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int) -> Response:
    """Hand in (twice is harmless)."""
    exam_taking.submit_exam(db.session(), current_user, attempt_id)
    flash("试卷已提交", "info")
    return redirect(url_for("exams.result", attempt_id=attempt_id))


@bp.get("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int) -> str | Response:
    """Score, pass/fail and the review with 解析 — when the exam's review policy allows."""
    attempt = exam_taking.get_exam_attempt(db.session(), current_user, attempt_id)
    if attempt.status == AttemptStatus.OPEN:
        return redirect(url_for("exams.take", attempt_id=attempt_id))
    exam = attempt.exam
    visible = exam_access.review_is_visible(exam, datetime.now(UTC))
    rows = [
        {"item": item, "question": engine_question(item), "given": shown_response(item), "right": shown_answer(item)}
        for item in attempt.items
    ]
    return render_template(
        "exams/result.html",
        attempt=attempt,
        exam=exam,
        visible=visible,
        passed=passed(attempt.score, exam.pass_mark),
        rows=rows if visible else [],
        policy_label=REVIEW_LABELS[ReviewPolicy(exam.review_policy)],
    )


# ---- organizers --------------------------------------------------------------------------------------


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
