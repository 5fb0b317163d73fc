"""个人赛 (individual contest): the plan's rules, and the machine ranking players instead of teams."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.banks.contest_plan import PlanLoadError, load_plan, plan_from_mapping
from quizengine.engine.questions import Option, Question
from quizengine.engine.timing import FakeClock
from quizengine.models import ContestResult
from quizengine.models import Role as UserRole
from quizengine.modes.contest import (
    Command,
    ContestError,
    ContestState,
    LiveContest,
    Phase,
    Role,
    plan_from_dict,
    plan_to_dict,
)
from quizengine.realtime import protocol
from quizengine.services import contest_setup

from .conftest import login
from .test_contest_socket import NS, _bank, _client, _command, _fresh_caches, _join, _views  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "question_banks" / "contests" / "xiaowenda.yaml"
OPTIONS = tuple(Option(key, text) for key, text in zip("AB", ("甲", "乙"), strict=True))
QUESTIONS = {f"q{n}": Question(f"q{n}", "single", f"题目{n}", "A", options=OPTIONS) for n in range(5)}


def _plan(**top: object) -> dict:
    return {
        "title": "小问答",
        "individual": True,
        "rounds": [{"kind": "everyone", "source": {"count": 3}, "points": 10}],
        **top,
    }


def _messages(mapping: dict) -> list[str]:
    with pytest.raises(PlanLoadError) as caught:
        plan_from_mapping(mapping)
    return [problem.message for problem in caught.value.problems]


def test_the_shipped_template_is_an_individual_plan_of_one_everyone_round() -> None:
    plan = load_plan(TEMPLATE).plan
    assert plan.individual and plan.teams == () and plan.tie_break_source.count == 0
    [spec] = plan.rounds
    assert spec.kind == "everyone" and 5 <= spec.source.count <= 10
    assert plan_from_dict(plan_to_dict(plan)) == plan  # stored with the contest, read back alike


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ({"teams": ["甲队", "乙队"]}, "个人赛没有队伍，每位参加者用自己的手机作答，请删去 teams"),
        ({"base_score": 100}, "个人赛按每人的得分排名，没有队伍基础分，请删去 base_score"),
        ({"tie_break": "time"}, "个人赛同分者名次并列，不加赛，请删去 tie_break"),
        ({"tie_break_source": {"count": 3}}, "个人赛同分者名次并列，不加赛，请删去 tie_break_source"),
        ({"individual": "yes"}, "应为 true 或 false"),
    ],
)
def test_an_individual_plan_refuses_what_belongs_to_teams(top: dict, expected: str) -> None:
    assert any(expected in message for message in _messages(_plan(**top)))


@pytest.mark.parametrize(
    "round_",
    [
        {"kind": "compulsory", "source": {"count": 2}},
        {"kind": "buzzer", "source": {"count": 2}},
        {"kind": "elimination", "source": {"count": 2}},  # contestants: teams (the default)
    ],
)
def test_an_individual_plan_plays_only_rounds_answered_on_each_phone(round_: dict) -> None:
    messages = _messages(_plan(rounds=[round_]))
    assert any("个人赛没有队伍，每一轮都要由每人用自己的手机作答" in message for message in messages)


def test_players_taking_turns_may_play_an_individual_plan() -> None:
    plan = plan_from_mapping(_plan(rounds=[{"kind": "elimination", "contestants": "players", "source": {"count": 3}}]))
    assert plan.individual


class Quiz:
    """The machine of a 个人赛 with the players' rows kept here, as the service keeps them."""

    def __init__(self) -> None:
        plan = plan_from_mapping(_plan())
        state = ContestState(teams=[{"id": "t1", "name": "全体", "color": ""}], rounds=[["q0", "q1", "q2"]])
        self.m = LiveContest(plan, state, QUESTIONS)
        self.players: dict[str, dict] = {}
        self.m.players = self.players
        self.clock = FakeClock()

    def join(self, player: str, team: object = None) -> None:
        self.players[player] = {**self.m.new_player(player, team, f"党员{player}"), "points": 0.0}

    def host(self, name: str, **args: object) -> None:
        self.m.handle(Command(name, Role.HOST, self.m.state.version, args=args), self.clock.now())
        for player, delta in self.m.player_deltas.items():  # the service adds a reveal's points to the rows
            self.players[player]["points"] += delta
        self.m.player_deltas = {}

    def answer(self, player: str, response: str) -> None:
        command = Command(
            "answer", Role.PLAYER, player=player, args={"question": self.m.state.question, "response": response}
        )
        self.m.handle(command, self.clock.now())

    def question(self, answers: dict[str, str]) -> None:
        self.host("next")
        self.host("open")
        for player, response in answers.items():
            self.answer(player, response)
        self.host("reveal")


def test_players_join_without_a_team_and_are_ranked_one_by_one_with_shared_places() -> None:
    quiz = Quiz()
    for player in ("1", "2", "3", "4"):
        quiz.join(player, "t7" if player == "2" else None)  # whatever a phone sends, there is no team to pick
    assert {info["team"] for info in quiz.players.values()} == {"t1"}
    quiz.host("start")
    assert "按个人累计得分排名" in quiz.m.view_for(Role.PROJECTOR)["round"]["rules"]
    quiz.question({"1": "A", "2": "A", "3": "B"})
    quiz.question({"1": "A", "2": "A", "3": "A", "4": "B"})
    quiz.question({"1": "A", "2": "B", "3": "A"})
    # 1: 30, 2: 20, 3: 20, 4: 0 — 2 and 3 share second place, 4 is fourth
    view = quiz.m.view_for(Role.HOST)
    assert view["individual"] is True
    assert [(row["name"], row["place"], row["score"]) for row in view["ranking"]] == [
        ("党员1", 1, 30.0), ("党员2", 2, 20.0), ("党员3", 2, 20.0), ("党员4", 4, 0.0)
    ]  # fmt: skip
    quiz.host("next")  # the scoreboard
    quiz.host("next")  # no 加赛 in a 个人赛, whatever the ties: finished
    assert quiz.m.state.phase is Phase.FINISHED
    quiz.host("podium")  # place 3 is held by nobody: second place first
    podium = quiz.m.view_for(Role.PROJECTOR)["podium"]
    assert [(row["player"], row["name"], row["place"]) for row in podium["places"]] == [
        ("2", "党员2", 2),
        ("3", "党员3", 2),
    ]
    quiz.host("podium")
    quiz.host("podium")  # the full table
    phone = quiz.m.view_for(Role.PLAYER)
    assert phone["podium"]["done"] and [row["player"] for row in phone["ranking"]] == ["1", "2", "3", "4"]
    with pytest.raises(ContestError, match="名次已全部公布"):
        quiz.host("podium")


def test_an_individual_contest_has_no_team_scores_to_adjust_and_no_team_to_remove() -> None:
    quiz = Quiz()
    quiz.join("1")
    quiz.host("start")
    version = quiz.m.state.version
    with pytest.raises(ContestError, match="个人赛按每人的得分排名，没有队伍分数可以调整"):
        quiz.host("adjust", team="t1", delta=5, reason="补记")
    with pytest.raises(ContestError, match="没有这个参赛者"):
        quiz.host("kick", participant="t1")
    assert quiz.m.state.version == version
    quiz.host("kick", participant="1")  # a player may still be removed
    assert quiz.m.state.kicked == ["1"]


# --- over the real socket path ------------------------------------------------------------------------


def test_an_individual_contest_over_sockets_ranks_members_and_records_their_own_places(
    app: Flask,
    runner: FlaskCliRunner,
    session: Session,
    make_user,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    assert runner.invoke(args=["banks", "load", str(_bank(tmp_path))]).exit_code == 0
    host_user = make_user(UserRole.ORGANIZER, username="host")
    members = [make_user(username=f"m{n}", name=f"党员{n}") for n in range(3)]
    plan = plan_from_mapping(_plan(rounds=[{"kind": "everyone", "source": {"count": 2}, "points": 10}]))
    contest = contest_setup.create_contest(session, host_user, plan, rng=random.Random(1))
    assert contest.teams == []  # no team devices to join

    host_http = app.test_client()
    login(host_http, "host")
    host = _client(app, host_http)
    assert _join(host, contest=contest.id, role="host")["ok"]
    assert 'id="team-qr" hidden' in host_http.get(f"/contests/{contest.id}/host").get_data(as_text=True)
    projector = _client(app)
    assert _join(projector, contest=contest.id, role="projector", token=contest.projector_token)["ok"]
    assert _join(_client(app), contest=contest.id, role="team", code="123456")["code"] == "bad_code"
    phones = []
    for member in members:
        http = app.test_client()
        login(http, member.username)
        assert "个人赛：不分队" in http.get(f"/contests/play?pin={contest.pin}").get_data(as_text=True)
        phone = _client(app, http)
        joined = _join(phone, pin=contest.pin, role="player")  # no team asked for
        assert joined["ok"] and joined["view"]["individual"] is True
        phones.append(phone)

    version = _command(host, "start", 0)["version"]
    for answers in (("A", "A", "B"), ("A", "B", "B")):
        version = _command(host, "next", version)["version"]
        version = _command(host, "open", version)["version"]
        question = _views(projector)[-1]["view"]["question"]["id"]
        for phone, response in zip(phones, answers, strict=True):
            ack = phone.emit(
                protocol.SUBMIT_ANSWER, {"question": question, "response": response}, namespace=NS, callback=True
            )
            assert ack["ok"], ack
        version = _command(host, "reveal", version)["version"]
    refused = _command(host, "adjust", version, team="t1", delta=5, reason="补记")
    assert refused["ok"] is False and "个人赛" in refused["message"]
    board = _views(projector)[-1]["view"]["leaderboard"]
    assert [(row["name"], row["place"], row["points"]) for row in board["top"]] == [
        ("党员0", 1, 20.0), ("党员1", 2, 10.0), ("党员2", 3, 0.0)
    ]  # fmt: skip
    version = _command(host, "next", version)["version"]  # scoreboard
    version = _command(host, "next", version)["version"]  # finished, no 加赛
    finished = _views(projector)[-1]["view"]
    assert finished["phase"] == "finished" and [row["name"] for row in finished["ranking"]] == [
        "党员0",
        "党员1",
        "党员2",
    ]

    results = session.scalars(select(ContestResult).where(ContestResult.contest_id == contest.id)).all()
    rows = sorted((r.user_id, r.team_name, r.team_place, r.team_score, r.correct) for r in results)
    assert rows == [(m.id, "个人赛", n + 1, 20.0 - 10 * n, 2 - n) for n, m in enumerate(members)]
    page = host_http.get(f"/contests/{contest.id}/results").get_data(as_text=True)
    assert 'id="team-results"' not in page and "党员0" in page
    workbook = load_workbook(io.BytesIO(host_http.get(f"/contests/{contest.id}/results.xlsx").data))
    assert workbook.sheetnames == ["个人排名"]
    assert [[c.value for c in row] for row in workbook["个人排名"].iter_rows()][:2] == [
        ["名次", "姓名", "得分", "作答题数", "答对题数"],
        [1, "党员0", 20, 2, 2],
    ]
