"""The exam autosave's request handling: its CSRF rule, its reply, and a lean path for its common case.

A committee's monthly exam is hundreds of members saving an answer every few seconds, each save one
conditional UPDATE (services.exam_saves). Around that statement Flask's request cycle — context, routing,
nine hooks, the session's save, teardown — cost more than the statement (docs/performance.md). `LeanAutosave`
answers a save outside that cycle when, and only when, everything it must check was already verified by this
process and the UPDATE stores the answer: the session cookie (memoized by web.FastSessionInterface), the
CSRF token (memoized here). Anything else — a first request, a refusal, a bad body, an unusual
configuration, an error — goes on to Flask unchanged, which checks, refuses and explains as always; so the
lean path can only ever say "saved", with the same reply and headers Flask would send.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from flask import Flask, Request, Response
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from quizengine.extensions import db
from quizengine.schemas import INT_MAX, BadInput, parse, parse_json
from quizengine.schemas.exam import SaveAnswer
from quizengine.services import exam_saves
from quizengine.services.accounts import parse_session_id

from . import request_log
from .verified import VerifiedMemo

if TYPE_CHECKING:
    from . import FastSessionInterface

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Built once: a schema holds no per-load state, and building one per save was ~4 % of its CPU.
SAVE_ANSWER = SaveAnswer()
#: (key, token, session token) of CSRF checks that passed (see check_csrf_header).
_verified_csrf = VerifiedMemo()


def check_csrf_header(request: Request, app: Flask, session: Mapping[str, Any]) -> None:
    """Flask-WTF's CSRF check of the token header, without its look into form fields a JSON body never has.

    The same `validate_csrf`, the same HTTPS referrer rule and the same CSRFError (HTTP 400) as
    CSRFProtect, which skips the autosave endpoint only so that this cheaper lookup does it instead.
    With no time limit, validate_csrf's verdict depends only on the key, the token and the session's own
    token: one success per (key, token, session token) is remembered, so a page's later saves skip the HMAC.
    """
    config = app.config
    if not config["WTF_CSRF_ENABLED"] or not config["WTF_CSRF_CHECK_DEFAULT"]:
        return
    known = _csrf_memo_key(request, app, session)
    if known is None or not _verified_csrf.get(known):
        try:
            validate_csrf(_header_token(request, config))
        except ValidationError as error:
            raise CSRFError(error.args[0]) from None
        if known is not None:
            _verified_csrf.put(known, True)
    refusal = _referrer_refusal(request, config)
    if refusal:
        raise CSRFError(refusal)


def _csrf_known(request: Request, app: Flask, session: Mapping[str, Any]) -> bool:
    """Whether check_csrf_header would pass without verifying anything: its memo knows the token, or the
    check is off."""
    config = app.config
    if not config["WTF_CSRF_ENABLED"] or not config["WTF_CSRF_CHECK_DEFAULT"]:
        return True
    known = _csrf_memo_key(request, app, session)
    return known is not None and bool(_verified_csrf.get(known)) and _referrer_refusal(request, config) is None


def _header_token(request: Request, config: Mapping[str, Any]) -> str | None:
    return next((request.headers[name] for name in config["WTF_CSRF_HEADERS"] if request.headers.get(name)), None)


def _csrf_memo_key(request: Request, app: Flask, session: Mapping[str, Any]) -> tuple[Any, str, str] | None:
    """The memo's key for this request's token, or None when no memo may answer (a time limit, no token)."""
    config = app.config
    token = _header_token(request, config)
    session_token = session.get(config.get("WTF_CSRF_FIELD_NAME") or "csrf_token")
    if config.get("WTF_CSRF_TIME_LIMIT", 3600) is not None or not token or session_token is None:
        return None
    return (config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, token, session_token)


def _referrer_refusal(request: Request, config: Mapping[str, Any]) -> str | None:
    """Flask-WTF's rule for HTTPS: the referrer must name this very origin."""
    if not (request.is_secure and config["WTF_CSRF_SSL_STRICT"]):
        return None
    if not request.referrer:
        return "The referrer header is missing."
    referrer = urlsplit(request.referrer)
    if (referrer.scheme, referrer.netloc) != ("https", request.host):
        return "The referrer does not match the host."
    return None


def saved_reply(position: int, moment: str) -> Response:
    """The acknowledgement, compact as jsonify writes it, without its provider's overhead."""
    return Response(_reply_json(position, moment), mimetype="application/json")


def _reply_json(position: int, moment: str) -> str:
    return json.dumps({"ok": True, "position": position, "savedAt": moment, "serverNow": moment}, separators=(",", ":"))


class LeanAutosave:
    """WSGI middleware: `POST /exams/attempts/<id>/answers` saved without Flask's request cycle when it can be.

    The path applies only where Flask's own cycle would add nothing to a successful save's reply: no
    TRUSTED_HOSTS (host checks), no session or remember cookie to refresh, a body within MAX_CONTENT_LENGTH.
    The hooks Flask would run are listed in ACCOUNTED_HOOKS with what this path does about each;
    tests/test_lean_autosave.py fails when a hook is added that this list does not name.
    """

    PREFIX = "/exams/attempts/"
    SUFFIX = "/answers"
    #: Every hook registered on the app for this endpoint, and why the lean path may answer without it.
    ACCOUNTED_HOOKS: ClassVar[dict[str, str]] = {
        "_route_body_limit": "the save declares no body_limit: MAX_CONTENT_LENGTH is checked here",
        "csrf_protect": "the save is exempt; check_csrf_header's memo is consulted here",
        "_force_password_change": "skipped for the save (its UPDATE refuses a forced change)",
        "_refuse_inspector_writes": "skipped for the save (its UPDATE refuses an inspector)",
        "_start": "the request log's clock: started here",
        "_update_remember_cookie": "a no-op without '_remember' in the session and without refresh-each-request",
        "_security_headers": "the same headers added here (web._SECURITY_HEADERS)",
        "_line": "the same log line written here",
        "_remove_session": "no ORM session is made here",
    }

    def __init__(self, app: Flask, wsgi_app: WSGIApp, security_headers: tuple[tuple[str, str], ...]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.security_headers = security_headers

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "POST" and path.startswith(self.PREFIX) and path.endswith(self.SUFFIX):
            started = time.perf_counter()
            saved = self._save(environ, path[len(self.PREFIX) : -len(self.SUFFIX)])
            if saved is not None:
                body, user = saved
                headers = [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Vary", "Cookie"),
                    *self.security_headers,
                ]
                start_response("200 OK", headers)
                if request_log.is_on(self.app):
                    request_log.write_line("POST", path, 200, (time.perf_counter() - started) * 1000, user)
                return [body]
        return self.wsgi_app(environ, start_response)

    def _save(self, environ: dict[str, Any], attempt: str) -> tuple[bytes, str] | None:
        """The reply's body and the member's id when the answer was saved here; None to let Flask answer."""
        app, config = self.app, self.app.config
        if not (attempt.isascii() and attempt.isdigit() and len(attempt) <= 10 and int(attempt) <= INT_MAX):
            return None
        if config["TRUSTED_HOSTS"] is not None or config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST"):
            return None
        session_interface: FastSessionInterface = app.session_interface  # type: ignore[assignment]
        session = session_interface.remembered(app, environ)
        if session is None or "_remember" in session:
            return None
        if session.get("_permanent") and config["SESSION_REFRESH_EACH_REQUEST"]:
            return None
        signed_in = parse_session_id(session.get("_user_id"))
        body = _body(environ, config["MAX_CONTENT_LENGTH"])
        if signed_in is None or body is None or not app.secret_key:
            return None
        if not _csrf_known(app.request_class(environ), app, session):
            return None
        try:
            answer = parse(SAVE_ANSWER, parse_json(body))
        except BadInput:
            return None
        engine = db.engine
        if engine is None or db.session.registry.has():
            return None
        try:
            saved = exam_saves.save_cached(
                engine, signed_in[0], int(attempt), answer["position"], answer["response"], epoch=signed_in[1]
            )
        except Exception:
            return None
        if saved is None:
            return None
        return _reply_json(saved.position, saved.saved_at.isoformat()).encode(), str(signed_in[0])


def _body(environ: dict[str, Any], limit: int | None) -> bytes | None:
    """The request body, read once and put back for Flask; None when it is not a plain body within `limit`."""
    if environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if length < 0 or (limit is not None and length > limit):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body if len(body) == length else None
