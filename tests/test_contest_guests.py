"""Open events: a contest may take guests by name for 全员答题; they never reach a learning record."""

from __future__ import annotations

import random
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.models import AuditEntry, Contest, ContestAnswer, ContestPlayer, ContestResult, User
from quizengine.realtime import protocol
from quizengine.services import contest_setup

from .conftest import csrf_token, login
from .test_contest_socket import NS, PLAN, _client, _command, _fresh_caches, _join, _seat, _views  # noqa: F401
from .test_contest_socket import live as live  # the fixture: banks, host, two members


def _open_event(session: Session, live: Contest) -> Contest:
    live.allow_guests = True
    session.commit()
    return live


def test_a_contest_takes_no_guest_unless_it_is_an_open_event(app: Flask, live: Contest) -> None:
    refused = _join(_client(app), pin=live.pin, role="player", team="t1", name="张三")
    assert (refused["ok"], refused["code"], refused["message"]) == (False, "login_required", "请先登录后再加入竞赛")
    page = app.test_client().get(f"/contests/play?pin={live.pin}")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_a_guest_plays_by_name_comes_back_with_its_credential_and_is_never_recorded(
    app: Flask, live: Contest, session: Session
) -> None:
    _open_event(session, live)
    page = app.test_client().get(f"/contests/play?pin={live.pin}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="guest-name"' in text and "不计入任何学习档案" in text

    host, projector, _ = _seat(app, live, session)
    phone = _client(app)
    assert _join(phone, pin=live.pin, role="player", team="t1")["code"] == "name_required"
    joined = _join(phone, pin=live.pin, role="player", team="t1", name="  张 三 ")
    assert joined["ok"] is True
    credential = joined["device_token"]
    guest = session.scalars(select(ContestPlayer).where(ContestPlayer.contest_id == live.id)).one()
    assert guest.user_id is None and guest.player.startswith("g") and guest.name == "张 三（来宾）"

    member_http = app.test_client()
    login(member_http, "player1")
    member = _client(app, member_http)
    assert _join(member, pin=live.pin, role="player", team="t2")["ok"]

    version = session.scalar(select(Contest.version).where(Contest.id == live.id))
    version = _command(host, "start", version)["version"]
    for _ in range(2):  # the buzzer round, voided
        version = _command(host, "next", version)["version"]
        version = _command(host, "open", version)["version"]
        version = _command(host, "void", version)["version"]
    for _ in range(3):  # scoreboard, the everyone round's intro, its question
        version = _command(host, "next", version)["version"]
    version = _command(host, "open", version)["version"]
    question = _views(projector)[-1]["view"]["question"]["id"]

    # The guest's phone reloads: it comes back as the same player with the credential it kept.
    assert credential.startswith(guest.player + ".")
    phone.disconnect(namespace=NS)
    phone = _client(app)
    back = _join(phone, pin=live.pin, role="player", token=credential)
    assert back["ok"] and back["view"]["me"]["team"] == "t1"
    forged = credential.split(".")[0] + ".0" * 16
    assert _join(_client(app), pin=live.pin, role="player", token=forged)["code"] == "bad_token"
    answer = {"question": question, "response": "A"}
    assert phone.emit(protocol.SUBMIT_ANSWER, answer, namespace=NS, callback=True)["ok"]
    assert member.emit(protocol.SUBMIT_ANSWER, answer, namespace=NS, callback=True)["ok"]
    version = _command(host, "lock", version)["version"]
    version = _command(host, "reveal", version)["version"]
    revealed = _views(projector)[-1]["view"]
    assert {t["id"]: t["score"] for t in revealed["teams"]}["t1"] == 110  # the guest scores for the team
    for _ in range(2):
        version = _command(host, "next", version)["version"]
    assert _views(projector)[-1]["view"]["phase"] == "finished"

    stored = session.scalars(select(ContestAnswer).where(ContestAnswer.contest_id == live.id)).all()
    assert sorted(answer.user_id is None for answer in stored) == [False, True]
    results = session.scalars(select(ContestResult).where(ContestResult.contest_id == live.id)).all()
    assert [result.team_name for result in results] == ["第二队"]  # the member's; the guest has none
    players = session.scalar(select(func.count(ContestPlayer.id)).where(ContestPlayer.contest_id == live.id))
    assert players == 2  # coming back made no second player


def test_the_organizer_opens_a_contest_to_guests_when_creating_it(app: Flask, session: Session, live: Contest) -> None:
    plans = Path(app.config["BANKS_PATH"]) / "contests"
    plans.mkdir(parents=True, exist_ok=True)
    plan = "title: 公开知识竞赛\nrounds:\n  - kind: everyone\n    source: {banks: [live], count: 2}\n"
    (plans / "open.yaml").write_text(plan, encoding="utf-8")
    http = app.test_client()
    login(http, "host")
    token = csrf_token(http, "/contests/")
    created = http.post("/contests/", data={"plan": "open.yaml", "allow_guests": "1", "csrf_token": token})
    assert "/host" in created.headers["Location"], created.get_data(as_text=True)[:300]
    contest = session.scalars(select(Contest).order_by(Contest.id.desc())).first()
    assert contest.allow_guests is True
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "contests.create")).all()[-1]
    assert audit.detail["allow_guests"] is True
    host = session.scalars(select(User).where(User.username == "host")).one()
    assert contest_setup.create_contest(session, host, PLAN, rng=random.Random(1)).allow_guests is False  # the default
