"""Who may read, use and overwrite a contest plan file: saved plans belong to their author's branch.

A plan file with no owner row is a template shipped under question_banks/contests (or put there by the
administrator): every organizer may read it and start contests from it, only an admin may replace it.
A saved plan is visible to and usable by the organizers of its author's branch and admins only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import ContestPlanFile, User

from .access import can_manage_branch, is_admin, is_organizer


def _owners(session: Session, names: Iterable[str]) -> dict[str, ContestPlanFile]:
    names = list(names)
    rows = session.scalars(select(ContestPlanFile).where(ContestPlanFile.name.in_(names))) if names else []
    return {row.name: row for row in rows}


def _may_use(user: User, owner: ContestPlanFile | None) -> bool:
    return is_organizer(user) and (owner is None or can_manage_branch(user, owner.branch_id))


def use_refusal(session: Session, user: User, name: str) -> str | None:
    """Why `user` may not open or start a contest from plan file `name` (None: allowed)."""
    owner = _owners(session, [name]).get(name)
    return None if _may_use(user, owner) else f"方案 {name} 属于其他支部，不能查看或使用"


def save_refusal(session: Session, user: User, name: str, *, exists: bool) -> str | None:
    """Why `user` may not write plan file `name` (None: allowed). New files are always theirs to create."""
    if not exists:
        return None
    owner = _owners(session, [name]).get(name)
    if owner is None:
        return None if is_admin(user) else f"{name} 是系统自带的方案模板，只有管理员可以覆盖；请换一个文件名另存"
    if not _may_use(user, owner):
        return f"方案 {name} 属于其他支部，不能覆盖；请换一个文件名另存"
    return None


def visible(session: Session, user: User, paths: list[Path]) -> list[Path]:
    """The plan files `user` may see: templates and their own branch's plans (admins: all)."""
    owners = _owners(session, [path.name for path in paths])
    return [path for path in paths if _may_use(user, owners.get(path.name))]


def record_saved(session: Session, user: User, name: str, *, new: bool) -> None:
    """Remember who saved a `new` plan file `name`: the author's branch owns it from now on (an admin
    replacing a template leaves it a template)."""
    if new and _owners(session, [name]).get(name) is None:
        session.add(ContestPlanFile(name=name, author_id=user.id, branch_id=user.branch_id))
        session.commit()
