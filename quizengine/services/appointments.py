"""Roles from the 组织管理 pages: appointing 支部书记 / 组织委员 (and, for admins, any role), and the 督导 accounts
with the branches they inspect. Same rules as `quizengine users set-role` / `users create` (`accounts`), each
change audited and committed once, so a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from quizengine.models import Branch, Role, User
from quizengine.services.access import is_admin, require
from quizengine.services.accounts import AccountError, assign_role, hash_one_time_password, one_time_password

from .organization import commit_change, get_member, new_login, record_audit


def _branches(session: Session, branch_ids: Iterable[int | str]) -> list[Branch]:
    branches = []
    for value in branch_ids:
        text = str(value).strip()
        branch = session.get(Branch, int(text)) if text.isascii() and text.isdigit() and len(text) < 10 else None
        if branch is None:
            raise AccountError("没有找到所选支部")
        branches.append(branch)
    return branches


def appoint(
    session: Session,
    actor: User,
    user_id: int,
    role: str,
    *,
    title: str | None = None,
    branch_id: int | str | None = None,
    inspect_ids: Iterable[int | str] = (),
) -> User:
    """Change an account's role from the 组织管理 pages, by the same rule as `quizengine users set-role`
    (`accounts.assign_role`).

    An admin: any account but their own, any role; an organizer: only a member of their own branch, made
    支部书记 or 组织委员 (never an admin or an inspector). `branch_id` (admins) moves an organizer or member
    to another branch; `inspect_ids` are an inspector's branches.
    """
    member = get_member(session, actor, user_id)
    require(member.id != actor.id, "不能修改自己的角色")
    if not role:
        raise AccountError("请选择角色")
    if not is_admin(actor):
        require(role in (Role.MEMBER, Role.ORGANIZER), "支部组织员只能任命本支部的支部书记或组织委员")
    branch = member.branch
    if branch_id and is_admin(actor):
        [branch] = _branches(session, [branch_id])
    inspects = _branches(session, inspect_ids) if role == Role.INSPECTOR else []
    assign_role(session, member, role, branch=branch, inspects=inspects, title=title or None, actor=actor, via="web")
    commit_change(session)
    return member


def list_inspectors(session: Session, actor: User) -> list[User]:
    """Every inspector (督导) account with the branches assigned to them (admins only)."""
    require(is_admin(actor), "只有党委管理员可以管理督导")
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.INSPECTOR)
            .options(selectinload(User.inspected_branches))
            .order_by(User.name)
        )
    )


def create_inspector(
    session: Session, actor: User, *, name: str, username: str = "", phone: str = "", branch_ids: Iterable[int | str]
) -> tuple[User, str]:
    """A new inspector account (admins only) over the chosen branches, with a one-time password to show once."""
    require(is_admin(actor), "只有党委管理员可以新建督导账号")
    name, username, phone = new_login(session, name, username, phone)
    branches = _branches(session, branch_ids)
    if not branches:
        raise AccountError("督导至少要指定一个督导支部")
    password = one_time_password()
    user = User(
        username=username,
        name=name,
        phone=phone or None,
        role=Role.INSPECTOR,
        password_hash=hash_one_time_password(password),
        inspected_branches=list(dict.fromkeys(branches)),
        must_change_password=True,
    )
    session.add(user)
    record_audit(
        session,
        actor,
        "users.create",
        username,
        role=str(Role.INSPECTOR),
        inspects=[branch.name for branch in user.inspected_branches],
        via="form",
    )
    commit_change(session)
    return user, password
