"""Printed papers: an exam's 统一试卷, or a paper drawn from blueprint rows, as an A4 试卷 with its answer key."""

from __future__ import annotations

import random
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from quizengine.engine.errors import QuizError
from quizengine.extensions import db
from quizengine.schemas import BadInput, parse_form
from quizengine.schemas.exam import form_sections
from quizengine.schemas.papers import PARTS, DrawForm, PaperView
from quizengine.services import printed_papers
from quizengine.services.access import NotAllowed
from quizengine.services.bank_admin import visible_banks
from quizengine.services.exam_papers import PAPER_MODE_LABELS

from . import exams

bp = Blueprint("papers", __name__, url_prefix="/papers")
bp.register_error_handler(NotAllowed, exams.not_allowed)  # the exam pages' answers: 404 with the reason
bp.register_error_handler(QuizError, exams.refused)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def _new_seed() -> int:
    return random.SystemRandom().randrange(1, 100_000)


def _with(**changes: Any) -> str:
    """This page's URL with some query values changed (the part to print, a new seed)."""
    args = {**request.args.to_dict(flat=True), **{key: str(value) for key, value in changes.items()}}
    return url_for(str(request.endpoint), **(request.view_args or {}), **args)


def _paper(paper: printed_papers.PrintedPaper, part: str, back: tuple[str, str], **extra: Any) -> str:
    parts = {name: _with(part=name) for name in PARTS}
    extra = {"draft": False, "again": None, **extra}
    return render_template("papers/paper.html", paper=paper, part=part, parts=parts, back=back, **extra)


@bp.get("/exam/<int:exam_id>")
@login_required
def exam(exam_id: int) -> str | Response:
    """The exam's 统一试卷 (a draft's as drawn); a 随机组卷 exam explains itself and offers a paper by its rules."""
    exams.readers_only()
    view = parse_form(PaperView(), request.args)
    session = db.session()
    found = printed_papers.readable_exam(session, current_user, exam_id)
    back = (url_for("exams.manage", exam_id=exam_id), "返回考试情况")
    paper = printed_papers.exam_paper(session, found, _zone())
    if paper is None and view["seed"] is None:
        return render_template(
            "papers/random.html", exam=found, sample=_with(seed=_new_seed()), mode=PAPER_MODE_LABELS[found.paper_mode]
        )
    if paper is None:
        paper = printed_papers.exam_sample(session, found, view["seed"], _zone())
        return _paper(paper, view["part"], back, again=_with(seed=_new_seed()))
    return _paper(paper, view["part"], back, draft=found.status == "draft")


@bp.get("/draw")
@login_required
def draw() -> str | Response | tuple[str, int]:
    """The form (the exam form's blueprint rows, a title, a seed) and, once sent, the paper it draws."""
    exams.readers_only()
    banks = visible_banks(db.session(), current_user)  # another branch's own banks are not offered
    if "go" not in request.args:
        return render_template("papers/draw.html", banks=banks, form=request.args, error=None)
    try:
        form = parse_form(DrawForm(), request.args)
        if form["seed"] is None:  # the URL names its seed, so the page prints the same paper again
            return redirect(_with(seed=_new_seed()))
        spec = printed_papers.DrawSpec(
            form["title"], form_sections(form), form["seed"], date=form["date"], minutes=form["minutes"]
        )
        paper = printed_papers.drawn_paper(db.session(), current_user, spec)
    except (QuizError, BadInput) as error:
        return render_template("papers/draw.html", banks=banks, form=request.args, error=error.message), 400
    form_url = url_for("papers.draw", **{k: v for k, v in request.args.to_dict(flat=True).items() if k != "go"})
    return _paper(paper, form["part"], (form_url, "修改抽题条件"), again=_with(seed=_new_seed()))
