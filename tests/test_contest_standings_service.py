"""Through the services and the database: a 全员答题 reveal loads only the players who answered, the kicked and the
top ten (with counts from SQL), and leaves the standings and team points a recount from every row gives."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import Contest, ContestEvent, ContestPlayer, Role
from quizengine.modes.contest import (
    Command,
    ContestPlan,
    ContestState,
    QuestionSource,
    RoundKind,
    RoundSpec,
    TeamScoreRule,
    TieBreak,
)
from quizengine.modes.contest import Role as ContestRole
from quizengine.modes.contest.points import team_points
from quizengine.modes.contest.standings import recount
from quizengine.services import contest_answers, contest_commands, contest_setup

from . import test_contest_socket as socket_tests

_fresh_caches = socket_tests._fresh_caches

PLAN = ContestPlan(
    "支部知识竞赛",
    (
        RoundSpec(
            RoundKind.EVERYONE,
            "全员答题",
            QuestionSource(count=8),
            points=10,
            speed_bonus=5,
            team_score=TeamScoreRule.MEAN,
        ),
    ),
    base_score=100,
    tie_break=TieBreak.TIME,
)


@pytest.fixture
def contest(app: Flask, runner: FlaskCliRunner, session: Session, make_user, tmp_path: Path) -> Contest:  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["banks", "load", str(socket_tests._bank(tmp_path))]).exit_code == 0
    host = make_user(Role.ORGANIZER, username="host")
    return contest_setup.create_contest(session, host, PLAN, rng=random.Random(3))


def test_reveals_load_only_the_players_they_concern_and_match_a_full_recount(
    app: Flask, session: Session, contest: Contest, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    loads: list[set[str] | None] = []
    load_players = contest_commands.load_players

    def spy(session: Session, contest_id: int, only: set[str] | None = None) -> dict:
        loads.append(only)
        return load_players(session, contest_id, only)

    monkeypatch.setattr(contest_commands, "load_players", spy)
    monkeypatch.setattr(contest_commands, "_CHUNK", 5)  # the players of a reveal are read in several chunks
    version = 0

    def command(name: str, **args: object) -> None:
        nonlocal version
        sent = Command(name, ContestRole.HOST, version, args=args)
        version = contest_commands.apply_command(session, contest.id, sent).machine.state.version

    def join(count: int, seq: int) -> None:
        start = session.query(ContestPlayer).count()
        for n in range(start, start + count):
            team = rng.choice(["t1", "t2", "t3"])
            row = ContestPlayer(contest_id=contest.id, player=f"g{n:03}", team=team, name=f"来宾{n}", joined_seq=seq)
            session.add(row)  # as a join stores it
        session.commit()

    join(24, 0)
    command("start")
    for number in range(8):
        command("next")
        state = ContestState.from_dict(session.get(Contest, contest.id, populate_existing=True).state)
        if number in (2, 5):
            join(3, state.question_seq)  # late joiners: not eligible for this question, counted from the next
        command("open")
        question = state.question
        players = list(contest_commands.load_players(session, contest.id))
        for player in rng.sample(players, rng.randint(2, 12)):
            try:
                contest_answers.submit_player_answer(session, contest.id, player, None, question, rng.choice("AAB"))
            except Exception as error:  # a late joiner or a kicked player is refused
                assert getattr(error, "code", "") in {"late_joiner", "kicked"}
        loads.clear()
        command("reveal")
        incremental = number >= 1 and number != 4  # after the first count, except right after the kick below
        assert (loads == [] or all(only is not None for only in loads)) is incremental
        _assert_matches_a_recount(session, contest)
        if number == 3:
            leader = ContestState.from_dict(session.get(Contest, contest.id).state).leaderboard["top"][0]["player"]
            command("kick", participant=leader)  # the next reveal recounts: the 11th moves into the top ten


def _assert_matches_a_recount(session: Session, contest: Contest) -> None:
    """The stored standings are a recount of every player's stored points; the reveal's team points are the
    means over every player who could answer (those who did not score 0)."""
    session.expire_all()
    state = ContestState.from_dict(session.get(Contest, contest.id).state)
    players = contest_commands.load_players(session, contest.id)
    board, table = recount(players, {}, state.kicked)
    assert state.leaderboard == board and state.player_table == table
    event = session.scalars(
        select(ContestEvent).where(ContestEvent.contest_id == contest.id).order_by(ContestEvent.version.desc())
    ).first()
    assert event is not None and event.command == "reveal"
    deltas = event.detail.get("player_points", {})
    group = [award for award in state.awards if award.question == state.question]
    for award in group:
        eligible = [
            p for p, info in players.items()
            if info["team"] == award.team and info["joined_seq"] < state.question_seq and p not in state.kicked
        ]  # fmt: skip
        assert award.delta == team_points([float(deltas.get(p, 0.0)) for p in eligible], mean=True)
    assert {award.team for award in group} == {
        info["team"] for p, info in players.items() if p in deltas
    }  # every team with a scorer, no other
