"""题库管理 pages: the bank list with exports and the blank template, question search, a question's page, and
importing a file: upload → preview → save as a new bank or merge into one."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask import session as browser_session
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from quizengine.banks.importing import EXPORT_FORMATS, blank_template_xlsx, export_bank
from quizengine.banks.importing.common import MAX_FILE_BYTES, TYPE_LABELS
from quizengine.engine.errors import QuizError
from quizengine.extensions import db
from quizengine.services import bank_admin, bank_uploads, question_admin
from quizengine.services.access import NotAllowed
from quizengine.services.corrections import REASONS, answer_label, authored_options
from quizengine.services.roster import XLSX_MIMETYPE, UploadStore

bp = Blueprint("banks", __name__, url_prefix="/banks")
Page = str | Response | tuple[str, int]

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
    return render_template(
        "banks/index.html",
        summaries=summaries,
        formats=EXPORT_FORMATS,
        upload_allowed=bank_uploads.can_upload(current_user),
        **_labels(),
    )


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


# --- import: upload → preview → save -------------------------------------------------------------------------

FORMAT_LABELS = {
    "auto": "自动识别",
    "xlsx": "Excel 表格",
    "csv": "CSV 表格",
    "text": "Word 文本",
    "gift": "GIFT 格式",
    "aiken": "Aiken 格式",
    "moodlexml": "Moodle XML 格式",
}
#: Uploads a browser session may hold at once (older ones are forgotten, their files swept within the hour).
_MAX_PENDING = 5
#: The request body an import may send: the importer's file limit and the form around it.
_BODY_LIMIT = MAX_FILE_BYTES + 256 * 1024


def _store() -> UploadStore:
    return UploadStore(Path(current_app.instance_path) / "uploads" / "banks")


def _require_uploader() -> None:
    if not bank_uploads.can_upload(current_user):
        abort(403)


def _held(token: str) -> tuple[bytes, str, str]:
    """The upload this session previewed under `token` (404 when unknown, another user's, or expired)."""
    held = browser_session.get("bank_uploads", {}).get(token)
    data = _store().load(token) if held and held[2] == current_user.id else None
    if data is None:
        abort(404)
    return data, held[0], held[1]


def _received() -> tuple[bytes, str, str]:
    """The uploaded file or the pasted text, with its name and the format asked for (QuizError if neither)."""
    fmt = request.form.get("format", "auto")
    if fmt not in FORMAT_LABELS:
        raise QuizError("请选择文件格式")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.stream.read(MAX_FILE_BYTES + 1)
        upload.close()  # a large upload is spooled to a temporary file: release it now
        if len(data) > MAX_FILE_BYTES:
            raise QuizError(f"文件过大（上限 {MAX_FILE_BYTES // (1024 * 1024)} MB）")
        return data, Path(upload.filename.replace("\\", "/")).name[:100] or "题库文件", fmt
    text = request.form.get("text", "")
    if len(text) > bank_uploads.PASTE_MAX_CHARS:
        raise QuizError(f"粘贴的内容最多 {bank_uploads.PASTE_MAX_CHARS:,} 字，请分几次导入")
    if text.strip():
        return text.encode("utf-8"), bank_uploads.PASTED_NAME, "text" if fmt == "auto" else fmt
    raise QuizError("请选择要上传的文件，或粘贴题目文本")


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload() -> Page:
    """The import form; a posted file (or pasted text) is converted, held, and its preview shown."""
    _require_uploader()
    if request.method == "GET":
        return render_template("banks/upload.html", format_labels=FORMAT_LABELS, max_mb=MAX_FILE_BYTES // 1048576)
    try:
        data, filename, fmt = _received()
        bank_uploads.convert(data, filename, fmt)  # a file refused as a whole is not held
    except QuizError as error:
        flash(error.message, "error")
        page = render_template("banks/upload.html", format_labels=FORMAT_LABELS, max_mb=MAX_FILE_BYTES // 1048576)
        return page, 400
    token = _store().save(data)
    pending = dict(browser_session.get("bank_uploads", {}))
    pending[token] = (filename, fmt, current_user.id)
    browser_session["bank_uploads"] = dict(list(pending.items())[-_MAX_PENDING:])
    return redirect(url_for("banks.preview", token=token))


upload.body_limit = _BODY_LIMIT  # type: ignore[attr-defined]  # read by web._route_body_limit, before CSRF


def _preview_page(token: str, upload: tuple[bytes, str, str], form: dict[str, Any], status: int = 200) -> Page:
    data, filename, fmt = upload
    try:
        shown = bank_uploads.preview(data, filename, fmt, _store().folder)
    except QuizError as error:
        flash(error.message, "error")
        return redirect(url_for("banks.upload"))
    banks_path = Path(current_app.config["BANKS_PATH"])
    page = render_template(
        "banks/preview.html",
        token=token,
        filename=filename,
        preview=shown,
        targets=bank_uploads.merge_targets(db.session(), current_user, banks_path),
        owners=bank_uploads.owner_choices(db.session(), current_user),
        form=form,
        shown_options=lambda question: [(option.key, option.text) for option in question.options],
        **_labels(),
    )
    return page if status == 200 else (page, status)


@bp.get("/upload/<token>")
@login_required
def preview(token: str) -> Page:
    """The held upload as members will see its first questions, every problem by row or line, the save form."""
    _require_uploader()
    return _preview_page(token, _held(token), {})


@bp.post("/upload/<token>/save")
@login_required
def save(token: str) -> Page:
    """Save the held upload as a new bank or merged into one; a refusal shows the preview again with its reason."""
    _require_uploader()
    upload = _held(token)
    form = request.form
    target = form.get("target", "")
    save_request = bank_uploads.SaveRequest(
        mode=form.get("mode", ""),
        slug=form.get("slug", "")[:100],
        title=form.get("title", "")[:300],
        target_id=int(target) if target.isascii() and target.isdigit() and len(target) <= 9 else None,
        skip_bad=form.get("skip_bad") == "1",
        owner=form["owner"][:20] if "owner" in form else None,
    )
    banks_path = Path(current_app.config["BANKS_PATH"])
    try:
        bank, report, skipped = bank_uploads.save(db.session(), current_user, banks_path, upload, save_request)
    except QuizError as error:
        flash(error.message, "error")
        return _preview_page(token, upload, form.to_dict(), 400)
    _store().discard(token)
    pending = dict(browser_session.get("bank_uploads", {}))
    pending.pop(token, None)
    browser_session["bank_uploads"] = pending
    skipped_text = f"，跳过 {skipped} 道有问题的题目" if skipped else ""
    flash(
        f"已保存题库“{bank.title}”：新增 {report.created} 题，修改 {report.updated} 题，"
        f"未变 {report.unchanged} 题{skipped_text}",
        "info",
    )
    return redirect(url_for("banks.index") + f"#bank-{bank.id}")
