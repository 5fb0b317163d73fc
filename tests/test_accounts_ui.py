"""Accounts in the UI (issue #12 item 6): an admin appoints organizers (支部书记 / 组织委员) and inspectors (with
their branches) and resets passwords; an organizer appoints only within their own branch. The same rules as the
CLI (`accounts.assign_role`, `accounts.issue_one_time_password`); every change audited, every refusal changes
nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import AuditEntry, Branch, Role, User
from quizengine.services.access import NotAllowed
from quizengine.services.accounts import AccountError, verify_password
from quizengine.services.appointments import appoint, create_inspector, list_inspectors
from quizengine.services.organization import reset_password

from .conftest import csrf_token, login
from .test_organization import A, B, org  # noqa: F401 - the fixture


def _roles(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "users.set_role")))


def _branch(session: Session, name: str) -> Branch:
    branch = session.scalar(select(Branch).where(Branch.name == name))
    assert branch is not None
    return branch


def test_admin_appoints_an_organizer_with_a_post_and_an_inspector_with_branches(
    session: Session,
    org: dict[str, User],  # noqa: F811
) -> None:
    admin, member = org["admin"], org["member_a"]
    appoint(session, admin, member.id, "organizer", title="组织委员")
    assert (member.role, member.title, member.branch.name) == (Role.ORGANIZER, "组织委员", A)
    [entry] = _roles(session)
    assert entry.actor_id == admin.id and entry.subject == "member_a"
    assert entry.detail == {"role": ["member", "organizer"], "title": [None, "组织委员"], "via": "web"}
    appoint(session, admin, member.id, "organizer", title="支部书记")
    assert member.title == "支部书记"
    both = [_branch(session, A).id, _branch(session, B).id]
    appoint(session, admin, member.id, "inspector", inspect_ids=[str(both[1]), str(both[0])])
    assert member.role == Role.INSPECTOR and member.branch is None and member.title is None
    assert sorted(branch.name for branch in member.inspected_branches) == [A, B]
    assert list_inspectors(session, admin) == [member]
    appoint(session, admin, member.id, "member", branch_id=both[1])
    assert (member.role, member.branch.name, member.inspected_branches) == (Role.MEMBER, B, [])
    assert len(_roles(session)) == 4


@pytest.mark.parametrize(
    ("role", "changes", "message"),
    [
        ("boss", {}, "未知角色“boss”"),
        ("", {}, "请选择角色"),
        ("organizer", {"title": "主席"}, "职务只能是支部书记或组织委员"),
        ("inspector", {}, "督导至少要指定一个督导支部"),
        ("inspector", {"inspect_ids": ["999999"]}, "没有找到所选支部"),
        ("inspector", {"inspect_ids": ["x"]}, "没有找到所选支部"),
    ],
)
def test_bad_choices_are_refused_in_chinese_and_change_nothing(
    session: Session,
    org: dict[str, User],  # noqa: F811
    role: str,
    changes: dict,
    message: str,
) -> None:
    member = org["member_a"]
    with pytest.raises(AccountError, match=message):
        appoint(session, org["admin"], member.id, role, **changes)
    session.rollback()
    session.expire_all()
    assert (member.role, member.title, member.branch.name) == (Role.MEMBER, None, A) and _roles(session) == []


def test_an_organizer_appoints_only_within_their_branch(session: Session, org: dict[str, User]) -> None:  # noqa: F811
    organizer, member = org["organizer_a"], org["member_a"]
    for role in ("admin", "inspector"):
        with pytest.raises(NotAllowed, match="只能任命本支部的支部书记或组织委员"):
            appoint(session, organizer, member.id, role, inspect_ids=[str(member.branch_id)])
    for target in (org["member_b"], org["organizer_b"], org["admin"]):  # another branch, another organizer
        with pytest.raises(NotAllowed):
            appoint(session, organizer, target.id, "organizer", title="组织委员")
    with pytest.raises(NotAllowed):
        appoint(session, organizer, organizer.id, "member")
    with pytest.raises(NotAllowed):
        appoint(session, org["admin"], org["admin"].id, "member")  # an admin does not demote themselves
    with pytest.raises(NotAllowed):
        list_inspectors(session, organizer)
    session.expire_all()
    assert member.role == Role.MEMBER and org["member_b"].role == Role.MEMBER and _roles(session) == []
    appoint(session, organizer, member.id, "organizer", title="组织委员")
    assert (member.role, member.title, member.branch_id) == (Role.ORGANIZER, "组织委员", organizer.branch_id)
    with pytest.raises(NotAllowed):  # now a fellow organizer: only an admin changes them
        appoint(session, organizer, member.id, "member")


def test_a_reset_from_the_ui_follows_the_cli_rule(app: Flask, session: Session, org: dict[str, User]) -> None:  # noqa: F811
    member = org["member_a"]
    for _ in range(8):
        login(app.test_client(), "member_a", "guess")  # locked out for a while
    _, password = reset_password(session, org["organizer_a"], member.id)
    fresh = app.test_client()
    assert login(fresh, "member_a", password).status_code == 302  # delays cleared, as by the CLI
    assert fresh.get("/record/").headers["Location"].startswith("/account/password")  # forced change
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "users.reset_password"))
    assert entry is not None and entry.actor_id == org["organizer_a"].id and entry.detail == {"via": "web"}


def test_admin_creates_an_inspector_with_a_one_time_password(session: Session, org: dict[str, User]) -> None:  # noqa: F811
    admin = org["admin"]
    branch_a = _branch(session, A)
    user, password = create_inspector(session, admin, name="钱督导", phone="139 0000 0007", branch_ids=[branch_a.id])
    assert (user.role, user.username, user.branch_id, user.must_change_password) == (
        Role.INSPECTOR,
        "13900000007",
        None,
        True,
    )
    assert [branch.name for branch in user.inspected_branches] == [A] and verify_password(user.password_hash, password)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.subject == "13900000007"))
    assert entry is not None and entry.detail["inspects"] == [A] and entry.actor_id == admin.id
    for kwargs, message in (
        ({"name": "重名", "username": "member_a", "branch_ids": [branch_a.id]}, "已被其他账号用作用户名或手机号"),
        ({"name": "无支部", "username": "nobranch", "branch_ids": []}, "督导至少要指定一个督导支部"),
        ({"name": "", "username": "noname", "branch_ids": [branch_a.id]}, "缺少姓名"),
    ):
        with pytest.raises(AccountError, match=message):
            create_inspector(session, admin, **kwargs)  # type: ignore[arg-type]
        session.rollback()
    with pytest.raises(NotAllowed):
        create_inspector(session, org["organizer_a"], name="越权", username="sneaky", branch_ids=[branch_a.id])
    assert session.scalar(select(User).where(User.username.in_(["nobranch", "noname", "sneaky"]))) is None


def test_pages(client: FlaskClient, session: Session, org: dict[str, User]) -> None:  # noqa: F811
    member = org["member_a"]
    login(client, "org_a")
    page = client.get(f"/org/members/{member.id}/role").get_data(as_text=True)
    assert "支部组织员" in page and "组织委员" in page
    assert "督导支部（督导）" not in page and 'value="admin"' not in page
    token = csrf_token(client, "/")
    refused = client.post(f"/org/members/{member.id}/role", data={"csrf_token": token, "role": "admin"})
    assert refused.status_code == 403 and "只能任命本支部的支部书记或组织委员" in refused.get_data(as_text=True)
    assert client.get("/org/inspectors").status_code == 403
    done = client.post(
        f"/org/members/{member.id}/role", data={"csrf_token": token, "role": "organizer", "title": "组织委员"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/org/branches/{member.branch_id}")
    session.expire_all()
    assert session.get(User, member.id).title == "组织委员"  # type: ignore[union-attr]
    client.post("/logout", data={"csrf_token": token})

    login(client, "admin")
    token = csrf_token(client, "/")
    assert "督导账号" in client.get("/org/").get_data(as_text=True)
    bad = client.post("/org/inspectors", data={"csrf_token": token, "name": "钱督导", "username": "qian"})
    assert bad.status_code == 400 and "督导至少要指定一个督导支部" in bad.get_data(as_text=True)
    created = client.post(
        "/org/inspectors",
        data={"csrf_token": token, "name": "钱督导", "username": "qian", "inspects": str(member.branch_id)},
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    assert "一次性密码" in created.get_data(as_text=True)
    listing = client.get("/org/inspectors").get_data(as_text=True)
    assert "钱督导" in listing and A in listing


def test_cli_set_role_takes_the_post(runner: FlaskCliRunner, session: Session, org: dict[str, User]) -> None:  # noqa: F811
    done = runner.invoke(args=["users", "set-role", "member_a", "organizer", "--title", "支部书记"])
    assert done.exit_code == 0 and "支部书记" in done.output, done.output
    session.expire_all()
    member = session.get(User, org["member_a"].id)
    assert member is not None and member.title == "支部书记"
    entry = _roles(session)[0]
    assert entry.actor_id is None and entry.detail["via"] == "cli"
