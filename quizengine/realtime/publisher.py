"""Turn a transition's events into room broadcasts: one message per role room per fact, never per answer.

Every payload is a full per-role view from the same `view_for` that builds the snapshot on (re)connect,
with `server_now` so clients can correct their countdowns.
"""

from __future__ import annotations

import time
from typing import Any

from quizengine.extensions import socketio
from quizengine.modes.contest import Event, LiveContest, Role

from . import protocol


def server_now_ms() -> int:
    """The server clock, for countdown correction on clients."""
    return int(time.time() * 1000)


def payload(machine: LiveContest, role: Role, events: list[str], **who: str | None) -> dict[str, Any]:
    """The message body: which facts happened, the role's full view, and the server's clock."""
    return {"events": events, "view": machine.view_for(role, **who), "server_now": server_now_ms()}


def publish(contest_id: int, machine: LiveContest, events: list[Event]) -> None:
    """Send the new views to the role rooms the events concern (after the transaction has committed)."""
    if not events:
        return
    roles = set().union(*(event.roles for event in events))
    names = [event.name for event in events]
    if Role.HOST in roles:
        socketio.emit(
            protocol.STATE,
            payload(machine, Role.HOST, names),
            to=protocol.host_room(contest_id),
            namespace=protocol.NAMESPACE,
        )
    if Role.PROJECTOR in roles:
        socketio.emit(
            protocol.STATE,
            payload(machine, Role.PROJECTOR, names),
            to=protocol.projector_room(contest_id),
            namespace=protocol.NAMESPACE,
        )
    if Role.TEAM in roles:
        for team in machine.team_ids():
            socketio.emit(
                protocol.STATE,
                payload(machine, Role.TEAM, names, team=team),
                to=protocol.team_room(contest_id, team),
                namespace=protocol.NAMESPACE,
            )
    if Role.PLAYER in roles:
        socketio.emit(
            protocol.STATE,
            payload(machine, Role.PLAYER, names),
            to=protocol.players_room(contest_id),
            namespace=protocol.NAMESPACE,
        )


def publish_count(contest_id: int, question_seq: int, count: int, eligible: int) -> None:
    """The coalesced answer count (of `eligible` players who may answer), to host and projector only."""
    body = {"question_seq": question_seq, "count": count, "eligible": eligible, "server_now": server_now_ms()}
    for room in (protocol.host_room(contest_id), protocol.projector_room(contest_id)):
        socketio.emit(protocol.ANSWER_COUNT, body, to=room, namespace=protocol.NAMESPACE)


def publish_roster(contest_id: int, machine: LiveContest) -> None:
    """Who has joined, coalesced: every player to the host (to kick), counts and a few names to the projector."""
    for role, room in (
        (Role.HOST, protocol.host_room(contest_id)),
        (Role.PROJECTOR, protocol.projector_room(contest_id)),
    ):
        body = {"roster": machine.roster(role), "server_now": server_now_ms()}
        socketio.emit(protocol.PLAYERS, body, to=room, namespace=protocol.NAMESPACE)


def publish_device_check(contest_id: int, teams: list[str]) -> None:
    """Ask every team device, on every worker, to say it is there (the answers come back as `device` pushes)."""
    body = {"server_now": server_now_ms()}
    for team in teams:
        socketio.emit(
            protocol.DEVICE_CHECK, body, to=protocol.team_room(contest_id, team), namespace=protocol.NAMESPACE
        )


def publish_device(contest_id: int, team: str, online: bool) -> None:
    """A team's device status, to the host only."""
    body = {"team": team, "online": online, "server_now": server_now_ms()}
    socketio.emit(protocol.DEVICE, body, to=protocol.host_room(contest_id), namespace=protocol.NAMESPACE)
