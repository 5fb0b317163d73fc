"""题库管理 pages: the bank list with exports and the blank template, question search, a question's page."""

from __future__ import annotations

import io

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from quizengine.banks.importing import EXPORT_FORMATS, blank_template_xlsx, export_bank
from quizengine.banks.importing.common import TYPE_LABELS
from quizengine.extensions import db
from quizengine.services import bank_admin, question_admin
from quizengine.services.access import NotAllowed
from quizengine.services.corrections import REASONS, answer_label, authored_options
from quizengine.services.roster import XLSX_MIMETYPE

bp = Blueprint("banks", __name__, url_prefix="/banks")

EXPORT_MIMETYPES = {"xlsx": XLSX_MIMETYPE, "yaml": "application/x-yaml", "gift": "text/plain"}
DIFFICULTIES = {1: "简单", 2: "较易", 3: "中等", 4: "较难", 5: "困难"}


def _labels() -> dict[str, object]:
    return {
        "type_labels": TYPE_LABELS,
        "type_label": lambda kind: TYPE_LABELS.get(kind, kind),
        "difficulties": DIFFICULTIES,
    }


def _require_manager() -> None:
    if not bank_admin.can_manage_banks(current_user):
        abort(403)


def _int_arg(name: str, low: int, high: int) -> int | None:
    """A query argument as a number in [low, high]; anything else (empty, not ASCII digits, out of range) is None."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        return None
    value = int(raw)
    return value if low <= value <= high else None


@bp.get("/")
@login_required
def index() -> str:
    """The banks the user sees with counts by type and chapter, downloads and (for editors) the upload link."""
    _require_manager()
    summaries = bank_admin.bank_summaries(db.session(), current_user)
    return render_template("banks/index.html", summaries=summaries, formats=EXPORT_FORMATS, **_labels())


@bp.get("/template.xlsx")
@login_required
def template() -> Response:
    """The blank import template (header, 题型 drop-down, instructions)."""
    _require_manager()
    return send_file(
        io.BytesIO(blank_template_xlsx()), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name="题库导入模板.xlsx"
    )


@bp.get("/<int:bank_id>/export/<fmt>")
@login_required
def export(bank_id: int, fmt: str) -> Response:
    """A bank's live questions as Excel (the import template), YAML v1 or GIFT."""
    if fmt not in EXPORT_FORMATS:
        abort(404)
    session = db.session()
    try:
        bank = bank_admin.readable_bank(session, current_user, bank_id)
    except NotAllowed:
        abort(404)
    data = export_bank(bank_admin.bank_mapping(session, bank), fmt)
    suffix = "txt" if fmt == "gift" else fmt
    return send_file(
        io.BytesIO(data), mimetype=EXPORT_MIMETYPES[fmt], as_attachment=True, download_name=f"{bank.title}.{suffix}"
    )


@bp.get("/questions")
@login_required
def search() -> str:
    """Search the live questions of the banks the user sees, 20 a page."""
    _require_manager()
    session = db.session()
    filters = question_admin.SearchFilters(
        text=request.args.get("q", "")[: question_admin.QUERY_MAX],
        bank_id=_int_arg("bank", 1, 2**31 - 1),
        chapter=request.args.get("chapter", "")[:100],
        type=request.args.get("type", "") if request.args.get("type", "") in TYPE_LABELS else "",
        difficulty=_int_arg("difficulty", 1, 5),
        page=_int_arg("page", 1, 1_000_000) or 1,
    )
    result = question_admin.search(session, current_user, filters)
    summaries = bank_admin.bank_summaries(session, current_user)
    banks = {summary.bank.id: summary.bank for summary in summaries}
    return render_template(
        "banks/search.html", result=result, filters=filters, summaries=summaries, banks=banks, **_labels()
    )


@bp.get("/questions/<int:question_id>")
@login_required
def question(question_id: int) -> str:
    """A question as members see it, with its answer, revisions, usage, facility and open 纠错 reports."""
    try:
        page = question_admin.question_page(db.session(), current_user, question_id)
    except NotAllowed:
        abort(404)
    return render_template(
        "banks/question.html",
        page=page,
        authored_options=authored_options,
        answer_label=answer_label,
        reasons=REASONS,
        editable=bank_admin.can_edit_bank(current_user, page.bank),
        **_labels(),
    )
