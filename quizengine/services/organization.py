"""Organization management: branches, party groups and member accounts.

Every function takes the acting user and checks access (services/access.py) before it touches
anything, writes an AuditEntry per change and commits once, so a refused or invalid request changes
nothing. Accounts are never deleted: deactivation keeps a member's history (attempts, records) intact
and only stops the login.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from quizengine.engine.errors import QuizError
from quizengine.models import AuditEntry, Branch, MemberStatus, PartyGroup, Role, User
from quizengine.services.access import (
    can_manage_branch,
    can_read_branch,
    is_admin,
    is_organizer,
    is_reader,
    readable_branch_ids,
    require,
)
from quizengine.services.accounts import (
    AccountError,
    bump_session_epoch,
    get_or_create_branch,
    hash_one_time_password,
    issue_one_time_password,
    one_time_password,
)

#: How the two member categories are written in forms, tables and roster files.
STATUS_LABELS: dict[str, str] = {MemberStatus.FULL: "正式", MemberStatus.PROBATIONARY: "预备"}

#: Words accepted for 党员类别 (a blank cell means 正式, the common case).
_STATUS_WORDS = {
    "": MemberStatus.FULL,
    "正式": MemberStatus.FULL,
    "正式党员": MemberStatus.FULL,
    "预备": MemberStatus.PROBATIONARY,
    "预备党员": MemberStatus.PROBATIONARY,
}

#: A mainland mobile number: 11 digits starting with 1.
PHONE_PATTERN = re.compile(r"1\d{10}")
MAX_NAME_LENGTH = 100
MAX_USERNAME_LENGTH = 64


class NotFound(QuizError):
    """The branch, group or account does not exist; transports answer 404."""

    code = "not_found"

    def __init__(self, message: str = "未找到该内容") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class BranchSummary:
    """A branch with the numbers shown in the branch list."""

    branch: Branch
    active_members: int
    inactive_members: int
    groups: int


def normalize_phone(text: str | None) -> str:
    """Drop the spaces and hyphens people type inside phone numbers (138 0000 0000, 138-0000-0000)."""
    return re.sub(r"[\s\-]", "", text or "")


def parse_status(text: str | None) -> MemberStatus | None:
    """正式/预备 (also 正式党员/预备党员; blank = 正式) -> MemberStatus; None when not recognised."""
    return _STATUS_WORDS.get((text or "").strip())


def check_member_fields(name: str, username: str, phone: str) -> list[str]:
    """The problems with a member's name, username and phone, in Chinese (empty when all is well).

    Shared by the forms and the roster import so both apply exactly the same rules.
    """
    problems = []
    if not name:
        problems.append("缺少姓名")
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(f"姓名过长（最多{MAX_NAME_LENGTH}个字符）")
    if not username and not phone:
        problems.append("用户名和手机号至少填写一项")
    if username and (len(username) > MAX_USERNAME_LENGTH or any(char.isspace() for char in username)):
        problems.append(f"用户名“{username}”无效（不能含空格，最多{MAX_USERNAME_LENGTH}个字符）")
    if phone and not PHONE_PATTERN.fullmatch(phone):
        problems.append(f"手机号“{phone}”格式不正确（应为1开头的11位数字）")
    return problems


def login_names(username: str, phone: str) -> set[str]:
    """What someone could type at login to reach this account (usernames compare case-insensitively)."""
    return {value for value in (username.lower(), phone) if value}


def taken_login_names(session: Session, names: Iterable[str], *, except_user_id: int | None = None) -> set[str]:
    """The names already used by another account as a username or a phone.

    Login accepts either, so a new username must not equal anyone's phone and vice versa, or one login
    would match two accounts.
    """
    wanted = sorted({name.lower() for name in names if name})
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):  # stay far below SQLite's bound-parameter limit
        chunk = wanted[start : start + 500]
        query = select(User.username, User.phone).where(
            or_(func.lower(User.username).in_(chunk), User.phone.in_(chunk))
        )
        if except_user_id is not None:
            query = query.where(User.id != except_user_id)
        for username, phone in session.execute(query):
            taken.update(value for value in (username.lower(), phone) if value in chunk)
    return taken


def new_login(session: Session, name: str, username: str, phone: str) -> tuple[str, str, str]:
    """A new account's name, username and phone, trimmed and checked: a blank username means the phone logs in;
    AccountError (every problem, in Chinese) when a field is bad or a login name is already taken."""
    name, phone = name.strip(), normalize_phone(phone)
    username = username.strip() or phone
    problems = check_member_fields(name, username, phone)
    if problems:
        raise AccountError("；".join(problems))
    taken = taken_login_names(session, login_names(username, phone))
    if taken:
        raise AccountError(f"“{'、'.join(sorted(taken))}”已被其他账号用作用户名或手机号")
    return name, username, phone


def can_manage_member(actor: User, member: User) -> bool:
    """Admins manage every account; organizers manage the member accounts of their own branch."""
    return can_manage_branch(actor, member.branch_id) and (is_admin(actor) or member.role == Role.MEMBER)


def get_branch(session: Session, actor: User, branch_id: int, *, read: bool = False) -> Branch:
    """A branch the actor may manage — or, with `read`, see (NotAllowed otherwise, NotFound if there is none).

    Permission is checked first, so an organizer learns nothing about other branches' ids.
    """
    require(can_read_branch(actor, branch_id) if read else can_manage_branch(actor, branch_id), "只能管理本支部")
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("没有这个支部")
    return branch


def get_member(session: Session, actor: User, user_id: int) -> User:
    """An account the actor may manage (NotFound if there is none, NotAllowed otherwise)."""
    require(is_organizer(actor))
    member = session.get(User, user_id)
    if member is None:
        raise NotFound("没有这个账号")
    require(can_manage_member(actor, member), "只能管理本支部的党员")
    return member


def list_branches(session: Session, actor: User) -> list[BranchSummary]:
    """Admins see every branch, an organizer only their own, an inspector their assigned ones; each with
    member and group counts."""
    require(is_reader(actor))
    query = select(Branch).order_by(Branch.name)
    branch_ids = readable_branch_ids(actor)
    if branch_ids is not None:
        query = query.where(Branch.id.in_(sorted(branch_ids)))
    branches = list(session.scalars(query))
    members: dict[tuple[int, bool], int] = {
        (branch_id, active): count
        for branch_id, active, count in session.execute(
            select(User.branch_id, User.active, func.count(User.id))
            .where(User.branch_id.in_([branch.id for branch in branches]), User.role == Role.MEMBER)
            .group_by(User.branch_id, User.active)
        )
    }
    groups = dict(
        session.execute(
            select(PartyGroup.branch_id, func.count(PartyGroup.id))
            .where(PartyGroup.branch_id.in_([branch.id for branch in branches]))
            .group_by(PartyGroup.branch_id)
        ).all()
    )
    return [
        BranchSummary(
            branch,
            members.get((branch.id, True), 0),
            members.get((branch.id, False), 0),
            groups.get(branch.id, 0),
        )
        for branch in branches
    ]


def list_members(session: Session, actor: User, branch_id: int) -> list[User]:
    """Everyone in the branch: active first, then by party group (ungrouped last) and name (its readers)."""
    branch = get_branch(session, actor, branch_id, read=True)
    users = session.scalars(
        select(User).where(User.branch_id == branch.id).options(selectinload(User.party_group))
    ).all()
    return sorted(
        users,
        key=lambda user: (
            not user.active,
            user.party_group is None,
            user.party_group.name if user.party_group else "",
            user.name,
        ),
    )


def _clean_name(name: str, what: str) -> str:
    name = name.strip()
    if not name:
        raise AccountError(f"请输入{what}名称")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"{what}名称过长（最多{MAX_NAME_LENGTH}个字符）")
    return name


def commit_change(session: Session) -> None:
    """Commit; a unique key hit by a concurrent change becomes a clear error and nothing is saved."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountError("保存失败：名称、用户名或手机号刚被其他操作占用，请刷新后重试") from None


def record_audit(session: Session, actor: User, action: str, subject: str, **detail: Any) -> None:
    """Add the audit entry of one change (committed with it by `commit_change`)."""
    session.add(AuditEntry(actor_id=actor.id, action=action, subject=subject, detail=detail))


def create_branch(session: Session, actor: User, name: str) -> Branch:
    """Create a branch under the committee (admins only)."""
    require(is_admin(actor), "只有党委管理员可以新建支部")
    name = _clean_name(name, "支部")
    if session.scalar(select(Branch.id).where(Branch.name == name)) is not None:
        raise AccountError(f"支部“{name}”已存在")
    branch = get_or_create_branch(session, name)
    session.flush()
    record_audit(session, actor, "branches.create", name, branch_id=branch.id)
    commit_change(session)
    return branch


def create_group(session: Session, actor: User, branch_id: int, name: str) -> PartyGroup:
    """Create a party group in a branch (its organizer or an admin)."""
    branch = get_branch(session, actor, branch_id)
    name = _clean_name(name, "党小组")
    if any(group.name == name for group in branch.groups):
        raise AccountError(f"党小组“{name}”已存在")
    group = PartyGroup(branch=branch, name=name)
    session.add(group)
    session.flush()
    record_audit(session, actor, "groups.create", f"{branch.name}/{name}", branch_id=branch.id, group_id=group.id)
    commit_change(session)
    return group


def _group_of(branch: Branch, group_id: int | None) -> PartyGroup | None:
    if not group_id:
        return None
    for group in branch.groups:
        if group.id == group_id:
            return group
    raise AccountError("所选党小组不属于该支部")


def _status(value: str | MemberStatus) -> MemberStatus:
    try:
        return MemberStatus(value)
    except ValueError:
        raise AccountError("党员类别只能是“正式”或“预备”") from None


def enroll_member(
    session: Session,
    actor: User,
    branch: Branch,
    *,
    name: str,
    username: str,
    phone: str,
    group: PartyGroup | None,
    status: MemberStatus,
    via: str,
) -> tuple[User, str]:
    """Add a checked member account with a one-time password to the session, without committing.

    Callers validate first and commit once, which is what makes a roster import all or nothing.
    """
    password = one_time_password()
    user = User(
        username=username,
        name=name,
        phone=phone or None,
        role=Role.MEMBER,
        password_hash=hash_one_time_password(password),
        branch=branch,
        party_group=group,
        member_status=status,
        active=True,
        must_change_password=True,
    )
    session.add(user)
    record_audit(
        session,
        actor,
        "users.create",
        username,
        role=str(Role.MEMBER),
        branch=branch.name,
        group=group.name if group else None,
        via=via,
    )
    return user, password


def add_member(
    session: Session,
    actor: User,
    branch_id: int,
    *,
    name: str,
    username: str = "",
    phone: str = "",
    group_id: int | None = None,
    status: str | MemberStatus = MemberStatus.FULL,
) -> tuple[User, str]:
    """Create a member account; return it with its one-time password (shown once, changed at first login).

    A blank username means the member logs in with the phone number.
    """
    branch = get_branch(session, actor, branch_id)
    name, username, phone = new_login(session, name, username, phone)
    group = _group_of(branch, group_id)
    user, password = enroll_member(
        session,
        actor,
        branch,
        name=name,
        username=username,
        phone=phone,
        group=group,
        status=_status(status),
        via="form",
    )
    commit_change(session)
    return user, password


def update_member(
    session: Session,
    actor: User,
    user_id: int,
    *,
    name: str,
    phone: str = "",
    group_id: int | None = None,
    status: str | MemberStatus = MemberStatus.FULL,
) -> User:
    """Change a member's name, phone, party group and category; the audit entry lists old and new values."""
    member = get_member(session, actor, user_id)
    name, phone = name.strip(), normalize_phone(phone)
    problems = check_member_fields(name, member.username, phone)
    if problems:
        raise AccountError("；".join(problems))
    if phone and taken_login_names(session, {phone}, except_user_id=member.id):
        raise AccountError(f"手机号“{phone}”已被其他账号使用")
    group = _group_of(member.branch, group_id) if member.branch else None
    new_status = _status(status)
    old = {
        "name": member.name,
        "phone": member.phone,
        "group": member.party_group.name if member.party_group else None,
        "status": member.member_status,
    }
    new = {"name": name, "phone": phone or None, "group": group.name if group else None, "status": str(new_status)}
    changes = {key: [old[key], new[key]] for key in old if old[key] != new[key]}
    if not changes:
        return member
    member.name, member.phone, member.party_group, member.member_status = name, phone or None, group, new_status
    record_audit(session, actor, "users.update", member.username, changes=changes)
    commit_change(session)
    return member


def reset_password(session: Session, actor: User, user_id: int) -> tuple[User, str]:
    """Give an account a new one-time password (returned to show once); it must be changed at next login.

    The same rule as `quizengine users reset-password` (`accounts.issue_one_time_password`); here the actor
    must manage the account (an organizer: a member of their branch; an admin: anyone but themselves).
    """
    member = get_member(session, actor, user_id)
    require(member.id != actor.id, "请通过“修改密码”修改自己的密码")
    password = issue_one_time_password(session, member, actor=actor, via="web")
    commit_change(session)
    return member, password


def _set_active(session: Session, actor: User, user_id: int, active: bool) -> User:
    member = get_member(session, actor, user_id)
    require(member.id != actor.id, "不能停用或恢复自己的账号")
    if member.active != active:
        member.active = active
        if not active:
            bump_session_epoch(session, member)  # reactivating must not bring old sessions back
        record_audit(session, actor, "users.reactivate" if active else "users.deactivate", member.username)
        commit_change(session)
    return member


def deactivate_member(session: Session, actor: User, user_id: int) -> User:
    """Stop an account from logging in; its row and history stay (a record is never deleted)."""
    return _set_active(session, actor, user_id, False)


def reactivate_member(session: Session, actor: User, user_id: int) -> User:
    """Let a deactivated account log in again, with its history as it was."""
    return _set_active(session, actor, user_id, True)
