"""纠错 pages: report a question (from practice feedback, exam review, a finished contest), 我的纠错, the queue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from quizengine.engine.errors import QuizError
from quizengine.engine.questions import get_type
from quizengine.extensions import db
from quizengine.models import ReportStatus
from quizengine.schemas import BadInput, parse_form
from quizengine.schemas.corrections import ReportForm, ResolveForm
from quizengine.services import corrections as service
from quizengine.services.access import NotAllowed

bp = Blueprint("corrections", __name__, url_prefix="/corrections")


def _labels() -> dict[str, object]:
    return {
        "reasons": service.REASONS,
        "sources": service.SOURCE_LABELS,
        "statuses": service.STATUS_LABELS,
        "type_label": lambda kind: get_type(kind).label,
    }


def _report_page(target: service.ReportTarget, action: str, back: str) -> str | Response:
    """The form (GET) or the saved report (POST); a refused report shows the form again with its reason."""
    session = db.session()
    existing = service.open_report(session, current_user, target.question.id)
    if request.method == "POST":
        try:
            form = parse_form(ReportForm(), request.form)
            service.submit_report(session, current_user, target, form["reason"], form["text"])
        except (BadInput, QuizError) as error:
            flash(error.message, "error")
            status = 400
        else:
            flash("已提交纠错，组织员处理后可在“我的纠错”查看结果", "info")
            return redirect(url_for("corrections.mine"))
    else:
        status = 200
    page = render_template(
        "corrections/report.html", target=target, existing=existing, action=action, back=back, **_labels()
    )
    return page if status == 200 else (page, status)  # type: ignore[return-value]


@bp.route("/item/<int:item_id>", methods=["GET", "POST"])
@login_required
def report_item(item_id: int) -> str | Response:
    """Report a question of one's own practice session or exam paper (once its answer is shown)."""
    try:
        target = service.target_for_item(db.session(), current_user, item_id)
    except NotAllowed:
        abort(404)
    except QuizError as error:
        return render_template("corrections/unavailable.html", message=error.message), 409  # type: ignore[return-value]
    if target.source == "exam":
        back = url_for("exams.result", attempt_id=target.source_id)
    else:  # the session goes on where it stopped (or shows its summary)
        back = url_for("practice.attempt", attempt_id=target.source_id)
    return _report_page(target, url_for("corrections.report_item", item_id=item_id), back)


@bp.get("/contest/<int:contest_id>")
@login_required
def contest(contest_id: int) -> str | tuple[str, int]:
    """A finished contest's questions (with their answers), each with a 纠错 link: for its players and hosts."""
    session = db.session()
    try:
        found = service.contest_for_reports(session, current_user, contest_id)
        targets = service.contest_questions(session, found)
    except NotAllowed:
        abort(404)
    except QuizError as error:
        return render_template("corrections/unavailable.html", message=error.message), 409
    return render_template(
        "corrections/contest.html", contest=found, targets=targets, answer_label=service.answer_label, **_labels()
    )


@bp.route("/contest/<int:contest_id>/<int:question_id>", methods=["GET", "POST"])
@login_required
def report_contest(contest_id: int, question_id: int) -> str | Response:
    """Report one question of a finished contest."""
    try:
        target = service.target_for_contest(db.session(), current_user, contest_id, question_id)
    except NotAllowed:
        abort(404)
    except QuizError as error:
        return render_template("corrections/unavailable.html", message=error.message), 409  # type: ignore[return-value]
    action = url_for("corrections.report_contest", contest_id=contest_id, question_id=question_id)
    return _report_page(target, action, url_for("corrections.contest", contest_id=contest_id))


@bp.get("/mine")
@login_required
def mine() -> str:
    """我的纠错: the member's reports and how each was resolved."""
    session = db.session()
    return render_template(
        "corrections/mine.html",
        reports=service.my_reports(session, current_user),
        contests=service.my_finished_contests(session, current_user),
        **_labels(),
    )


@bp.get("/queue")
@login_required
def queue() -> str:
    """The organizer's queue: each reported question as members saw it, with its reports and a form for each."""
    status = request.args.get("status", ReportStatus.OPEN)
    if status not in service.STATUS_LABELS:
        status = ReportStatus.OPEN
    try:
        entries = service.queue(db.session(), current_user, status)
    except NotAllowed:
        abort(403)
    return render_template(
        "corrections/queue.html",
        entries=entries,
        status=status,
        answer_label=service.answer_label,
        authored_options=service.authored_options,
        **_labels(),
    )


@bp.post("/<int:report_id>/resolve")
@login_required
def resolve(report_id: int) -> Response:
    """Mark a report fixed (in revision N) or rejected (with a reason); the reporter sees it in 我的纠错."""
    try:
        form = parse_form(ResolveForm(), request.form)
        service.resolve(
            db.session(), current_user, report_id, form["outcome"], revision=form["revision"], note=form["note"]
        )
    except NotAllowed:
        abort(403)
    except (BadInput, QuizError) as error:
        flash(error.message, "error")
    else:
        flash("已处理，提出纠错的党员可以看到处理结果", "info")
    return redirect(url_for("corrections.queue"))
