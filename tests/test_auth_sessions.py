"""Session epochs: a password change, a reset, a deactivation or a logout ends the account's other sessions,
on every page and on the exam autosave fast path; strong-password rule; the users CLI."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import AuditEntry, Role, User
from quizengine.services import exam_access, exam_saves
from quizengine.services.accounts import change_password, check_new_password, verify_password
from quizengine.services.organization import deactivate_member, reset_password
from quizengine.services.passwords import PasswordError

from .conftest import PASSWORD, csrf_token, login


def _two_sessions(app: Flask, username: str) -> tuple[FlaskClient, FlaskClient]:
    first, second = app.test_client(), app.test_client()
    assert login(first, username).status_code == 302
    assert login(second, username).status_code == 302
    assert first.get("/record/").status_code == second.get("/record/").status_code == 200
    return first, second


def test_own_password_change_ends_other_sessions_but_not_this_one(app: Flask, make_user) -> None:
    make_user(username="epoch1")
    this, other = _two_sessions(app, "epoch1")
    token = csrf_token(this, "/account/password")
    new = "Zhi-Bu-Xue-Xi-77"
    data = {"current": PASSWORD, "new": new, "confirm": new, "csrf_token": token}
    changed = this.post("/account/password", data=data)
    assert changed.status_code == 302
    assert this.get("/record/").status_code == 200
    assert other.get("/record/").status_code == 302


def test_a_copied_cookie_dies_with_logout(app: Flask, make_user) -> None:
    make_user(username="epoch2")
    this, copy = _two_sessions(app, "epoch2")
    this.post("/logout", data={"csrf_token": csrf_token(this, "/")})
    assert this.get("/record/").status_code == 302
    assert copy.get("/record/").status_code == 302


@pytest.mark.parametrize("action", ["reset", "deactivate"])
def test_organizer_reset_or_deactivation_ends_sessions(app: Flask, make_user, session: Session, action: str) -> None:
    organizer = make_user(Role.ORGANIZER, username="sec")
    member = make_user(username="epoch3")
    client, _ = _two_sessions(app, "epoch3")
    if action == "reset":
        reset_password(session, organizer, member.id)
    else:
        deactivate_member(session, organizer, member.id)
    assert client.get("/record/").status_code == 302


def test_stale_session_cannot_autosave(
    app: Flask, make_user, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The autosave fast path loads no user: the epoch is in its conditional UPDATE's WHERE."""
    member = make_user(username="epoch4")
    calls: list[int | None] = []
    real = exam_saves.save_answer

    def spy(*args, epoch=None, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(epoch)
        return real(*args, epoch=epoch, **kwargs)

    monkeypatch.setattr(exam_saves, "save_answer", spy)
    client = app.test_client()
    login(client, "epoch4")
    token = csrf_token(client, "/")
    change_password(session, session.get(User, member.id), PASSWORD, "Xin-Mi-Ma-2026!")
    body = {"position": 0, "response": "A"}
    response = client.post("/exams/attempts/1/answers", json=body, headers={"X-CSRFToken": token})
    assert response.status_code in (302, 401)
    assert calls == [0]  # the session's epoch (0) went to the service, which refused it


def test_save_answer_refuses_an_old_epoch_on_both_paths(session: Session, make_user) -> None:
    member = make_user(username="epoch5")
    member.session_epoch = 3
    session.commit()
    with pytest.raises(exam_access.NotSignedIn):
        exam_access.check_account(session, member.id, 2)
    exam_access.check_account(session, member.id, 3)
    with pytest.raises(exam_access.NotSignedIn):
        exam_saves.save_answer(session, member.id, 999, 0, "A", epoch=2)


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "Passw0rd",
        "PASSWORD1!",
        "qwertyui",
        "qwerty12",
        "1qaz2wsx",
        "asdfghjkl",
        "abcd1234",
        "12345678",
        "87654321",
        "aaaaaaaa",
        "abababab",
        "woaini1314",
        "iloveyou",
        "dragon2026",
        "zhangsan123",
        "13800138000",
        "xx张三丰xx-2026",
    ],
)
def test_weak_passwords_are_refused_with_a_hint(password: str) -> None:
    with pytest.raises(PasswordError) as refused:
        check_new_password(password, 8, ["zhangsan", "13800138000", "张三丰"])
    assert any(hint in refused.value.message for hint in ("过于简单", "太常见", "不能包含"))


@pytest.mark.parametrize("password", ["Hong-Qi-Piao-88", "Zq7!mRt8vbK", "dang yuan xue xi 9", "春风化雨-润物无声"])
def test_reasonable_passwords_pass(password: str) -> None:
    check_new_password(password, 8, ["zhangsan", "13800138000", "张三丰"])


def test_change_password_page_refuses_personal_and_common(client: FlaskClient, make_user) -> None:
    make_user(username="wangxiao", name="王小")
    login(client, "wangxiao")
    token = csrf_token(client, "/account/password")
    for new, hint in (("wangxiao2026x", "不能包含"), ("Passw0rd", "太常见"), ("qwertyui", "过于简单")):
        data = {"current": PASSWORD, "new": new, "confirm": new, "csrf_token": token}
        page = client.post("/account/password", data=data)
        assert page.status_code == 400 and hint in page.get_data(as_text=True)


def test_cli_create_refuses_a_weak_password(runner: FlaskCliRunner) -> None:
    args = ["users", "create", "weakling", "--name", "弱", "--role", "admin", "--password", "password1"]
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "太常见" in result.output


def test_cli_reset_password(runner: FlaskCliRunner, app: Flask, make_user, session: Session) -> None:
    member = make_user(username="forgot")
    client = app.test_client()
    login(client, "forgot")
    for _ in range(8):
        login(app.test_client(), "forgot", "guess")
    result = runner.invoke(args=["users", "reset-password", "forgot"])
    assert result.exit_code == 0, result.output
    password = result.output.split("一次性密码：")[1].split("（")[0]
    session.refresh(member)
    assert member.must_change_password and verify_password(member.password_hash, password)
    assert client.get("/record/").status_code == 302  # the old session ended
    fresh = app.test_client()
    assert login(fresh, "forgot", password).status_code == 302  # delays cleared
    assert fresh.get("/record/").headers["Location"].startswith("/account/password")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "users.reset_password"))
    assert entry is not None and entry.subject == "forgot" and entry.detail == {"via": "cli"}
    unknown = runner.invoke(args=["users", "reset-password", "nobody"])
    assert unknown.exit_code == 1 and "没有找到用户“nobody”" in unknown.output


def test_cli_set_role(runner: FlaskCliRunner, make_user, session: Session) -> None:
    member = make_user(username="promote")
    make_user(username="other", branch="第二党支部")
    done = runner.invoke(args=["users", "set-role", "promote", "organizer", "--branch", "第二党支部"])
    assert done.exit_code == 0 and "支部组织员" in done.output and "第二党支部" in done.output
    session.refresh(member)
    assert member.role == Role.ORGANIZER and member.branch.name == "第二党支部"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "users.set_role"))
    assert entry is not None and entry.detail["role"] == ["member", "organizer"]
    assert runner.invoke(args=["users", "set-role", "promote", "admin"]).exit_code == 0
    for args, message in (
        (["ghost", "member"], "没有找到用户“ghost”"),
        (["promote", "boss"], "未知角色“boss”"),
        (["promote", "organizer", "--branch", "不存在支部"], "没有找到支部“不存在支部”"),
    ):
        result = runner.invoke(args=["users", "set-role", *args])
        assert result.exit_code == 1 and message in result.output
    help_text = runner.invoke(args=["users", "--help"]).output
    assert "重置密码" in help_text and "设置角色" in help_text


def test_cli_set_role_inspector_assigns_branches(runner: FlaskCliRunner, make_user, session: Session) -> None:
    member = make_user(username="watcher")
    make_user(username="other", branch="第二党支部")
    for branch in ("第二党支部", "第一党支部", "第二党支部"):
        done = runner.invoke(args=["users", "set-role", "watcher", "inspector", "--branch", branch])
        assert done.exit_code == 0 and "督导" in done.output
    session.expire_all()
    member = session.get(User, member.id)
    assert member is not None and member.role == Role.INSPECTOR and member.branch is None
    assert sorted(branch.name for branch in member.inspected_branches) == ["第一党支部", "第二党支部"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "users.set_role")).first()
    assert entry is not None and entry.detail["inspects"] == [[], ["第二党支部"]]
    assert runner.invoke(args=["users", "set-role", "watcher", "member", "--branch", "第一党支部"]).exit_code == 0
    session.expire_all()
    assert session.get(User, member.id).inspected_branches == []  # type: ignore[union-attr]
