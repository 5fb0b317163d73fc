"""The connect storm's shortcuts keep a join's meaning: a member's row is inserted at once and its unique key
tells a returning member (after a restart, from another worker), the roster is read incrementally and still
reaches host and projector whole, and the app's Socket.IO packets are JSON text only."""

from __future__ import annotations

from flask import Flask
from socketio import packet
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quizengine.extensions import db, socketio
from quizengine.models import Contest, ContestPlayer
from quizengine.realtime import protocol, timers
from quizengine.realtime.packets import JsonPacket
from quizengine.services import contest_commands, contest_players

from .test_contest_socket import (  # noqa: F401  (fixtures)
    NS,
    _client,
    _command,
    _fresh_caches,
    _join,
    _messages,
    _player_client,
    _seat,
    _views,
    live,
)


def _restart() -> None:
    """What a restarted process has: no cached machines or players."""
    contest_commands._machine_cache.clear()
    contest_commands._player_cache.clear()


def _to_everyone_question(host, session: Session, contest: Contest) -> int:  # type: ignore[no-untyped-def]
    """Play the buzzer round through (voided) to the 全员答题 question, opened; returns the version."""
    version = session.scalar(select(Contest.version).where(Contest.id == contest.id)) or 0
    version = _command(host, "start", version)["version"]
    for _ in range(2):
        for name in ("next", "open", "void"):
            version = _command(host, name, version)["version"]
    for _ in range(3):  # scoreboard, round intro, question shown
        version = _command(host, "next", version)["version"]
    return _command(host, "open", version)["version"]


def test_a_member_joins_again_after_a_restart_with_their_team_answer_and_points(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
) -> None:
    host, _, _ = _seat(app, live, session)
    phone, ack = _player_client(app, live, "player1", "t1")
    assert ack["ok"] and ack["view"]["me"]["team"] == "t1" and ack["view"]["me"]["total"] == 0.0
    version = _to_everyone_question(host, session, live)
    question = _views(phone)[-1]["view"]["question"]["id"]
    answer = phone.emit(protocol.SUBMIT_ANSWER, {"question": question, "response": "A"}, namespace=NS, callback=True)
    assert answer["ok"]
    _restart()
    _, again = _player_client(app, live, "player1", "t2")  # another team asked for: the first one stays
    me = again["view"]["me"]
    assert again["ok"] and me["team"] == "t1" and me["answered"] and not me["can_answer"]
    version = _command(host, "lock", version)["version"]
    _command(host, "reveal", version)
    _restart()
    _, after = _player_client(app, live, "player1", "t3")
    assert after["ok"] and after["view"]["me"]["total"] == 10.0 and after["view"]["me"]["result"] == "correct"
    rows = session.scalars(select(ContestPlayer.team).where(ContestPlayer.contest_id == live.id)).all()
    assert rows == ["t1"]  # one row, never a second


def test_a_removed_member_comes_back_as_removed_and_a_bad_team_stores_nothing(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
) -> None:
    host, _, _ = _seat(app, live, session)
    _, ack = _player_client(app, live, "player1", "t1")
    player = ack["view"]["me"]["player"]
    version = session.scalar(select(Contest.version).where(Contest.id == live.id)) or 0
    assert _command(host, "kick", version, participant=player)["ok"]
    _restart()
    _, back = _player_client(app, live, "player1", "t2")  # the machine refuses a new player who was removed…
    assert back["ok"] and back["view"]["me"]["kicked"] and back["view"]["me"]["team"] == "t1"  # …not their row
    _, stranger = _player_client(app, live, "player2", "t9")
    assert stranger["ok"] is False and stranger["code"] == "bad_team"
    assert session.scalar(select(func.count(ContestPlayer.id)).where(ContestPlayer.contest_id == live.id)) == 1


def test_rosters_are_read_incrementally_and_reach_host_and_projector_whole(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
    make_user,
) -> None:
    host, projector, _ = _seat(app, live, session)
    for name in ("player3", "player4", "player5"):
        make_user(username=name)
    _player_client(app, live, "player1", "t1")
    _player_client(app, live, "player2", "t2")
    host.get_received(NS)
    with app.app_context():
        timers.push_rosters()
    assert [m["args"][0]["roster"]["count"] for m in _messages(host)] == [2]
    projector.get_received(NS)
    for name, team in (("player3", "t3"), ("player4", "t4"), ("player5", "t1")):  # between two pushes: one push
        _player_client(app, live, name, team)
    with app.app_context():
        timers.push_rosters()
    (pushed,) = _messages(host)
    roster = pushed["args"][0]["roster"]
    joined = session.execute(
        select(ContestPlayer.player, ContestPlayer.team)
        .where(ContestPlayer.contest_id == live.id)
        .order_by(ContestPlayer.id)
    ).all()
    assert [(p["id"], p["team"]) for p in roster["players"]] == [tuple(row) for row in joined]
    assert roster["count"] == 5 and roster["by_team"] == {"t1": 2, "t2": 1, "t3": 1, "t4": 1}
    (shown,) = _messages(projector)
    assert shown["args"][0]["roster"]["count"] == 5


def test_a_row_committed_behind_one_already_read_is_not_lost(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
) -> None:
    """PostgreSQL with several workers can commit row 3 after row 4 was read: the count catches it."""
    _player_client(app, live, "player1", "t1")
    with app.app_context():
        first = dict(contest_players.roster_players(db.session(), live.id, 1))
        cached = contest_players._rosters[db.engine][live.id]
        cached.last_id += 10  # as if a row with a higher id had been read while this one was not yet committed
    _player_client(app, live, "player2", "t2")
    with app.app_context():
        players = contest_players.roster_players(db.session(), live.id, 2)
    assert len(first) == 1 and [info["team"] for info in players.values()] == ["t1", "t2"]
    session.execute(update(Contest).where(Contest.id == live.id).values(finished_at=func.now()))
    session.commit()
    with app.app_context():
        assert contest_players.roster_sizes(db.session()) == {}
        assert live.id not in contest_players._rosters[db.engine]  # a finished contest's roster is forgotten


def test_packets_are_json_text_and_one_schema_serves_every_event(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
) -> None:
    assert socketio.server.packet_class is JsonPacket
    roster = {"players": [{"id": str(n), "team": "t1", "name": f"队员{n}"} for n in range(3)]}
    sent = JsonPacket(packet.EVENT, data=["players", roster], namespace=NS)
    assert sent.packet_type == packet.EVENT and isinstance(sent.encode(), str)
    phone, ack = _player_client(app, live, "player1", "t1")
    assert ack["ok"]
    refused = phone.emit(protocol.SUBMIT_ANSWER, {"question": "q", "bogus": 1}, namespace=NS, callback=True)
    assert refused["code"] == "bad_input"
    later = phone.emit(protocol.SUBMIT_ANSWER, {"question": "q", "response": "A"}, namespace=NS, callback=True)
    assert later["code"] != "bad_input"  # the shared schema kept nothing of the refused payload
    assert _join(_client(app), contest=live.id, role="nobody")["code"] == "bad_input"
