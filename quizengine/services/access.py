"""Who may see or change what. Every view and socket handler asks these before acting.

admin: everything. organizer: their own branch only. member: only themselves.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from quizengine.engine.errors import QuizError
from quizengine.models import Role, User


class NotAllowed(QuizError):
    """The user may not see or change this; transports answer 404 (for records) or 403."""

    code = "not_allowed"

    def __init__(self, message: str = "没有权限访问该内容") -> None:
        super().__init__(message)


def is_admin(user: User) -> bool:
    """Committee admin."""
    return user.role == Role.ADMIN


def is_organizer(user: User) -> bool:
    """Branch organizer (or admin, who can do everything an organizer can)."""
    return user.role in (Role.ORGANIZER, Role.ADMIN)


def can_manage_branch(user: User, branch_id: int | None) -> bool:
    """Admins manage every branch; organizers only their own."""
    if is_admin(user):
        return True
    return user.role == Role.ORGANIZER and branch_id is not None and user.branch_id == branch_id


def can_view_member(viewer: User, member: User) -> bool:
    """A member sees themselves; an organizer sees their branch; an admin sees everyone."""
    return viewer.id == member.id or can_manage_branch(viewer, member.branch_id)


def in_member_scope(actor: User, member: User) -> bool:
    """The one scope rule for acting on a member's data (exam paper, grade, 补考, export row, dashboard row).

    Admins act on everyone; an organizer only on members of their own branch, even in an exam set for
    several branches. `member_scope_clause` is the same rule as a query filter.
    """
    return can_manage_branch(actor, member.branch_id)


def member_scope_clause(actor: User) -> ColumnElement[bool]:
    """`in_member_scope` as a WHERE clause over `User` (for dashboards and exports that list members)."""
    if is_admin(actor):
        return true()
    if actor.role == Role.ORGANIZER and actor.branch_id is not None:
        return User.branch_id == actor.branch_id
    return false()


def require(allowed: bool, message: str = "没有权限访问该内容") -> None:
    """Raise NotAllowed unless `allowed`."""
    if not allowed:
        raise NotAllowed(message)
