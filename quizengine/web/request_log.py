"""One log line per request: method, path, status, milliseconds, user id (REQUEST_LOG, off in tests)."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request, session

from quizengine.services.accounts import parse_session_id

log = logging.getLogger("quizengine.requests")

_FORMAT = "%s %r %s %.1fms user=%s"
_EXTENSION = "quizengine_request_log"


def _user_id() -> str:
    """The loaded user's id, else the session's claim (the autosave fast path loads no user), else "-"."""
    user = g.get("_login_user")
    if user is not None:
        return str(user.id) if user.is_authenticated else "-"
    signed_in = parse_session_id(session.get("_user_id"))
    return str(signed_in[0]) if signed_in else "-"


def _start() -> None:
    request.environ["quizengine.started"] = time.perf_counter()


def _line(response: Response) -> Response:
    environ = request.environ
    started = environ.get("quizengine.started")
    elapsed = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    write_line(environ["REQUEST_METHOD"], request.path, response.status_code, elapsed, _user_id())
    return response


def write_line(method: str, path: str, status: int, elapsed_ms: float, user: str) -> None:
    """Log one request through the logger's handlers, without `Logger.info`'s walk up the stack.

    `info` looks for the calling frame's file and line (`findCaller`) under Flask's deep stack: on the exam
    autosave that walk was a measurable part of the save (docs/performance.md). The record is made as `info`
    makes it, with no caller; the level, filters, handlers and propagation are the logger's own.
    """
    if log.isEnabledFor(logging.INFO):
        # %r quotes the path: a CR/LF or other control character in it cannot forge a second line
        log.handle(
            log.makeRecord(
                log.name, logging.INFO, "(request)", 0, _FORMAT, (method, path, status, elapsed_ms, user), None
            )
        )


def is_on(app: Flask) -> bool:
    """Whether `app` logs its requests (what a path answering outside Flask's request cycle must do too)."""
    return bool(app.extensions.get(_EXTENSION))


def init_request_log(app: Flask) -> None:
    """Log every request when REQUEST_LOG is on (default: on, off when TESTING; env QUIZENGINE_REQUEST_LOG).

    Without any logging configured, the lines go to stderr; a deployment that configures logging
    (root handlers) gets them through its own handlers instead.
    """
    enabled = app.config["REQUEST_LOG"]
    if not (app.testing is False if enabled is None else enabled):
        return
    log.setLevel(logging.INFO)
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
    app.extensions[_EXTENSION] = True
    app.before_request(_start)
    app.after_request(_line)
