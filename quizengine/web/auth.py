"""Login, logout and password change."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from quizengine.extensions import db
from quizengine.models import User
from quizengine.services.accounts import (
    AccountError,
    LoginPolicy,
    TrustedDevice,
    authenticate,
    change_password,
    log_out_everywhere,
    password_tag,
)
from quizengine.web.redirects import safe_next

from .forms import HtmlForm

bp = Blueprint("auth", __name__)
log = logging.getLogger("quizengine.auth")

#: The cookie that marks a device that has logged in to an account before (see services.login_throttle).
DEVICE_COOKIE = "quizengine_device"
DEVICE_COOKIE_MAX_AGE = timedelta(days=180)


class LoginForm(HtmlForm):
    """Username (or phone) and password."""

    username = StringField("用户名或手机号", validators=[DataRequired("请输入用户名或手机号"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=256)])


class ChangePasswordForm(HtmlForm):
    """Current password and the new one twice."""

    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码"), Length(max=256)])
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=256)])
    confirm = PasswordField("确认新密码", validators=[EqualTo("new", "两次输入的新密码不一致")])


def _next_target() -> str:
    """Where to go after login or a password change: the validated `next`, else home."""
    return safe_next(request.args.get("next"), url_for("main.index"))


def _policy() -> LoginPolicy:
    config = current_app.config
    return LoginPolicy(
        free_failures=config["LOGIN_FREE_FAILURES"],
        free_failures_per_address=config["LOGIN_FREE_FAILURES_PER_ADDRESS"],
        first_delay_seconds=config["LOGIN_FIRST_DELAY_SECONDS"],
        max_delay_seconds=config["LOGIN_MAX_DELAY_SECONDS"],
    )


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="quizengine-login-device")  # type: ignore[arg-type]


def _trusted_device() -> TrustedDevice | None:
    """The device cookie's claim, if its signature holds."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 512:
        return None
    try:
        data = _device_serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, list) or len(data) != 3:
        return None
    user_id, tag, nonce = data
    if type(user_id) is not int or not isinstance(tag, str) or not isinstance(nonce, str):
        return None
    return TrustedDevice(user_id, tag, nonce)


def _remember_device(response: Response, user: User) -> Response:
    """Mark this device as one that logged in to `user` (while it has its current password)."""
    device = _trusted_device()
    nonce = device.nonce if device is not None else secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps([user.id, password_tag(user), nonce]),
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Show the login form; on success go to `next` (or home)."""
    form = LoginForm()
    if form.validate_on_submit():
        address = request.remote_addr or ""
        try:
            user = authenticate(
                db.session(),
                form.username.data,
                form.password.data,
                address,
                device=_trusted_device(),
                policy=_policy(),
            )
        except AccountError as error:
            # one line per failed login, never a traceback; the tried name is quoted (no log injection)
            log.warning("登录失败 login=%r address=%s reason=%s", form.username.data, address, error.message)
            flash(error.message, "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user)
        return _remember_device(redirect(_next_target()), user)
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
def logout() -> Response:
    """Log out everywhere (POST, so a link on another site cannot do it).

    Sessions are signed cookies, so a copy of one would outlive a local logout: logging out bumps the
    account's session epoch instead, which ends this session and every other one of the account.
    """
    if current_user.is_authenticated:
        log_out_everywhere(db.session(), current_user._get_current_object())
    logout_user()
    flash("已退出登录（本账号在所有设备上的登录都已失效）", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@login_required
def change_password_page() -> str | Response | tuple[str, int]:
    """Change the password; required at first login with a one-time password.

    Other sessions of the account end; this one stays logged in (it logs in again under the new epoch).
    """
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(
                db.session(),
                user,
                form.current.data,
                form.new.data,
                min_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except AccountError as error:
            flash(error.message, "error")
            return render_template("auth/change_password.html", form=form), 400
        login_user(user)
        flash("密码已修改，其他设备上的登录已失效", "info")
        return _remember_device(redirect(_next_target()), user)
    return render_template("auth/change_password.html", form=form), 400 if form.errors else 200
