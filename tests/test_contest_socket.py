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
from quizengine.models import Contest, ContestAnswer, ContestEvent, ContestPlayer, ContestResult, Role
from quizengine.modes.contest import ContestPlan, QuestionSource, RoundKind, RoundSpec, TieBreak
from quizengine.realtime import protocol, timers
from quizengine.services import contest_answers, contest_commands, contest_join, contest_setup

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


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Every test has a fresh database whose contest ids start at 1 again: forget the process caches."""
    contest_commands._machine_cache.clear()
    contest_commands._player_cache.clear()
    contest_join.throttle.clear()
    timers._last_rosters.clear()
    timers._last_counts.clear()


@pytest.fixture
def live(app: Flask, runner: FlaskCliRunner, session: Session, make_user, tmp_path: Path):  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["banks", "load", str(_bank(tmp_path))]).exit_code == 0
    host = make_user(Role.ORGANIZER, username="host")
    make_user(username="player1")
    make_user(username="player2")
    contest = contest_setup.create_contest(session, host, PLAN, rng=random.Random(3))
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
    contest = contest_setup.create_contest(session, make_user(Role.ORGANIZER), plan, rng=random.Random(7))
    state = contest.state
    drawn = [qid for round_ids in state["rounds"] for qid in round_ids]
    drawn += [qid for pools in state["risk_pools"].values() for ids in pools.values() for qid in ids]
    assert len(drawn) == len(set(drawn)) and set(contest.revisions) >= set(drawn)
    assert [len(ids) for ids in state["rounds"]] == [
        spec.source.count if spec.kind is not RoundKind.RISK else 0 for spec in plan.rounds
    ]


def _player_client(app: Flask, live: Contest, name: str, team: str):  # type: ignore[no-untyped-def]
    http = app.test_client()
    login(http, name)
    sio = _client(app, http)
    return sio, _join(sio, pin=live.pin, role="player", team=team)


def _messages(sio) -> list[dict]:  # type: ignore[no-untyped-def]
    return [{"name": m["name"], "args": m["args"]} for m in sio.get_received(NS)]


def test_a_join_writes_its_own_row_and_rosters_go_coalesced_to_host_and_projector(
    app: Flask, live: Contest, session: Session
) -> None:
    host, projector, teams = _seat(app, live, session)
    host.get_received(NS)  # the devices' status
    first, ack = _player_client(app, live, "player1", "t1")
    assert ack["ok"] and ack["view"]["me"]["team"] == "t1" and "roster" not in ack
    second, ack = _player_client(app, live, "player2", "t3")
    assert ack["ok"]
    _, ack = _player_client(app, live, "player1", "t2")  # a refresh keeps the team first chosen
    assert ack["view"]["me"]["team"] == "t1"
    assert session.scalar(select(Contest.version).where(Contest.id == live.id)) == 0  # the state is untouched
    rows = session.scalars(select(ContestPlayer).where(ContestPlayer.contest_id == live.id)).all()
    assert sorted((r.team, r.joined_seq) for r in rows) == [("t1", 0), ("t3", 0)]
    assert _messages(host) == [] and _messages(projector) == []  # nothing per join
    with app.app_context():
        timers.push_rosters()
        timers.push_rosters()  # unchanged: nothing more
    (to_host,) = _messages(host)
    assert to_host["name"] == protocol.PLAYERS
    roster = to_host["args"][0]["roster"]
    assert roster["count"] == 2 and roster["by_team"] == {"t1": 1, "t2": 0, "t3": 1, "t4": 0}
    assert sorted(p["team"] for p in roster["players"]) == ["t1", "t3"]
    (to_projector,) = _messages(projector)
    shown = to_projector["args"][0]["roster"]
    assert shown["count"] == 2 and "players" not in shown and shown["names"]["t3"] == [rows[1].name or ""]
    for sio in (first, second, *(device for device, _ in teams.values())):
        assert protocol.PLAYERS not in [m["name"] for m in _messages(sio)]
    # a new host console gets the roster in its snapshot
    http = app.test_client()
    login(http, "host")
    console = _client(app, http)
    assert _join(console, contest=live.id, role="host")["roster"]["count"] == 2
    # refusals store nothing
    outsider = app.test_client()
    from quizengine.services.accounts import create_user

    create_user(session, username="player3", name="队员三", password="Hong-Qi-Piao-2026", branch_name="第一党支部")
    login(outsider, "player3", "Hong-Qi-Piao-2026")
    refused = _join(_client(app, outsider), pin=live.pin, role="player", team="t9")
    assert refused["ok"] is False and refused["code"] == "bad_team"
    assert session.scalar(select(func.count(ContestPlayer.id)).where(ContestPlayer.contest_id == live.id)) == 2


def test_team_device_status_goes_to_the_host_only(app: Flask, live: Contest, session: Session) -> None:
    http = app.test_client()
    login(http, "host")
    host = _client(app, http)
    ack = _join(host, contest=live.id, role="host")
    assert ack["devices"] == {"t1": False, "t2": False, "t3": False, "t4": False}
    projector = _client(app)
    _join(projector, contest=live.id, role="projector", token=live.projector_token)
    codes = {team.key: team.join_code for team in session.get(Contest, live.id).teams}
    red, blue = _client(app), _client(app)
    assert _join(red, contest=live.id, role="team", code=codes["t1"])["ok"]
    assert _join(blue, contest=live.id, role="team", code=codes["t2"])["ok"]
    online = [m["args"][0] for m in _messages(host) if m["name"] == protocol.DEVICE]
    assert [(d["team"], d["online"]) for d in online] == [("t1", True), ("t2", True)]
    red.disconnect(namespace=NS)
    offline = [m["args"][0] for m in _messages(host) if m["name"] == protocol.DEVICE]
    assert [(d["team"], d["online"]) for d in offline] == [("t1", False)]
    assert _join(host, contest=live.id, role="host")["devices"] == {"t1": False, "t2": True, "t3": False, "t4": False}
    for other in (projector, blue):
        assert protocol.DEVICE not in [m["name"] for m in _messages(other)]


def test_no_message_to_a_projector_team_or_player_carries_the_key_before_the_reveal(
    app: Flask, live: Contest, session: Session
) -> None:
    """Every event any non-host client receives, counts and rosters included, until the reveal."""
    host, projector, teams = _seat(app, live, session)
    players = {name: _player_client(app, live, name, team)[0] for name, team in (("player1", "t1"), ("player2", "t2"))}
    with app.app_context():
        timers.push_rosters()
    version = _command(host, "start", 0)["version"]
    for _ in range(2):  # the buzzer round, voided
        version = _command(host, "next", version)["version"]
        version = _command(host, "open", version)["version"]
        version = _command(host, "void", version)["version"]
    for name in ("next", "next", "next", "open"):
        version = _command(host, name, version)["version"]
    question = _views(host)[-1]["view"]["question"]
    assert question["answer"] == "A"  # the host sees it all along
    acks = {}
    for name, response in (("player1", "A"), ("player2", "C")):
        acks[name] = players[name].emit(
            protocol.SUBMIT_ANSWER, {"question": question["id"], "response": response}, namespace=NS, callback=True
        )
        assert acks[name]["ok"] and isinstance(acks[name]["at_ms"], int) and "verdict" not in acks[name]
    with app.app_context():
        timers.push_counts()
    count = [m for m in _messages(projector) if m["name"] == protocol.ANSWER_COUNT][-1]["args"][0]
    assert (count["count"], count["eligible"]) == (2, 2)
    explanation = question["explanation"]
    clients = [projector, *(device for device, _ in teams.values()), *players.values()]
    before = [_messages(sio) for sio in clients]
    for received in before:
        for message in received:
            text = json.dumps(message, ensure_ascii=False)
            body = message["args"][0] if message["args"] else {}
            shown = (body.get("view") or {}).get("question") or {}
            if (body.get("view") or {}).get("phase") in ("revealed", "scoreboard"):
                continue  # the buzzer round's voided questions were revealed
            assert "answer" not in shown and explanation not in text, message
    _command(host, "reveal", version)
    for name, sio in players.items():
        (revealed,) = [m["args"][0]["view"] for m in _messages(sio) if m["name"] == protocol.STATE]
        assert revealed["question"]["answer"] == "A" and revealed["question"]["explanation"] == explanation
        scoring = revealed["scoring"]
        assert scoring["points"] == 10 and scoring["speed_bonus"] == 0 and not scoring["voided"]
        assert scoring["opened_ms"] <= acks[name]["at_ms"]
        assert "me" not in revealed  # the same broadcast for every player
    # a phone that reloads gets its own result in the snapshot
    _, ack = _player_client(app, live, "player1", "t1")
    assert ack["view"]["me"]["result"] == "correct" and ack["view"]["me"]["points"] == 10
    _, ack = _player_client(app, live, "player2", "t2")
    assert ack["view"]["me"]["result"] == "wrong" and ack["view"]["me"]["points"] == 0


def _open_everyone_question(app: Flask, live: Contest, session: Session):  # type: ignore[no-untyped-def]
    """Seat everyone, join two players, and open the 全员答题 question; return (host, players, question id)."""
    host, _, _ = _seat(app, live, session)
    players = [_player_client(app, live, name, team)[0] for name, team in (("player1", "t1"), ("player2", "t2"))]
    version = _command(host, "start", 0)["version"]
    for _ in range(2):
        for name in ("next", "open", "void"):
            version = _command(host, name, version)["version"]
    for name in ("next", "next", "next", "open"):
        version = _command(host, name, version)["version"]
    return host, players, _views(host)[-1]["view"]["question"]["id"]


def test_answers_stored_together_refuse_only_the_duplicate(app: Flask, live: Contest, session: Session) -> None:
    from datetime import UTC, datetime

    _, _, question = _open_everyone_question(app, live, session)
    players = session.scalars(select(ContestPlayer.player).where(ContestPlayer.contest_id == live.id)).all()
    now = datetime.now(UTC)
    batch = [contest_answers._PendingAnswer(live.id, p, int(p), question, "A", now) for p in players]
    batch.append(
        contest_answers._PendingAnswer(live.id, players[0], int(players[0]), question, "B", now)
    )  # a double tap
    with app.app_context():
        from quizengine.extensions import db

        contest_answers._answers.write_batch(db.session, batch)
    assert [p.error.code if p.error else None for p in batch] == [None, None, "duplicate"]
    assert all(p.done.is_set() for p in batch)
    stored = session.scalars(select(ContestAnswer.response).where(ContestAnswer.contest_id == live.id)).all()
    assert stored == ["A", "A"]


def test_a_batch_the_database_fails_is_refused_and_the_next_one_stored(
    app: Flask, live: Contest, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (first, second), question = _open_everyone_question(app, live, session)
    real = contest_answers._answer_row

    def broken(*args: object) -> dict:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(contest_answers, "_answer_row", broken)
    refused = first.emit(protocol.SUBMIT_ANSWER, {"question": question, "response": "A"}, namespace=NS, callback=True)
    assert refused["ok"] is False and refused["code"] == "busy" and refused["message"] == "答案未能保存，请重试"
    assert session.scalar(select(func.count(ContestAnswer.id)).where(ContestAnswer.contest_id == live.id)) == 0
    monkeypatch.setattr(contest_answers, "_answer_row", real)
    for sio in (first, second):  # sent again: stored
        assert sio.emit(protocol.SUBMIT_ANSWER, {"question": question, "response": "A"}, namespace=NS, callback=True)[
            "ok"
        ]
    assert session.scalar(select(func.count(ContestAnswer.id)).where(ContestAnswer.contest_id == live.id)) == 2


@pytest.mark.parametrize("rollback_fails", [False, True])
def test_a_batch_whose_commit_fails_acks_none_as_stored(
    app: Flask, live: Contest, session: Session, monkeypatch: pytest.MonkeyPatch, rollback_fails: bool
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy.exc import OperationalError

    _, _, question = _open_everyone_question(app, live, session)
    players = session.scalars(select(ContestPlayer.player).where(ContestPlayer.contest_id == live.id)).all()
    now = datetime.now(UTC)
    batch = [contest_answers._PendingAnswer(live.id, p, int(p), question, "A", now) for p in players]
    with app.app_context():
        from quizengine.extensions import db

        failing = db.session()

        def gone() -> None:
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

        monkeypatch.setattr(failing, "commit", gone)
        if rollback_fails:  # the connection is gone: not even the rollback works
            monkeypatch.setattr(failing, "rollback", gone)
        contest_answers._answers.write_batch(db.session, batch)
        db.session.remove()
    assert [p.error.code if p.error else None for p in batch] == ["busy", "busy"]  # none acked as stored
    assert all(p.done.is_set() for p in batch)
    assert session.scalar(select(func.count(ContestAnswer.id)).where(ContestAnswer.contest_id == live.id)) == 0


def test_later_events_use_the_connections_session_without_decoding_the_cookie(
    app: Flask, live: Contest, monkeypatch: pytest.MonkeyPatch
) -> None:
    serializer = app.session_interface.get_signing_serializer(app)
    decoded: list[object] = []
    loads = serializer.loads
    monkeypatch.setattr(serializer, "loads", lambda *args, **kwargs: decoded.append(args) or loads(*args, **kwargs))
    sio, joined = _player_client(app, live, "player1", "t1")
    assert joined["ok"] and decoded  # the login and the connection's first event read the cookie
    before = len(decoded)
    for _ in range(3):
        refused = sio.emit(protocol.SUBMIT_ANSWER, {"question": "q", "response": "A"}, namespace=NS, callback=True)
        assert refused["code"] == "wrong_phase"  # still known as a player: the connection's own session
    assert len(decoded) == before


def test_with_a_message_queue_a_joining_host_asks_team_devices_on_every_worker(
    app: Flask, live: Contest, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = {team.key: team.join_code for team in session.get(Contest, live.id).teams}
    red, player = _client(app), _player_client(app, live, "player1", "t1")[0]
    assert _join(red, contest=live.id, role="team", code=codes["t1"])["ok"]
    http = app.test_client()
    login(http, "host")
    host = _client(app, http)
    assert _join(host, contest=live.id, role="host")["ok"]
    assert protocol.DEVICE_CHECK not in [m["name"] for m in _messages(red)]  # one worker: its own count is whole
    monkeypatch.setitem(app.config, "SOCKETIO_MESSAGE_QUEUE", "redis://127.0.0.1:6379/0")  # only read, never used
    _messages(host)
    assert _join(host, contest=live.id, role="host")["ok"]
    assert [m["name"] for m in _messages(red)].count(protocol.DEVICE_CHECK) == 1
    assert protocol.DEVICE_CHECK not in [m["name"] for m in _messages(player)]
    assert red.emit(protocol.DEVICE_HERE, {}, namespace=NS, callback=True)["ok"]
    online = [m["args"][0] for m in _messages(host) if m["name"] == protocol.DEVICE]
    assert [(d["team"], d["online"]) for d in online] == [("t1", True)]
    refused = player.emit(protocol.DEVICE_HERE, {}, namespace=NS, callback=True)
    assert refused["ok"] is False and refused["code"] == "wrong_role"
    assert protocol.DEVICE not in [m["name"] for m in _messages(host)]
