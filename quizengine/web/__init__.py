"""HTTP layer: blueprints per area; each view parses, authorises, calls a service and renders."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, Response, redirect, request, url_for
from flask_login import current_user

from quizengine.extensions import db, login_manager
from quizengine.models import ROLE_LABELS, Role, User

from . import auth, contests, exams, main, org, practice, records

#: Only the app's own assets (Party intranets are often offline; nothing comes from a CDN).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

#: Endpoints a user who must change the password may still reach.
_PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "static"}
#: Endpoints that check the account themselves without loading the user (the exam autosave hot path
#: refuses a forced password change with the same redirect, see web.exams.save).
_CHECK_ACCOUNT_THEMSELVES = {"exams.save"}


def init_app(app: Flask) -> None:
    """Register blueprints, the login loader, security headers and template helpers."""
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(org.bp)
    app.register_blueprint(practice.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(exams.bp)
    app.register_blueprint(contests.bp)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.user_loader(_load_user)
    app.before_request(_force_password_change)
    app.after_request(_security_headers)
    zone = ZoneInfo(app.config["DISPLAY_TIMEZONE"])

    @app.template_filter("localtime")
    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """Show a UTC datetime in the display time zone (Asia/Shanghai)."""
        return value.astimezone(zone).strftime(fmt) if value else ""

    @app.context_processor
    def server_time() -> dict[str, str]:
        """The server's clock, so countdowns can correct for the device's clock offset."""
        return {"server_now": datetime.now(UTC).isoformat()}

    app.jinja_env.globals["role_labels"] = {Role(key): label for key, label in ROLE_LABELS.items()}


def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def _force_password_change() -> Response | None:
    if (
        request.endpoint not in _CHECK_ACCOUNT_THEMSELVES
        and current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in _PASSWORD_CHANGE_ALLOWED
    ):
        return redirect(url_for("auth.change_password"))
    return None


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
