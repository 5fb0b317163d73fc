"""一站到底 over Socket.IO (test clients): players answer in turn on their phones through `submit_answer`
(the round takes each answer as a command), every room sees who is standing, the answers reach the record."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import Contest, ContestAnswer, ContestPlayer, ContestResult, Role, User
from quizengine.modes.contest import ContestPlan, QuestionSource, RoundSpec, TieBreak
from quizengine.realtime import protocol
from quizengine.services import contest_setup

from .conftest import login
from .test_contest_socket import NS, _bank, _client, _command, _fresh_caches, _join, _views  # noqa: F401

PLAN = ContestPlan(
    "一站到底赛",
    (
        RoundSpec(
            "elimination",
            "个人一站到底",
            QuestionSource(count=6),
            read_seconds=0,
            extra=(("contestants", "players"), ("win_points", 20)),
        ),
    ),
    base_score=100,
    tie_break=TieBreak.TIME,
)


@pytest.fixture
def live(app: Flask, runner: FlaskCliRunner, session: Session, make_user, tmp_path: Path):  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["banks", "load", str(_bank(tmp_path))]).exit_code == 0
    host = make_user(Role.ORGANIZER, username="host")
    for name in ("player1", "player2", "player3"):
        make_user(username=name)
    return contest_setup.create_contest(session, host, PLAN, rng=random.Random(5))


def _answer(sio, question: str, response: str):  # type: ignore[no-untyped-def]
    return sio.emit(protocol.SUBMIT_ANSWER, {"question": question, "response": response}, namespace=NS, callback=True)


def test_players_answer_in_turn_and_every_room_sees_who_is_standing(
    app: Flask, live: Contest, session: Session
) -> None:
    host_http = app.test_client()
    login(host_http, "host")
    host = _client(app, host_http)
    assert _join(host, contest=live.id, role="host")["ok"]
    projector = _client(app)
    assert _join(projector, contest=live.id, role="projector", token=live.projector_token)["ok"]
    phones, ids = {}, {}
    for name, team in (("player1", "t1"), ("player2", "t2"), ("player3", "t1")):
        http = app.test_client()
        login(http, name)
        phones[name] = _client(app, http)
        ack = _join(phones[name], pin=live.pin, role="player", team=team)
        assert ack["ok"]
        ids[name] = ack["view"]["me"]["player"]
    version = session.scalar(select(Contest.version).where(Contest.id == live.id))
    version = _command(host, "start", version)["version"]
    version = _command(host, "next", version)["version"]  # read_seconds 0: the host opens answering
    version = _command(host, "open", version)["version"]
    shown = _views(projector)[-1]["view"]
    assert shown["phase"] == "answering" and shown["turn"]["id"] == ids["player1"]
    assert [e["name"] for e in shown["standing"]["entries"]] == ["测试player1", "测试player2", "测试player3"]
    question = shown["question"]["id"]
    # a phone (re)joining gets its own part: whether it may answer now
    again = _join(_client(app, _logged_in(app, "player1")), pin=live.pin, role="player", team="t1")
    assert again["view"]["me"]["can_answer"] is True and again["view"]["turn"]["id"] == ids["player1"]
    other = _join(_client(app, _logged_in(app, "player2")), pin=live.pin, role="player", team="t2")
    assert other["view"]["me"]["can_answer"] is False and other["view"]["standing"]["left"] == 3
    # only the player on turn may answer; a second answer is refused; the others are told so
    refused = _answer(phones["player2"], question, "A")
    assert refused["ok"] is False and refused["code"] == "not_your_turn" and refused["message"] == "现在不是你作答"
    ack = _answer(phones["player1"], question, "A")
    assert ack["ok"] and ack["version"] == version + 1
    again = _answer(phones["player1"], question, "A")
    assert again["ok"] is False
    version = _command(host, "reveal", ack["version"])["version"]
    version = _command(host, "next", version)["version"]
    version = _command(host, "open", version)["version"]
    mine = _views(phones["player2"])[-1]["view"]  # (reading the received messages drains them)
    question = mine["question"]["id"]
    assert mine["turn"]["id"] == ids["player2"]
    ack = _answer(phones["player2"], question, "B")  # wrong: out
    assert ack["ok"], ack
    version = ack["version"]
    version = _command(host, "reveal", version)["version"]
    seen = _views(phones["player3"])[-1]["view"]
    assert [e["out"] for e in seen["standing"]["entries"]] == [False, True, False] and seen["standing"]["left"] == 2
    version = _command(host, "next", version)["version"]
    version = _command(host, "open", version)["version"]
    question = _views(projector)[-1]["view"]["question"]["id"]
    ack = _answer(phones["player3"], question, "C")  # wrong: player1 is the last one standing
    assert ack["ok"], ack
    version = ack["version"]
    version = _command(host, "reveal", version)["version"]
    final = _views(projector)[-1]["view"]
    assert final["standing"]["title"] == "一站到底胜出"
    assert [e["won"] for e in final["standing"]["entries"]] == [True, False, False]
    assert {t["id"]: t["score"] for t in final["teams"]} == {"t1": 120, "t2": 100, "t3": 100, "t4": 100}
    version = _command(host, "next", version)["version"]  # decided: the scoreboard
    assert _views(projector)[-1]["view"]["phase"] == "scoreboard"
    # every answer has its row with the member; the winner's points are on their row
    rows = session.execute(
        select(ContestAnswer.participant, ContestAnswer.user_id, ContestAnswer.verdict).where(
            ContestAnswer.contest_id == live.id
        )
    ).all()
    user = {name: session.scalar(select(User.id).where(User.username == name)) for name in ids}
    assert sorted(rows) == sorted(
        [
            (f"player:{ids['player1']}", user["player1"], "correct"),
            (f"player:{ids['player2']}", user["player2"], "wrong"),
            (f"player:{ids['player3']}", user["player3"], "wrong"),
        ]
    )
    points = dict(
        session.execute(
            select(ContestPlayer.player, ContestPlayer.points).where(ContestPlayer.contest_id == live.id)
        ).all()
    )
    assert points == {ids["player1"]: 20, ids["player2"]: 0, ids["player3"]: 0}
    _command(host, "next", version)  # no tie (time): finished
    results = {
        r.user_id: (r.answered, r.correct)
        for r in session.scalars(select(ContestResult).where(ContestResult.contest_id == live.id))
    }
    assert results == {user["player1"]: (1, 1), user["player2"]: (1, 0), user["player3"]: (1, 0)}


def _logged_in(app: Flask, name: str):  # type: ignore[no-untyped-def]
    http = app.test_client()
    login(http, name)
    return http
