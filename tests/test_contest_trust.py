"""Trust in the live contest: team devices (QR secret, throttled short codes, several devices), the PIN,
the join QR, host privileges re-checked, the origin of socket connections, answers one player cannot spoil."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.extensions import db
from quizengine.models import Contest, ContestAnswer, ContestDevice, ContestPlayer, Role, User
from quizengine.modes.contest import ContestError
from quizengine.realtime import contest as handlers
from quizengine.realtime import protocol
from quizengine.services import contest_answers, contest_commands, contest_join

from .conftest import login
from .test_contest_socket import (  # noqa: F401  (fixtures)
    NS,
    _client,
    _command,
    _fresh_caches,
    _join,
    _open_everyone_question,
    _views,
    live,
)


@pytest.fixture(autouse=True)
def _fresh_throttle() -> None:
    contest_join.throttle.clear()


@pytest.fixture
def contest(live: Contest) -> Contest:  # noqa: F811
    return live


def _teams(session: Session, contest: Contest) -> dict[str, tuple[str, str]]:
    """team key -> (short code, QR secret)."""
    return {team.key: (team.join_code, team.join_secret) for team in session.get(Contest, contest.id).teams}


def test_team_secrets_are_long_and_codes_unique_per_contest(contest: Contest, session: Session) -> None:
    secrets_ = [secret for _, secret in _teams(session, contest).values()]
    assert all(len(secret) >= 22 for secret in secrets_) and len(set(secrets_)) == len(secrets_)  # ≥ 128 bits


def test_wrong_team_codes_are_throttled_and_the_real_devices_still_join(
    app: Flask, contest: Contest, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, secret = _teams(session, contest)["t1"]
    wrong = next(
        f"{n:06d}"
        for n in range(100_000, 1_000_000)
        if f"{n:06d}" not in {c for c, _ in _teams(session, contest).values()}
    )
    monkeypatch.setattr(handlers, "client_address", lambda: "203.0.113.9")
    attacker = _client(app)
    started = time.monotonic()
    codes = [_join(attacker, contest=contest.id, role="team", code=wrong)["code"] for _ in range(8)]
    assert codes == ["bad_code"] * 5 + ["throttled"] * 3 and time.monotonic() - started < 2
    refused = _join(attacker, contest=contest.id, role="team", code=code)  # even the right short code: held back
    assert refused["code"] == "throttled" and "扫描" in refused["message"]
    # new connections from the same address: the address runs out too
    for _ in range((contest_join.PER_ADDRESS - contest_join.PER_CONNECTION) // contest_join.PER_CONNECTION):
        fresh = _client(app)
        for _ in range(contest_join.PER_CONNECTION):
            assert _join(fresh, contest=contest.id, role="team", code=wrong)["code"] == "bad_code"
    assert _join(_client(app), contest=contest.id, role="team", code=wrong)["code"] == "throttled"
    # the real device scans the QR code (the secret is never held back), even from the attacker's address
    device = _client(app)
    ack = _join(device, contest=contest.id, role="team", code=secret)
    assert ack["ok"] and ack["view"]["me"]["team"] == "t1"
    # and from another address the short code typed by hand works
    monkeypatch.setattr(handlers, "client_address", lambda: "192.168.1.20")
    assert _join(_client(app), contest=contest.id, role="team", code=code)["ok"]
    assert session.scalar(select(func.count(ContestDevice.id))) == 2


def test_guesses_from_many_addresses_lock_only_the_typed_codes_of_that_contest(
    app: Flask, contest: Contest, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, secret = _teams(session, contest)["t2"]
    for n in range(contest_join.PER_CONTEST_CODE):
        monkeypatch.setattr(handlers, "client_address", lambda n=n: f"10.0.{n // 250}.{n % 250}")
        assert _join(_client(app), contest=contest.id, role="team", code="999999")["code"] in ("bad_code", "ok")
    monkeypatch.setattr(handlers, "client_address", lambda: "192.168.1.30")
    assert _join(_client(app), contest=contest.id, role="team", code=code)["code"] == "throttled"
    assert _join(_client(app), contest=contest.id, role="team", code=secret)["ok"]


def test_a_second_device_is_added_and_both_act(app: Flask, contest: Contest, session: Session) -> None:
    http = app.test_client()
    login(http, "host")
    host = _client(app, http)
    assert _join(host, contest=contest.id, role="host")["ok"]
    code, secret = _teams(session, contest)["t1"]
    first, second = _client(app), _client(app)
    first_ack = _join(first, contest=contest.id, role="team", code=secret)
    second_ack = _join(second, contest=contest.id, role="team", code=code)
    assert first_ack["device_token"] != second_ack["device_token"]
    # the first device's token still re-attaches after the second joined (a reload), as the same team
    again = _client(app)
    assert _join(again, contest=contest.id, role="team", token=first_ack["device_token"])["view"]["me"]["team"] == "t1"
    version = _command(host, "start", 0)["version"]
    version = _command(host, "next", version)["version"]
    version = _command(host, "open", version)["version"]
    question = _views(host)[-1]["view"]["question"]["id"]
    assert first.emit(protocol.BUZZ, {"question": question}, namespace=NS, callback=True)["ok"]
    answered = second.emit(protocol.SUBMIT_ANSWER, {"question": question, "response": "A"}, namespace=NS, callback=True)
    assert answered["ok"]
    assert {t["id"]: t["score"] for t in _views(host)[-1]["view"]["teams"]}["t1"] == 110
    assert _join(_client(app), contest=contest.id, role="team", token="forged")["code"] == "bad_token"


def test_the_pin_is_required_to_play_and_the_join_qr_is_not_public(
    app: Flask, contest: Contest, session: Session
) -> None:
    http = app.test_client()
    login(http, "player1")
    sio = _client(app, http)
    assert _join(sio, contest=contest.id, role="player", team="t1")["code"] == "bad_pin"
    assert _join(sio, contest=contest.id, pin="000000", role="player", team="t1")["code"] == "bad_pin"
    assert _join(sio, contest=contest.id, pin=contest.pin, role="player", team="t1")["ok"]
    assert session.scalar(select(func.count(ContestPlayer.id))) == 1
    anonymous = app.test_client()
    assert anonymous.get(f"/contests/{contest.id}/join.svg").status_code == 404
    assert anonymous.get(f"/contests/{contest.id}/join.svg?token=guess").status_code == 404
    assert http.get(f"/contests/{contest.id}/join.svg").status_code == 404  # a member is not the projector
    shown = anonymous.get(f"/contests/{contest.id}/join.svg?token={contest.projector_token}")
    assert shown.status_code == 200 and shown.mimetype == "image/svg+xml"
    projector_page = anonymous.get(f"/contests/{contest.id}/projector/{contest.projector_token}").get_data(as_text=True)
    assert f"join.svg?token={contest.projector_token}" in projector_page
    host = app.test_client()
    login(host, "host")
    assert host.get(f"/contests/{contest.id}/join.svg").status_code == 200


def test_team_qr_codes_and_the_printable_sheet_are_for_the_hosts_only(  # type: ignore[no-untyped-def]
    app: Flask, contest: Contest, session: Session, make_user
) -> None:
    host = app.test_client()
    login(host, "host")
    sheet = host.get(f"/contests/{contest.id}/teams/print")
    page = sheet.get_data(as_text=True)
    assert sheet.status_code == 200 and "css/team-codes.css" in page
    for key, (code, _) in _teams(session, contest).items():
        assert f"/contests/{contest.id}/teams/{key}/qr.svg" in page and code in page
    console = host.get(f"/contests/{contest.id}/host").get_data(as_text=True)
    assert f"/contests/{contest.id}/teams/t1/qr.svg" in console and "打印各队二维码" in console
    assert f"code={_teams(session, contest)['t1'][1]}" in console  # the device link carries the secret
    qr = host.get(f"/contests/{contest.id}/teams/t1/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and "no-store" in qr.headers["Cache-Control"]
    assert host.get(f"/contests/{contest.id}/teams/t9/qr.svg").status_code == 404
    make_user(Role.ORGANIZER, username="elsewhere", branch="第二党支部")
    for name in ("elsewhere", "player1"):
        other = app.test_client()
        login(other, name)
        assert other.get(f"/contests/{contest.id}/teams/print").status_code == 403
        assert other.get(f"/contests/{contest.id}/teams/t1/qr.svg").status_code == 403
    anonymous = app.test_client().get(f"/contests/{contest.id}/teams/t1/qr.svg")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


@pytest.mark.parametrize("change", ["deactivate", "demote"])
def test_a_host_who_loses_the_role_is_refused_and_dropped(
    app: Flask, contest: Contest, session: Session, change: str
) -> None:
    http = app.test_client()
    login(http, "host")
    host = _client(app, http)
    assert _join(host, contest=contest.id, role="host")["ok"]
    assert _command(host, "start", 0)["ok"]
    user = session.scalar(select(User).where(User.username == "host"))
    if change == "deactivate":
        user.active = False
    else:
        user.role = Role.MEMBER
    session.commit()
    refused = _command(host, "next", 1)
    assert refused["ok"] is False and refused["code"] == "not_host"
    assert not host.is_connected(NS)
    assert session.scalar(select(Contest.version).where(Contest.id == contest.id)) == 1


def test_one_hostile_player_never_spoils_the_others_answers(
    app: Flask, contest: Contest, session: Session, make_user
) -> None:  # type: ignore[no-untyped-def]
    """20 players answer while one floods malformed responses: all 20 are stored and acked ok."""
    _, _, question = _open_everyone_question(app, contest, session)
    machine = contest_commands.cached_machine(session, contest.id)
    users = [make_user(username=f"voter{n}") for n in range(21)]
    for user in users:  # joined before the question: they may answer it
        session.add(
            ContestPlayer(contest_id=contest.id, player=str(user.id), user_id=user.id, team="t1", name="", joined_seq=0)
        )
    session.commit()
    del machine
    hostile, voters = users[0], users[1:]
    acks: list[object] = []
    errors: list[str] = []

    def answer(user_id: int, response: object) -> None:
        with app.app_context():
            try:
                acks.append(
                    contest_answers.submit_player_answer(
                        db.session, contest.id, str(user_id), user_id, question, response
                    )
                )
            except ContestError as error:
                errors.append(error.code)

    def flood() -> None:
        for response in ["Z", ["A", "Q"], "", ["A", "B"], "AB"] * 20:
            answer(hostile.id, response)

    threads = [threading.Thread(target=flood)] + [threading.Thread(target=answer, args=(u.id, "A")) for u in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = session.execute(select(ContestAnswer.user_id, ContestAnswer.response)).all()
    assert sorted(user for user, response in stored if response == "A") == sorted(u.id for u in voters)
    assert len(acks) == 20 and all(ack["ok"] for ack in acks)
    assert "busy" not in errors and set(errors) <= {"bad_response", "blank", "duplicate"}


def test_a_malformed_answer_in_a_batch_is_refused_alone(app: Flask, contest: Contest, session: Session) -> None:
    _, _, question = _open_everyone_question(app, contest, session)
    players = session.scalars(select(ContestPlayer.player).where(ContestPlayer.contest_id == contest.id)).all()
    now = datetime.now(UTC)
    batch = [contest_answers._PendingAnswer(contest.id, players[0], int(players[0]), question, "Z", now)]
    batch.append(contest_answers._PendingAnswer(contest.id, players[1], int(players[1]), question, "A", now))
    with app.app_context():
        contest_answers._answers.write_batch(db.session, batch)
    assert [p.error.code if p.error else None for p in batch] == ["bad_response", None]
    assert session.scalars(select(ContestAnswer.response)).all() == ["A"]


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("http://localhost:8081", 400),  # another port of the same host
        ("http://evil.example", 400),
        ("null", 400),
        ("http://localhost", 200),  # the page's own origin
        (None, 200),  # not a browser (python-socketio, the benchmarks): no cookie of a victim to ride
        ("https://quiz.example.org", 200),  # PUBLIC_URL
    ],
)
def test_socket_connections_from_a_foreign_origin_are_refused(
    app: Flask, contest: Contest, origin: str | None, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://quiz.example.org/")
    http = app.test_client()
    login(http, "host")  # the organizer's cookie rides along
    headers = {"Origin": origin} if origin else {}
    response = http.get("/socket.io/?EIO=4&transport=polling", headers=headers)
    assert response.status_code == status


def test_malformed_socket_input_is_refused_with_an_ack_and_changes_nothing(
    app: Flask, contest: Contest, session: Session
) -> None:
    http = app.test_client()
    login(http, "host")
    host = _client(app, http)
    assert _join(host, contest=contest.id, role="host")["ok"]
    version = _command(host, "start", 0)["version"]
    sent = [
        ("adjust", {"team": "t1", "delta": "nan", "reason": "x"}, "delta：须为有限的数字"),
        ("adjust", {"team": "t1", "delta": float("inf"), "reason": "x"}, "delta：须为有限的数字"),
        ("adjust", {"team": "t1", "delta": 5, "reason": "x" * 201}, "reason：长度须在"),
        ("judge", {"correct": "yes"}, "correct：须为是或否"),
        ("explode", {}, "未知指令"),
    ]
    for name, args, reason in sent:
        ack = _command(host, name, version, **args)
        assert ack["ok"] is False and ack["code"] == "bad_input" and reason in ack["message"], ack
    for payload in ((), ([1, 2],), ("start",), (None,)):
        ack = host.emit(protocol.COMMAND, *payload, namespace=NS, callback=True)
        assert ack["ok"] is False and ack["code"] == "bad_input" and ack["message"] == "请求内容格式不正确"
    device = _client(app)
    assert _join(device, contest=contest.id, role="team", code=_teams(session, contest)["t1"][1])["ok"]
    for event in (protocol.BUZZ, protocol.SUBMIT_ANSWER, protocol.CHOOSE_RISK):
        assert device.emit(event, namespace=NS, callback=True)["code"] == "bad_input"
    too_long = device.emit(
        protocol.SUBMIT_ANSWER, {"question": "c-1", "response": ["A"] * 21}, namespace=NS, callback=True
    )
    assert too_long["code"] == "bad_input"
    assert session.scalar(select(Contest.version).where(Contest.id == contest.id)) == version
    assert _command(host, "adjust", version, team="t1", delta=5, reason="补记")["ok"]
