"""Members take an exam: start, the paper, autosave, tab switches, submit, the result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie_session
from flask_login import current_user, login_required

from quizengine.engine.errors import DeadlinePassed, QuizError
from quizengine.engine.questions import OPTION_KEYS
from quizengine.extensions import csrf, db, login_manager
from quizengine.models import AttemptStatus
from quizengine.modes.timed_exam import REVIEW_LABELS, ReviewPolicy, passed
from quizengine.schemas import BadInput, parse, parse_json
from quizengine.services import exam_access, exam_saves, exam_started_papers, exam_taking
from quizengine.services.access import NotAllowed, ReadOnly, is_reader
from quizengine.services.accounts import parse_session_id
from quizengine.services.attempt_items import engine_question, shown_answer, shown_response
from quizengine.web import autosave

from . import bp


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


def _paper(entries: list[exam_started_papers.PaperEntry]) -> list[dict[str, Any]]:
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
        "questions": _paper(exam_started_papers.paper_entries(db.session(), attempt.id)),
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
    loading the user (see services.exam_saves.save_answer); refusals are the same as on every other page.
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
        saved = exam_saves.save_answer(  # the scoped session itself: made only if the slow path needs it
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
