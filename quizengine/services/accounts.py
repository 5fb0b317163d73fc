"""Accounts: password hashing (Argon2id), login with rate limiting, password changes, first admin."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from gevent import monkey
from gevent.threadpool import ThreadPool
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.errors import QuizError
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import AuditEntry, Branch, Committee, LoginAttempt, MemberStatus, Role, User

#: Argon2id, memory-hard: 64 MiB, 3 passes (argon2-cffi's RFC 9106 low-memory profile).
_hasher = PasswordHasher()
#: One-time passwords are 12 random characters (~69 bits) and replaced at first login, so a lighter
#: Argon2id (19 MiB, 1 pass, ~25 ms) is enough; under gevent hashing blocks the server, and a roster
#: import hashes one per member.
_one_time_hasher = PasswordHasher(time_cost=1, memory_cost=19 * 1024, parallelism=1)

DEFAULT_COMMITTEE = "党委"

_T = TypeVar("_T")
#: Hashing threads under gevent: Argon2id takes 64 MiB and ~0.3 s of CPU per call, so two at a time
#: (one per core here) bounds memory while the event loop keeps serving other requests.
_HASH_THREADS = 2


@cache
def _hash_threads() -> ThreadPool:
    """The hashing threads, made on first use (in the server's own thread, whose hub they report to)."""
    return ThreadPool(_HASH_THREADS)


def _off_the_loop(function: Callable[..., _T], *args: str) -> _T:
    """Run a password hash or verify in gevent's native thread pool under gevent, directly otherwise.

    argon2-cffi releases the GIL while it hashes, so the event loop goes on serving other requests
    instead of stopping for ~0.3 s per login. Tests and the CLI (not monkey-patched) call it directly.
    """
    if not monkey.is_module_patched("threading"):
        return function(*args)
    return _hash_threads().spawn(function, *args).get()


class AccountError(QuizError):
    """A login, password or account rule was broken."""

    code = "account_error"


@dataclass(frozen=True)
class LoginPolicy:
    """How many failures lock a username or an address out, and for how long."""

    max_failures: int = 5
    max_failures_per_address: int = 30
    lock_minutes: int = 15


def hash_password(password: str) -> str:
    """Hash with Argon2id."""
    return _off_the_loop(_hasher.hash, password)


def hash_one_time_password(password: str) -> str:
    """Hash a generated one-time password (verified by verify_password like any other hash)."""
    return _off_the_loop(_one_time_hasher.hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a bad hash."""
    try:
        return _off_the_loop(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """A password to hand over once (12 characters, no look-alike letters)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def check_new_password(password: str, min_length: int) -> None:
    """Refuse passwords that are too short or trivially weak."""
    if len(password) < min_length:
        raise AccountError(f"新密码至少需要{min_length}个字符")
    if password.isdigit() or len(set(password)) < 4:
        raise AccountError("新密码过于简单，请混合使用字母和数字")


def get_or_create_branch(session: Session, name: str) -> Branch:
    """Find a branch by name under the (single default) committee, creating both if needed."""
    branch = session.scalar(select(Branch).where(Branch.name == name))
    if branch is not None:
        return branch
    committee = session.scalar(select(Committee).order_by(Committee.id)) or Committee(name=DEFAULT_COMMITTEE)
    branch = Branch(name=name, committee=committee)
    session.add(branch)
    return branch


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

    An account created with a generated password must change it at first login.
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
        check_new_password(password, min_length)
    user = User(
        username=username,
        name=name.strip(),
        phone=phone or None,
        role=role,
        password_hash=hash_one_time_password(password) if generated else hash_password(password),
        branch=get_or_create_branch(session, branch_name) if branch_name else None,
        member_status=member_status,
        must_change_password=generated is not None,
    )
    session.add(user)
    session.flush()
    session.add(AuditEntry(actor_id=actor_id, action="users.create", subject=username, detail={"role": str(role)}))
    session.commit()
    return user, generated


def _recent_failures(session: Session, column: object, value: str, since: object) -> int:
    return session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value,  # type: ignore[operator]
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at >= since,
        )
    )


def authenticate(
    session: Session,
    username: str,
    password: str,
    address: str,
    *,
    clock: Clock | None = None,
    policy: LoginPolicy | None = None,
) -> User:
    """Check a login and record the try; raise AccountError with a message fit for the login page.

    A username (or address) with too many recent failures is locked for `lock_minutes`, even for the
    right password, so guessing stays slow. The lock message does not reveal whether the user exists.
    """
    clock, policy = clock or SystemClock(), policy or LoginPolicy()
    now = clock.now()
    since = now - timedelta(minutes=policy.lock_minutes)
    username = username.strip()
    if (
        _recent_failures(session, LoginAttempt.username, username.lower(), since) >= policy.max_failures
        or _recent_failures(session, LoginAttempt.address, address, since) >= policy.max_failures_per_address
    ):
        raise AccountError(f"登录失败次数过多，请{policy.lock_minutes}分钟后再试")
    user = session.scalar(
        select(User).where((func.lower(User.username) == username.lower()) | (User.phone == username))
    )
    password_hash = user.password_hash if user is not None and user.active else None
    session.commit()  # end the read before the slow verify: no pooled connection is held meanwhile
    ok = user is not None and password_hash is not None and verify_password(password_hash, password)
    session.add(LoginAttempt(username=username.lower(), address=address, at=now, succeeded=ok))
    if ok and user is not None:
        user.last_login_at = now
    session.commit()
    if not ok or user is None:
        raise AccountError("用户名或密码错误")
    return user


def change_password(session: Session, user: User, current: str, new: str, *, min_length: int = 8) -> None:
    """Change a password after checking the current one; clears the forced-change flag."""
    if not verify_password(user.password_hash, current):
        raise AccountError("当前密码不正确")
    if new == current:
        raise AccountError("新密码不能与当前密码相同")
    check_new_password(new, min_length)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.add(AuditEntry(actor_id=user.id, action="users.change_password", subject=user.username))
    session.commit()


def ensure_first_admin(session: Session, username: str = "admin") -> str | None:
    """Create the first admin when there is none; return its one-time password (else None)."""
    if session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None:
        return None
    _, password = create_user(session, username=username, name="系统管理员", role=Role.ADMIN)
    return password
