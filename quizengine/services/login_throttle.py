"""Login throttling: growing delays per account and per client address, claimed atomically in the database.

Design (the threat model's login part):

- Every try *claims* a slot on each of its keys before the password is verified: one conditional
  UPDATE (`WHERE next_allowed_at <= now`, new count and next time computed in the row) that counts
  the try as a failure. Parallel tries serialize on that one row, so N parallel wrong guesses are
  counted N times and no more than the policy allows are ever verified (SQLite and PostgreSQL alike),
  and many members logging in at once from one address never starve each other. A success gives its
  claim back.
- Keys: the account (`account:<id>`, so its username and its phone count together; an unknown name
  gets `name:<name>` and is throttled exactly like an account, which keeps existence secret) and the
  client address (`address:<ip>`, the real one behind a trusted proxy, see TRUSTED_PROXIES).
- The first `free_failures` failures cost nothing; each further one doubles the wait, from
  `first_delay_seconds` up to `max_delay_seconds` (15 minutes). There is no hard lock: guessing is
  slowed to a few tries an hour per account, and the owner is never locked out for longer than the cap.
- A device that has logged in to an account before carries a signed device cookie (bound to a digest
  of the account's password hash). Its tries are counted on that device's own key *instead of* the
  account and address keys, so an attacker hammering the admin's account from elsewhere cannot keep
  the admin out of their usual devices (OWASP's "device cookies"). A password change or reset ends the
  trust of every device cookie. `quizengine users reset-password` also clears the account's delays.
- Counters are forgotten `forget_after_hours` after their last failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quizengine.models import LoginThrottle, UTCDateTime

#: A claim that finds its row neither claimable nor delayed this many times in a row (it keeps racing a
#: first insert) is treated as refused: never let through.
_MAX_CLAIM_ROUNDS = 10


#: `next_allowed_at` of a key with no delay: before any clock reading, parallel or not.
NO_DELAY = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LoginPolicy:
    """Free failures per key kind, then doubling delays up to a cap; counters forgotten after a while."""

    free_failures: int = 5
    free_failures_per_address: int = 30
    first_delay_seconds: int = 30
    max_delay_seconds: int = 15 * 60
    forget_after_hours: int = 24

    def delay(self, failures: int, free: int) -> timedelta:
        """The wait imposed after the `failures`-th counted failure of a key with `free` free failures."""
        if failures < free:
            return timedelta(0)
        doublings = min(failures - free, 30)
        return timedelta(seconds=min(self.first_delay_seconds * 2**doublings, self.max_delay_seconds))


@dataclass(frozen=True)
class Refused:
    """A try refused without verifying the password: how long to wait."""

    wait_seconds: int

    @property
    def message(self) -> str:
        """The login page's message (the same for every key kind, so it reveals nothing)."""
        minutes = math.ceil(self.wait_seconds / 60)
        wait = f"{self.wait_seconds}秒" if self.wait_seconds < 60 else f"{minutes}分钟"
        return f"登录失败次数过多，请{wait}后再试"


def _next_allowed(count: ColumnElement[int], free: int, now: datetime, policy: LoginPolicy) -> ColumnElement[datetime]:
    """SQL for the time a key may try again after its `count`-th failure: the policy's doubling delays as
    one CASE over the few counts below the cap (the times computed here, the choice made in the row)."""
    cap = timedelta(seconds=policy.max_delay_seconds)
    # a free failure leaves the time as it was: a parallel try whose clock read a moment earlier still passes
    whens: list[tuple[ColumnElement[bool], object]] = [(count < free, LoginThrottle.next_allowed_at)]
    failures = free
    while policy.delay(failures, free) < cap and failures < free + 64:
        whens.append((count == failures, literal(now + policy.delay(failures, free), UTCDateTime())))
        failures += 1
    return case(*whens, else_=literal(now + cap, UTCDateTime()))


def _first_allowed(now: datetime, free: int, policy: LoginPolicy) -> datetime:
    """The time a key may try again after its first failure (long past when that failure was free)."""
    delay = policy.delay(1, free)
    return now + delay if delay else NO_DELAY


def _claim(session: Session, key: str, free: int, now: datetime, policy: LoginPolicy) -> Refused | None:
    """Count one try on `key` if its delay has passed (one conditional UPDATE); else say how long to wait.

    The UPDATE's WHERE (`next_allowed_at <= now`) and its new values are evaluated on the row under its
    write lock, so parallel tries on one key are counted one after the other and none passes a delay
    another has just set. Only a missing row (the key's first failure) needs an INSERT, whose unique key
    settles a race between two first tries.
    """
    forget = timedelta(hours=policy.forget_after_hours)
    count = case((LoginThrottle.updated_at < now - forget, 1), else_=LoginThrottle.failures + 1)
    for _ in range(_MAX_CLAIM_ROUNDS):
        claimed = session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, LoginThrottle.next_allowed_at <= now)
            .values(failures=count, next_allowed_at=_next_allowed(count, free, now, policy), updated_at=now)
        ).rowcount
        session.commit()
        if claimed:
            return None
        waiting_until = session.scalar(select(LoginThrottle.next_allowed_at).where(LoginThrottle.key == key))
        session.commit()
        if waiting_until is not None and waiting_until > now:
            return Refused(max(1, math.ceil((waiting_until - now).total_seconds())))
        if waiting_until is None:
            try:
                session.execute(
                    insert(LoginThrottle).values(
                        key=key, failures=1, next_allowed_at=_first_allowed(now, free, policy), updated_at=now
                    )
                )
                session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - forget))
                session.commit()
                return None
            except IntegrityError:  # a parallel first try inserted it: claim again on its row
                session.rollback()
    return Refused(policy.first_delay_seconds)


def claim(session: Session, keys: list[tuple[str, int]], now: datetime, policy: LoginPolicy) -> Refused | None:
    """Claim one try on every (key, free failures) in order; the first refusal stops (earlier claims stay
    counted: a refused try is still a try from that address)."""
    for key, free in keys:
        refused = _claim(session, key, free, now, policy)
        if refused is not None:
            return refused
    return None


def give_back(session: Session, keys: list[str], *, forget: tuple[str, ...] = ()) -> None:
    """After a success: return the claimed try on `keys` and forget `forget` keys entirely."""
    for key in keys:
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, LoginThrottle.failures > 0)
            .values(failures=LoginThrottle.failures - 1)
        )
    if forget:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(forget)))
    session.commit()


def clear(session: Session, keys: list[str]) -> None:
    """Forget the counters of `keys` (an administrator reset the account); the caller commits."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def account_key(user_id: int) -> str:
    """The throttle key of an account (username and phone logins of one user share it)."""
    return f"account:{user_id}"
