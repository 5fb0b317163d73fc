"""HTTP layer: blueprints per area; each view parses, authorises, calls a service and renders."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Request, Response, current_app, redirect, request, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.routing import IntegerConverter

from quizengine.extensions import SOCKETIO_SESSION_KEY, db, login_manager
from quizengine.models import ROLE_LABELS, Role, User
from quizengine.schemas import INT_MAX, BadInput
from quizengine.services.accounts import parse_session_id
from quizengine.web.proxies import ProxyFixFromTrustedPeers

from . import (
    assignments,
    auth,
    banks,
    contest_results,
    contests,
    corrections,
    dashboard,
    errors,
    exams,
    main,
    org,
    papers,
    practice,
    records,
    standards,
    study,
    study_checks,
)
from .autosave import LeanAutosave
from .links import join_url, join_warning
from .read_only import init_read_only
from .redirects import current_path
from .request_log import init_request_log
from .verified import VerifiedMemo, immutable_values

#: Only the app's own assets (Party intranets are often offline; nothing comes from a CDN).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

#: Endpoints a user who must change the password may still reach.
_PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "static", "main.healthz"}
#: Endpoints that check the account themselves without loading the user (the exam autosave hot path
#: refuses a forced password change with the same redirect, see web.exams.taking.save).
_CHECK_ACCOUNT_THEMSELVES = {"exams.save"}


class FastSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without two costs paid on every request context.

    Flask builds a new signing serializer per request context, and Flask-SocketIO pushes a context per
    Socket.IO event: ~35 µs each (measured in docs/performance.md), on every autosave and every contest
    answer; the serializer holds no per-request state, so one per key is built and kept. And on a Socket.IO
    connection's later events, Flask would decode and verify the handshake's cookie again only for
    Flask-SocketIO to replace it with the connection's own session ("saved_session", copied from the cookie
    session at the connection's first event): those events get an empty session instead.
    """

    #: Longer Cookie headers (other cookies besides ours) are verified every time: the memo stays small.
    MEMO_HEADER_MAX = 1024

    def __init__(self) -> None:
        self._serializers: dict[tuple[object, ...], URLSafeTimedSerializer] = {}
        #: (serializer, cookie name, Cookie header) -> (data, signed at): cookies already verified (an exam
        #: page's every save)
        self._verified = VerifiedMemo()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The cookie's session, or an empty one for an event of a Socket.IO connection that has its own.

        Flask's own check (signature, then age against PERMANENT_SESSION_LIFETIME), done once per cookie:
        a cookie verified before is taken from the memo, its age checked again.
        """
        if SOCKETIO_SESSION_KEY in request.environ:
            return self.session_class()
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        known = self.remembered(app, request.environ)
        if known is not None:
            return self.session_class(known)
        name = self.get_cookie_name(app)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        header = request.environ.get("HTTP_COOKIE", "")
        key = (serializer, name, header) if len(header) <= self.MEMO_HEADER_MAX else None
        value = request.cookies.get(name)
        if not value:
            return self.session_class()
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if key is not None and isinstance(data, dict) and immutable_values(data):
            self._verified.put(key, (dict(data), signed.timestamp()))
        return self.session_class(data)

    def remembered(self, app: Flask, environ: dict[str, Any]) -> dict[str, Any] | None:
        """The session of a request's cookie if this process verified that cookie before and it has not expired.

        Keyed by the raw Cookie header: the same header holds the same cookie, and is not parsed again. The
        returned dict is the memo's own: read it, never change it (open_session hands Flask a copy).
        """
        serializer = self.get_signing_serializer(app)
        header = environ.get("HTTP_COOKIE", "")
        if serializer is None or len(header) > self.MEMO_HEADER_MAX:
            return None
        key = (serializer, self.get_cookie_name(app), header)
        known = self._verified.get(key)
        if known is None:
            return None
        data, signed_at = known
        if time.time() - signed_at <= app.permanent_session_lifetime.total_seconds():
            return data  # type: ignore[no-any-return]
        self._verified.discard(key)
        return None

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:  # type: ignore[override]
        """Flask's, returning at once when the cookie is not to be set again (a save changes no session):
        the same Vary header, without reading six cookie settings first."""
        if not session.modified and not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The serializer for the app's current key and fallbacks (built on first use of that key)."""
        if not app.secret_key:
            return None
        key = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = self._serializers[key] = super().get_signing_serializer(app)  # type: ignore[assignment]
        return serializer


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` for the whole app: ASCII digits up to INT_MAX, else 404 (a 20-digit id was a 500 in the database)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Register blueprints, the login loader, security headers and template helpers."""
    app.url_map.converters["int"] = BoundedIntConverter  # before any rule is added
    app.session_interface = FastSessionInterface()
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(org.bp)
    app.register_blueprint(practice.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(standards.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(assignments.bp)
    app.register_blueprint(study.bp)
    app.register_blueprint(study_checks.bp)
    app.register_blueprint(exams.bp)
    app.register_blueprint(papers.bp)
    app.register_blueprint(contests.bp)
    app.register_blueprint(contest_results.bp)
    app.register_blueprint(corrections.bp)
    app.register_blueprint(banks.bp)
    errors.register(app)
    # first of all, so CSRF's reading of the form already obeys it
    app.before_request_funcs.setdefault(None, []).insert(0, _route_body_limit)
    app.register_error_handler(BadInput, _bad_input)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.user_loader(_load_user)
    app.before_request(_force_password_change)
    init_read_only(app)
    app.after_request(_security_headers)
    init_request_log(app)
    # inside the proxy fix (it sees the client's scheme and address), outside Flask and Socket.IO
    app.wsgi_app = LeanAutosave(  # type: ignore[method-assign]
        app, app.wsgi_app, tuple((name, value) for _lower, name, value in _SECURITY_HEADERS)
    )
    trust_proxies(app)
    zone = ZoneInfo(app.config["DISPLAY_TIMEZONE"])

    @app.template_filter("localtime")
    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """Show a UTC datetime in the display time zone (Asia/Shanghai)."""
        return value.astimezone(zone).strftime(fmt) if value else ""

    app.add_template_filter(format_score, "score")
    app.add_template_filter(answer_text, "answer_text")

    @app.context_processor
    def server_time() -> dict[str, str]:
        """The server's clock, so countdowns can correct for the device's clock offset."""
        return {"server_now": datetime.now(UTC).isoformat()}

    app.jinja_env.globals.update(join_url=join_url, join_warning=join_warning)
    app.jinja_env.globals["role_labels"] = {Role(key): label for key, label in ROLE_LABELS.items()}


def format_score(value: float | None) -> str:
    """The one way a score or points value is shown: at most two decimals, no trailing zeros (14, 7.5, 0.25)."""
    if value is None:
        return ""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _route_body_limit() -> None:
    """A view that takes large uploads declares `body_limit` (bytes) and gets it instead of MAX_CONTENT_LENGTH."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "body_limit", None)
    if limit:
        request.max_content_length = limit
        request.max_form_memory_size = limit


def answer_text(value: object) -> str:
    """A bank's reference answer without a leading "参考答案：" label (pages print their own label)."""
    text = str(value)
    for label in ("参考答案：", "参考答案:"):
        if text.startswith(label):
            return text[len(label) :].lstrip()
    return text


def trust_proxies(app: Flask) -> None:
    """Read the client address, scheme and host from X-Forwarded-* set by TRUSTED_PROXIES proxy hops.

    Off (0) by default: without a proxy that sets them, those headers are the client's own words; when on,
    only requests straight from TRUSTED_PROXY_ADDRESSES are believed. The wrapper is outermost, around
    Flask-SocketIO's middleware too, so socket handlers see the real address.
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFixFromTrustedPeers(  # type: ignore[method-assign]
            app.wsgi_app, hops, app.config["TRUSTED_PROXY_ADDRESSES"]
        )


def _load_user(session_id: str) -> User | None:
    """The session's user, if still active and the session is of its current epoch (one primary-key get)."""
    signed_in = parse_session_id(session_id)
    if signed_in is None:
        return None
    user = db.session.get(User, signed_in[0])
    return user if user is not None and user.active and user.session_epoch == signed_in[1] else None


def _bad_input(error: BadInput) -> tuple[Response | str, int]:
    """A value refused by its wire schema (quizengine.schemas): 400 with the schema's Chinese message."""
    return errors.error_response(400, error.message, "bad_input")


def _force_password_change() -> Response | None:
    if (
        request.endpoint not in _CHECK_ACCOUNT_THEMSELVES
        and current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in _PASSWORD_CHANGE_ALLOWED
    ):
        # A deep link (e.g. a contest QR code) survives the first password change: it comes back as `next`.
        target = current_path() if request.method == "GET" else None
        return redirect(url_for("auth.change_password", next=target))
    return None


#: Sent with every response that does not set its own (each `setdefault` scanned all headers: one pass now).
_SECURITY_HEADERS = (
    ("content-security-policy", "Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "X-Content-Type-Options", "nosniff"),
    ("referrer-policy", "Referrer-Policy", "same-origin"),
)


def _security_headers(response: Response) -> Response:
    present = set(response.headers.keys(lower=True))
    for lower, name, value in _SECURITY_HEADERS:
        if lower not in present:
            response.headers.add(name, value)
    return response
