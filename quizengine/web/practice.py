"""Self-test pages: choose, answer one question per screen, feedback, summary, wrong-answer book."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from quizengine.engine.errors import QuizError
from quizengine.engine.questions import get_type
from quizengine.extensions import db
from quizengine.models import AttemptStatus
from quizengine.modes.self_test import COUNTS, KIND_LABELS, PracticeKind
from quizengine.schemas import BadInput, parse, parse_form
from quizengine.schemas.practice import PracticeAnswer, StartPractice
from quizengine.services import attempt_items, motivation, practice
from quizengine.services.access import NotAllowed
from quizengine.services.banks import list_banks_for_practice
from quizengine.services.wrong_book import list_wrong_book, remove_from_wrong_book

bp = Blueprint("practice", __name__, url_prefix="/practice")


def _practice_request() -> practice.PracticeRequest:
    form = parse_form(StartPractice(), request.form)
    chapters = tuple((int(bank_id), key) for bank_id, _, key in (value.partition(":") for value in form["chapter"]))
    return practice.PracticeRequest(
        PracticeKind(form["kind"]), tuple(form["bank"]), chapters, tuple(form["type"]), form["count"]
    )


@bp.get("/")
@login_required
def choose() -> str:
    """The practice menu: banks and chapters, kinds, counts, open sessions, wrong-book size."""
    session = db.session()
    return render_template(
        "practice/choose.html",
        banks=list_banks_for_practice(session, current_user),
        kinds=KIND_LABELS,
        counts=COUNTS,
        open_attempts=practice.list_open_attempts(session, current_user),
        wrong_book=len(list_wrong_book(session, current_user)),
    )


@bp.post("/start")
@login_required
def start() -> Response | tuple[str, int]:
    """Start a session and go to its first question."""
    try:
        attempt = practice.start_practice(db.session(), current_user, _practice_request())
    except (QuizError, BadInput) as error:
        flash(error.message, "error")
        return redirect(url_for("practice.choose"))
    return redirect(url_for("practice.attempt", attempt_id=attempt.id))


def _load(attempt_id: int) -> Any:
    try:
        return practice.get_attempt(db.session(), current_user, attempt_id)
    except NotAllowed:
        abort(404)


@bp.get("/<int:attempt_id>")
@login_required
def attempt(attempt_id: int) -> str | Response:
    """The current question (the first unanswered one), or the summary when the session is over."""
    current = _load(attempt_id)
    position = practice.current_position(current)
    if current.status == AttemptStatus.FINISHED or position is None:
        return redirect(url_for("practice.summary", attempt_id=attempt_id))
    item = current.items[position]
    return render_template("practice/question.html", attempt=current, item=item, **_question_view(item))


def _question_view(item: Any) -> dict[str, Any]:
    question = attempt_items.engine_question(item)
    return {
        "question": question,
        "type_label": get_type(question.type).label,
        "options": attempt_items.shown_options(item),
        "blanks": question.blank_count if question.type == "fill" else 0,
    }


def _response() -> Any:
    kind = request.form.get("type")
    if kind == "multiple":
        return request.form.getlist("choice")
    if kind == "fill":
        return request.form.getlist("blank")
    if kind == "short":
        return request.form.get("text", "")
    return request.form.get("choice")


@bp.post("/<int:attempt_id>/answer")
@login_required
def answer(attempt_id: int) -> Response:
    """Save one answer; practice shows its feedback, a mock exam goes straight on."""
    answer = parse(PracticeAnswer(), {"position": request.form.get("position", ""), "response": _response()})
    try:
        item = practice.answer_item(db.session(), current_user, attempt_id, answer["position"], answer["response"])
    except NotAllowed:
        abort(404)
    except QuizError as error:
        flash(error.message, "error")
        return redirect(url_for("practice.attempt", attempt_id=attempt_id))
    if item.attempt.kind == PracticeKind.MOCK:
        return redirect(url_for("practice.attempt", attempt_id=attempt_id))
    return redirect(url_for("practice.feedback", attempt_id=attempt_id, position=item.position))


@bp.get("/<int:attempt_id>/feedback/<int:position>")
@login_required
def feedback(attempt_id: int, position: int) -> str | Response:
    """Right or wrong, the right answer, 解析 and 出处 — then one button to go on."""
    current = _load(attempt_id)
    if position >= len(current.items) or current.items[position].answered_at is None:
        return redirect(url_for("practice.attempt", attempt_id=attempt_id))
    if current.kind == PracticeKind.MOCK and current.status == AttemptStatus.OPEN:
        abort(404)  # a mock exam shows answers only after it is handed in
    item = current.items[position]
    return render_template(
        "practice/feedback.html",
        attempt=current,
        item=item,
        right_answer=attempt_items.shown_answer(item),
        given=attempt_items.shown_response(item),
        **_question_view(item),
    )


@bp.post("/<int:attempt_id>/finish")
@login_required
def finish(attempt_id: int) -> Response:
    """End the session now (hand in a mock exam)."""
    try:
        practice.finish_attempt(db.session(), current_user, attempt_id)
    except NotAllowed:
        abort(404)
    return redirect(url_for("practice.summary", attempt_id=attempt_id))


@bp.get("/<int:attempt_id>/summary")
@login_required
def summary(attempt_id: int) -> str | Response:
    """Score and every question with the member's answer and the right one."""
    current = _load(attempt_id)
    if current.status != AttemptStatus.FINISHED and practice.current_position(current) is not None:
        return redirect(url_for("practice.attempt", attempt_id=attempt_id))
    rows = [
        {
            "item": item,
            "question": attempt_items.engine_question(item),
            "given": attempt_items.shown_response(item),
            "right": attempt_items.shown_answer(item),
        }
        for item in current.items
    ]
    config = current_app.config
    progress = motivation.session_summary(
        db.session(),
        current_user,
        current,
        motivation.points_policy(config),
        config["DAILY_GOAL"],
        ZoneInfo(config["DISPLAY_TIMEZONE"]),
    )
    return render_template(
        "practice/summary.html",
        attempt=current,
        rows=rows,
        kinds=KIND_LABELS,
        earned=progress.earned,
        today=progress.today,
        suggestion=progress.suggestion,
    )


@bp.get("/wrong-book")
@login_required
def wrong_book() -> str:
    """The wrong-answer book, grouped by bank and chapter."""
    return render_template("practice/wrong_book.html", questions=list_wrong_book(db.session(), current_user))


@bp.post("/wrong-book/<int:question_id>/remove")
@login_required
def remove_wrong(question_id: int) -> Response:
    """Take one question out of the book by hand."""
    try:
        remove_from_wrong_book(db.session(), current_user, question_id)
        flash("已移出错题本", "info")
    except NotAllowed as error:
        flash(error.message, "error")
    return redirect(url_for("practice.wrong_book"))
