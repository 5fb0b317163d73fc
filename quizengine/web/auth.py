"""Login, logout and password change."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from quizengine.extensions import db
from quizengine.services.accounts import AccountError, LoginPolicy, authenticate, change_password

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    """Username (or phone) and password."""

    username = StringField("用户名或手机号", validators=[DataRequired("请输入用户名或手机号"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=256)])


class ChangePasswordForm(FlaskForm):
    """Current password and the new one twice."""

    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")])
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=256)])
    confirm = PasswordField("确认新密码", validators=[EqualTo("new", "两次输入的新密码不一致")])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Show the login form; on success go to `next` (or home)."""
    form = LoginForm()
    if form.validate_on_submit():
        policy = LoginPolicy(
            current_app.config["LOGIN_MAX_FAILURES"],
            current_app.config["LOGIN_MAX_FAILURES_PER_IP"],
            current_app.config["LOGIN_LOCK_MINUTES"],
        )
        try:
            user = authenticate(
                db.session(), form.username.data, form.password.data, request.remote_addr or "", policy=policy
            )
        except AccountError as error:
            flash(error.message, "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
def logout() -> Response:
    """Log out (POST, so a link on another site cannot do it)."""
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@login_required
def change_password_page() -> str | Response | tuple[str, int]:
    """Change the password; required at first login with a one-time password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(
                db.session(),
                current_user,
                form.current.data,
                form.new.data,
                min_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except AccountError as error:
            flash(error.message, "error")
            return render_template("auth/change_password.html", form=form), 400
        flash("密码已修改", "info")
        return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form), 400 if form.errors else 200
