"""Who may see or change what. Every view and socket handler asks these before acting.

admin: everything. organizer: their own branch only. member: only themselves. inspector (督导): reads
everything of the branches assigned to them and changes nothing — the "changes nothing" half is enforced
once for all of HTTP by `web.read_only` (and for the exam autosave and contest joins by their own checks).

Two families of rules: *manage* (`can_manage_branch`, `in_member_scope`) decides
who may change something; *read* (`can_read_branch`, `can_view_member`, `can_read_member`,
`member_read_clause`) who may see it. Readers are the managers plus the branch's inspectors.
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


class ReadOnly(NotAllowed):
    """An inspector tried to change something: every transport answers 403 with this message."""

    code = "read_only"

    def __init__(self, message: str = "督导账号只能查看，不能修改任何内容") -> None:
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


def is_inspector(user: User) -> bool:
    """督导: read-only, over the branches assigned to them."""
    return user.role == Role.INSPECTOR


def is_reader(user: User) -> bool:
    """Someone who reads branches' data (organizer, admin or inspector), as opposed to a member."""
    return is_organizer(user) or is_inspector(user)


def inspected_branch_ids(user: User) -> set[int]:
    """The branches assigned to an inspector (one query the first time per request; empty for other roles)."""
    return {branch.id for branch in user.inspected_branches} if is_inspector(user) else set()


def can_read_branch(user: User, branch_id: int | None) -> bool:
    """Whoever manages the branch, and the inspectors it is assigned to."""
    if can_manage_branch(user, branch_id):
        return True
    return branch_id is not None and branch_id in inspected_branch_ids(user)


def readable_branch_ids(user: User) -> set[int] | None:
    """The branches `user` may read: None means every branch (admin)."""
    if is_admin(user):
        return None
    if user.role == Role.ORGANIZER:
        return {user.branch_id} if user.branch_id is not None else set()
    return inspected_branch_ids(user)


def can_view_member(viewer: User, member: User) -> bool:
    """A member sees themselves; an organizer sees their branch; an inspector their assigned branches; an
    admin sees everyone."""
    return viewer.id == member.id or can_read_branch(viewer, member.branch_id)


def can_read_member(viewer: User, member: User) -> bool:
    """`in_member_scope` for reading: also an inspector of the member's branch (exam results, dashboards)."""
    return can_read_branch(viewer, member.branch_id)


def in_member_scope(actor: User, member: User) -> bool:
    """The one scope rule for acting on a member's data (exam paper, grade, 补考, export row, dashboard row).

    Admins act on everyone; an organizer only on members of their own branch, even in an exam set for
    several branches.
    """
    return can_manage_branch(actor, member.branch_id)


def member_read_clause(actor: User) -> ColumnElement[bool]:
    """`can_read_member` as a WHERE clause over `User` (for result lists an inspector may read too)."""
    branch_ids = readable_branch_ids(actor)
    if branch_ids is None:
        return true()
    return User.branch_id.in_(sorted(branch_ids)) if branch_ids else false()


def require(allowed: bool, message: str = "没有权限访问该内容") -> None:
    """Raise NotAllowed unless `allowed`."""
    if not allowed:
        raise NotAllowed(message)
