"""Contest namespace handlers: each parses its payload (quizengine/schemas/contest.py), checks who is asking,
calls a service, publishes, and always acks — a refusal as `{ok: false, code, message}`, never a traceback.

Identity is the member login (host, player) or a team-device token minted at join, never the socket id;
it is kept in the connection's Socket.IO session. State lives in the database, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import disconnect, join_room
from marshmallow import Schema

from quizengine.engine.errors import QuizError
from quizengine.extensions import SOCKETIO_SESSION_KEY, db, login_manager, socketio
from quizengine.modes.contest import Command, ContestError, Role
from quizengine.schemas import BadInput, parse
from quizengine.schemas import contest as schemas
from quizengine.services import contest_answers, contest_commands, contest_join, contest_players
from quizengine.services.accounts import parse_session_id

from . import protocol
from .publisher import publish, publish_device, publish_device_check, server_now_ms

NS = protocol.NAMESPACE
IDENTITY = "contest_identity"
Ack = dict[str, Any]


def _identity() -> dict[str, Any]:
    """This connection's identity. Flask-SocketIO keeps `session` per connection (never sent back as a cookie)."""
    return session.get(IDENTITY) or {}


def _refuse(error: QuizError) -> Ack:
    return {"ok": False, "code": error.code, "message": error.message, "server_now": server_now_ms()}


def _event(name: str, schema: type[Schema] | None) -> Callable[[Callable[[Any], Ack]], Callable[..., Ack]]:
    """Register a handler that gets its payload parsed by `schema` (or raw, to parse itself) and always acks:
    no payload, several payloads, a non-mapping or bad fields are refused with `bad_input`. One schema instance
    serves every event (building one copies its fields, which cost more than the load itself)."""
    parser = schema() if schema else None

    def register(handler: Callable[[Any], Ack]) -> Callable[..., Ack]:
        def run(*args: Any) -> Ack:
            try:
                return handler(_payload(parser, args))
            except BadInput as error:
                return _refuse(ContestError(error.message, "bad_input"))
            except QuizError as error:
                return _refuse(error)

        run.__name__ = handler.__name__
        socketio.on(name, namespace=NS)(run)
        return run

    return register


def _payload(parser: Schema | None, args: tuple[Any, ...]) -> Any:
    """The event's one payload, parsed by `parser` if given (BadInput for none parsable or several)."""
    if len(args) > 1:
        raise BadInput("请求内容格式不正确")
    data = args[0] if args else None
    return parse(parser, data) if parser else data


def client_address() -> str:
    """The client's address as the WSGI server (or a configured proxy fix) saw it: the throttle's key."""
    return request.remote_addr or ""


def _apply(contest_id: int, command: Command, actor: str) -> Ack:
    applied = contest_commands.apply_command(db.session(), contest_id, command, actor=actor)
    publish(contest_id, applied.machine, applied.events)
    return {"ok": True, "version": applied.machine.state.version, "server_now": server_now_ms()}


@_event(protocol.JOIN, schemas.JoinSchema)
def on_join(data: dict[str, Any]) -> Ack:
    """Identify this connection (host / projector / team / player) and return the full per-role snapshot."""
    login = _member_login() if data["role"] == Role.PLAYER else None
    joined = contest_join.join(  # the scoped session: a join that never reads opens none
        db.session, data, current_user, connection=request.sid, address=client_address(), login=login
    )
    session[IDENTITY] = joined.identity
    join_room(_room(joined))
    ack: Ack = {"ok": True, "role": str(joined.role), "view": joined.snapshot(), "server_now": server_now_ms()}
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


def _member_login() -> tuple[int, int] | None:
    """(user id, session epoch) of the login this connection's session holds, for a player's join to check
    against the member's row itself (contest_join.join) instead of loading the whole account through
    Flask-Login: the same decision, as the user loader takes exactly that member when the row is active and of
    that epoch. None under "strong" session protection, which may log the session out first: then, and for any
    login the row does not match, `current_user` decides as everywhere else."""
    if current_app.config.get("SESSION_PROTECTION", login_manager.session_protection) == "strong":
        return None
    return parse_session_id(session.get("_user_id"))


def _devices(contest_id: int, team: str, leaving: str | None = None) -> list[str]:
    """The connections in a team's room on this server (but the one `leaving`)."""
    room = protocol.team_room(contest_id, team)
    return [sid for sid, _ in socketio.server.manager.get_participants(NS, room) if sid != leaving]


def _room(joined: contest_players.Joined) -> str:
    rooms = {
        Role.HOST: lambda: protocol.host_room(joined.contest_id),
        Role.PROJECTOR: lambda: protocol.projector_room(joined.contest_id),
        Role.TEAM: lambda: protocol.team_room(joined.contest_id, str(joined.identity["team"])),
        Role.PLAYER: lambda: protocol.players_room(joined.contest_id),
    }
    return rooms[joined.role]()


def _as(role: Role, message: str) -> dict[str, Any]:
    who = _identity()
    if who.get("role") != role:
        raise ContestError(message, "wrong_role")
    return who


@_event(protocol.COMMAND, None)
def on_command(data: Any) -> Ack:
    """A host command: {name, version, args}. The host's role and active flag are re-read every time: a
    demoted or deactivated organizer is refused and the connection dropped."""
    who = _as(Role.HOST, "无权执行此操作")
    name, version, args = schemas.parse_command(data)
    allowed, active = contest_join.host_allowed(db.session(), who["contest"], who["user"])
    if not allowed:
        session[IDENTITY] = {}
        disconnect()
        message = "账号已停用" if not active else "您已不再是这场竞赛的主持人"
        raise ContestError(message, "not_host")
    return _apply(who["contest"], Command(name, Role.HOST, version, args=args), actor=f"host:{who['user']}")


@_event(protocol.BUZZ, schemas.BuzzSchema)
def on_buzz(data: dict[str, Any]) -> Ack:
    """A team buzzes for the question it sees: {question}."""
    who = _as(Role.TEAM, "只有答题器可以抢答")
    command = Command("buzz", Role.TEAM, team=who["team"], args=data)
    return _apply(who["contest"], command, actor=f"team:{who['team']}")


@_event(protocol.CHOOSE_RISK, schemas.RiskSchema)
def on_choose_risk(data: dict[str, Any]) -> Ack:
    """The team on turn picks its 风险题 value: {value}."""
    who = _as(Role.TEAM, "只有答题器可以选择分值")
    command = Command("choose_risk", Role.TEAM, team=who["team"], args=data)
    return _apply(who["contest"], command, actor=f"team:{who['team']}")


@_event(protocol.SUBMIT_ANSWER, schemas.AnswerSchema)
def on_submit_answer(data: dict[str, Any]) -> Ack:
    """An answer {question, response}; the ack goes to the answerer only (no room-wide message per answer)."""
    who = _identity()
    if who.get("role") == Role.PLAYER:
        ack = _player_answer(who, data)
        if ack is not None:
            return ack
        command = Command("answer", Role.PLAYER, player=who["player"], args=data)  # players answering in turn
        return _apply(who["contest"], command, actor=f"player:{who['player']}")
    who = _as(Role.TEAM, "无权作答")
    command = Command("answer", Role.TEAM, team=who["team"], args=data)
    return _apply(who["contest"], command, actor=f"team:{who['team']}")


def _player_answer(who: dict[str, Any], data: dict[str, Any]) -> Ack | None:
    """A player's 全员答题 answer stored (its ack), or None in a round where players answer in turn (a command)."""
    ack = contest_answers.submit_player_answer(  # the registry: only the batch's writer opens a session
        db.session, who["contest"], who["player"], who.get("user"), data["question"], data["response"]
    )
    if ack.get("code") == contest_answers.AS_COMMAND:
        return None
    return {**ack, "server_now": server_now_ms()}


#: The lean path's parser: the schema on_submit_answer's payload is parsed with (see install_lean_answers).
_ANSWER = schemas.AnswerSchema()


def install_lean_answers(server: Any) -> None:
    """Take players' answers on `server` (this app's Socket.IO server) without Flask's request context.

    When a whole room answers at once, every answer is one event; Flask-SocketIO makes a request and an app
    context for each (~25-30 µs, the request's URL matched, a session opened) though a player's answer uses
    neither — only the identity kept in the connection's session, the payload and the batched insert. This
    handler reads that identity from where Flask-SocketIO keeps the connection's session and stores the
    answer with the same parser and service; every other sender (host, team device, no identity yet) and a
    round where players answer in turn go to Flask-SocketIO's handler, i.e. `on_submit_answer`, unchanged.
    """
    through_flask = server.handlers[NS][protocol.SUBMIT_ANSWER]

    def lean_submit_answer(sid: str, *args: Any) -> Ack:
        environ = server.get_environ(sid, namespace=NS)
        managed = environ.get(SOCKETIO_SESSION_KEY) if environ else None
        who = managed.get(IDENTITY) if managed else None
        if not who or who.get("role") != Role.PLAYER:
            return through_flask(sid, *args)  # type: ignore[no-any-return]
        try:
            ack = _player_answer(who, _payload(_ANSWER, args))
        except BadInput as error:
            return _refuse(ContestError(error.message, "bad_input"))
        except QuizError as error:
            return _refuse(error)
        finally:
            db.session.remove()  # the batch's writer made one; Flask would remove it with the app context
        return through_flask(sid, *args) if ack is None else ack  # type: ignore[no-any-return]

    server.on(protocol.SUBMIT_ANSWER, lean_submit_answer, namespace=NS)


@_event(protocol.DEVICE_HERE, schemas.EmptySchema)
def on_device_here(_data: Any) -> Ack:
    """A team device answers a `device_check`: the host (on whichever worker) sees it online."""
    who = _as(Role.TEAM, "只有答题器可以报到")
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
        with suppress(ContestError):  # not running (lobby, finished, already paused): nothing to pause
            _apply(who["contest"], Command("pause", Role.SYSTEM, args={"reason": "主持人连接中断"}), actor="system")
