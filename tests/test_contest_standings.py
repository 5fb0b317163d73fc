"""A 全员答题 reveal moves the standings on from the players it scored (standings.py), and ends exactly where a
recount from every player ends: every reveal of whole contests — team and 个人赛 plans, sums and means, whole
and decimal points, speed bonuses and ties, late joiners and late answers, kicks and readmissions, voided
questions, the host's adjustments and undos — is applied twice, once seeing every player and once seeing only
those the service hands a reveal, and the two must leave the same state, deltas and award group."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from quizengine.modes.contest import (
    ContestError,
    ContestState,
    LiveContest,
    Phase,
    QuestionSource,
    RoundKind,
    RoundSpec,
    TeamScoreRule,
)
from quizengine.modes.contest.points import LEADERBOARD_TOP
from quizengine.modes.contest.standings import RosterCounts, recount
from tests.test_live_contest_engine import QUESTIONS, Driver, _contest, _plan

QUESTION_COUNT = 12


def _concerned(d: Driver) -> dict[str, dict]:
    """The players the service loads for an incremental reveal: answered, kicked, current top ten."""
    state = d.contest.state
    wanted = {key.removeprefix("player:") for key in state.answers if key.startswith("player:")}
    wanted |= set(state.kicked) | {row["player"] for row in state.leaderboard.get("top", [])}
    return {p: dict(info) for p, info in d.players.items() if p in wanted}


def _counts(d: Driver) -> RosterCounts:
    """What the service counts in SQL: players joined, and per team those joined before the question."""
    before: dict[str, int] = {}
    for info in d.players.values():
        if info["joined_seq"] < d.contest.state.question_seq:
            before[info["team"]] = before.get(info["team"], 0) + 1
    return RosterCounts(len(d.players), before)


def _reveal_twice(d: Driver, stats: dict[str, int]) -> None:
    """Reveal seeing every player and, when the standings allow, seeing only the concerned ones: same result."""
    snapshot = d.contest.state.to_dict()
    full = LiveContest(d.contest.plan, ContestState.from_dict(snapshot), QUESTIONS, dict(d.players))
    full.handle(_host_command(d, "reveal"), d.clock.now())
    if LiveContest(d.contest.plan, ContestState.from_dict(snapshot), QUESTIONS).scoring_needs_every_player():
        stats["recounted"] += 1
        chosen = full
    else:
        partial = LiveContest(d.contest.plan, ContestState.from_dict(snapshot), QUESTIONS, _concerned(d), _counts(d))
        partial.handle(_host_command(d, "reveal"), d.clock.now())
        assert partial.state.to_dict() == full.state.to_dict()
        assert partial.player_deltas == full.player_deltas and list(partial.player_deltas) == list(full.player_deltas)
        assert partial.player_group == full.player_group
        stats["incremental"] += 1
        chosen = partial
    for player, delta in chosen.player_deltas.items():  # as the service stores them
        d.players[player]["points"] = d.players[player]["points"] + delta
    d.logged[chosen.player_group] = dict(chosen.player_deltas)
    d.contest = LiveContest(d.contest.plan, chosen.state, QUESTIONS, d.players)
    _assert_recounted(d)


def _host_command(d: Driver, name: str):  # type: ignore[no-untyped-def]
    from quizengine.modes.contest import Command, Role

    return Command(name, Role.HOST, d.contest.state.version)


def _assert_recounted(d: Driver) -> None:
    """The standings in the state are those of a recount from every player's stored points."""
    state = d.contest.state
    if state.player_table is None:
        return
    board, table = recount(d.players, {}, state.kicked)
    assert state.leaderboard == board
    assert state.player_table == table


def _play(seed: int, individual: bool, mean: bool, decimals: bool) -> dict[str, int]:
    rng = random.Random(seed)
    spec = RoundSpec(
        RoundKind.EVERYONE,
        "全员答题",
        QuestionSource(count=QUESTION_COUNT),
        points=10,
        speed_bonus=rng.choice([0, 3, 5]),
        team_score=TeamScoreRule.MEAN if mean else TeamScoreRule.SUM,
    )
    plan = replace(_plan(spec), individual=individual, decimals=decimals)
    d = Driver(_contest(plan, teams=1 if individual else 3))
    d.logged = {}  # type: ignore[attr-defined]
    teams = d.contest.team_ids()
    stats = {"recounted": 0, "incremental": 0}

    def join(count: int) -> None:
        for _ in range(count):
            player = f"p{len(d.players) + 1}"
            d.join(player, rng.choice(teams))
            d.players[player]["points"] = 0.0
            d.players[player]["name"] = f"队员{player}"

    join(25)
    d.host("start")
    for _ in range(QUESTION_COUNT):
        d.host("next")
        if rng.random() < 0.3:
            join(rng.randint(1, 6))  # late joiners: they answer from the next question on
        d.host("open")
        share = rng.choice([0.1, 0.3, 0.9])  # some questions only a few answer: the top ten then stands
        answering = [p for p in d.players if rng.random() < share]
        rng.shuffle(answering)
        for player in answering:
            d.clock.advance(rng.choice([0, 0.5, 1, 2.5, 7]))  # the same instants: ties in the speed bonus
            try:
                d.player(player, "answer", response=rng.choice("AAAB"))
            except ContestError as error:
                assert error.code in {"late_joiner", "kicked", "wrong_phase"}
        action = rng.random()
        if action < 0.1:
            d.host("void")  # voided: nobody scores, the standings stay
        else:
            d.host("lock")
            try:  # a late answer changes nothing
                d.player(next(iter(d.players)), "answer", response="A")
            except ContestError as error:
                assert error.code in {"wrong_phase", "kicked", "duplicate"}
            _reveal_twice(d, stats)
        _between_questions(d, rng, individual)
    d.host("next")
    assert d.contest.state.phase is Phase.SCOREBOARD
    return stats


def _between_questions(d: Driver, rng: random.Random, individual: bool) -> None:
    """What the host may do after a reveal: kick or readmit a player, adjust a team's score, undo."""
    action = rng.random()
    if action < 0.15:
        d.host("kick", participant=rng.choice(list(d.players)))  # often a leader: its place goes to the 11th
    elif action < 0.25 and d.contest.state.kicked:
        d.host("readmit", participant=rng.choice(d.contest.state.kicked))
    elif action < 0.35 and not individual:
        d.host("adjust", team=rng.choice(d.contest.team_ids()), delta=rng.choice([-5, 3, 7.5]), reason="复核")
    elif action < 0.45 and d.contest.state.awards:
        d.contest.undo_player_points = d.logged.get(d.contest.last_group, {})  # type: ignore[attr-defined]
        d.host("undo")  # the service loads every player for an undo: a recount
        for player, delta in d.contest.player_deltas.items():
            d.players[player]["points"] += delta
        d.contest.player_deltas, d.contest.undo_player_points = {}, {}
        _assert_recounted(d)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("individual", "mean", "decimals"),
    [(False, False, False), (False, True, False), (False, True, True), (True, False, False), (True, False, True)],
)
def test_incremental_standings_equal_a_full_recount_over_whole_contests(
    seed: int, individual: bool, mean: bool, decimals: bool
) -> None:
    stats = _play(seed, individual, mean, decimals)
    assert stats["incremental"] >= 3  # most reveals moved the standings on; a few recounted
    assert stats["recounted"] >= 1


def test_a_reveal_sees_only_the_players_it_concerns_once_ten_are_ranked() -> None:
    d = Driver(_contest(_plan(RoundSpec(RoundKind.EVERYONE, "全员", QuestionSource(count=3), points=10)), teams=2))
    for n in range(1, 31):
        d.join(f"p{n}", "t1" if n % 2 else "t2")
        d.players[f"p{n}"]["points"] = 0.0
    assert d.contest.scoring_needs_every_player()  # nothing counted yet
    d.host("start")
    d.host("next")
    d.host("open")
    d.player("p5", "answer", response="A")
    d.host("lock")
    d.host("reveal")  # sees everyone: the first count
    assert len(d.contest.state.leaderboard["top"]) == LEADERBOARD_TOP
    assert not d.contest.scoring_needs_every_player()
    d.host("kick", participant="p5")
    assert d.contest.scoring_needs_every_player()  # the leader left: the 11th moves up, only a recount knows
