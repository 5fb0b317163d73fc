"""Organization management: branches, groups, members; authorization, audit, and the HTTP pages."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.models import AuditEntry, Branch, MemberStatus, PartyGroup, Role, User
from quizengine.services.access import NotAllowed
from quizengine.services.accounts import AccountError, verify_password
from quizengine.services.organization import (
    NotFound,
    add_member,
    create_branch,
    create_group,
    deactivate_member,
    get_member,
    list_branches,
    list_members,
    reactivate_member,
    reset_password,
    update_member,
)

from .conftest import PASSWORD, csrf_token, login

A, B = "第一党支部", "第二党支部"


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def org(make_user: Callable[..., User]) -> dict[str, User]:
    """Two branches, each with an organizer and a member, and a committee admin."""
    return {
        "admin": make_user(Role.ADMIN, username="admin"),
        "organizer_a": make_user(Role.ORGANIZER, username="org_a", branch=A),
        "member_a": make_user(username="member_a", branch=A, phone="13800000001"),
        "organizer_b": make_user(Role.ORGANIZER, username="org_b", branch=B),
        "member_b": make_user(username="member_b", branch=B),
    }


# --- services ------------------------------------------------------------------------------------------


def test_admin_lists_every_branch_organizer_only_their_own(session: Session, org: dict[str, User]) -> None:
    assert [item.branch.name for item in list_branches(session, org["admin"])] == [A, B]
    mine = list_branches(session, org["organizer_a"])
    assert [(item.branch.name, item.active_members, item.inactive_members) for item in mine] == [(A, 1, 0)]
    with pytest.raises(NotAllowed):
        list_branches(session, org["member_a"])


def test_only_admins_create_branches_and_names_are_unique(session: Session, org: dict[str, User]) -> None:
    branch = create_branch(session, org["admin"], " 第三党支部 ")
    assert branch.name == "第三党支部" and branch.committee.name == "党委"
    entry = _audit(session, "branches.create")[0]
    assert entry.actor_id == org["admin"].id and entry.subject == "第三党支部"
    with pytest.raises(AccountError, match="已存在"):
        create_branch(session, org["admin"], "第三党支部")
    with pytest.raises(NotAllowed):
        create_branch(session, org["organizer_a"], "第四党支部")
    assert _count(session, Branch) == 3


def test_organizer_creates_groups_in_own_branch_only(session: Session, org: dict[str, User]) -> None:
    branch_a, branch_b = org["organizer_a"].branch, org["organizer_b"].branch
    group = create_group(session, org["organizer_a"], branch_a.id, "第一党小组")
    assert group.branch_id == branch_a.id
    assert _audit(session, "groups.create")[0].actor_id == org["organizer_a"].id
    with pytest.raises(AccountError, match="已存在"):
        create_group(session, org["organizer_a"], branch_a.id, "第一党小组")
    with pytest.raises(NotAllowed):
        create_group(session, org["organizer_a"], branch_b.id, "外支部小组")
    assert create_group(session, org["admin"], branch_b.id, "第一党小组").branch_id == branch_b.id
    with pytest.raises(NotFound):
        create_group(session, org["admin"], 999_999, "无")


def test_add_member_issues_a_one_time_password(session: Session, org: dict[str, User]) -> None:
    organizer = org["organizer_a"]
    group = create_group(session, organizer, organizer.branch_id, "第一党小组")
    member, password = add_member(
        session,
        organizer,
        organizer.branch_id,
        name=" 王芳 ",
        phone="139-0000-0002",
        group_id=group.id,
        status="probationary",
    )
    assert (member.name, member.username, member.phone) == ("王芳", "13900000002", "13900000002")
    assert member.party_group_id == group.id and member.member_status == MemberStatus.PROBATIONARY
    assert member.role == Role.MEMBER and member.active and member.must_change_password
    assert verify_password(member.password_hash, password)
    entry = _audit(session, "users.create")[-1]
    assert entry.actor_id == organizer.id and entry.subject == "13900000002" and entry.detail["via"] == "form"
    assert password not in str(entry.detail)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "", "username": "x1"}, "缺少姓名"),
        ({"name": "某人"}, "用户名和手机号至少填写一项"),
        ({"name": "某人", "phone": "2380000000"}, "格式不正确"),
        ({"name": "某人", "username": "a b"}, "不能含空格"),
        ({"name": "某人", "username": "MEMBER_A"}, "已被其他账号"),  # usernames compare case-insensitively
        ({"name": "某人", "username": "13800000001"}, "已被其他账号"),  # someone's phone
        ({"name": "某人", "username": "x2", "phone": "13800000001"}, "已被其他账号"),
        ({"name": "某人", "username": "x3", "status": "candidate"}, "党员类别"),
    ],
)
def test_add_member_refuses_bad_input_and_writes_nothing(
    session: Session, org: dict[str, User], fields: dict[str, str], message: str
) -> None:
    users, audit = _count(session, User), _count(session, AuditEntry)
    with pytest.raises(AccountError, match=message):
        add_member(session, org["organizer_a"], org["organizer_a"].branch_id, **fields)
    assert (_count(session, User), _count(session, AuditEntry)) == (users, audit)


def test_add_member_refuses_a_group_of_another_branch(session: Session, org: dict[str, User]) -> None:
    foreign = create_group(session, org["organizer_b"], org["organizer_b"].branch_id, "二支部小组")
    with pytest.raises(AccountError, match="不属于该支部"):
        add_member(
            session, org["organizer_a"], org["organizer_a"].branch_id, name="某人", username="x", group_id=foreign.id
        )
    with pytest.raises(NotAllowed):
        add_member(session, org["organizer_a"], org["organizer_b"].branch_id, name="某人", username="y")


def test_update_member_records_what_changed(session: Session, org: dict[str, User]) -> None:
    organizer, member = org["organizer_a"], org["member_a"]
    group = create_group(session, organizer, organizer.branch_id, "第二党小组")
    update_member(
        session, organizer, member.id, name="李明", phone="13900000009", group_id=group.id, status="probationary"
    )
    assert (member.name, member.phone, member.party_group_id) == ("李明", "13900000009", group.id)
    entry = _audit(session, "users.update")[0]
    assert entry.actor_id == organizer.id and entry.subject == "member_a"
    assert entry.detail["changes"] == {
        "name": ["测试member_a", "李明"],
        "phone": ["13800000001", "13900000009"],
        "group": [None, "第二党小组"],
        "status": ["full", "probationary"],
    }
    update_member(
        session, organizer, member.id, name="李明", phone="13900000009", group_id=group.id, status="probationary"
    )
    assert len(_audit(session, "users.update")) == 1  # nothing changed, nothing recorded
    with pytest.raises(AccountError, match="已被其他账号使用"):
        update_member(session, org["admin"], org["member_b"].id, name="乙", phone="13900000009")


def test_reset_password_forces_a_change_and_is_audited(session: Session, org: dict[str, User]) -> None:
    member = org["member_a"]
    _, password = reset_password(session, org["organizer_a"], member.id)
    assert member.must_change_password
    assert verify_password(member.password_hash, password) and not verify_password(member.password_hash, PASSWORD)
    entry = _audit(session, "users.reset_password")[0]
    assert entry.actor_id == org["organizer_a"].id and entry.subject == "member_a"
    with pytest.raises(NotAllowed, match="修改密码"):
        reset_password(session, org["admin"], org["admin"].id)


def test_deactivate_keeps_the_account_and_reactivate_restores_it(session: Session, org: dict[str, User]) -> None:
    organizer, member = org["organizer_a"], org["member_a"]
    deactivate_member(session, organizer, member.id)
    session.expunge_all()
    kept = session.get(User, member.id)
    assert kept is not None and not kept.active and kept.username == "member_a" and kept.branch.name == A
    assert [user.username for user in list_members(session, organizer, organizer.branch_id)][-1] == "member_a"
    assert [item.inactive_members for item in list_branches(session, organizer)] == [1]
    deactivate_member(session, organizer, member.id)  # already inactive: no second entry
    reactivate_member(session, organizer, member.id)
    assert session.get(User, member.id).active
    assert [entry.action for entry in session.scalars(select(AuditEntry).where(AuditEntry.subject == "member_a"))] == [
        "users.create",
        "users.deactivate",
        "users.reactivate",
    ]
    with pytest.raises(NotAllowed, match="自己"):
        deactivate_member(session, org["admin"], org["admin"].id)


def test_organizer_cannot_manage_other_branches_or_other_organizers(session: Session, org: dict[str, User]) -> None:
    organizer, foreign = org["organizer_a"], org["member_b"]
    for action in (
        lambda: get_member(session, organizer, foreign.id),
        lambda: update_member(session, organizer, foreign.id, name="改名"),
        lambda: reset_password(session, organizer, foreign.id),
        lambda: deactivate_member(session, organizer, foreign.id),
        lambda: list_members(session, organizer, foreign.branch_id),
        lambda: deactivate_member(session, organizer, org["admin"].id),
    ):
        with pytest.raises(NotAllowed):
            action()
    colleague = add_member(session, org["admin"], organizer.branch_id, name="同事", username="colleague")[0]
    colleague.role = Role.ORGANIZER
    session.commit()
    with pytest.raises(NotAllowed):
        reset_password(session, organizer, colleague.id)
    assert reset_password(session, org["admin"], colleague.id)[0] is colleague  # admins manage organizers
    with pytest.raises(NotAllowed):
        get_member(session, org["member_a"], org["member_a"].id)
    with pytest.raises(NotFound):
        get_member(session, organizer, 999_999)
    session.refresh(foreign)
    assert foreign.active and foreign.name == "测试member_b" and not foreign.must_change_password


# --- HTTP ----------------------------------------------------------------------------------------------


def _post(client: FlaskClient, path: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/")})


def test_anonymous_users_are_sent_to_login(client: FlaskClient, org: dict[str, User]) -> None:
    for path in ("/org/", f"/org/branches/{org['member_a'].branch_id}", "/org/roster-template.xlsx"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_members_get_403_and_no_nav_link(client: FlaskClient, org: dict[str, User]) -> None:
    login(client, "member_a")
    assert "组织管理" not in client.get("/").get_data(as_text=True)
    branch_id = org["member_a"].branch_id
    for path in ("/org/", f"/org/branches/{branch_id}", f"/org/branches/{branch_id}/import"):
        assert client.get(path).status_code == 403
    assert _post(client, f"/org/members/{org['member_a'].id}/reset-password").status_code == 403


def test_organizer_sees_own_branch_with_its_members(
    client: FlaskClient, session: Session, org: dict[str, User]
) -> None:
    login(client, "org_a")
    assert "组织管理" in client.get("/").get_data(as_text=True)
    response = client.get("/org/")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/org/branches/{org['organizer_a'].branch_id}"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert A in page and "测试member_a" in page and "13800000001" in page and "从未登录" in page and "正式" in page
    assert "测试member_b" not in page
    assert f"/org/members/{org['member_a'].id}/edit" in page
    assert f"/org/members/{org['organizer_a'].id}/edit" not in page  # not their own account


def test_organizer_of_another_branch_gets_403_and_changes_nothing(
    client: FlaskClient, session: Session, org: dict[str, User]
) -> None:
    foreign = org["member_b"]
    login(client, "org_a")
    assert client.get(f"/org/branches/{foreign.branch_id}").status_code == 403
    assert client.get(f"/org/members/{foreign.id}/edit").status_code == 403
    assert (
        _post(client, f"/org/members/{foreign.id}/edit", {"name": "改名", "group": "0", "status": "full"}).status_code
        == 403
    )
    assert _post(client, f"/org/members/{foreign.id}/reset-password").status_code == 403
    assert _post(client, f"/org/members/{foreign.id}/deactivate").status_code == 403
    assert _post(client, f"/org/branches/{foreign.branch_id}/groups", {"group-name": "x"}).status_code == 403
    assert (
        _post(
            client, f"/org/branches/{foreign.branch_id}/members", {"member-name": "x", "member-username": "x"}
        ).status_code
        == 403
    )
    assert client.get("/org/members/999999/edit").status_code == 404
    session.refresh(foreign)
    assert foreign.active and foreign.name == "测试member_b" and verify_password(foreign.password_hash, PASSWORD)
    assert _count(session, PartyGroup) == 0 and session.scalar(select(User).where(User.username == "x")) is None


def test_admin_lists_branches_and_creates_one(client: FlaskClient, session: Session, org: dict[str, User]) -> None:
    login(client, "admin")
    page = client.get("/org/").get_data(as_text=True)
    assert A in page and B in page and "新建支部" in page
    response = _post(client, "/org/branches", {"name": "第三党支部"})
    assert response.status_code == 302
    assert "第三党支部" in client.get(response.headers["Location"]).get_data(as_text=True)
    duplicate = _post(client, "/org/branches", {"name": "第三党支部"})
    assert duplicate.status_code == 400 and "支部“第三党支部”已存在" in duplicate.get_data(as_text=True)


def test_add_member_over_http_shows_the_password_once(
    client: FlaskClient, session: Session, org: dict[str, User]
) -> None:
    branch_id = org["organizer_a"].branch_id
    login(client, "org_a")
    assert _post(client, f"/org/branches/{branch_id}/groups", {"group-name": "第一党小组"}).status_code == 302
    group = session.scalar(select(PartyGroup).where(PartyGroup.name == "第一党小组"))
    response = _post(
        client,
        f"/org/branches/{branch_id}/members",
        {"member-name": "赵敏", "member-phone": "13900000003", "member-group": str(group.id), "member-status": "full"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = re.search(r'<p class="otp">([^<]+)</p>', page).group(1)
    member = session.scalar(select(User).where(User.username == "13900000003"))
    assert member.party_group_id == group.id and verify_password(member.password_hash, password)
    bad = _post(client, f"/org/branches/{branch_id}/members", {"member-name": "重复", "member-phone": "13900000003"})
    assert bad.status_code == 400 and "已被其他账号" in bad.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, "13900000003", password).status_code == 302
    assert client.get("/").headers["Location"].startswith("/account/password")  # forced change


def test_edit_reset_deactivate_reactivate_over_http(
    client: FlaskClient, session: Session, org: dict[str, User]
) -> None:
    member = org["member_a"]
    login(client, "org_a")
    form = client.get(f"/org/members/{member.id}/edit").get_data(as_text=True)
    assert 'value="测试member_a"' in form
    edited = _post(
        client, f"/org/members/{member.id}/edit", {"name": "钱进", "phone": "", "group": "0", "status": "probationary"}
    )
    assert edited.status_code == 302
    session.refresh(member)
    assert member.name == "钱进" and member.phone is None and member.member_status == MemberStatus.PROBATIONARY
    bad = _post(
        client, f"/org/members/{member.id}/edit", {"name": "钱进", "phone": "123", "group": "0", "status": "full"}
    )
    assert bad.status_code == 400 and "格式不正确" in bad.get_data(as_text=True)

    reset = _post(client, f"/org/members/{member.id}/reset-password")
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    password = re.search(r'<p class="otp">([^<]+)</p>', reset.get_data(as_text=True)).group(1)
    session.refresh(member)
    assert verify_password(member.password_hash, password) and member.must_change_password

    assert _post(client, f"/org/members/{member.id}/deactivate").status_code == 302
    page = client.get(f"/org/branches/{member.branch_id}").get_data(as_text=True)
    assert "已停用" in page and "钱进" in page
    session.expunge_all()
    assert session.get(User, member.id).active is False  # the row stays
    assert _post(client, f"/org/members/{member.id}/reactivate").status_code == 302
    session.expunge_all()
    assert session.get(User, member.id).active is True
    actions = [
        entry.action
        for entry in session.scalars(select(AuditEntry).where(AuditEntry.actor_id == org["organizer_a"].id))
    ]
    assert actions == ["users.update", "users.reset_password", "users.deactivate", "users.reactivate"]


def test_deactivated_member_cannot_log_in(client: FlaskClient, session: Session, org: dict[str, User]) -> None:
    deactivate_member(session, org["organizer_a"], org["member_a"].id)
    assert login(client, "member_a").status_code == 401
