"""A contest's players as the database holds them: what a player's join reads of the contest, the checks it
passes, the row it writes, the identity and snapshot it returns, and the roster of who has joined. Shared by
the join one at a time (`contest_join`) and the members' batched join (`contest_member_joins`).
"""

from __future__ import annotations

import secrets
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from quizengine.models import Contest, ContestPlayer
from quizengine.modes.contest import ContestError, LiveContest, Role

from .access import ReadOnly
from .contest_answers import own_answer
from .contest_commands import _player, _player_cache
from .contest_results import own_points


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


def read_keys(connection: Connection, data: dict[str, Any]) -> PlayerKeys:
    row = None
    if "contest" in data:
        row = connection.execute(_KEYS_BY_ID, {"id": data["contest"]}).first()
    elif data.get("pin"):
        row = connection.execute(_KEYS_BY_PIN, {"pin": data["pin"]}).first()
    if row is None:
        raise ContestError("没有找到这场竞赛，请核对竞赛码", "not_found")
    return PlayerKeys(*row)


def admit_player(contest: PlayerKeys, data: dict[str, Any], *, logged_in: bool, inspector: bool) -> None:
    """A player's join may go on: not a 督导, logged in unless guests are welcome, the right PIN."""
    if inspector:
        raise ContestError(ReadOnly().message, "read_only")  # a 督导 watches results, never plays
    if not logged_in and not contest.allow_guests:
        raise ContestError("请先登录后再加入竞赛", "login_required")
    if not secrets.compare_digest((data.get("pin") or "").encode(), contest.pin.encode()):
        raise ContestError("竞赛码不正确", "bad_pin")


def opened(session: Session | scoped_session[Session]) -> Session:
    """The session itself (a scoped session's, created on first use)."""
    return session() if isinstance(session, scoped_session) else session


def player_joined(
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


INSERT_PLAYER = insert(ContestPlayer.__table__)


def add_player(
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
            INSERT_PLAYER, {"contest_id": contest_id, "player": player, "user_id": user_id, **record}
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
