"""The contest over Socket.IO (test clients): joining, every event, every refusal, and what each client sees."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.extensions import socketio
from quizengine.models import Contest, ContestAnswer, ContestEvent, ContestResult, Role
from quizengine.modes.live_contest import ContestPlan, QuestionSource, RoundKind, RoundSpec, TieBreak
from quizengine.realtime import protocol
from quizengine.services import contests

from .conftest import login

NS = protocol.NAMESPACE


def _bank(tmp_path: Path) -> Path:
    options = "{A: 甲, B: 乙, C: 丙, D: 丁}"
    lines = ["bank: live", "title: 竞赛题库", "questions:"]
    lines += [
        f"  - {{id: c-{n}, type: single, stem: 竞赛题{n}, options: {options}, answer: A, explanation: 解析{n}}}"
        for n in range(20)
    ]
    path = tmp_path / "live.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PLAN = ContestPlan(
    "支部知识竞赛",
    (
        RoundSpec(RoundKind.BUZZER, "抢答题", QuestionSource(count=2), points=10, penalty=10),
        RoundSpec(RoundKind.EVERYONE, "全员答题", QuestionSource(count=1), points=10),
    ),
    base_score=100,
    tie_break=TieBreak.TIME,
)


@pytest.fixture
def live(app: Flask, runner: FlaskCliRunner, session: Session, make_user, tmp_path: Path):  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["banks", "load", str(_bank(tmp_path))]).exit_code == 0
    host = make_user(Role.ORGANIZER, username="host")
    make_user(username="player1")
    make_user(username="player2")
    contest = contests.create_contest(session, host, PLAN, rng=random.Random(3))
    return contest


def _client(app: Flask, flask_client: FlaskClient | None = None):  # type: ignore[no-untyped-def]
    return socketio.test_client(app, namespace=NS, flask_test_client=flask_client)


def _join(sio, **data):  # type: ignore[no-untyped-def]
    return sio.emit(protocol.JOIN, data, namespace=NS, callback=True)


def _views(sio) -> list[dict]:  # type: ignore[no-untyped-def]
    return [message["args"][0] for message in sio.get_received(NS) if message["name"] == protocol.STATE]


def _seat(app: Flask, live: Contest, session: Session):  # type: ignore[no-untyped-def]
    host_http = app.test_client()
    login(host_http, "host")
    host = _client(app, host_http)
    assert _join(host, contest=live.id, role="host")["ok"]
    projector = _client(app)
    assert _join(projector, contest=live.id, role="projector", token=live.projector_token)["ok"]
    teams = {}
    for team in session.scalars(select(Contest).where(Contest.id == live.id)).one().teams:
        device = _client(app)
        ack = _join(device, contest=live.id, role="team", code=team.join_code)
        assert ack["ok"] and ack["device_token"] and ack["view"]["me"]["team"] == team.key
        teams[team.key] = (device, ack["device_token"])
    return host, projector, teams


def _command(host, name: str, version: int, **args):  # type: ignore[no-untyped-def]
    return host.emit(protocol.COMMAND, {"name": name, "version": version, "args": args}, namespace=NS, callback=True)


def test_a_buzzer_question_end_to_end_and_what_each_client_saw(app: Flask, live: Contest, session: Session) -> None:
    host, projector, teams = _seat(app, live, session)
    ack = _command(host, "start", 0)
    assert ack["ok"] and ack["version"] == 1
    ack = _command(host, "next", 1)
    question = _views(teams["t1"][0])[-1]["view"]["question"]
    assert question["stem"].startswith("竞赛题") and "answer" not in question
    assert _command(host, "open", ack["version"])["ok"]
    won = teams["t2"][0].emit(protocol.BUZZ, {"question": question["id"]}, namespace=NS, callback=True)
    assert won["ok"]
    late = teams["t1"][0].emit(protocol.BUZZ, {"question": question["id"]}, namespace=NS, callback=True)
    assert late["ok"]  # recorded as a later buzz, with its gap
    answer = teams["t2"][0].emit(
        protocol.SUBMIT_ANSWER, {"question": question["id"], "response": "A"}, namespace=NS, callback=True
    )
    assert answer["ok"]
    host_views, projector_views = _views(host), _views(projector)
    team_views = {key: _views(device) for key, (device, _) in teams.items()}
    final = projector_views[-1]["view"]
    assert (
        final["phase"] == "revealed"
        and final["question"]["answer"] == "A"
        and final["question"]["explanation"] == f"解析{question['id'][2:]}"
    )
    assert [b["team"] for b in final["buzzes"]] == ["t2", "t1"]
    assert {t["id"]: t["score"] for t in final["teams"]}["t2"] == 110
    # no participant or projector message carried the key before the reveal
    for views in (projector_views, *team_views.values()):
        for message in views:
            if message["view"]["phase"] not in ("revealed", "scoreboard", "finished"):
                assert '"answer"' not in json.dumps(message["view"]["question"] or {}), message
    assert any("answer" in (m["view"]["question"] or {}) for m in host_views if m["view"]["phase"] == "buzz_armed")
    assert (
        session.scalar(select(func.count(ContestEvent.id)).where(ContestEvent.contest_id == live.id)) == 6
    )  # start, next, open, 2 buzzes, answer


def test_refusals_change_nothing(app: Flask, live: Contest, session: Session) -> None:
    host, projector, teams = _seat(app, live, session)
    device, token = teams["t1"]
    assert _command(host, "next", 0)["code"] == "wrong_phase"  # next in the lobby
    forged = device.emit(protocol.COMMAND, {"name": "start", "version": 0}, namespace=NS, callback=True)
    assert forged["code"] == "wrong_role"
    assert projector.emit(protocol.BUZZ, {"question": "x"}, namespace=NS, callback=True)["code"] == "wrong_role"
    _command(host, "start", 0)
    assert _command(host, "start", 0)["code"] in ("stale_version", "wrong_phase")
    assert _command(host, "next", 0)["code"] == "stale_version"
    _command(host, "next", 1)
    question = _views(device)[-1]["view"]["question"]["id"]
    assert _command(host, "open", 2)["ok"]
    device.emit(protocol.BUZZ, {"question": question}, namespace=NS, callback=True)
    first = device.emit(protocol.SUBMIT_ANSWER, {"question": question, "response": "B"}, namespace=NS, callback=True)
    assert first["ok"]
    duplicate = device.emit(
        protocol.SUBMIT_ANSWER, {"question": question, "response": "A"}, namespace=NS, callback=True
    )
    assert duplicate["ok"] is False and duplicate["code"] in ("wrong_phase", "not_your_turn", "duplicate")
    stale_question = teams["t2"][0].emit(protocol.BUZZ, {"question": "c-999"}, namespace=NS, callback=True)
    assert stale_question["code"] == "late"
    bad_code = _client(app)
    assert _join(bad_code, contest=live.id, role="team", code="000000")["code"] == "bad_code"
    bad_projector = _client(app)
    assert _join(bad_projector, contest=live.id, role="projector", token="guess")["code"] == "bad_token"
    anonymous_host = _client(app)
    assert _join(anonymous_host, contest=live.id, role="host")["code"] == "not_host"
    # the device token re-attaches the same team after a refresh, with a full snapshot
    again = _client(app)
    ack = _join(again, contest=live.id, role="team", token=token)
    assert ack["ok"] and ack["view"]["me"]["team"] == "t1" and ack["view"]["phase"] == "buzz_open"
    version = session.scalar(select(Contest.version).where(Contest.id == live.id))
    assert version == 5  # start, next, open, buzz, wrong answer (reopen)


def test_everyone_round_players_answer_once_counts_and_results(app: Flask, live: Contest, session: Session) -> None:
    host, projector, _ = _seat(app, live, session)
    players = []
    for name, team in (("player1", "t1"), ("player2", "t2")):
        http = app.test_client()
        login(http, name)
        sio = _client(app, http)
        ack = _join(sio, pin=live.pin, role="player", team=team)
        assert ack["ok"] and ack["view"]["me"]["team"] == team
        players.append(sio)
    version = session.scalar(select(Contest.version).where(Contest.id == live.id))  # two players joined
    version = _command(host, "start", version)["version"]
    # play through the buzzer round quickly: void both questions
    for _ in range(2):
        version = _command(host, "next", version)["version"]
        version = _command(host, "open", version)["version"]
        version = _command(host, "void", version)["version"]
    version = _command(host, "next", version)["version"]  # scoreboard
    version = _command(host, "next", version)["version"]  # everyone round intro
    version = _command(host, "next", version)["version"]  # question shown
    version = _command(host, "open", version)["version"]
    question = _views(players[0])[-1]["view"]["question"]["id"]
    players[1].get_received(NS)  # drain
    assert players[0].emit(
        protocol.SUBMIT_ANSWER, {"question": question, "response": "A"}, namespace=NS, callback=True
    )["ok"]
    again = players[0].emit(
        protocol.SUBMIT_ANSWER, {"question": question, "response": "A"}, namespace=NS, callback=True
    )
    assert again["code"] == "duplicate"
    assert players[1].emit(
        protocol.SUBMIT_ANSWER, {"question": question, "response": "C"}, namespace=NS, callback=True
    )["ok"]
    before = [m["name"] for m in players[1].get_received(NS)]
    assert before == []  # no room-wide message per answer
    assert session.scalar(select(func.count(ContestAnswer.id)).where(ContestAnswer.contest_id == live.id)) == 2
    version = _command(host, "lock", version)["version"]
    version = _command(host, "reveal", version)["version"]
    revealed = _views(projector)[-1]["view"]
    assert revealed["distribution"] == {"A": 1, "C": 1}
    assert {t["id"]: t["score"] for t in revealed["teams"]} == {"t1": 110, "t2": 100, "t3": 100, "t4": 100}
    version = _command(host, "next", version)["version"]
    version = _command(host, "next", version)["version"]
    assert _views(players[0])[-1]["view"]["phase"] == "finished"
    results = session.scalars(select(ContestResult).where(ContestResult.contest_id == live.id)).all()
    assert {(r.team_name, r.team_place, r.answered, r.correct) for r in results} == {
        ("第一队", 1, 1, 1),
        ("第二队", 2, 1, 0),
    }


def test_host_loss_pauses_and_the_host_reattaches(app: Flask, live: Contest, session: Session) -> None:
    host, projector, _ = _seat(app, live, session)
    _command(host, "start", 0)
    _command(host, "next", 1)
    host.disconnect(namespace=NS)
    paused = _views(projector)[-1]["view"]
    assert paused["phase"] == "paused" and paused["paused_phase"] == "buzz_armed"
    http = app.test_client()
    login(http, "host")
    back = _client(app, http)
    ack = _join(back, contest=live.id, role="host")
    assert ack["ok"] and ack["view"]["phase"] == "paused"
    assert _command(back, "resume", ack["view"]["version"])["ok"]
    assert _views(projector)[-1]["view"]["phase"] == "buzz_armed"


def test_contest_results_reach_the_members_record(app: Flask, live: Contest, session: Session) -> None:
    from quizengine.models import User
    from quizengine.services.records import get_learning_record

    test_everyone_round_players_answer_once_counts_and_results(app, live, session)
    member = session.scalar(select(User).where(User.username == "player1"))
    record = get_learning_record(session, member, member)
    assert [(r.contest.title, r.team_name, r.team_place) for r in record.contests] == [("支部知识竞赛", "第一队", 1)]
    http = app.test_client()
    login(http, "player1")
    page = http.get("/record/").get_data(as_text=True)
    assert "支部知识竞赛" in page and "第一队" in page


def test_the_standard_plan_draws_a_full_contest_from_the_shipped_banks(
    runner: FlaskCliRunner, session: Session, make_user
) -> None:
    from quizengine.banks.contest_plan import load_plan
    from quizengine.config import PROJECT_ROOT

    assert runner.invoke(args=["banks", "load", str(PROJECT_ROOT / "question_banks")]).exit_code == 0
    plan = load_plan(PROJECT_ROOT / "question_banks" / "contests" / "standard.yaml").plan
    contest = contests.create_contest(session, make_user(Role.ORGANIZER), plan, rng=random.Random(7))
    state = contest.state
    drawn = [qid for round_ids in state["rounds"] for qid in round_ids]
    drawn += [qid for pools in state["risk_pools"].values() for ids in pools.values() for qid in ids]
    assert len(drawn) == len(set(drawn)) and set(contest.revisions) >= set(drawn)
    assert [len(ids) for ids in state["rounds"]] == [
        spec.source.count if spec.kind is not RoundKind.RISK else 0 for spec in plan.rounds
    ]
