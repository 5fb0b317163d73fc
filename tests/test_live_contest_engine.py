"""The live-contest state machine: every round kind and edge, with a fake clock and no app."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from quizengine.engine.questions import Option, Question
from quizengine.engine.timing import FakeClock
from quizengine.modes.contest import (
    Command,
    ContestError,
    ContestPlan,
    ContestState,
    FoulRule,
    LiveContest,
    Phase,
    QuestionSource,
    Role,
    RoundKind,
    RoundSpec,
    TeamScoreRule,
    TieBreak,
)

OPTIONS = tuple(Option(key, text) for key, text in zip("ABCD", ("甲", "乙", "丙", "丁"), strict=True))
QUESTIONS = {
    f"q{n}": Question(f"q{n}", "single", f"题目{n}", "A", options=OPTIONS, explanation=f"解析{n}", reference="《章程》")
    for n in range(40)
}
SOURCE = QuestionSource(count=2)


def _plan(*rounds: RoundSpec, tie_break: TieBreak = TieBreak.BUZZER, prizes: int = 1) -> ContestPlan:
    return ContestPlan("支部知识竞赛", rounds, base_score=100, tie_break=tie_break, prizes=prizes)


def _contest(plan: ContestPlan, teams: int = 3) -> LiveContest:
    pool = iter(sorted(QUESTIONS))
    rounds = [[next(pool) for _ in range(spec.source.count or 1)] for spec in plan.rounds]
    risk = {
        str(index): {str(value): [next(pool), next(pool)] for value in spec.risk_values}
        for index, spec in enumerate(plan.rounds)
        if spec.kind is RoundKind.RISK
    }
    state = ContestState(
        teams=[{"id": f"t{n}", "name": f"第{n}队", "color": ""} for n in range(1, teams + 1)],
        rounds=rounds,
        risk_pools=risk,
        tie_pool=[next(pool), next(pool), next(pool)],
    )
    return LiveContest(plan, state, QUESTIONS)


class Driver:
    """Sends commands the way the service does: host commands carry the version the host saw."""

    def __init__(self, contest: LiveContest) -> None:
        self.contest = contest
        self.clock = FakeClock()
        self.players: dict[str, dict] = {}
        contest.players = self.players  # the service's rows, kept here

    def host(self, name: str, **args):  # type: ignore[no-untyped-def]
        return self.contest.handle(Command(name, Role.HOST, self.contest.state.version, args=args), self.clock.now())

    def team(self, team: str, name: str, **args):  # type: ignore[no-untyped-def]
        args.setdefault("question", self.contest.state.question)
        return self.contest.handle(Command(name, Role.TEAM, team=team, args=args), self.clock.now())

    def player(self, player: str, name: str, **args):  # type: ignore[no-untyped-def]
        args.setdefault("question", self.contest.state.question)
        return self.contest.handle(Command(name, Role.PLAYER, player=player, args=args), self.clock.now())

    def join(self, player: str, team: str):  # type: ignore[no-untyped-def]
        version = self.contest.state.version
        record = self.players[player] = self.contest.new_player(player, team, player)
        assert self.contest.state.version == version  # a join never touches the state
        return record

    def system(self, name: str, **args):  # type: ignore[no-untyped-def]
        return self.contest.handle(Command(name, Role.SYSTEM, args=args), self.clock.now())

    @property
    def phase(self) -> Phase:
        return self.contest.state.phase

    def scores(self) -> dict[str, float]:
        return self.contest.scores()


def test_compulsory_round_each_team_in_turn_no_deduction() -> None:
    d = Driver(_contest(_plan(RoundSpec(RoundKind.COMPULSORY, "必答题", QuestionSource(count=3), points=10))))
    d.host("start")
    assert d.phase is Phase.ROUND_INTRO
    d.host("next")
    assert d.phase is Phase.READING and d.contest.state.team_on_turn == "t1"
    d.clock.advance(5)
    d.system("tick")  # read time over: answering opens by itself
    assert d.phase is Phase.ANSWERING
    with pytest.raises(ContestError, match="现在不是本队作答"):
        d.team("t2", "answer", response="A")
    d.team("t1", "answer", response="A")
    assert d.phase is Phase.LOCKED and d.scores()["t1"] == 100  # scored at the reveal
    d.host("reveal")
    assert d.scores() == {"t1": 110, "t2": 100, "t3": 100}
    d.host("next")
    assert d.contest.state.team_on_turn == "t2"
    d.host("open")
    d.team("t2", "answer", response="B")
    d.host("reveal")
    assert d.scores()["t2"] == 100  # wrong, no deduction
    d.host("next")
    d.host("open")
    d.clock.advance(20)
    d.system("tick")  # time up
    assert d.phase is Phase.LOCKED
    d.host("judge", correct=True)  # the host judges an oral answer
    assert d.phase is Phase.REVEALED and d.scores()["t3"] == 110
    d.host("next")
    assert d.phase is Phase.SCOREBOARD


BUZZER = RoundSpec(RoundKind.BUZZER, "抢答题", SOURCE, points=10, penalty=10, foul_penalty=10, buzz_seconds=15)


def _at_buzzer(spec: RoundSpec = BUZZER) -> Driver:
    d = Driver(_contest(_plan(spec)))
    d.host("start")
    d.host("next")
    assert d.phase is Phase.BUZZ_ARMED
    return d


def test_buzz_before_open_is_a_foul_and_locks_the_team_out() -> None:
    d = _at_buzzer()
    d.team("t1", "buzz")
    assert d.scores()["t1"] == 90 and d.phase is Phase.BUZZ_ARMED
    d.host("open")
    with pytest.raises(ContestError, match="已不能抢答"):
        d.team("t1", "buzz")
    ignore = _at_buzzer(replace(BUZZER, foul=FoulRule.IGNORE))
    ignore.team("t1", "buzz")
    assert ignore.scores()["t1"] == 100


def test_simultaneous_buzzes_first_received_wins_with_ms_gaps() -> None:
    d = _at_buzzer()
    d.host("open")
    d.clock.advance(1.2)
    d.team("t2", "buzz")
    d.clock.advance(0.003)
    d.team("t3", "buzz")
    d.team("t1", "buzz")
    state = d.contest.state
    assert d.phase is Phase.BUZZ_WON and state.team_on_turn == "t2"
    assert [(b["team"], b["gap_ms"]) for b in state.buzzes] == [("t2", 0), ("t3", 3), ("t1", 3)]
    projector = d.contest.view_for(Role.PROJECTOR)
    assert [b["team"] for b in projector["buzzes"]] == ["t2", "t3", "t1"]
    with pytest.raises(ContestError, match="已经抢答过"):
        d.team("t2", "buzz")
    d.team("t2", "answer", response="A")
    assert d.phase is Phase.REVEALED and d.scores()["t2"] == 110


def test_wrong_answer_reopens_to_the_other_teams() -> None:
    d = _at_buzzer()
    d.host("open")
    d.team("t1", "buzz")
    d.team("t1", "answer", response="C")
    assert d.phase is Phase.BUZZ_OPEN and d.scores()["t1"] == 90
    assert not d.contest.view_for(Role.TEAM, team="t1")["me"]["can_buzz"]
    d.team("t3", "buzz")
    d.host("judge", correct=False)
    d.team("t2", "buzz")
    d.team("t2", "answer", response="A")
    assert d.scores() == {"t1": 90, "t2": 110, "t3": 90} and d.phase is Phase.REVEALED


def test_nobody_buzzes_voids_the_question() -> None:
    d = _at_buzzer()
    d.host("open")
    d.clock.advance(14.9)
    assert d.system("tick") == []
    d.clock.advance(0.2)
    events = d.system("tick")
    assert [e.name for e in events] == ["answer_revealed"]
    assert d.phase is Phase.REVEALED and d.contest.state.voided and d.scores() == {"t1": 100, "t2": 100, "t3": 100}


def test_buzz_winner_running_out_of_time_counts_as_wrong() -> None:
    d = _at_buzzer(replace(BUZZER, reopen=False))
    d.host("open")
    d.team("t1", "buzz")
    d.clock.advance(21)
    d.system("tick")
    assert d.phase is Phase.REVEALED and d.scores()["t1"] == 90


def test_risk_round_weakest_first_plus_or_minus_the_value_even_from_zero() -> None:
    plan = _plan(
        RoundSpec(RoundKind.COMPULSORY, "必答", QuestionSource(count=1), points=10),
        RoundSpec(RoundKind.RISK, "风险题", QuestionSource(count=3)),
    )
    d = Driver(_contest(plan))
    d.host("start")
    d.host("next")
    d.host("open")
    d.team("t1", "answer", response="A")
    d.host("reveal")
    d.host("adjust", team="t2", delta=-100, reason="测试从零分开始")
    d.host("next")  # scoreboard
    d.host("next")  # risk round intro
    assert d.contest.state.risk_order == ["t2", "t3", "t1"]  # lowest score chooses first
    d.host("next")
    assert d.phase is Phase.RISK_CHOOSING and d.contest.state.team_on_turn == "t2"
    with pytest.raises(ContestError, match="现在不是本队选择分值"):
        d.team("t1", "choose_risk", value=30)
    with pytest.raises(ContestError, match="请选择 10、20、30"):
        d.team("t2", "choose_risk", value=25)
    d.team("t2", "choose_risk", value=30)
    assert d.phase is Phase.READING and d.contest.view_for(Role.PROJECTOR)["question"]["points"] == 30
    d.host("open")
    d.team("t2", "answer", response="D")
    d.host("reveal")
    assert d.scores()["t2"] == -30  # a team at 0 can still risk (and lose) its chosen value
    d.host("next")
    assert d.contest.state.team_on_turn == "t3"
    d.host("choose_risk", value=20)  # the host may choose for a team
    d.host("open")
    d.team("t3", "answer", response="A")
    d.host("reveal")
    assert d.scores()["t3"] == 120


@pytest.mark.parametrize(
    ("decimals", "scores", "p1_points"),
    [
        # whole points (default): p1 13.75 -> 14, t1 mean (14 + 0) / 2 = 7; p3 12.5 -> 13 (half up)
        (False, {"t1": 107, "t2": 113}, 14),
        # decimals: p1 13.75, t1 mean 6.875 -> 6.88; p3 12.5
        (True, {"t1": 106.88, "t2": 112.5}, 13.75),
    ],
)
def test_everyone_round_players_speed_bonus_team_mean_and_late_joiner(
    decimals: bool, scores: dict[str, float], p1_points: float
) -> None:
    spec = RoundSpec(RoundKind.EVERYONE, "全员", SOURCE, points=10, speed_bonus=5, team_score=TeamScoreRule.MEAN)
    d = Driver(_contest(replace(_plan(spec), decimals=decimals), teams=2))
    for player, team in (("p1", "t1"), ("p2", "t1"), ("p3", "t2")):
        d.join(player, team)
    with pytest.raises(ContestError, match="请选择所在队伍"):
        d.contest.new_player("p9", "t7", "无此队")
    d.host("start")
    d.host("next")
    d.host("open")
    d.join("late", "t2")
    d.clock.advance(5)
    d.player("p1", "answer", response="A")  # right, half the time left
    with pytest.raises(ContestError, match="已经作答"):
        d.player("p1", "answer", response="B")
    with pytest.raises(ContestError, match="请从下一题开始"):
        d.player("late", "answer", response="A")
    d.player("p2", "answer", response="B")
    d.clock.advance(5)
    d.player("p3", "answer", response="A")  # right, no time left
    d.clock.advance(10)
    d.system("tick")
    with pytest.raises(ContestError, match="已锁定"):  # a late answer
        d.player("p3", "answer", response="A")
    d.host("reveal")
    # p1: 10 + 5 × 0.75 = 13.75, p2: 0; p3: 10 + 5 × 0.5 = 12.5 (the late joiner is not counted)
    assert d.scores() == scores
    assert d.contest.view_for(Role.PROJECTOR)["distribution"] == {"A": 2, "B": 1}
    assert not any(key.startswith("player:") for key in d.contest.state.to_dict()["answers"])  # rows, not state
    # what a phone needs to work out its own result: the key and the rules, the same for every player
    shown = d.contest.view_for(Role.PLAYER)
    assert shown["question"]["answer"] == "A"
    assert shown["scoring"] == {"points": 10, "speed_bonus": 5, "answer_ms": 20000, "opened_ms": 1767254400000,
                                "voided": False, "decimals": decimals}  # fmt: skip
    p1 = {"response": "A", "verdict": "correct", "credit": 1.0, "at_ms": 1767254405000}  # its row, 5 s in
    mine = d.contest.with_players({"p1": {**d.players["p1"], "answer": p1}}).view_for(Role.PLAYER, player="p1")
    assert mine["me"]["result"] == "correct" and mine["me"]["points"] == p1_points
    d.host("next")
    d.host("open")
    d.player("late", "answer", response="A")  # joined before this question: may answer


def test_the_roster_counts_every_player_and_names_a_bounded_few() -> None:
    d = Driver(_contest(_plan(RoundSpec(RoundKind.EVERYONE, "全员", SOURCE)), teams=2))
    for n in range(30):
        d.join(f"p{n}", "t1" if n < 25 else "t2")
    d.host("kick", participant="p24")
    host = d.contest.roster(Role.HOST)
    assert host["count"] == 30 and host["by_team"] == {"t1": 25, "t2": 5}
    assert len(host["players"]) == 30 and [p for p in host["players"] if p["kicked"]] == [
        {"id": "p24", "team": "t1", "name": "p24", "joined_seq": 0, "kicked": True}
    ]
    projector = d.contest.roster(Role.PROJECTOR)
    assert projector["count"] == 30 and "players" not in projector
    assert projector["names"]["t1"] == [f"p{n}" for n in range(23, 11, -1)]  # the latest 12, the kicked one left out
    assert projector["names"]["t2"] == ["p29", "p28", "p27", "p26", "p25"]
    assert "players" not in d.contest.view_for(Role.HOST)  # never inside a per-transition view


def test_undo_removes_the_last_scoring_and_adjust_needs_a_reason() -> None:
    d = _at_buzzer()
    d.team("t1", "buzz")  # foul: -10
    d.host("open")
    d.team("t2", "buzz")
    d.team("t2", "answer", response="A")  # +10
    assert d.scores() == {"t1": 90, "t2": 110, "t3": 100}
    d.host("undo")
    assert d.scores() == {"t1": 90, "t2": 100, "t3": 100}
    d.host("undo")
    assert d.scores()["t1"] == 100
    with pytest.raises(ContestError, match="没有可以撤销"):
        d.host("undo")
    with pytest.raises(ContestError, match="必须填写原因"):
        d.host("adjust", team="t3", delta=5, reason=" ")
    d.host("adjust", team="t3", delta=5, reason="现场补分")
    assert d.contest.view_for(Role.HOST)["awards"][-1]["reason"] == "主持人调整：现场补分"


def test_pause_keeps_the_time_left_and_refuses_play() -> None:
    d = _at_buzzer()
    d.host("open")
    d.clock.advance(10)
    d.system("pause", reason="主持人断线")
    assert d.phase is Phase.PAUSED and d.contest.state.paused_left_ms == 5000
    with pytest.raises(ContestError, match="当前阶段"):
        d.team("t1", "buzz")
    d.clock.advance(60)
    d.host("resume")
    assert d.phase is Phase.BUZZ_OPEN and d.contest.state.deadline_ms == int(d.clock.now().timestamp() * 1000) + 5000


def test_commands_are_checked_against_role_phase_and_version() -> None:
    d = Driver(_contest(_plan(BUZZER)))
    with pytest.raises(ContestError, match="当前阶段"):
        d.host("next")  # next_question in the lobby (quizify#298)
    with pytest.raises(ContestError, match="无权"):
        d.contest.handle(Command("start", Role.TEAM, 0, team="t1"), d.clock.now())
    with pytest.raises(ContestError, match="无权"):
        d.contest.handle(Command("start", Role.PROJECTOR, 0), d.clock.now())
    d.host("start")
    with pytest.raises(ContestError, match="页面状态已过期") as stale:
        d.contest.handle(Command("next", Role.HOST, 0), d.clock.now())
    assert stale.value.code == "stale_version"
    with pytest.raises(ContestError, match="未知指令"):
        d.host("explode")
    version = d.contest.state.version
    d.host("next")
    with pytest.raises(ContestError, match="这道题已经结束"):
        d.team("t1", "buzz", question="q-old")
    assert d.contest.state.version == version + 1  # refusals did not count as transitions


def test_kick_and_readmit() -> None:
    d = _at_buzzer()
    d.host("kick", participant="t3")
    d.host("open")
    with pytest.raises(ContestError, match="已被主持人移出"):
        d.team("t3", "buzz")
    d.host("readmit", participant="t3")
    d.team("t3", "buzz")
    assert d.contest.state.team_on_turn == "t3"


def test_tie_break_buzzer_then_podium() -> None:
    plan = _plan(RoundSpec(RoundKind.COMPULSORY, "必答", QuestionSource(count=3), points=10), prizes=1)
    d = Driver(_contest(plan))
    d.host("start")
    d.host("next")
    for team, response in (("t1", "A"), ("t2", "A"), ("t3", "B")):
        d.host("open")
        d.team(team, "answer", response=response)
        d.host("reveal")
        d.host("next")
    assert d.phase is Phase.SCOREBOARD
    d.host("next")  # t1 and t2 tie for first: 加赛
    assert d.contest.in_tiebreak and d.contest.state.tiebreak_teams == ["t1", "t2"] and d.phase is Phase.BUZZ_ARMED
    d.host("open")
    with pytest.raises(ContestError, match="不参加加赛"):
        d.team("t3", "buzz")
    d.team("t2", "buzz")
    d.team("t2", "answer", response="A")
    assert d.phase is Phase.REVEALED
    d.host("next")
    assert d.phase is Phase.FINISHED
    assert d.contest.view_for(Role.PLAYER)["ranking"] == []  # the podium reveals the places (test_contest_finish)
    for _ in range(4):
        d.host("podium")
    assert [(r["team"], r["place"]) for r in d.contest.view_for(Role.PLAYER)["ranking"]] == [
        ("t2", 1),
        ("t1", 2),
        ("t3", 3),
    ]


def test_tie_break_by_total_answer_time() -> None:
    plan = _plan(RoundSpec(RoundKind.COMPULSORY, "必答", QuestionSource(count=2), points=10), tie_break=TieBreak.TIME)
    d = Driver(_contest(plan, teams=2))
    d.host("start")
    d.host("next")
    for team, seconds in (("t1", 8), ("t2", 3)):
        d.host("open")
        d.clock.advance(seconds)
        d.team(team, "answer", response="A")
        d.host("reveal")
        d.host("next")
    d.host("next")
    assert d.phase is Phase.FINISHED
    assert [r["team"] for r in d.contest.view_for(Role.PROJECTOR)["ranking"]] == ["t2", "t1"]


def test_no_answer_key_reaches_participants_before_the_reveal() -> None:
    d = _at_buzzer()
    for role, who in ((Role.PROJECTOR, {}), (Role.TEAM, {"team": "t1"}), (Role.PLAYER, {"player": "p"})):
        text = json.dumps(d.contest.view_for(role, **who), ensure_ascii=False)
        assert '"answer"' not in text and "解析" not in text
    assert d.contest.view_for(Role.HOST)["question"]["answer"] == "A"
    d.host("open")
    d.team("t1", "buzz")
    d.team("t1", "answer", response="A")
    revealed = d.contest.view_for(Role.TEAM, team="t2")
    assert revealed["question"]["answer"] == "A" and revealed["question"]["explanation"].startswith("解析")


def test_state_survives_a_round_trip_through_json() -> None:
    d = _at_buzzer()
    d.team("t1", "buzz")
    d.host("open")
    d.team("t2", "buzz")
    snapshot = json.loads(json.dumps(d.contest.state.to_dict()))
    restored = LiveContest(d.contest.plan, ContestState.from_dict(snapshot), QUESTIONS)
    assert restored.view_for(Role.HOST) == d.contest.view_for(Role.HOST)
    assert restored.scores() == d.scores()


def test_plan_survives_a_round_trip_through_json() -> None:
    from quizengine.modes.contest import plan_from_dict, plan_to_dict

    plan = _plan(BUZZER, RoundSpec(RoundKind.RISK, "风险", QuestionSource(banks=("b",), count=3)), prizes=2)
    assert plan_from_dict(json.loads(json.dumps(plan_to_dict(plan)))) == plan


def test_zero_seconds_means_no_timer_the_host_moves_on() -> None:
    d = _at_buzzer(replace(BUZZER, buzz_seconds=0, answer_seconds=0))
    d.host("open")
    assert d.contest.state.deadline_ms is None
    d.clock.advance(3600)
    assert d.system("tick") == [] and d.phase is Phase.BUZZ_OPEN
    d.team("t1", "buzz")
    d.clock.advance(3600)
    assert d.system("tick") == [] and d.phase is Phase.BUZZ_WON
