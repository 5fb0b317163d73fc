"""A member's player join, batched: the joins arriving together (a whole room at once) share one read of the
members' accounts, of each contest's keys and of the rows these members already have, and one commit
(`GroupCommit`); each is acked only once its row is committed. Anything the member's row does not match
goes back to the usual path in `contest_join`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from quizengine.models import ContestPlayer, User
from quizengine.models import Role as UserRole
from quizengine.modes.contest import ContestError, LiveContest

from .contest_commands import _player, _player_cache, cached_machine
from .contest_players import INSERT_PLAYER, Joined, PlayerKeys, admit_player, opened, player_joined, read_keys
from .group_commit import GroupCommit

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


def join_member(
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
        return player_joined(None, contest_id, pending.machine, player, pending.info, user_id, new=True)
    return player_joined(opened(session), contest_id, pending.machine, player, pending.info, user_id)


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
            admit_player(contest, pending.data, logged_in=True, inspector=member.role == UserRole.INSPECTOR)
            pending.contest = contest
            pending.machine = cached_machine(session, contest.id, version=contest.version)
        except ContestError as error:  # this join is refused; the others of the batch go on
            pending.error = error
            continue
        admitted.setdefault(contest.id, []).append(pending)
    rows = _new_rows(connection, admitted, members)
    if rows:
        try:
            session.connection().execute(INSERT_PLAYER, [row for _, row in rows])
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
            contests[key] = read_keys(connection, data)
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
        session.connection().execute(INSERT_PLAYER, row)
        session.commit()
    except IntegrityError:
        session.rollback()
        known = _player(session, int(row["contest_id"]), str(row["player"]))  # type: ignore[call-overload]
        if known is None:
            pending.error = ContestError(NOT_STORED, "busy")
        else:
            pending.info, pending.new = known, False


#: Members' player joins arriving together share their reads and one commit (a whole room joining at once).
_joins: GroupCommit[_PendingJoin] = GroupCommit(_write_joins, _not_stored, "contest joins")
