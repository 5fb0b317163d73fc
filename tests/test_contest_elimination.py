"""一站到底 (elimination) in the state machine: turns, going out, the last one standing, players on phones."""

from __future__ import annotations

import json

import pytest

from quizengine.modes.contest import (
    Command,
    ContestError,
    ContestState,
    LiveContest,
    Phase,
    QuestionSource,
    Role,
    RoundSpec,
    round_type,
)

from .test_live_contest_engine import Driver, _contest, _plan


def _round(count: int = 5, contestants: str = "teams", win: float = 30, **kwargs) -> RoundSpec:  # type: ignore[no-untyped-def]
    extra = (("contestants", contestants), ("win_points", win))
    return RoundSpec("elimination", "一站到底", QuestionSource(count=count), extra=extra, **kwargs)


def _started(spec: RoundSpec, teams: int = 3, players: tuple[tuple[str, str], ...] = ()) -> Driver:
    d = Driver(_contest(_plan(spec), teams=teams))
    for player, team in players:
        d.join(player, team)
    d.host("start")
    assert d.phase is Phase.ROUND_INTRO
    return d


def _standing(d: Driver, role: Role = Role.PROJECTOR) -> dict:
    return d.contest.view_for(role)["standing"]


def _status(d: Driver) -> dict[str, str]:
    entries = _standing(d)["entries"]
    return {e["id"]: "out" if e["out"] else "won" if e["won"] else "turn" if e["turn"] else "in" for e in entries}


def test_teams_answer_in_turn_and_the_last_one_standing_wins() -> None:
    d = _started(_round())
    assert _status(d) == {"t1": "in", "t2": "in", "t3": "in"}
    assert round_type("elimination").rules(d.contest.round_spec()) == (
        "各队依次作答，答错或超时即出局；最后留在场上的队伍（或5题后仍在场上的）各得30分"
    )
    d.host("next")
    assert d.phase is Phase.READING and d.contest.state.team_on_turn == "t1"
    assert _status(d)["t1"] == "turn"
    d.host("open")
    with pytest.raises(ContestError, match="现在不是本队作答"):
        d.team("t2", "answer", response="A")
    d.team("t1", "answer", response="A")
    d.host("reveal")
    assert _status(d) == {"t1": "turn", "t2": "in", "t3": "in"} and d.scores()["t1"] == 100
    d.host("next")
    assert d.contest.state.team_on_turn == "t2"
    d.host("open")
    d.team("t2", "answer", response="B")  # wrong: out
    d.host("reveal")
    assert _status(d)["t2"] == "out" and _standing(d)["left"] == 2
    d.host("next")
    assert d.contest.state.team_on_turn == "t3"
    d.host("open")
    d.clock.advance(20)
    d.system("tick")  # time up: locked without an answer
    assert d.phase is Phase.LOCKED
    d.host("reveal")  # no answer is a wrong answer: t3 out, t1 is the last one standing
    assert _status(d) == {"t1": "won", "t2": "out", "t3": "out"}
    assert d.scores() == {"t1": 130, "t2": 100, "t3": 100}
    assert _standing(d)["title"] == "一站到底胜出"
    d.host("next")  # decided: no fourth question
    assert d.phase is Phase.SCOREBOARD and d.scores()["t1"] == 130  # scored once


def test_turns_skip_who_is_out_and_everyone_left_after_the_last_question_wins() -> None:
    d = _started(_round(count=4), teams=3)
    answers = {"t1": "B", "t2": "A", "t3": "A"}  # t1 goes out on its first question
    for team in ("t1", "t2", "t3", "t2"):
        d.host("next")
        assert d.contest.state.team_on_turn == team
        d.host("open")
        d.team(team, "answer", response=answers[team])
        d.host("reveal")
    assert _status(d) == {"t1": "out", "t2": "won", "t3": "won"}
    assert d.scores() == {"t1": 100, "t2": 130, "t3": 130}
    d.host("next")
    assert d.phase is Phase.SCOREBOARD


def test_a_voided_question_does_not_count_the_same_team_answers_again() -> None:
    d = _started(_round(count=3))
    d.host("next")
    d.host("void")
    assert _status(d)["t1"] == "turn" and d.phase is Phase.REVEALED
    d.host("next")
    assert d.contest.state.team_on_turn == "t1"  # not t2: the voided question did not count
    d.host("open")
    d.team("t1", "answer", response="A")
    d.host("reveal")
    d.host("next")
    d.host("void")  # the last question voided: the round still ends with its winners
    d.host("next")
    assert d.phase is Phase.SCOREBOARD
    assert _status(d) == {"t1": "won", "t2": "won", "t3": "won"}
    assert d.scores() == {"t1": 130, "t2": 130, "t3": 130}


def test_the_host_judges_an_oral_answer_and_undo_takes_the_points_back() -> None:
    d = _started(_round(count=3, judged_by="host"), teams=2)
    d.host("next")
    d.host("open")
    d.host("judge", correct=False)  # t1 out, t2 the last one standing
    assert _status(d) == {"t1": "out", "t2": "won"} and d.scores()["t2"] == 130
    d.host("undo")
    assert d.scores()["t2"] == 100 and _status(d)["t1"] == "out"  # the points, not the elimination


def test_players_answer_in_turn_on_their_phones() -> None:
    players = (("p1", "t1"), ("p2", "t2"), ("p3", "t1"))
    d = _started(_round(count=6, contestants="players", win=20), teams=2, players=players)
    assert [e["name"] for e in _standing(d)["entries"]] == ["p1", "p2", "p3"]
    assert _standing(d)["title"] == "场上选手"
    d.join("late", "t2")  # joined after the round began: not a contestant
    d.host("next")
    assert d.contest.state.team_on_turn is None
    view = d.contest.view_for(Role.PLAYER)
    assert view["turn"] == {"id": "p1", "name": "p1", "team": "t1"}
    d.host("open")
    with pytest.raises(ContestError, match="一站到底由轮到的队员用手机作答"):
        d.team("t1", "answer", response="A")
    with pytest.raises(ContestError, match="现在不是你作答"):
        d.player("p2", "answer", response="A")
    assert round_type("elimination").player_answers_are_commands(d.contest)
    me = d.contest.view_for(Role.PLAYER, player="p1")["me"]
    other = d.contest.view_for(Role.PLAYER, player="p2")["me"]
    assert me["can_answer"] is True and other["can_answer"] is False
    d.player("p1", "answer", response="A")
    assert d.phase is Phase.LOCKED and d.contest.answered_key == "player:p1"
    d.host("reveal")
    d.host("next")
    d.host("open")
    d.player("p2", "answer", response="C")  # wrong: p2 out
    d.host("reveal")
    d.host("next")
    assert d.contest.view_for(Role.PLAYER)["turn"]["id"] == "p3"
    d.host("open")
    d.player("p3", "answer", response="D")  # wrong: p3 out, p1 the last one standing
    d.host("reveal")
    assert _status(d) == {"p1": "won", "p2": "out", "p3": "out"}
    assert d.contest.player_deltas == {"p1": 20} and d.scores() == {"t1": 120, "t2": 100}
    assert d.contest.state.leaderboard["top"][0]["player"] == "p1"


def test_a_round_with_one_contestant_is_decided_at_once() -> None:
    d = _started(_round(contestants="players"), teams=2, players=(("p1", "t2"),))
    d.host("next")
    assert d.phase is Phase.SCOREBOARD and d.contest.state.question is None
    assert d.scores() == {"t1": 100, "t2": 130} and d.contest.player_deltas == {"p1": 30}


def test_kicked_teams_do_not_take_part_and_a_kicked_teams_turn_is_refused() -> None:
    d = Driver(_contest(_plan(_round(count=4)), teams=3))
    d.host("kick", participant="t2")  # the line-up is fixed when the round starts
    d.host("start")
    d.host("next")
    assert [e["id"] for e in _standing(d)["entries"]] == ["t1", "t3"]
    d.host("readmit", participant="t2")
    d.host("kick", participant="t1")  # kicked while on turn: its answer is refused, the reveal puts it out
    d.host("open")
    with pytest.raises(ContestError, match="移出"):
        d.team("t1", "answer", response="A")
    d.host("reveal")
    assert _status(d) == {"t1": "out", "t3": "won"}


def test_the_round_survives_a_restart_mid_question() -> None:
    d = _started(_round(count=5, contestants="players"), teams=2, players=(("p1", "t1"), ("p2", "t2")))
    d.host("next")
    d.host("open")
    stored = json.loads(json.dumps(d.contest.state.to_dict()))
    again = LiveContest(d.contest.plan, ContestState.from_dict(stored), d.contest.questions, d.players)
    at = d.clock.now()
    again.handle(
        Command("answer", Role.PLAYER, player="p1", args={"question": again.state.question, "response": "B"}), at
    )
    again.handle(Command("reveal", Role.HOST, again.state.version), at)
    assert again.view_for(Role.PROJECTOR)["standing"]["entries"][0]["out"] is True
    assert again.scores() == {"t1": 100, "t2": 130}


def test_every_role_sees_who_is_standing_and_no_one_sees_the_key_early() -> None:
    d = _started(_round(count=3), teams=2)
    d.host("next")
    for role, who in ((Role.PROJECTOR, {}), (Role.TEAM, {"team": "t2"}), (Role.PLAYER, {})):
        view = d.contest.view_for(role, **who)
        assert view["standing"]["left"] == 2 and "answer" not in view["question"]
    assert d.contest.view_for(Role.TEAM, team="t1")["me"]["my_turn"] is True
    assert "answer" in d.contest.view_for(Role.HOST)["question"]
