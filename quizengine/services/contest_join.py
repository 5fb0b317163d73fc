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
import weakref
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from quizengine.models import Contest, ContestDevice, ContestPlayer, ContestTeam, User
from quizengine.models import Role as UserRole
from quizengine.modes.contest import ContestError, LiveContest, Role

from .access import ReadOnly, is_inspector
from .contest_answers import own_answer
from .contest_commands import _player, _player_cache, cached_machine, can_host, load_contest
from .contest_results import own_points
from .group_commit import GroupCommit

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


@dataclass(frozen=True)
class Joined:
    """Who a connection turned out to be, and the machine to build its snapshot from."""

    contest_id: int
    machine: LiveContest
    identity: dict[str, object]
    device_token: str | None = None

    @property
    def role(self) -> Role:
        """The connection's role."""
        return Role(str(self.identity["role"]))

    def snapshot(self) -> dict[str, object]:
        """The full per-role view for this connection (the same function as every live update)."""
        return self.machine.view_for(
            self.role,
            team=str(self.identity["team"]) if "team" in self.identity else None,
            player=str(self.identity["player"]) if "player" in self.identity else None,
        )

    def roster(self) -> dict[str, object] | None:
        """Who has joined, for the host's and projector's snapshot (later changes come coalesced)."""
        return self.machine.roster(self.role) if self.role in (Role.HOST, Role.PROJECTOR) else None


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
    login manager would load exactly that member if the row says so (see :func:`_join_member`): a member's
    player join then reads only the member's few columns, in a batch with the joins that arrived with it,
    and `user` (Flask-Login's `current_user`, loaded on first use) is not touched. Any other join, and any
    member whose row does not match the login, takes the usual path with `user`. `session` may be the scoped
    session itself: a member's join that only waits for another's batch then never opens one."""
    keys = (("connection", connection), ("address", address))
    short_code = data["role"] == Role.TEAM and not data.get("token") and is_short_code(data.get("code") or "")
    guessable = short_code or data["role"] == Role.PLAYER  # unguessable secrets and tokens are never held back
    if guessable and (throttle.blocked(keys[0], PER_CONNECTION) or throttle.blocked(keys[1], PER_ADDRESS)):
        raise ContestError(THROTTLED, "throttled")
    try:
        if login is not None and data["role"] == Role.PLAYER:
            joined = _join_member(session, data, *login)
            if joined is not None:
                return joined
        return _join(_opened(session), data, user)
    except ContestError as error:
        if error.code in _CREDENTIAL_FAILURES:
            throttle.fail(*keys, *((("contest", str(data.get("contest"))),) if short_code else ()))
        raise


def _opened(session: Session | scoped_session[Session]) -> Session:
    """The session itself (a scoped session's, created on first use)."""
    return session() if isinstance(session, scoped_session) else session


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


@dataclass(frozen=True)
class PlayerKeys:
    """What a player's join reads of the contest row: not its plan, state and questions (JSON parsed on every
    load), which the machine cached per version already holds."""

    id: int
    version: int
    pin: str
    allow_guests: bool
    projector_token: str


_KEY_COLUMNS = (Contest.id, Contest.version, Contest.pin, Contest.allow_guests, Contest.projector_token)
_KEYS_BY_ID = select(*_KEY_COLUMNS).where(Contest.id == bindparam("id"))
_KEYS_BY_PIN = select(*_KEY_COLUMNS).where(Contest.pin == bindparam("pin"))


def _player_keys(session: Session, data: dict[str, Any]) -> PlayerKeys:
    """The contest a player's join names (by id or PIN), as one row of five columns (a Core read: the ORM's
    statement handling cost more than the query)."""
    return _read_keys(session.connection(), data)


def _read_keys(connection: Connection, data: dict[str, Any]) -> PlayerKeys:
    row = None
    if "contest" in data:
        row = connection.execute(_KEYS_BY_ID, {"id": data["contest"]}).first()
    elif data.get("pin"):
        row = connection.execute(_KEYS_BY_PIN, {"pin": data["pin"]}).first()
    if row is None:
        raise ContestError("没有找到这场竞赛，请核对竞赛码", "not_found")
    return PlayerKeys(*row)


def _join_as_player(session: Session, contest: PlayerKeys, data: dict[str, Any], user: Any, logged_in: bool) -> Joined:
    """A member (login + PIN) or, at an open event, a guest (by name, then with the credential it was given)."""
    _admit_player(contest, data, logged_in=logged_in, inspector=logged_in and is_inspector(user))
    if not logged_in:
        return _join_guest(session, contest, data)
    return _join_player(session, contest, user, data.get("team"))


def _admit_player(contest: PlayerKeys, data: dict[str, Any], *, logged_in: bool, inspector: bool) -> None:
    """A player's join may go on: not a 督导, logged in unless guests are welcome, the right PIN."""
    if inspector:
        raise ContestError(ReadOnly().message, "read_only")  # a 督导 watches results, never plays
    if not logged_in and not contest.allow_guests:
        raise ContestError("请先登录后再加入竞赛", "login_required")
    if not secrets.compare_digest((data.get("pin") or "").encode(), contest.pin.encode()):
        raise ContestError("竞赛码不正确", "bad_pin")


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
            info, new = _add_player(session, machine, contest.id, player, user.id, team, getattr(user, "name", ""))
        except ContestError:  # not a new player now (finished, kicked, a team not asked for): one who was?
            info = _player(session, contest.id, player)
            if info is None:
                raise
    return _player_joined(session, contest.id, machine, player, info, user.id, new=new)


#: What a member's player join reads of the account, per batch and never cached: what the login manager's
#: loader (`quizengine.web._load_user`) decides by — the row exists, is active, is of the session's epoch —
#: and what the join uses (the role, refused if 督导; the name).
_MEMBERS = select(User.id, User.active, User.session_epoch, User.role, User.name).where(
    User.id.in_(bindparam("ids", expanding=True))
)
#: The rows a batch's members already have in a contest (a rejoin, a member this process has not seen).
_ROWS = select(ContestPlayer.player, ContestPlayer.team, ContestPlayer.name, ContestPlayer.joined_seq).where(
    ContestPlayer.contest_id == bindparam("contest"), ContestPlayer.player.in_(bindparam("players", expanding=True))
)
#: A join the batch could not store (the database failed): refused, the phone may try again.
NOT_STORED = "加入未能完成，请重试"


@dataclass
class _PendingJoin:
    """A member's player join waiting for its batch. Once the batch is written: `error` (a refusal), or the
    contest, its machine and the player's record (`new`: this batch inserted the row), or `usual` (the
    member's row does not match the login, or the same member twice in one batch: the usual path decides)."""

    data: dict[str, Any]
    user_id: int
    epoch: int
    usual: bool = False
    error: ContestError | None = None
    contest: PlayerKeys | None = None
    machine: LiveContest | None = None
    info: dict[str, object] | None = None
    new: bool = False
    done: threading.Event = field(default_factory=threading.Event)


def _join_member(
    session: Session | scoped_session[Session], data: dict[str, Any], user_id: int, epoch: int
) -> Joined | None:
    """A member's player join through the group commit (:func:`_write_joins`), acked only once its row is
    committed; None when the usual path is to decide (a deactivated account, an old session epoch, a removed
    account: refused there, or taken as a guest where guests are welcome, as before)."""
    pending = _PendingJoin(data, user_id, epoch)
    _joins.submit(session, pending)
    if pending.usual:
        return None
    if pending.error is not None:
        raise pending.error
    assert pending.contest is not None and pending.machine is not None and pending.info is not None
    player, contest_id = str(user_id), pending.contest.id
    if pending.new:  # a row this batch inserted: nothing more to read, no session to open
        return _player_joined(None, contest_id, pending.machine, player, pending.info, user_id, new=True)
    return _player_joined(_opened(session), contest_id, pending.machine, player, pending.info, user_id)


def _write_joins(session: Session | scoped_session[Session], batch: list[_PendingJoin]) -> None:
    """Admit a batch of members' player joins as the usual path admits each (the same checks in the same
    order), and insert the new players' rows in one transaction, committed before any of them is acked.
    Per batch: one read of the members' accounts, one of each contest's keys, one of the rows these members
    already have. A join refused here gets its own refusal and the others go on; a duplicate met on insert
    (another worker got there first) sends the rows one at a time, and that join takes the stored row."""
    connection = session.connection()
    ids = sorted({pending.user_id for pending in batch})
    members = {row.id: row for row in connection.execute(_MEMBERS, {"ids": ids})}
    contests: dict[tuple[str, object], PlayerKeys | ContestError] = {}
    admitted: dict[int, list[_PendingJoin]] = {}
    for pending in batch:
        member = members.get(pending.user_id)
        if member is None or not member.active or member.session_epoch != pending.epoch:
            pending.usual = True  # not this member's login any more: what the usual path makes of it
            continue
        try:
            contest = _batch_keys(connection, pending.data, contests)
            _admit_player(contest, pending.data, logged_in=True, inspector=member.role == UserRole.INSPECTOR)
            pending.contest = contest
            pending.machine = cached_machine(session, contest.id, version=contest.version)
        except ContestError as error:  # this join is refused; the others of the batch go on
            pending.error = error
            continue
        admitted.setdefault(contest.id, []).append(pending)
    rows = _new_rows(connection, admitted, members)
    if rows:
        try:
            session.connection().execute(_INSERT_PLAYER, [row for _, row in rows])
            session.commit()
        except IntegrityError:  # a row stored meanwhile: one at a time, so only that join takes it
            session.rollback()
            for pending, row in rows:
                _insert_alone(session, pending, row)
        for pending, row in rows:
            if pending.new:
                _player_cache[(row["contest_id"], row["player"])] = pending.info  # type: ignore[index]
    else:
        session.rollback()  # end the read (SQLite keeps its snapshot while a transaction is open)


def _not_stored(pending: _PendingJoin) -> None:
    if not pending.usual:  # a join the usual path decides was never this batch's to store
        pending.error = pending.error or ContestError(NOT_STORED, "busy")


def _batch_keys(
    connection: Connection, data: dict[str, Any], contests: dict[tuple[str, object], PlayerKeys | ContestError]
) -> PlayerKeys:
    """The keys of the contest a join names, read once per batch."""
    key = ("contest", data["contest"]) if "contest" in data else ("pin", data.get("pin") or "")
    if key not in contests:
        try:
            contests[key] = _read_keys(connection, data)
        except ContestError as error:
            contests[key] = error
    found = contests[key]
    if isinstance(found, ContestError):
        raise ContestError(found.message, found.code)
    return found


def _new_rows(
    connection: Connection, admitted: dict[int, list[_PendingJoin]], members: dict[int, Any]
) -> list[tuple[_PendingJoin, dict[str, object]]]:
    """The admitted joins' players: a row already stored is taken (a rejoin), a new player's record is
    checked by the machine (finished, removed, a team not asked for: that join's refusal) and its row
    returned to insert. The same member twice in one batch: the second takes the usual path after it."""
    rows: list[tuple[_PendingJoin, dict[str, object]]] = []
    for contest_id, joins in admitted.items():
        unseen = sorted({str(p.user_id) for p in joins if (contest_id, str(p.user_id)) not in _player_cache})
        if unseen:
            for row in connection.execute(_ROWS, {"contest": contest_id, "players": unseen}):
                info = {"team": row.team, "name": row.name, "joined_seq": row.joined_seq}
                _player_cache[(contest_id, row.player)] = info
        taken: set[str] = set()
        for pending in joins:
            player = str(pending.user_id)
            if player in taken:
                pending.usual = True
                continue
            taken.add(player)
            pending.info = _player_cache.get((contest_id, player))
            if pending.info is not None:
                continue
            assert pending.machine is not None
            try:
                record = pending.machine.new_player(player, pending.data.get("team"), members[pending.user_id].name)
            except ContestError as error:  # the machine refuses a new player and there is no row to take
                pending.error = error
                continue
            pending.info, pending.new = record, True
            rows.append((pending, {"contest_id": contest_id, "player": player, "user_id": pending.user_id, **record}))
    return rows


def _insert_alone(session: Session | scoped_session[Session], pending: _PendingJoin, row: dict[str, object]) -> None:
    try:
        session.connection().execute(_INSERT_PLAYER, row)
        session.commit()
    except IntegrityError:
        session.rollback()
        known = _player(session, int(row["contest_id"]), str(row["player"]))  # type: ignore[call-overload]
        if known is None:
            pending.error = ContestError(NOT_STORED, "busy")
        else:
            pending.info, pending.new = known, False


def _player_joined(
    session: Session | None,
    contest_id: int,
    machine: LiveContest,
    player: str,
    info: dict[str, object],
    user_id: int | None,
    *,
    new: bool = False,
) -> Joined:
    """The player's identity and snapshot; a row inserted by this join has no answer and no points to read."""
    identity = {"contest": contest_id, "role": "player", "player": player, "user": user_id}
    state = machine.state
    if new:
        answer, points = None, 0.0
    else:
        assert session is not None
        answer = own_answer(session, contest_id, state.question_seq, player) if state.question else None
        points = own_points(session, contest_id, player)
    mine = {**info, "answer": answer, "points": points}
    return Joined(contest_id, machine.with_players({player: mine}), identity)


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
        info, new = _add_player(session, machine, contest.id, player, None, data.get("team"), f"{name}（来宾）")
    joined = _player_joined(session, contest.id, machine, player, info, None, new=new)
    return replace(joined, device_token=guest_credential(contest, player))


_INSERT_PLAYER = insert(ContestPlayer.__table__)
#: Members' player joins arriving together share their reads and one commit (a whole room joining at once).
_joins: GroupCommit[_PendingJoin] = GroupCommit(_write_joins, _not_stored, "contest joins")


def _add_player(
    session: Session,
    machine: LiveContest,
    contest_id: int,
    player: str,
    user_id: int | None,
    team: object,
    name: str,
) -> tuple[dict[str, object], bool]:
    """Store a new player's own row, committed before the join is acked (the contest's state is not touched:
    a join is O(1) in the players). A player who already has a row (a second phone at the same moment, a
    member coming back whom this process has not seen) gets that row instead: the unique key decides.
    Returns the player's record and whether this call inserted it."""
    record = machine.new_player(player, team, name)
    try:
        session.connection().execute(
            _INSERT_PLAYER, {"contest_id": contest_id, "player": player, "user_id": user_id, **record}
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        known = _player(session, contest_id, player)
        if known is None:
            raise
        return known, False
    _player_cache[(contest_id, player)] = record
    return record, True


@dataclass
class _Roster:
    """One contest's joined players as this process has read them, and the last row id read."""

    players: dict[str, dict[str, object]] = field(default_factory=dict)
    last_id: int = 0


#: Joined players per contest, per database (as the question cache: a process may open several), read
#: incrementally: a player's row is only ever added — its team, name and join seq never change, kicks live in
#: the state — so a roster push reads the rows added since the last one, not every player again.
_rosters: weakref.WeakKeyDictionary[Engine, dict[int, _Roster]] = weakref.WeakKeyDictionary()


def roster_players(session: Session, contest_id: int, size: int) -> dict[str, dict[str, object]]:
    """Every joined player of a contest in joining order (team, name, joined_seq), `size` being their count
    as just read. Rows committed out of id order (PostgreSQL, several workers) can be skipped by the
    incremental read; the count then says the roster is short, and it is read again in full."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    rosters = _rosters.setdefault(engine, {})
    roster = rosters.get(contest_id) or _Roster()
    if len(roster.players) > size:  # fewer rows than read before: not the contest this was (a new database)
        roster = _Roster()
    for _ in range(2):
        if len(roster.players) >= size:
            break
        rows = session.execute(
            select(
                ContestPlayer.id, ContestPlayer.player, ContestPlayer.team, ContestPlayer.name, ContestPlayer.joined_seq
            )
            .where(ContestPlayer.contest_id == contest_id, ContestPlayer.id > roster.last_id)
            .order_by(ContestPlayer.id)
        )
        for row_id, player, team, name, seq in rows:
            roster.players[player] = {"team": team, "name": name, "joined_seq": seq}
            roster.last_id = row_id
        if len(roster.players) < size:  # a row was skipped: read them all again
            roster = _Roster()
    rosters[contest_id] = roster
    return roster.players


def roster_sizes(session: Session) -> dict[int, int]:
    """Players per unfinished contest (the timer loop pushes a contest's roster when it changes); the rosters
    read for any other contest (finished, deleted) are forgotten."""
    rows = session.execute(
        select(ContestPlayer.contest_id, func.count(ContestPlayer.id))
        .join(Contest, Contest.id == ContestPlayer.contest_id)
        .where(Contest.finished_at.is_(None))
        .group_by(ContestPlayer.contest_id)
    )
    sizes = {contest_id: size for contest_id, size in rows}
    engine = session.get_bind()
    if isinstance(engine, Engine) and engine in _rosters:
        rosters = _rosters[engine]
        for gone in [contest_id for contest_id in rosters if contest_id not in sizes]:
            del rosters[gone]
    return sizes
