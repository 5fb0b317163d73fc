"""A contest that ends well, end to end: leaderboard, podium and mute over Socket.IO; the results page,
its Excel export, ending and archiving over HTTP, with who may do what."""

from __future__ import annotations

import io
from datetime import UTC
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import Contest, ContestPlayer, Role
from quizengine.realtime import protocol

from . import test_contest_socket as socket_tests
from .conftest import csrf_token, login
from .test_contest_socket import NS, _client, _command, _join, _player_client, _seat, _views

live = socket_tests.live  # the same contest fixture and cache reset as the socket tests
_fresh_caches = socket_tests._fresh_caches


def _play_to_the_end(app: Flask, live: Contest, session: Session):  # type: ignore[no-untyped-def]
    """Two players in 全员答题 (player1 right, player2 wrong), an adjustment, then the end."""
    host, projector, teams = _seat(app, live, session)
    players = [_player_client(app, live, name, team)[0] for name, team in (("player1", "t1"), ("player2", "t2"))]
    version = session.scalar(select(Contest.version).where(Contest.id == live.id))
    version = _command(host, "start", version)["version"]
    for _ in range(2):
        for name in ("next", "open", "void"):
            version = _command(host, name, version)["version"]
    for name in ("next", "next", "next", "open"):
        version = _command(host, name, version)["version"]
    question = _views(host)[-1]["view"]["question"]["id"]
    for sio, response in zip(players, ("A", "B"), strict=True):
        assert sio.emit(protocol.SUBMIT_ANSWER, {"question": question, "response": response}, namespace=NS,
                        callback=True)["ok"]  # fmt: skip
    version = _command(host, "lock", version)["version"]
    version = _command(host, "reveal", version)["version"]
    adjusted = _command(host, "adjust", version, team="t2", delta=5, reason="=评委复核补分")
    assert adjusted["ok"]
    version = adjusted["version"]
    return host, projector, teams, players, version


def test_the_leaderboard_reaches_projector_and_phones_and_survives_a_rejoin(
    app: Flask, live: Contest, session: Session
) -> None:
    _, projector, _, players, _ = _play_to_the_end(app, live, session)
    shown = next(m["view"] for m in _views(projector) if "leaderboard" in m["view"])
    assert [(row["name"], row["points"], row["place"]) for row in shown["leaderboard"]["top"]] == [
        ("测试player1", 10, 1),
        ("测试player2", 0, 2),
    ]
    phone = next(m["view"] for m in _views(players[1]) if "leaderboard" in m["view"])
    assert phone["leaderboard"]["totals"] == [[10, 1], [0, 1]] and "me" not in phone  # the same for every phone
    points = dict(session.execute(select(ContestPlayer.player, ContestPlayer.points)).all())
    assert sorted(points.values()) == [0, 10]
    _, ack = _player_client(app, live, "player2", "t2")
    assert ack["view"]["me"]["total"] == 0 and ack["view"]["me"]["rank"] == 2


def test_undo_of_an_everyone_reveal_reverts_the_players_points_and_leaderboard(
    app: Flask, live: Contest, session: Session
) -> None:
    host, projector, _, players, version = _play_to_the_end(app, live, session)
    assert _command(host, "undo", version)["ok"]  # the adjustment: no player points involved
    for sio in (projector, *players):
        sio.get_received(NS)
    undone = _command(host, "undo", version)  # the 全员答题 reveal
    assert undone["ok"]
    points = dict(session.execute(select(ContestPlayer.player, ContestPlayer.points)).all())
    assert sorted(points.values()) == [0, 0]
    shown = _views(projector)[-1]
    assert "player_points_undone" in shown["events"]
    assert [(row["name"], row["points"], row["place"]) for row in shown["view"]["leaderboard"]["top"]] == [
        ("测试player1", 0, 1),
        ("测试player2", 0, 1),
    ]
    phone = _views(players[0])[-1]
    assert "player_points_undone" in phone["events"] and phone["view"]["leaderboard"]["totals"] == [[0, 2]]
    _, ack = _player_client(app, live, "player1", "t1")
    assert ack["view"]["me"]["total"] == 0 and ack["view"]["me"]["rank"] == 1
    assert _command(host, "undo", undone["version"])["code"] == "nothing_to_undo"


def test_podium_and_mute_are_host_commands_kept_across_reconnects(app: Flask, live: Contest, session: Session) -> None:
    host, projector, teams, _, version = _play_to_the_end(app, live, session)
    early = _command(host, "podium", version)
    assert early["ok"] is False and early["code"] == "wrong_phase"  # not finished yet
    version = _command(host, "next", version)["version"]  # scoreboard
    version = _command(host, "next", version)["version"]  # finished
    device = teams["t1"][0]
    refused = device.emit(protocol.COMMAND, {"name": "podium", "version": version}, namespace=NS, callback=True)
    assert refused["ok"] is False and refused["code"] == "wrong_role"
    assert _command(host, "podium", version - 1)["code"] == "stale_version"
    version = _command(host, "podium", version)["version"]
    assert _command(host, "mute", version, muted=True)["ok"]
    stage = _views(projector)[-2]["view"]["podium"]
    assert stage["stage"] == 1 and [p["place"] for p in stage["places"]] == [3, 3]  # t3 and t4 share third
    back = _client(app)
    snapshot = _join(back, contest=live.id, role="projector", token=live.projector_token)["view"]
    assert snapshot["podium"] == stage and snapshot["muted"] is True
    _, ack = _player_client(app, live, "player1", "t1")
    assert [p["place"] for p in ack["view"]["ranking"]] == [3, 3] and "muted" not in ack["view"]


def _organizer_client(app: Flask, username: str = "host"):  # type: ignore[no-untyped-def]
    http = app.test_client()
    login(http, username)
    return http


def test_the_results_page_shows_rankings_rounds_and_every_adjustment(
    app: Flask, live: Contest, session: Session, make_user
) -> None:
    _play_to_the_end(app, live, session)
    http = _organizer_client(app)
    page = http.get(f"/contests/{live.id}/results").get_data(as_text=True)
    assert "支部知识竞赛" in page and "比赛尚未结束" in page
    assert '<th class="num">抢答题</th><th class="num">全员答题</th>' in page
    assert "=评委复核补分" in page and "+5" in page and "测试host" in page
    assert page.index("测试player1") < page.index("测试player2")
    assert "size: A4" in Path(str(app.static_folder), "css", "contest-results.css").read_text(encoding="utf-8")
    assert "contest-results.css" in page and "data-print" in page
    # who may see it: the host, an admin; not a member nor another branch's organizer
    make_user(username="member")
    make_user(Role.ORGANIZER, username="other", branch="第二党支部")
    make_user(Role.ADMIN, username="admin")
    assert _organizer_client(app, "member").get(f"/contests/{live.id}/results").status_code == 403
    assert _organizer_client(app, "other").get(f"/contests/{live.id}/results.xlsx").status_code == 403
    assert _organizer_client(app, "admin").get(f"/contests/{live.id}/results").status_code == 200
    assert http.get("/contests/999/results").status_code == 404


def test_the_excel_export_has_a_chinese_name_and_keeps_text_as_text(
    app: Flask, live: Contest, session: Session
) -> None:
    _play_to_the_end(app, live, session)
    response = _organizer_client(app).get(f"/contests/{live.id}/results.xlsx")
    assert response.status_code == 200
    day = live.created_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    name = f"支部知识竞赛-成绩-{day}.xlsx"
    assert f"filename*=UTF-8''{quote(name)}" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["队伍排名", "个人排名", "分数调整"]
    teams = list(book["队伍排名"].values)
    assert teams[0] == ("名次", "队伍", "抢答题", "全员答题", "主持人调整", "总分")
    assert teams[1] == (1, "第一队", 0, 10, 0, 110)
    assert teams[2][1] == "第二队" and teams[2][-2:] == (5, 105)
    reason = book["分数调整"]["D2"]
    assert reason.value == "=评委复核补分" and reason.data_type == "s"  # text, never a formula


def test_ending_and_archiving_an_abandoned_contest_hides_it_from_the_list(
    app: Flask, live: Contest, session: Session, make_user
) -> None:
    host, projector, _ = _seat(app, live, session)
    _command(host, "start", 0)
    http = _organizer_client(app)
    assert f'data-contest="{live.id}"' in http.get("/contests/").get_data(as_text=True)
    make_user(username="member")
    member = _organizer_client(app, "member")
    token = csrf_token(member, "/contests/")
    assert member.post(f"/contests/{live.id}/archive", data={"csrf_token": token}).status_code == 403
    token = csrf_token(http, "/contests/")
    response = http.post(f"/contests/{live.id}/archive", data={"csrf_token": token, "action": "archive"})
    assert response.status_code == 302
    session.expire_all()
    contest = session.get(Contest, live.id)
    assert contest.archived_at is not None and contest.finished_at is not None
    assert contest.state["phase"] == "finished" and contest.state["ended_early"] is True
    assert _views(projector)[-1]["view"]["phase"] == "finished"  # every screen shows the end
    listing = http.get("/contests/").get_data(as_text=True)
    assert f'data-contest="{live.id}"' not in listing and "显示已归档的竞赛" in listing
    archived = http.get("/contests/?archived=1").get_data(as_text=True)
    assert f'data-contest="{live.id}"' in archived and "取消归档" in archived
    http.post(f"/contests/{live.id}/archive", data={"csrf_token": token, "action": "restore"})
    assert f'data-contest="{live.id}"' in http.get("/contests/").get_data(as_text=True)
    page = http.get(f"/contests/{live.id}/results").get_data(as_text=True)
    assert "主持人提前结束" in page


def test_the_new_host_commands_refuse_bad_args(app: Flask, live: Contest, session: Session) -> None:
    host, projector, _ = _seat(app, live, session)
    for args in ({"muted": "yes"}, {"muted": 1}, {}, {"muted": True, "extra": 1}):
        refused = _command(host, "mute", 0, **args)
        assert refused["ok"] is False and refused["code"] == "bad_input", args
    assert _command(host, "podium", 0, stage=3)["code"] == "bad_input"
    assert _command(host, "end", 0, reason="x")["code"] == "bad_input"
    assert session.scalar(select(Contest.version).where(Contest.id == live.id)) == 0  # nothing changed
    assert _views(projector) == []
