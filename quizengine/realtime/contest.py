"""Contest namespace handlers: each parses, checks who is asking, calls a service, publishes.

Identity is the member login (host, player) or a team-device token minted at join, never the socket id;
it is kept in the connection's Socket.IO session. State lives in the database, not here.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import join_room

from quizengine.extensions import db, socketio
from quizengine.modes.live_contest import Command, ContestError, Role
from quizengine.services import contests

from . import protocol
from .publisher import publish, publish_device, publish_device_check, server_now_ms

NS = protocol.NAMESPACE
IDENTITY = "contest_identity"


def _identity() -> dict[str, Any]:
    """This connection's identity. Flask-SocketIO keeps `session` per connection (never sent back as a cookie)."""
    return session.get(IDENTITY) or {}


def _refuse(error: ContestError) -> dict[str, Any]:
    return {"ok": False, "code": error.code, "message": error.message, "server_now": server_now_ms()}


def _apply(contest_id: int, command: Command, actor: str) -> dict[str, Any]:
    try:
        applied = contests.apply_command(db.session(), contest_id, command, actor=actor)
    except ContestError as error:
        return _refuse(error)
    publish(contest_id, applied.machine, applied.events)
    return {"ok": True, "version": applied.machine.state.version, "server_now": server_now_ms()}


@socketio.on(protocol.JOIN, namespace=NS)
def on_join(data: Any) -> dict[str, Any]:
    """Identify this connection (host / projector / team / player) and return the full per-role snapshot."""
    try:
        joined = contests.join(db.session(), data if isinstance(data, dict) else {}, current_user)
    except ContestError as error:
        return _refuse(error)
    session[IDENTITY] = joined.identity
    join_room(_room(joined))
    ack: dict[str, Any] = {
        "ok": True,
        "role": str(joined.role),
        "view": joined.snapshot(),
        "server_now": server_now_ms(),
    }
    roster = joined.roster()
    if roster is not None:
        ack["roster"] = roster
    if joined.role is Role.HOST:
        ack["devices"] = {team: bool(_devices(joined.contest_id, team)) for team in joined.machine.team_ids()}
        if current_app.config["SOCKETIO_MESSAGE_QUEUE"]:  # devices on other workers are not in this count
            publish_device_check(joined.contest_id, joined.machine.team_ids())
    if joined.role is Role.TEAM:
        publish_device(joined.contest_id, str(joined.identity["team"]), True)
    return {**ack, "device_token": joined.device_token} if joined.device_token else ack


def _devices(contest_id: int, team: str, leaving: str | None = None) -> list[str]:
    """The connections in a team's room on this server (but the one `leaving`)."""
    room = protocol.team_room(contest_id, team)
    return [sid for sid, _ in socketio.server.manager.get_participants(NS, room) if sid != leaving]


def _room(joined: contests.Joined) -> str:
    rooms = {
        Role.HOST: lambda: protocol.host_room(joined.contest_id),
        Role.PROJECTOR: lambda: protocol.projector_room(joined.contest_id),
        Role.TEAM: lambda: protocol.team_room(joined.contest_id, str(joined.identity["team"])),
        Role.PLAYER: lambda: protocol.players_room(joined.contest_id),
    }
    return rooms[joined.role]()


@socketio.on(protocol.COMMAND, namespace=NS)
def on_command(data: Any) -> dict[str, Any]:
    """A host command: {name, version, args}."""
    who = _identity()
    if who.get("role") != Role.HOST or not isinstance(data, dict):
        return _refuse(ContestError("无权执行此操作", "wrong_role"))
    command = Command(str(data.get("name", "")), Role.HOST, data.get("version"), args=dict(data.get("args") or {}))
    return _apply(who["contest"], command, actor=f"host:{who['user']}")


@socketio.on(protocol.BUZZ, namespace=NS)
def on_buzz(data: Any) -> dict[str, Any]:
    """A team buzzes for the question it sees: {question}."""
    who = _identity()
    if who.get("role") != Role.TEAM or not isinstance(data, dict):
        return _refuse(ContestError("只有答题器可以抢答", "wrong_role"))
    command = Command("buzz", Role.TEAM, team=who["team"], args={"question": data.get("question")})
    return _apply(who["contest"], command, actor=f"team:{who['team']}")


@socketio.on(protocol.CHOOSE_RISK, namespace=NS)
def on_choose_risk(data: Any) -> dict[str, Any]:
    """The team on turn picks its 风险题 value: {value}."""
    who = _identity()
    if who.get("role") != Role.TEAM or not isinstance(data, dict):
        return _refuse(ContestError("只有答题器可以选择分值", "wrong_role"))
    command = Command("choose_risk", Role.TEAM, team=who["team"], args={"value": data.get("value")})
    return _apply(who["contest"], command, actor=f"team:{who['team']}")


@socketio.on(protocol.SUBMIT_ANSWER, namespace=NS)
def on_submit_answer(data: Any) -> dict[str, Any]:
    """An answer {question, response}; the ack goes to the answerer only (no room-wide message per answer)."""
    who = _identity()
    if who.get("role") not in (Role.TEAM, Role.PLAYER) or not isinstance(data, dict):
        return _refuse(ContestError("无权作答", "wrong_role"))
    if who["role"] == Role.PLAYER:
        try:
            ack = contests.submit_player_answer(  # the registry: only the batch's writer opens a session
                db.session, who["contest"], who["player"], who.get("user"), data.get("question"), data.get("response")
            )
        except ContestError as error:
            return _refuse(error)
        return {**ack, "server_now": server_now_ms()}
    args = {"question": data.get("question"), "response": data.get("response")}
    return _apply(
        who["contest"], Command("answer", Role.TEAM, team=who["team"], args=args), actor=f"team:{who['team']}"
    )


@socketio.on(protocol.DEVICE_HERE, namespace=NS)
def on_device_here(_data: Any = None) -> dict[str, Any]:
    """A team device answers a `device_check`: the host (on whichever worker) sees it online."""
    who = _identity()
    if who.get("role") != Role.TEAM:
        return _refuse(ContestError("只有答题器可以报到", "wrong_role"))
    publish_device(who["contest"], who["team"], True)
    return {"ok": True, "server_now": server_now_ms()}


@socketio.on("disconnect", namespace=NS)
def on_disconnect(*_args: Any) -> None:
    """A team's last device leaving shows it offline on the host console; losing the last host connection
    pauses the contest (the host re-attaches by logging in again)."""
    who = _identity()
    if who.get("role") == Role.TEAM and not _devices(who["contest"], who["team"], leaving=request.sid):
        publish_device(who["contest"], who["team"], False)
    if who.get("role") != Role.HOST:
        return
    room = protocol.host_room(who["contest"])
    others = [sid for sid, _ in socketio.server.manager.get_participants(NS, room) if sid != request.sid]
    if not others:
        _apply(who["contest"], Command("pause", Role.SYSTEM, args={"reason": "主持人连接中断"}), actor="system")
