"""Accounts over HTTP: login, rate limiting, CSRF, forced password change, cookies and headers."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import AuditEntry, Role, User
from quizengine.services.accounts import ensure_first_admin, verify_password

from .conftest import DATA, PASSWORD, csrf_token, login


def test_home_lists_banks_with_counts(client: FlaskClient, runner: FlaskCliRunner) -> None:
    assert "尚未导入题库" in client.get("/").get_data(as_text=True)
    runner.invoke(args=["banks", "load", str(DATA / "sample_bank.yaml")])
    page = client.get("/").get_data(as_text=True)
    assert "测试题库" in page and '<td class="num">5</td>' in page


def test_login_and_logout(client: FlaskClient, make_user) -> None:
    make_user(username="zhangsan")
    response = login(client, "zhangsan")
    assert response.status_code == 302
    assert "测试zhangsan · 党员" in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert "登录" in client.get("/").get_data(as_text=True)


def test_login_by_phone_and_case_insensitive_username(client: FlaskClient, make_user) -> None:
    make_user(username="LiSi", phone="13800000000")
    assert login(client, "13800000000").status_code == 302
    assert login(client, "lisi").status_code == 302


def test_wrong_password_and_unknown_user_look_the_same(client: FlaskClient, make_user) -> None:
    make_user(username="wangwu")
    wrong = login(client, "wangwu", "nope")
    unknown = login(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.get_data(as_text=True)
    assert "用户名或密码错误" in unknown.get_data(as_text=True)


def test_rate_limit_delays_even_the_right_password(client: FlaskClient, make_user) -> None:
    make_user(username="zhaoliu")
    for _ in range(5):
        assert login(client, "zhaoliu", "bad-guess").status_code == 401
    locked = login(client, "zhaoliu")
    assert locked.status_code == 401 and "登录失败次数过多，请30秒后再试" in locked.get_data(as_text=True)


def test_inactive_user_cannot_log_in(client: FlaskClient, make_user, session: Session) -> None:
    user = make_user(username="gone")
    user.active = False
    session.commit()
    assert login(client, "gone").status_code == 401


def test_post_without_csrf_token_is_refused(client: FlaskClient, make_user) -> None:
    make_user(username="csrf")
    response = client.post("/login", data={"username": "csrf", "password": PASSWORD})
    assert response.status_code == 400
    assert "测试csrf" not in client.get("/").get_data(as_text=True)


def test_first_admin_must_change_the_one_time_password(client: FlaskClient, session: Session) -> None:
    password = ensure_first_admin(session)
    assert password and ensure_first_admin(session) is None
    assert login(client, "admin", password).status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password?next=/"
    token = csrf_token(client, "/account/password")
    weak = client.post(
        "/account/password", data={"current": password, "new": "12345678", "confirm": "12345678", "csrf_token": token}
    )
    assert weak.status_code == 400 and "过于简单" in weak.get_data(as_text=True)
    done = client.post(
        "/account/password",
        data={"current": password, "new": "new-pass-2026", "confirm": "new-pass-2026", "csrf_token": token},
    )
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    admin = session.scalar(select(User).where(User.role == Role.ADMIN))
    session.refresh(admin)
    assert verify_password(admin.password_hash, "new-pass-2026") and not admin.must_change_password
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "users.change_password")) is not None


def test_change_password_checks_current_and_confirmation(client: FlaskClient, make_user) -> None:
    make_user(username="pw")
    login(client, "pw")
    token = csrf_token(client, "/account/password")
    wrong = client.post(
        "/account/password", data={"current": "x", "new": "abc-def-123", "confirm": "abc-def-123", "csrf_token": token}
    )
    assert "当前密码不正确" in wrong.get_data(as_text=True)
    mismatch = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "abc-def-123", "confirm": "abc-def-124", "csrf_token": token},
    )
    assert "两次输入的新密码不一致" in mismatch.get_data(as_text=True)


def test_cookies_and_security_headers(client: FlaskClient, make_user) -> None:
    make_user(username="cookie")
    response = login(client, "cookie")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_login_redirect_only_to_local_paths(client: FlaskClient, make_user) -> None:
    make_user(username="next")
    token = csrf_token(client)
    data = {"username": "next", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login?next=//evil.example/x", data=data).headers["Location"] == "/"
    assert client.post("/login?next=/account/password", data=data).headers["Location"] == "/account/password"


def test_cli_users_create_prints_one_time_password(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(
        args=["users", "create", "secretary", "--name", "王书记", "--role", "organizer", "--branch", "第二党支部"]
    )
    assert result.exit_code == 0 and "一次性密码：" in result.output
    user = session.scalar(select(User).where(User.username == "secretary"))
    assert user.must_change_password and user.branch.name == "第二党支部" and user.branch.committee.name == "党委"
    again = runner.invoke(args=["users", "create", "secretary", "--name", "重复"])
    assert again.exit_code == 1 and "用户名“secretary”已存在" in again.output
    memberless = runner.invoke(args=["users", "create", "lonely", "--name", "无支部"])
    assert memberless.exit_code == 1 and "必须属于一个支部" in memberless.output


def test_session_serializer_is_built_once_per_key_and_a_new_key_ends_old_sessions(
    app: Flask, client: FlaskClient, make_user
) -> None:
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert first is not None and interface.get_signing_serializer(app) is first
    make_user(username="alice")
    login(client, "alice")
    assert client.get("/record/").status_code == 200  # the cached serializer reads the cookie it signed
    old_key = app.secret_key
    try:
        app.secret_key = "rotated-" + str(old_key)
        assert interface.get_signing_serializer(app) is not first
        assert client.get("/record/").status_code == 302  # signed with the old key: no longer a session
    finally:
        app.secret_key = old_key
    assert interface.get_signing_serializer(app) is first
