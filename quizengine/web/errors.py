"""Every HTTP error in Chinese: a page with a way back, or `{ok: false, code, message}` for JSON clients.

One rule decides which: a request that sent JSON or asks for JSON ahead of HTML (the exam autosave and any
other fetch() endpoint) gets JSON; everything else gets a page extending base.html. Werkzeug's own English
descriptions never reach a user: a view's own Chinese `abort(404, "…")` text is shown, the default is not.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from quizengine.extensions import db
from quizengine.models import Branch
from quizengine.services.access import NotAllowed
from quizengine.services.organization import NotFound, get_branch

#: status -> (machine code, page title, what happened and what to do next).
MESSAGES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求有误", "提交的内容不完整或格式不正确。请返回上一页检查后重试。"),
    401: ("unauthorized", "请先登录", "此页面需要登录后才能查看。请登录后重试。"),
    403: ("forbidden", "无权访问", "您没有查看此页面的权限。如需访问，请联系本支部的组织员。"),
    404: ("not_found", "页面不存在", "您要找的页面不存在或已被删除。请检查链接是否正确，或从首页重新进入。"),
    405: ("method_not_allowed", "无法这样打开此页面", "此页面不能以这种方式访问。请从站内的链接或按钮进入。"),
    413: ("too_large", "内容过大", "上传的文件或提交的内容超过了大小限制。请缩小后重试。"),
    429: ("too_many_requests", "操作过于频繁", "请稍候片刻再试。"),
    500: ("server_error", "系统出错", "服务器处理请求时出错，已记录在日志中。请稍后重试；如果问题持续，请联系管理员。"),
}
#: A failed CSRF check: the form's token is missing or belongs to another session (logged out, new login).
CSRF_MESSAGE = ("csrf", "页面已失效", "页面停留过久或已在别处退出登录，此表单已失效。请返回上一页，刷新后重新提交。")
#: Any other 4xx/5xx a library might raise.
OTHER_MESSAGE = ("error", "请求无法完成", "请求无法完成。请返回上一页重试。")


def wants_json() -> bool:
    """The one rule: the client sent JSON, or its Accept header prefers JSON to HTML."""
    return request.is_json or request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def error_response(
    status: int, message: str | None = None, code: str | None = None, title: str | None = None
) -> tuple[Response | str, int]:
    """The error as the client expects it; other handlers (e.g. for BadInput) return this too."""
    default_code, default_title, default_message = MESSAGES.get(status, OTHER_MESSAGE)
    code, title, message = code or default_code, title or default_title, message or default_message
    if wants_json():
        return jsonify({"ok": False, "code": code, "message": message}), status
    page = render_template("errors/error.html", status=status, title=title, message=message, back=safe_referrer())
    return page, status


def register(app: Flask) -> None:
    """Install the handlers (called once from web.init_app)."""
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)


def _http_error(error: HTTPException) -> HTTPException | tuple[Response | str, int]:
    if error.code is None or error.code < 400:  # redirects raised as exceptions pass through
        return error
    return error_response(error.code, _own_description(error))


def _csrf_failed(error: CSRFError) -> tuple[Response | str, int]:
    code, title, message = CSRF_MESSAGE
    return error_response(400, message, code, title)


def _server_error(error: InternalServerError) -> tuple[Response | str, int]:
    db.session.rollback()  # the page's header loads the user: not on a failed transaction (PostgreSQL)
    return error_response(500)


def _own_description(error: HTTPException) -> str | None:
    """A view's own message (abort(404, "没有这场考试")); Werkzeug's English default is dropped."""
    description = error.description
    if not description or description == type(error).description:
        return None
    return description


def safe_referrer() -> str | None:
    """The previous page when it is one of ours (same host): for 返回上一页 and for going back after a toggle."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host or parts.scheme not in {"http", "https"} or referrer == request.url:
        return None
    return referrer


def readable_branch_or_404(branch_id: int) -> Branch:
    """The branch a page is about, if the viewer may read it — else 404, also for an id no branch has (an admin
    may read every branch, so a check of the permission alone lets a missing one through to the template)."""
    try:
        return get_branch(db.session(), current_user, branch_id, read=True)
    except (NotAllowed, NotFound):
        abort(404)
