"""A contest that ends well: whole points, the players' leaderboard, the staged podium, mute, ending early."""

from __future__ import annotations

from dataclasses import replace

import pytest

from quizengine.modes.contest import (
    Command,
    ContestError,
    ContestState,
    LiveContest,
    Phase,
    QuestionSource,
    Role,
    RoundKind,
    RoundSpec,
    TeamScoreRule,
)
from quizengine.modes.contest.points import contest_points, rank_in, team_points
from quizengine.modes.contest.standings import leaderboard
from tests.test_live_contest_engine import Driver, _contest, _plan


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (2.5, False, 3),  # half up, not banker's (round(2.5) == 2)
        (3.5, False, 4),
        (-2.5, False, -3),  # half away from zero
        (13.75, False, 14),
        (4.4999, False, 4),
        (6.875, True, 6.88),
        (2.675, True, 2.68),  # binary 2.67499… would round down
        (1 / 3, True, 0.33),
    ],
)
def test_rounding_is_half_up_to_whole_points_unless_decimals(value: float, decimals: bool, expected: float) -> None:
    assert contest_points(value, decimals) == expected


def test_team_mean_is_rounded_once_from_the_rounded_player_points() -> None:
    assert team_points([14, 0, 0], mean=True) == 5  # 4.67 -> 5
    assert team_points([14, 0, 0], mean=True, decimals=True) == 4.67
    assert team_points([13, 1], mean=True) == 7
    assert team_points([], mean=True) == 0


def test_leaderboard_is_bounded_and_gives_every_player_a_rank() -> None:
    totals = {f"p{n}": float(n % 7) for n in range(2000)}
    players = {p: {"name": f"队员{p}", "team": "t1"} for p in totals}
    board = leaderboard(totals, players, excluded=["p6"])
    assert len(board["top"]) == 10 and board["count"] == 1999
    assert [row["points"] for row in board["top"]] == [6.0] * 10 and {r["place"] for r in board["top"]} == {1}
    assert board["top"][0]["player"] == "p13"  # ties keep joining order; p6 is excluded
    assert len(board["totals"]) == 7  # one row per distinct total, not per player
    assert rank_in(6.0, board["totals"]) == 1
    assert rank_in(5.0, board["totals"]) == 1 + 284  # 285 players have 6, less the excluded p6
    assert rank_in(0.0, board["totals"]) == 1 + 1999 - 286


def _everyone_contest(**plan_changes: object) -> Driver:
    spec = RoundSpec(RoundKind.EVERYONE, "全员", QuestionSource(count=2), points=10, speed_bonus=5)
    d = Driver(_contest(replace(_plan(spec), **plan_changes), teams=2))
    for player, team in (("p1", "t1"), ("p2", "t1"), ("p3", "t2")):
        d.join(player, team)
    return d


def _answer_everyone(d: Driver, answers: dict[str, tuple[float, str]]) -> None:
    """Open the next question; each player answers after its seconds; reveal; add the points to the rows."""
    d.host("next")
    d.host("open")
    for player, (seconds, response) in sorted(answers.items(), key=lambda item: item[1][0]):
        d.clock.advance(seconds - (d.clock.now().timestamp() - d.contest.state.opened_ms / 1000))
        d.player(player, "answer", response=response)
    d.host("lock")
    d.host("reveal")
    for player, delta in d.contest.player_deltas.items():  # as the service stores them
        d.players[player]["points"] = d.players[player].get("points", 0) + delta


def test_players_leaderboard_after_each_reveal_top_on_projector_own_rank_on_phone() -> None:
    d = _everyone_contest()
    d.host("start")
    _answer_everyone(d, {"p1": (5, "A"), "p2": (10, "A"), "p3": (2, "B")})
    assert d.contest.player_deltas == {"p1": 14, "p2": 13}  # 10 + 3.75 -> 14; 10 + 2.5 -> 13; p3 wrong
    projector = d.contest.view_for(Role.PROJECTOR)["leaderboard"]
    assert [(row["player"], row["points"], row["place"]) for row in projector["top"]] == [
        ("p1", 14, 1),
        ("p2", 13, 2),
        ("p3", 0, 3),
    ]
    phones = d.contest.view_for(Role.PLAYER)  # one message for the whole players' room
    assert phones["leaderboard"]["totals"] == [[14, 1], [13, 1], [0, 1]] and "me" not in phones
    _answer_everyone(d, {"p1": (19, "B"), "p2": (1, "A"), "p3": (1, "A")})
    mine = d.contest.with_players({"p2": {**d.players["p2"], "answer": None}}).view_for(Role.PLAYER, player="p2")
    assert mine["me"]["total"] == 13 + 15 and mine["me"]["rank"] == 1  # 10 + 5 × 0.95 = 14.75 -> 15
    assert rank_in(14, mine["leaderboard"]["totals"]) == 3  # p3 has 15, p1 14


def test_undoing_an_everyone_reveal_takes_back_the_players_points_and_the_leaderboard() -> None:
    d = _everyone_contest()
    d.host("start")
    _answer_everyone(d, {"p1": (5, "A"), "p2": (10, "A"), "p3": (2, "B")})
    first = dict(d.contest.player_deltas)
    first_board = d.contest.state.leaderboard
    logged = {d.contest.player_group: first}  # what the service logs with the reveal's award group
    _answer_everyone(d, {"p1": (19, "B"), "p2": (1, "A"), "p3": (1, "A")})
    second = dict(d.contest.player_deltas)
    assert second == {"p2": 15, "p3": 15} and d.contest.player_group is not None
    logged[d.contest.player_group] = second
    d.contest.player_deltas = {}
    d.contest.undo_player_points = logged[d.contest.last_group]
    events = d.host("undo")
    assert [e.name for e in events] == ["scores", "player_points_undone"]
    assert d.contest.player_deltas == {"p2": -15, "p3": -15}
    for player, delta in d.contest.player_deltas.items():  # as the service stores them
        d.players[player]["points"] += delta
    assert d.contest.state.leaderboard == first_board  # exactly as after the first reveal
    assert d.scores() == {"t1": 100 + 14 + 13, "t2": 100}
    d.contest.undo_player_points = {}  # a scoring without players (an adjustment) takes back no player points
    d.host("adjust", team="t2", delta=3, reason="复核")
    d.contest.player_deltas = {}
    assert [e.name for e in d.host("undo")] == ["scores"] and d.contest.player_deltas == {}


def test_a_voided_question_scores_nobody() -> None:
    d = _everyone_contest()
    d.host("start")
    d.host("next")
    d.host("open")
    d.player("p1", "answer", response="A")
    d.host("void")
    assert d.contest.state.leaderboard == {} and d.contest.player_deltas == {}  # void: not scored at all


def _finished(teams: int, correct: tuple[str, ...]) -> Driver:
    plan = _plan(RoundSpec(RoundKind.COMPULSORY, "必答", QuestionSource(count=teams), points=10), prizes=1)
    d = Driver(_contest(plan, teams=teams))
    d.host("start")
    d.host("next")
    for index in range(teams):
        team = f"t{index + 1}"
        d.host("open")
        d.team(team, "answer", response="A" if team in correct else "B")
        d.host("reveal")
        d.host("next")
    d.host("next")
    return d


def test_podium_third_second_first_then_the_table_persisted_and_refused_out_of_turn() -> None:
    d = _finished(4, correct=("t1", "t2"))  # t1 t2 tie for first: 加赛
    with pytest.raises(ContestError, match="不能执行"):
        d.host("podium")  # not finished yet
    d.host("open")
    d.team("t2", "buzz")
    d.team("t2", "answer", response="A")
    d.host("next")
    assert d.phase is Phase.FINISHED
    stages = []
    for _ in range(4):
        with pytest.raises(ContestError, match="无权"):
            d.contest.handle(Command("podium", Role.PROJECTOR, d.contest.state.version), d.clock.now())
        d.host("podium")
        podium = d.contest.view_for(Role.PROJECTOR)["podium"]
        stages.append(([(p["team"], p["place"]) for p in podium["places"]], podium["done"]))
        restored = LiveContest(d.contest.plan, ContestState.from_dict(d.contest.state.to_dict()), d.contest.questions)
        assert restored.view_for(Role.PROJECTOR)["podium"] == podium  # survives a reload
    assert stages == [
        ([("t3", 3), ("t4", 3)], False),  # t3 and t4 share third
        ([("t1", 2), ("t3", 3), ("t4", 3)], False),
        ([("t2", 1), ("t1", 2), ("t3", 3), ("t4", 3)], False),
        ([("t2", 1), ("t1", 2), ("t3", 3), ("t4", 3)], True),  # then the full table
    ]
    with pytest.raises(ContestError, match="名次已全部公布"):
        d.host("podium")


def test_podium_of_two_teams_starts_at_second_and_phones_see_only_what_is_shown() -> None:
    d = _finished(2, correct=("t2",))
    assert d.contest.view_for(Role.PROJECTOR)["podium"]["next_place"] == 2
    assert d.contest.view_for(Role.TEAM, team="t1")["ranking"] == []
    d.host("podium")
    assert [p["team"] for p in d.contest.view_for(Role.TEAM, team="t1")["ranking"]] == ["t1"]
    d.host("podium")
    d.host("podium")
    assert d.contest.view_for(Role.PLAYER)["podium"]["done"]


def test_mute_is_kept_in_the_state_and_only_the_host_may_change_it() -> None:
    d = _everyone_contest()
    assert d.contest.view_for(Role.PROJECTOR)["muted"] is False
    d.host("mute", muted=True)
    assert d.contest.view_for(Role.PROJECTOR)["muted"] is True and "muted" not in d.contest.view_for(Role.PLAYER)
    assert d.host("mute", muted=True) == []  # no change, no event
    with pytest.raises(ContestError, match="请指定是否静音"):
        d.host("mute", muted="yes")
    assert ContestState.from_dict(d.contest.state.to_dict()).muted is True


def test_the_host_ends_an_abandoned_contest_from_any_phase() -> None:
    d = _everyone_contest()
    d.host("start")
    d.host("next")
    d.host("pause")
    d.host("end")
    assert d.phase is Phase.FINISHED and d.contest.state.ended_early and d.contest.state.deadline_ms is None
    with pytest.raises(ContestError, match="不能执行"):
        d.host("end")


def test_awards_remember_their_round_for_the_results_page() -> None:
    spec = RoundSpec(RoundKind.EVERYONE, "全员", QuestionSource(count=1), points=10, team_score=TeamScoreRule.SUM)
    d = Driver(_contest(_plan(RoundSpec(RoundKind.COMPULSORY, "必答", QuestionSource(count=1)), spec), teams=1))
    d.join("p1", "t1")
    d.host("start")
    d.host("next")
    d.host("open")
    d.team("t1", "answer", response="A")
    d.host("reveal")
    d.host("adjust", team="t1", delta=-2, reason="超时")
    assert [(a.round, a.delta) for a in d.contest.state.awards] == [(0, 10), (0, -2)]
