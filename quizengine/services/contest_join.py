"""Who a contest connection is: host (login, re-checked on every command), projector (secret link), team
device (the team's QR secret or its throttled short code, then a device token of its own), player (login +
PIN). Failed credentials are throttled per connection, per client address and, for typed team codes, per
contest, so guessing is slow while the real devices (QR secret, device tokens) are never locked out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session, scoped_session

from quizengine.models import Contest, ContestDevice, ContestTeam, User
from quizengine.modes.contest import ContestError, Role

from .access import ReadOnly, is_inspector
from .contest_commands import _player, _player_cache, cached_machine, can_host, load_contest
from .contest_member_joins import join_member
from .contest_players import Joined, PlayerKeys, add_player, admit_player, opened, player_joined, read_keys

#: Failed joins allowed per window: one connection, one client address, one contest's typed team codes.
WINDOW_SECONDS = 600.0
PER_CONNECTION, PER_ADDRESS, PER_CONTEST_CODE = 5, 30, 50
THROTTLED = "尝试次数过多，请稍后再试；队伍答题器请扫描主持台上的队伍二维码加入"


@dataclass
class Throttle:
    """Failures per key in a sliding window (this process; with N workers the bound is N× per key)."""

    window: float = WINDOW_SECONDS
    _failures: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def blocked(self, key: tuple[str, str], limit: int, now: float | None = None) -> bool:
        """True when `key` failed `limit` times within the window."""
        with self._lock:
            return len(self._recent(key, time.monotonic() if now is None else now)) >= limit

    def fail(self, *keys: tuple[str, str], now: float | None = None) -> None:
        """Count one failure against each key."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                self._recent(key, moment).append(moment)
            if len(self._failures) > 10_000:  # forget the keys that have nothing left in the window
                for stale in [k for k, v in self._failures.items() if not v or v[-1] < moment - self.window]:
                    del self._failures[stale]

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] < now - self.window:
            times.popleft()
        return times

    def clear(self) -> None:
        """Forget every failure (tests)."""
        with self._lock:
            self._failures.clear()


throttle = Throttle()


def is_short_code(code: str) -> bool:
    """A code typed by hand (digits) rather than the team secret of a QR link."""
    return code.isascii() and code.isdigit()


def join(
    session: Session | scoped_session[Session],
    data: dict[str, Any],
    user: Any,
    *,
    connection: str,
    address: str,
    login: tuple[int, int] | None = None,
) -> Joined:
    """Identify a connection from a parsed `join` payload; failed credentials are counted and throttled.

    `login` is the (user id, session epoch) the connection's session names, when the caller knows that the
    login manager would load exactly that member if the row says so (`contest_member_joins.join_member`): a
    member's player join then reads only the member's few columns, in a batch with the joins that arrived with
    it, and `user` (Flask-Login's `current_user`, loaded on first use) is not touched. Any other join, and any
    member whose row does not match the login, takes the usual path with `user`. `session` may be the scoped
    session itself: a member's join that only waits for another's batch then never opens one."""
    keys = (("connection", connection), ("address", address))
    short_code = data["role"] == Role.TEAM and not data.get("token") and is_short_code(data.get("code") or "")
    guessable = short_code or data["role"] == Role.PLAYER  # unguessable secrets and tokens are never held back
    if guessable and (throttle.blocked(keys[0], PER_CONNECTION) or throttle.blocked(keys[1], PER_ADDRESS)):
        raise ContestError(THROTTLED, "throttled")
    try:
        if login is not None and data["role"] == Role.PLAYER:
            joined = join_member(session, data, *login)
            if joined is not None:
                return joined
        return _join(opened(session), data, user)
    except ContestError as error:
        if error.code in _CREDENTIAL_FAILURES:
            throttle.fail(*keys, *((("contest", str(data.get("contest"))),) if short_code else ()))
        raise


#: Refusals that mean a wrong credential (a guess), counted by the throttle.
_CREDENTIAL_FAILURES = frozenset({"bad_code", "bad_token", "bad_pin", "not_found"})


def _join(session: Session, data: dict[str, Any], user: Any) -> Joined:
    role = data["role"]
    logged_in = getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)
    if role == Role.PLAYER:
        return _join_as_player(session, _player_keys(session, data), data, user, logged_in)
    contest = _contest_for(session, data)
    if role == Role.HOST:
        if not logged_in or not can_host(user, contest):
            raise ContestError("请以主持人账号登录后再进入主持台", "not_host")
        _, machine = load_contest(session, contest.id, with_players=True)
        return Joined(contest.id, machine, {"contest": contest.id, "role": "host", "user": user.id})
    if role == Role.PROJECTOR:
        if not secrets.compare_digest(data.get("token") or "", contest.projector_token):
            raise ContestError("大屏链接无效", "bad_token")
        _, machine = load_contest(session, contest.id, with_players=True)
        return Joined(contest.id, machine, {"contest": contest.id, "role": "projector"})
    if logged_in and is_inspector(user):
        raise ContestError(ReadOnly().message, "read_only")  # a 督导 watches results, never plays
    team, device = join_team_device(session, contest.id, data.get("code"), data.get("token"))
    _, machine = load_contest(session, contest.id)
    identity = {"contest": contest.id, "role": "team", "team": team.key, "device": device.id}
    return Joined(contest.id, machine, identity, device_token=device.token)


def _player_keys(session: Session, data: dict[str, Any]) -> PlayerKeys:
    """The contest a player's join names (by id or PIN), as one row of five columns (a Core read: the ORM's
    statement handling cost more than the query)."""
    return read_keys(session.connection(), data)


def _join_as_player(session: Session, contest: PlayerKeys, data: dict[str, Any], user: Any, logged_in: bool) -> Joined:
    """A member (login + PIN) or, at an open event, a guest (by name, then with the credential it was given)."""
    admit_player(contest, data, logged_in=logged_in, inspector=logged_in and is_inspector(user))
    if not logged_in:
        return _join_guest(session, contest, data)
    return _join_player(session, contest, user, data.get("team"))


def _contest_for(session: Session, data: dict[str, Any]) -> Contest:
    contest = None
    if "contest" in data:
        contest = session.get(Contest, data["contest"])
    elif data.get("pin"):
        contest = session.scalar(select(Contest).where(Contest.pin == data["pin"]))
    if contest is None:
        raise ContestError("没有找到这场竞赛，请核对竞赛码", "not_found")
    return contest


def join_team_device(
    session: Session, contest_id: int, code: str | None, token: str | None
) -> tuple[ContestTeam, ContestDevice]:
    """A device re-attaches with its own token, or joins its team with the QR secret or the short code:
    a new device gets a token of its own and the team's other devices keep theirs."""
    now = datetime.now(UTC)
    device = None
    if token:
        device = session.scalar(
            select(ContestDevice)
            .join(ContestTeam, ContestTeam.id == ContestDevice.team_id)
            .where(ContestDevice.token == token, ContestTeam.contest_id == contest_id)
        )
        if device is None:
            raise ContestError("本设备的登录已失效，请重新扫描队伍二维码或输入队伍口令", "bad_token")
    elif code:
        if is_short_code(code) and throttle.blocked(("contest", str(contest_id)), PER_CONTEST_CODE):
            raise ContestError(THROTTLED, "throttled")
        column = ContestTeam.join_code if is_short_code(code) else ContestTeam.join_secret
        team = session.scalar(select(ContestTeam).where(ContestTeam.contest_id == contest_id, column == code))
        if team is not None:
            device = ContestDevice(team_id=team.id, token=secrets.token_urlsafe(24), created_at=now)
            session.add(device)
    if device is None:
        raise ContestError("队伍口令无效，请向主持人确认", "bad_code")
    device.last_seen_at = now
    team = session.get(ContestTeam, device.team_id)
    assert team is not None
    team.last_seen_at = now
    session.commit()
    return team, device


def host_allowed(session: Session, contest_id: int, user_id: int) -> tuple[bool, bool]:
    """(may still host this contest, account still active), from one read by primary keys: a demoted or
    deactivated organizer loses the host console at the next command."""
    row = session.execute(
        select(User, Contest).join_from(User, Contest, true()).where(User.id == user_id, Contest.id == contest_id)
    ).first()
    if row is None:
        return False, False
    user, contest = row
    return bool(user.active) and can_host(user, contest), bool(user.active)


def _join_player(session: Session, contest: PlayerKeys, user: Any, team: object) -> Joined:
    """A member joins or comes back. Joining is the common case (a storm of a whole room): the row is inserted
    at once and its unique key tells a member who has joined before (on this worker before a restart, or on
    another worker) from a new one, so a first join reads nothing of the players."""
    player = str(user.id)
    machine = cached_machine(session, contest.id, version=contest.version)
    info = _player_cache.get((contest.id, player))
    new = False
    if info is None:
        try:
            info, new = add_player(session, machine, contest.id, player, user.id, team, getattr(user, "name", ""))
        except ContestError:  # not a new player now (finished, kicked, a team not asked for): one who was?
            info = _player(session, contest.id, player)
            if info is None:
                raise
    return player_joined(session, contest.id, machine, player, info, user.id, new=new)


#: A guest's player key starts with this (a member's is the account id, all digits): results and learning
#: records take members only.
GUEST_PREFIX = "g"


def guest_credential(contest: Contest | PlayerKeys, player: str) -> str:
    """What a guest's phone keeps to come back as the same player: the key and its MAC (the contest's secret)."""
    mac = hmac.new(contest.projector_token.encode(), f"guest:{player}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{player}.{mac}"


def _join_guest(session: Session, contest: PlayerKeys, data: dict[str, Any]) -> Joined:
    """A guest of an open event: first by name (a new player), then with the credential the phone kept."""
    machine = cached_machine(session, contest.id, version=contest.version)
    credential = data.get("token") or ""
    new = False
    if credential:
        player = credential.split(".", 1)[0]
        valid = player.startswith(GUEST_PREFIX) and secrets.compare_digest(
            credential.encode(), guest_credential(contest, player).encode()
        )
        info = _player(session, contest.id, player) if valid else None
        if info is None:
            raise ContestError("来宾凭证无效，请重新输入姓名加入", "bad_token")
    else:
        name = " ".join((data.get("name") or "").split())
        if not name:
            raise ContestError("请填写姓名后加入", "name_required")
        player = GUEST_PREFIX + secrets.token_hex(6)
        info, new = add_player(session, machine, contest.id, player, None, data.get("team"), f"{name}（来宾）")
    joined = player_joined(session, contest.id, machine, player, info, None, new=new)
    return replace(joined, device_token=guest_credential(contest, player))
