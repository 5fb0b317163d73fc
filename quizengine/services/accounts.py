"""Accounts: creation, login (throttled, constant cost), password changes, session epochs, roles, first admin."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quizengine.engine.errors import QuizError
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import ORGANIZER_TITLES, AuditEntry, Branch, Committee, MemberStatus, Role, User
from quizengine.services import login_throttle
from quizengine.services.login_throttle import LoginPolicy
from quizengine.services.passwords import (
    PasswordError,
    check_new_password,
    hash_one_time_password,
    hash_password,
    verify_password,
)

__all__ = [
    "AccountError",
    "LoginPolicy",
    "PasswordError",
    "assign_role",
    "authenticate",
    "bump_session_epoch",
    "change_password",
    "check_new_password",
    "create_user",
    "ensure_first_admin",
    "hash_one_time_password",
    "hash_password",
    "issue_one_time_password",
    "one_time_password",
    "parse_session_id",
    "reset_password",
    "set_role",
    "verify_password",
]

DEFAULT_COMMITTEE = "党委"


class AccountError(QuizError):
    """A login, password or account rule was broken."""

    code = "account_error"


@dataclass(frozen=True)
class TrustedDevice:
    """A device that logged in to `user_id` before (from its signed cookie), while its password had `tag`."""

    user_id: int
    tag: str
    nonce: str


def password_tag(user: User) -> str:
    """A short digest of the account's password hash: a device cookie is trusted only until the password
    changes (so a thief's device loses its trust with the stolen password), not across logouts."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def one_time_password() -> str:
    """A password to hand over once (12 characters, no look-alike letters)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def parse_session_id(value: object) -> tuple[int, int] | None:
    """(user id, session epoch) from what `User.get_id` stored in the session, or None if malformed."""
    if not isinstance(value, str):
        return None
    user_id, dot, epoch = value.partition(".")
    if not dot or not user_id.isascii() or not user_id.isdigit() or not epoch.isascii() or not epoch.isdigit():
        return None
    if len(user_id) > 18 or len(epoch) > 18:
        return None
    return int(user_id), int(epoch)


def bump_session_epoch(session: Session, user: User) -> None:
    """End every session of `user` made before now (the caller commits; a session that should stay
    logged in logs in again with the new epoch)."""
    session.execute(update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1))
    session.refresh(user, ["session_epoch"])


def get_or_create_branch(session: Session, name: str) -> Branch:
    """Find a branch by name under the (single default) committee, creating both if needed."""
    branch = session.scalar(select(Branch).where(Branch.name == name))
    if branch is not None:
        return branch
    committee = session.scalar(select(Committee).order_by(Committee.id)) or Committee(name=DEFAULT_COMMITTEE)
    branch = Branch(name=name, committee=committee)
    session.add(branch)
    return branch


def _check_password(password: str, min_length: int, *personal: str | None) -> None:
    try:
        check_new_password(password, min_length, personal)
    except PasswordError as error:
        raise AccountError(error.message) from None


def create_user(
    session: Session,
    *,
    username: str,
    name: str,
    role: Role = Role.MEMBER,
    password: str | None = None,
    branch_name: str | None = None,
    phone: str | None = None,
    member_status: MemberStatus = MemberStatus.FULL,
    actor_id: int | None = None,
    min_length: int = 8,
) -> tuple[User, str | None]:
    """Create an account and commit. Without a password a one-time one is generated and returned.

    An account created with a generated password must change it at first login. For an inspector (督导)
    `branch_name` is the branch assigned to them.
    """
    username = username.strip()
    if not username or not name.strip():
        raise AccountError("用户名和姓名不能为空")
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise AccountError(f"用户名“{username}”已存在")
    if phone and session.scalar(select(User.id).where(User.phone == phone)) is not None:
        raise AccountError(f"手机号“{phone}”已被使用")
    if role in (Role.ORGANIZER, Role.MEMBER) and not branch_name:
        raise AccountError("支部组织员和党员必须属于一个支部")
    generated = None
    if password is None:
        generated = password = one_time_password()
    else:
        _check_password(password, min_length, username, phone, name)
    branch = get_or_create_branch(session, branch_name) if branch_name else None
    inspector = role == Role.INSPECTOR  # an inspector's branch is the one they inspect, not their own
    user = User(
        username=username,
        name=name.strip(),
        phone=phone or None,
        role=role,
        password_hash=hash_one_time_password(password) if generated else hash_password(password),
        branch=None if inspector else branch,
        inspected_branches=[branch] if inspector and branch else [],
        member_status=member_status,
        must_change_password=generated is not None,
    )
    session.add(user)
    session.flush()
    session.add(AuditEntry(actor_id=actor_id, action="users.create", subject=username, detail={"role": str(role)}))
    session.commit()
    return user, generated


def find_login(session: Session, login: str) -> User | None:
    """The account a login name means: its username (any case) or its phone."""
    login = login.strip()
    return session.scalar(select(User).where((func.lower(User.username) == login.lower()) | (User.phone == login)))


def authenticate(
    session: Session,
    username: str,
    password: str,
    address: str,
    *,
    device: TrustedDevice | None = None,
    clock: Clock | None = None,
    policy: LoginPolicy | None = None,
) -> User:
    """Check a login; raise AccountError with a message fit for the login page.

    Throttled per account and per address (see services.login_throttle for the design), atomically.
    Unknown and inactive accounts cost the same Argon2 verify as a wrong password, and get the same
    message, so neither timing nor wording tells whether an account exists.
    """
    clock, policy = clock or SystemClock(), policy or LoginPolicy()
    now = clock.now()
    user = find_login(session, username)
    password_hash = user.password_hash if user is not None and user.active else None
    account_key = login_throttle.account_key(user.id) if user is not None else f"name:{username.strip().lower()[:100]}"
    address_key = f"address:{address}"
    trusted = device is not None and user is not None and (device.user_id, device.tag) == (user.id, password_tag(user))
    if trusted and device is not None:
        keys = [(f"device:{device.nonce}", policy.free_failures)]
    else:
        keys = [(address_key, policy.free_failures_per_address), (account_key, policy.free_failures)]
    session.commit()  # end the read: no pooled connection is held during the claims and the slow verify
    refused = login_throttle.claim(session, keys, now, policy)
    if refused is not None:
        raise AccountError(refused.message)
    if not verify_password(password_hash, password) or user is None:
        raise AccountError("用户名或密码错误")
    user.last_login_at = now
    session.commit()
    if trusted:
        login_throttle.give_back(session, [], forget=(keys[0][0],))
    else:
        login_throttle.give_back(session, [address_key], forget=(account_key,))
    return user


def change_password(session: Session, user: User, current: str, new: str, *, min_length: int = 8) -> None:
    """Change a password after checking the current one; clears the forced-change flag.

    Bumps the session epoch: every other session of the account ends (the caller logs the current
    one in again).
    """
    if not verify_password(user.password_hash, current):
        raise AccountError("当前密码不正确")
    if new == current:
        raise AccountError("新密码不能与当前密码相同")
    _check_password(new, min_length, user.username, user.phone, user.name)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    bump_session_epoch(session, user)
    session.add(AuditEntry(actor_id=user.id, action="users.change_password", subject=user.username))
    session.commit()


def log_out_everywhere(session: Session, user: User) -> None:
    """End every session of the account (the caller logs the current one in again)."""
    bump_session_epoch(session, user)
    session.add(AuditEntry(actor_id=user.id, action="users.logout_everywhere", subject=user.username))
    session.commit()


def _account(session: Session, username: str) -> User:
    user = find_login(session, username)
    if user is None:
        raise AccountError(f"没有找到用户“{username}”")
    return user


def issue_one_time_password(session: Session, user: User, *, actor: User | None, via: str) -> str:
    """The one password-reset rule, for the CLI and the 组织管理 pages: a one-time password (returned, to show
    once), a forced change at next login, every session ended, the account's login delays cleared (the owner
    is locked out no longer); audited. The caller checked who may do it, and commits."""
    password = one_time_password()
    user.password_hash = hash_one_time_password(password)
    user.must_change_password = True
    bump_session_epoch(session, user)
    login_throttle.clear(session, [login_throttle.account_key(user.id)])
    session.add(
        AuditEntry(
            actor_id=actor.id if actor else None,
            action="users.reset_password",
            subject=user.username,
            detail={"via": via},
        )
    )
    return password


def reset_password(session: Session, username: str) -> tuple[User, str]:
    """Give an account a one-time password from the command line (see `issue_one_time_password`)."""
    user = _account(session, username)
    password = issue_one_time_password(session, user, actor=None, via="cli")
    session.commit()
    return user, password


def assign_role(
    session: Session,
    user: User,
    role: str,
    *,
    branch: Branch | None,
    inspects: Sequence[Branch] = (),
    title: str | None = None,
    actor: User | None,
    via: str,
) -> None:
    """The one rule for an account's role, for the CLI (`users set-role`) and the 组织管理 pages: organizers and
    members belong to `branch`; an organizer may carry a post (支部书记 / 组织委员); an inspector belongs to no
    branch and reads `inspects`; the change is audited with old and new values. The caller checked who may
    do it, and commits."""
    if role not in {str(item) for item in Role}:
        raise AccountError(
            f"未知角色“{role}”，可选：admin（党委管理员）、organizer（支部组织员）、member（党员）、inspector（督导）"
        )
    if role in (Role.ORGANIZER, Role.MEMBER) and branch is None:
        raise AccountError("支部组织员和党员都要属于一个支部")
    if role == Role.INSPECTOR and not inspects:
        raise AccountError("督导至少要指定一个督导支部")
    if role != Role.ORGANIZER:
        title = None
    elif title is not None and title not in ORGANIZER_TITLES:
        raise AccountError("职务只能是" + "或".join(ORGANIZER_TITLES))
    old = _role_state(user)
    if role == Role.INSPECTOR:
        user.inspected_branches, branch = list(dict.fromkeys(inspects)), None
    else:
        user.inspected_branches = []
    user.role, user.branch, user.title = Role(role), branch, title
    new = _role_state(user)
    changes = {key: [old[key], new[key]] for key in old if old[key] != new[key]}
    if changes:
        session.add(
            AuditEntry(
                actor_id=actor.id if actor else None,
                action="users.set_role",
                subject=user.username,
                detail={**changes, "via": via},
            )
        )


def _role_state(user: User) -> dict[str, object]:
    return {
        "role": str(user.role),
        "title": user.title,
        "branch": user.branch.name if user.branch else None,
        "inspects": [item.name for item in user.inspected_branches],
    }


def set_role(
    session: Session, username: str, role: str, branch_name: str | None = None, title: str | None = None
) -> User:
    """Change an account's role from the command line (`assign_role`): organizers and members need an existing
    branch (their own by default), an inspector the branch to add to those they inspect already."""
    user = _account(session, username)
    branch = user.branch
    if branch_name is not None:
        branch = session.scalar(select(Branch).where(Branch.name == branch_name))
        if branch is None:
            raise AccountError(f"没有找到支部“{branch_name}”")
    if role != Role.ADMIN and branch is None:
        raise AccountError("支部组织员、党员和督导都要指定支部，请用 --branch 指定")
    inspects = [*(item for item in user.inspected_branches if item is not branch), branch] if branch else []
    assign_role(session, user, role, branch=branch, inspects=inspects, title=title, actor=None, via="cli")
    session.commit()
    return user


def ensure_first_admin(session: Session, username: str = "admin") -> str | None:
    """Create the first admin when there is none; return its one-time password (else None)."""
    if session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None:
        return None
    _, password = create_user(session, username=username, name="系统管理员", role=Role.ADMIN)
    return password


def set_large_text(session: Session, user: User, on: bool) -> None:
    """Remember the member's 大字模式 choice: it follows them to every device they log in on."""
    user.large_text = on
    session.commit()
