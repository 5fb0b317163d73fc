"""Live team contest (知识竞赛): the plan, the state machine and the per-role views.

Pure Python: the services feed it commands (with the server's receive time) and persist the resulting
state and events; the transports only deliver views. Every command is checked against the phase, the
sender's role and the state `version`, so a stale or forged command changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from quizengine.engine.errors import InvalidResponse, QuizError
from quizengine.engine.questions import Question, Verdict, get_type, grade
from quizengine.engine.scoring import Ranked, RankEntry, rank, round_points

from .contest_podium import can_advance, podium_view
from .contest_points import contest_points, leaderboard, rank_in, speed_points, team_points


class RoundKind(StrEnum):
    """The four round kinds of Chinese branch contests."""

    COMPULSORY = "compulsory"  # 必答题: each team in turn
    BUZZER = "buzzer"  # 抢答题: first buzz after the host opens wins
    RISK = "risk"  # 风险题: the team picks a value, ± that value
    EVERYONE = "everyone"  # 全员答题: every player answers


ROUND_LABELS = {
    RoundKind.COMPULSORY: "必答题",
    RoundKind.BUZZER: "抢答题",
    RoundKind.RISK: "风险题",
    RoundKind.EVERYONE: "全员答题",
}


class FoulRule(StrEnum):
    """What a buzz before the host opens buzzing costs."""

    IGNORE = "ignore"
    PENALIZE = "penalize"


class TeamScoreRule(StrEnum):
    """How players' points make a team's score in 全员答题."""

    SUM = "sum"
    MEAN = "mean"


class TieBreak(StrEnum):
    """How a tie for a prize place is broken."""

    BUZZER = "buzzer"  # 加赛抢答: sudden-death buzzer questions among the tied teams
    TIME = "time"  # the team that used less total answering time ranks higher


@dataclass(frozen=True)
class QuestionSource:
    """Where a round's questions come from: filters and a count, or fixed question ids."""

    banks: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    difficulties: tuple[int, ...] = ()
    count: int = 0
    ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoundSpec:
    """One round of a contest plan."""

    kind: RoundKind
    title: str
    source: QuestionSource
    #: Points for a right answer (风险题: the chosen value instead).
    points: float = 10
    #: Points lost for a wrong answer (0 = no deduction, as in 必答题).
    penalty: float = 0
    #: Buzzing before the host opens it (抢答题).
    foul: FoulRule = FoulRule.PENALIZE
    foul_penalty: float = 10
    #: Seconds the question is shown before answering (or buzzing) may open.
    read_seconds: int = 5
    #: Seconds to answer once answering is open (or once a team won the buzz).
    answer_seconds: int = 20
    #: 抢答题: seconds buzzing stays open; nobody buzzing voids the question.
    buzz_seconds: int = 15
    #: 抢答题: after a wrong answer, reopen buzzing to the teams that have not answered.
    reopen: bool = True
    #: 风险题: the values a team may choose, and the difficulty each stands for.
    risk_values: tuple[int, ...] = (10, 20, 30)
    risk_difficulty: tuple[tuple[int, tuple[int, ...]], ...] = ((10, (1, 2)), (20, (3,)), (30, (4, 5)))
    #: 全员答题: extra points for a right answer, scaled by the share of the answer time left.
    speed_bonus: float = 0
    team_score: TeamScoreRule = TeamScoreRule.SUM
    #: 必答题/抢答题: "device" (the team answers on its device) or "host" (the host judges an oral answer).
    judged_by: str = "device"


@dataclass(frozen=True)
class TeamSpec:
    """A team as the plan names it; the colour is its fixed colour on the projector."""

    name: str
    color: str = ""


@dataclass(frozen=True)
class ContestPlan:
    """A whole contest: teams, base score, rounds, tie-break."""

    title: str
    rounds: tuple[RoundSpec, ...]
    teams: tuple[TeamSpec, ...] = ()
    base_score: float = 100
    tie_break: TieBreak = TieBreak.BUZZER
    #: Questions for a 加赛 (sudden-death buzzer), drawn only when needed.
    tie_break_source: QuestionSource = field(default_factory=lambda: QuestionSource(count=5))
    #: How many top places get a prize (ties for these places are broken).
    prizes: int = 3
    #: Computed points (speed bonus, team means) keep two decimals instead of whole numbers.
    decimals: bool = False


class Phase(StrEnum):
    """Where the contest is. Every command names the phases it is valid in."""

    LOBBY = "lobby"
    ROUND_INTRO = "round_intro"
    RISK_CHOOSING = "risk_choosing"
    READING = "reading"  # question shown; answering not yet open
    ANSWERING = "answering"
    BUZZ_ARMED = "buzz_armed"  # buzzer question shown; a buzz now is a foul
    BUZZ_OPEN = "buzz_open"
    BUZZ_WON = "buzz_won"
    LOCKED = "locked"  # answers closed, waiting for the reveal
    REVEALED = "revealed"
    SCOREBOARD = "scoreboard"
    PAUSED = "paused"
    FINISHED = "finished"


PHASE_LABELS = {
    Phase.LOBBY: "等待开始",
    Phase.ROUND_INTRO: "环节介绍",
    Phase.RISK_CHOOSING: "选择分值",
    Phase.READING: "读题",
    Phase.ANSWERING: "请作答",
    Phase.BUZZ_ARMED: "等待主持人宣布开始抢答",
    Phase.BUZZ_OPEN: "开始抢答",
    Phase.BUZZ_WON: "抢答成功，请作答",
    Phase.LOCKED: "已锁定",
    Phase.REVEALED: "公布答案",
    Phase.SCOREBOARD: "比分",
    Phase.PAUSED: "比赛暂停",
    Phase.FINISHED: "比赛结束",
}


class Role(StrEnum):
    """Who sends a command or receives a view."""

    HOST = "host"
    PROJECTOR = "projector"
    TEAM = "team"
    PLAYER = "player"
    SYSTEM = "system"  # timers and connection changes, sent by the server itself


class ContestError(QuizError):
    """A command that is not allowed now (wrong phase, role, version, duplicate or late answer)."""

    code = "contest_error"

    def __init__(self, message: str, code: str = "contest_error") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Command:
    """What a client (or the server's own timer) asks for, as the server received it.

    `version` is the state version the sender saw: host commands on a stale state are refused, so a
    double click or a second host tab never advances the contest twice.
    """

    name: str
    role: Role
    version: int | None = None
    team: str | None = None
    player: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """A fact a transition produced, and which roles' views it changes."""

    name: str
    roles: frozenset[Role]
    data: dict[str, Any] = field(default_factory=dict)


EVERYONE_ROLES = frozenset({Role.HOST, Role.PROJECTOR, Role.TEAM, Role.PLAYER})
STAFF_ROLES = frozenset({Role.HOST, Role.PROJECTOR})


@dataclass
class Award:
    """Points given or taken, grouped so the host can undo the last scoring as a whole."""

    team: str
    delta: float
    reason: str
    group: int
    question: str | None = None
    #: The round it was scored in (the results page's per-round scores); len(rounds) is the 加赛.
    round: int | None = None


@dataclass
class ContestState:
    """Everything needed to resume the contest exactly, as plain JSON-ready data (times in epoch ms)."""

    teams: list[dict[str, str]]
    rounds: list[list[str]]
    risk_pools: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    tie_pool: list[str] = field(default_factory=list)
    version: int = 0
    phase: Phase = Phase.LOBBY
    paused_phase: Phase | None = None
    paused_left_ms: int | None = None
    #: Why the contest is paused (shown to the host), e.g. a deadline that passed while the server was down.
    pause_reason: str = ""
    round_index: int = -1
    question_index: int = -1
    question_seq: int = 0
    question: str | None = None
    team_on_turn: str | None = None
    risk_value: int | None = None
    risk_order: list[str] = field(default_factory=list)
    deadline_ms: int | None = None
    opened_ms: int | None = None
    buzzes: list[dict[str, Any]] = field(default_factory=list)
    locked_out: list[str] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    awards: list[Award] = field(default_factory=list)
    next_group: int = 1
    team_time_ms: dict[str, int] = field(default_factory=dict)
    kicked: list[str] = field(default_factory=list)
    tiebreak_teams: list[str] = field(default_factory=list)
    tiebreak_winners: list[str] = field(default_factory=list)
    voided: bool = False
    #: 全员答题 after the reveal: how many players chose each response (their answers stay in their rows).
    distribution: dict[str, int] = field(default_factory=dict)
    #: 全员答题 players' leaderboard after the latest reveal: top ten and the score table (bounded).
    leaderboard: dict[str, Any] = field(default_factory=dict)
    #: Podium reveal stage once finished (0 = not started; see contest_podium).
    podium: int = 0
    #: The host muted the projector's sounds.
    muted: bool = False
    #: The host ended the contest before its last round (an abandoned contest).
    ended_early: bool = False
    #: The host lets the projector show the 原文 (quote) of a question after its reveal.
    quote_shown: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready snapshot."""
        data = asdict(self)
        data["phase"] = str(self.phase)
        data["paused_phase"] = str(self.paused_phase) if self.paused_phase else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContestState:
        """Rebuild from `to_dict()`."""
        values = dict(data)
        values["phase"] = Phase(values["phase"])
        values["paused_phase"] = Phase(values["paused_phase"]) if values.get("paused_phase") else None
        values["awards"] = [Award(**award) for award in values.get("awards", [])]
        return cls(**values)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _deadline(now_ms: int, seconds: int) -> int | None:
    """A phase deadline `seconds` from now; 0 seconds means no timer (the host moves on)."""
    return now_ms + seconds * 1000 if seconds > 0 else None


#: How many names per team the projector's lobby lists (the count covers everyone).
LOBBY_NAMES = 12


class LiveContest:
    """The state machine: `handle(command, now)` checks and applies one command and returns its events.

    It never reads the clock or the database: `now` is the server's receive time, `questions` the pinned
    revisions of every question the contest can ask, `players` the joined players (player id -> team,
    name, joined_seq) the caller loaded for this command. Players are not part of the state snapshot: each
    join is a row of its own, so a join costs the same with 10 players as with 2,000.
    """

    def __init__(
        self,
        plan: ContestPlan,
        state: ContestState,
        questions: Mapping[str, Question],
        players: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.plan = plan
        self.state = state
        self.questions = questions
        self.players: Mapping[str, Mapping[str, Any]] = players or {}
        #: Set by a 全员答题 reveal: each scored player's points for the question (the service adds them up);
        #: by an undo of that reveal: the same points taken back.
        self.player_deltas: dict[str, float] = {}
        #: The award group a 全员答题 reveal scored the players in (the service logs their points with it).
        self.player_group: int | None = None
        #: Before an undo: the players' points logged with the last award group (the service reads them from
        #: the event log), so the undo takes them back too; the state never lists every player.
        self.undo_player_points: Mapping[str, float] = {}

    def with_players(self, players: Mapping[str, Mapping[str, Any]]) -> LiveContest:
        """The same machine (sharing its state) seeing these players: for one player's view or answer."""
        return LiveContest(self.plan, self.state, self.questions, players)

    @property
    def last_group(self) -> int | None:
        """The award group an undo would take back (None when nothing is scored)."""
        return self.state.awards[-1].group if self.state.awards else None

    # ---- reading the state ----------------------------------------------------------------------------

    @property
    def round(self) -> RoundSpec | None:
        """The current round's spec (None in the lobby and during a tie-break)."""
        index = self.state.round_index
        return self.plan.rounds[index] if 0 <= index < len(self.plan.rounds) else None

    @property
    def in_tiebreak(self) -> bool:
        """True while a 加赛 is being played."""
        return self.state.round_index == len(self.plan.rounds)

    def _round_spec(self) -> RoundSpec:
        if self.in_tiebreak:
            return RoundSpec(RoundKind.BUZZER, "加赛抢答", self.plan.tie_break_source, points=0, penalty=0, reopen=True)
        spec = self.round
        assert spec is not None
        return spec

    def team_ids(self) -> list[str]:
        """Team ids in plan order."""
        return [team["id"] for team in self.state.teams]

    def scores(self) -> dict[str, float]:
        """Each team's score: the base plus every award."""
        totals = {team_id: float(self.plan.base_score) for team_id in self.team_ids()}
        for award in self.state.awards:
            totals[award.team] = round_points(totals[award.team] + award.delta)
        return totals

    def ranking(self) -> list[Ranked]:
        """Teams ranked by score; 加赛 winners first within their tie, then the plan's tie-break."""
        scores = self.scores()
        won = self.state.tiebreak_winners
        use_time = self.plan.tie_break is TieBreak.TIME
        entries = [
            RankEntry(
                team_id,
                scores[team_id],
                (self.state.team_time_ms.get(team_id, 0) / 1000 if use_time else 0.0)
                - (len(won) - won.index(team_id) if team_id in won else 0) * 1e9,
            )
            for team_id in self.team_ids()
        ]
        return rank(entries)

    # ---- views -----------------------------------------------------------------------------------------

    def view_for(self, role: Role, team: str | None = None, player: str | None = None) -> dict[str, Any]:
        """What one client may see, for the snapshot on (re)connect and for every live update alike.

        The answer, 解析 and 出处 appear for participants and the projector only once the question is
        revealed; only the host sees them early. Per-answer details go to the answerer in an ack, so the
        players' view is the same for every player (one broadcast to their room).
        """
        state = self.state
        spec = self._round_spec() if state.round_index >= 0 else None
        revealed = state.phase in (Phase.REVEALED, Phase.SCOREBOARD, Phase.FINISHED) or (
            state.phase is Phase.PAUSED and state.paused_phase is Phase.REVEALED
        )
        scores = self.scores()
        view: dict[str, Any] = {
            "version": state.version,
            "phase": str(state.phase),
            "phase_label": PHASE_LABELS[state.phase],
            "paused_phase": str(state.paused_phase) if state.paused_phase else None,
            "pause_reason": state.pause_reason,
            "deadline_ms": state.deadline_ms,
            "title": self.plan.title,
            "round": self._round_view(spec),
            "question": self._question_view(
                spec,
                include_key=role is Role.HOST or revealed,
                include_quote=role is Role.HOST or (role is Role.PROJECTOR and revealed and state.quote_shown),
            ),
            "team_on_turn": state.team_on_turn,
            "risk_value": state.risk_value,
            "teams": [
                {**team_info, "score": scores[team_info["id"]], "kicked": team_info["id"] in state.kicked}
                for team_info in state.teams
            ],
            "voided": state.voided,
        }
        if role in (Role.HOST, Role.PROJECTOR) or state.phase in (Phase.BUZZ_WON, Phase.REVEALED):
            view["buzzes"] = [
                {"team": b["team"], "foul": b["foul"], "gap_ms": b.get("gap_ms", 0)} for b in state.buzzes
            ]
        ranking = self.ranking()
        if role in (Role.HOST, Role.PROJECTOR):
            view["ranking"] = [{"team": r.entry.key, "place": r.place, "score": r.entry.score} for r in ranking]
        if state.phase is Phase.FINISHED:
            view["podium"] = podium_view(ranking, state.podium)
            view["ended_early"] = state.ended_early
            if role not in (Role.HOST, Role.PROJECTOR):  # phones learn the places as the podium shows them
                view["ranking"] = (
                    view["podium"]["places"]
                    if not view["podium"]["done"]
                    else [{"team": r.entry.key, "place": r.place, "score": r.entry.score} for r in ranking]
                )
        if state.leaderboard:
            board = state.leaderboard
            view["leaderboard"] = (
                {"totals": board["totals"], "count": board["count"], "top": board["top"][:3]}
                if role is Role.PLAYER
                else {"top": board["top"], "count": board["count"]}
            )
        if role in (Role.HOST, Role.PROJECTOR):
            view["muted"] = state.muted
            view["quote_shown"] = state.quote_shown
        if revealed and spec is not None and spec.kind is RoundKind.EVERYONE and state.question:
            view["distribution"] = state.distribution
            if role is Role.PLAYER:  # each phone works out its own result from its ack (docs/socket-protocol.md)
                view["scoring"] = {
                    "points": spec.points,
                    "speed_bonus": spec.speed_bonus,
                    "answer_ms": spec.answer_seconds * 1000,
                    "opened_ms": state.opened_ms,
                    "voided": state.voided,
                    "decimals": self.plan.decimals,
                }
        if role is Role.HOST:  # team answers only: players' answers stay in their rows (counts come coalesced)
            view["answers"] = {key: dict(a) for key, a in state.answers.items() if key.startswith("team:")}
            view["awards"] = [asdict(a) for a in state.awards[-20:]]
            view["kicked"] = list(state.kicked)
            view["tiebreak_teams"] = state.tiebreak_teams
        if role is Role.TEAM and team is not None:
            view["me"] = {
                "team": team,
                "can_buzz": state.phase in (Phase.BUZZ_ARMED, Phase.BUZZ_OPEN)
                and team not in state.locked_out
                and (not self.in_tiebreak or team in state.tiebreak_teams),
                "my_turn": state.team_on_turn == team,
                "answered": any(a["team"] == team for a in state.answers.values()),
                "kicked": team in state.kicked,
            }
        if role is Role.PLAYER and player is not None and player in self.players:
            info = self.players[player]
            answer = info.get("answer")  # the caller hands in this player's own answer row
            view["me"] = {
                "player": player,
                "team": info["team"],
                "can_answer": state.phase is Phase.ANSWERING
                and spec is not None
                and spec.kind is RoundKind.EVERYONE
                and info["joined_seq"] < state.question_seq
                and answer is None,
                "answered": answer is not None,
                "result": answer.get("verdict") if answer and revealed else None,
                "points": self._player_points(answer, spec) if answer and revealed and spec else None,
                "kicked": player in state.kicked,
                # the total after the latest reveal (the service hands in the player's row); live updates
                # carry the score table, from which the phone works out its rank with its own total
                "total": info.get("points", 0.0),
                "rank": rank_in(info.get("points", 0.0), state.leaderboard["totals"]) if state.leaderboard else None,
            }
        return view

    def roster(self, role: Role) -> dict[str, Any]:
        """Who has joined, for the host (every player, to kick) or the projector's lobby (counts, a few names).

        Sent in the host's and projector's snapshot and, coalesced, whenever it changes; never inside the
        per-transition views, so no update grows with the number of players.
        """
        by_team = {team_id: 0 for team_id in self.team_ids()}
        for info in self.players.values():
            by_team[info["team"]] = by_team.get(info["team"], 0) + 1
        roster: dict[str, Any] = {"count": len(self.players), "by_team": by_team}
        if role is Role.HOST:
            roster["players"] = [
                {
                    "id": p,
                    "team": i["team"],
                    "name": i["name"],
                    "joined_seq": i["joined_seq"],
                    "kicked": p in self.state.kicked,
                }
                for p, i in self.players.items()
            ]
        else:  # the latest names of each team, bounded: the lobby shows who is here, not a register
            names: dict[str, list[str]] = {team_id: [] for team_id in self.team_ids()}
            for p, info in reversed(list(self.players.items())):
                listed = names.setdefault(info["team"], [])
                if p not in self.state.kicked and len(listed) < LOBBY_NAMES:
                    listed.append(info["name"])
            roster["names"] = names
        return roster

    def new_player(self, player: str, team: object, name: str) -> dict[str, Any]:
        """A member joining by PIN for 全员答题: the record to store. A late joiner answers from the next question."""
        if self.state.phase is Phase.FINISHED:
            raise ContestError(f"当前阶段（{PHASE_LABELS[self.state.phase]}）不能加入", "wrong_phase")
        if team not in self.team_ids():
            raise ContestError("请选择所在队伍", "bad_team")
        if player in self.state.kicked:
            raise ContestError("已被主持人移出比赛", "kicked")
        return {"team": team, "name": name, "joined_seq": self.state.question_seq}

    def _round_view(self, spec: RoundSpec | None) -> dict[str, Any] | None:
        if spec is None:
            return None
        return {
            "index": self.state.round_index,
            "count": len(self.plan.rounds),
            "kind": str(spec.kind),
            "label": "加赛" if self.in_tiebreak else ROUND_LABELS[spec.kind],
            "title": spec.title,
            "rules": _rules_line(spec),
            "risk_values": list(spec.risk_values) if spec.kind is RoundKind.RISK else [],
            "question_number": self.state.question_index + 1,
        }

    def _question_view(
        self, spec: RoundSpec | None, include_key: bool, include_quote: bool = False
    ) -> dict[str, Any] | None:
        state = self.state
        if state.question is None or spec is None:
            return None
        question = self.questions[state.question]
        view: dict[str, Any] = {
            "id": question.id,
            "seq": state.question_seq,
            "type": question.type,
            "stem": question.stem,
            "options": [[option.key, option.text] for option in question.options],
            "points": float(state.risk_value) if spec.kind is RoundKind.RISK and state.risk_value else spec.points,
        }
        if include_key:
            answer = question.answer
            view["answer"] = list(answer) if isinstance(answer, tuple) else answer
            view["explanation"] = question.explanation
            view["reference"] = question.reference
        if include_quote:
            view["quote"] = question.quote
        return view

    def _distribution(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for answer in self.state.answers.values():
            response = answer["response"]
            key = "".join(response) if isinstance(response, list) else str(response)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def _player_points(self, answer: Mapping[str, Any], spec: RoundSpec) -> float:
        """A 全员答题 answer's points: the round's points (and speed bonus) for a right answer, else 0;
        whole points unless the plan allows decimals (contest_points)."""
        if self.state.voided:
            return 0.0
        answer_ms = spec.answer_seconds * 1000
        opened = self.state.opened_ms or answer["at_ms"]
        left = 1 - (answer["at_ms"] - opened) / answer_ms if answer_ms else 0
        correct = answer["verdict"] == Verdict.CORRECT
        exact = speed_points(spec.points, spec.speed_bonus, answer["credit"], correct, left)
        return contest_points(exact, self.plan.decimals)

    # ---- commands ------------------------------------------------------------------------------------

    def handle(self, command: Command, now: datetime) -> list[Event]:
        """Apply one command at `now`; raise ContestError (state unchanged) when it is not allowed."""
        handler = _HANDLERS.get(command.name)
        if handler is None:
            raise ContestError(f"未知指令“{command.name}”", "unknown_command")
        roles, phases, check_version = handler.roles, handler.phases, handler.check_version
        if command.role not in roles:
            raise ContestError("无权执行此操作", "wrong_role")
        participant = command.team if command.role is Role.TEAM else command.player
        if participant is not None and participant in self.state.kicked:
            raise ContestError("已被主持人移出比赛", "kicked")
        if check_version and command.version != self.state.version:
            raise ContestError("页面状态已过期，请按最新状态操作", "stale_version")
        if phases and self.state.phase not in phases:
            raise ContestError(f"当前阶段（{PHASE_LABELS[self.state.phase]}）不能执行此操作", "wrong_phase")
        before = self.state.to_dict()
        try:
            events = handler.function(self, command, _ms(now))
        except ContestError:
            self.state = ContestState.from_dict(before)
            raise
        if events:
            self.state.version += 1
        return events

    # The handlers below are registered with @_command; each returns the events it produced.

    def _start(self, command: Command, now: int) -> list[Event]:
        if not self.plan.rounds:
            raise ContestError("比赛方案中没有环节")
        return self._enter_round(0, now)

    def _enter_round(self, index: int, now: int) -> list[Event]:
        state = self.state
        state.round_index, state.question_index = index, -1
        state.question, state.team_on_turn, state.deadline_ms = None, None, None
        state.phase = Phase.ROUND_INTRO
        spec = self.round
        if spec is not None and spec.kind is RoundKind.RISK:
            scores = self.scores()  # weakest team chooses first; ties keep plan order
            state.risk_order = sorted(self.team_ids(), key=lambda team_id: scores[team_id])
        return [Event("round_started", EVERYONE_ROLES, {"round": index})]

    def _next(self, command: Command, now: int) -> list[Event]:
        state = self.state
        if state.phase is Phase.ROUND_INTRO:
            return self._next_question(now)
        if state.phase is Phase.REVEALED:
            if self.in_tiebreak:
                return self._next_tiebreak_question(now)
            if self._has_next_question():
                return self._next_question(now)
            state.phase = Phase.SCOREBOARD
            state.question, state.deadline_ms = None, None
            return [Event("scores", EVERYONE_ROLES)]
        # SCOREBOARD: next round, a tie-break, or the end
        if state.round_index + 1 < len(self.plan.rounds):
            return self._enter_round(state.round_index + 1, now)
        tied = self._tied_for_prizes()
        if tied and self.plan.tie_break is TieBreak.BUZZER and self.state.tie_pool:
            state.round_index = len(self.plan.rounds)
            state.tiebreak_teams = tied
            state.question_index = -1
            return [Event("tiebreak_started", EVERYONE_ROLES, {"teams": tied}), *self._next_tiebreak_question(now)]
        state.phase = Phase.FINISHED
        return [Event("finished", EVERYONE_ROLES)]

    def _has_next_question(self) -> bool:
        state = self.state
        spec = self.round
        if spec is not None and spec.kind is RoundKind.RISK:
            return state.question_index + 1 < len(state.risk_order) * self._risk_turns()
        return state.question_index + 1 < len(state.rounds[state.round_index])

    def _risk_turns(self) -> int:
        spec = self.round
        assert spec is not None
        return max(1, spec.source.count // max(1, len(self.team_ids()))) if spec.source.count else 1

    def _tied_for_prizes(self) -> list[str]:
        """The teams sharing a place within the prize places (the first such group), if any."""
        ranked = self.ranking()
        places: dict[int, list[str]] = {}
        for entry in ranked:
            places.setdefault(entry.place, []).append(entry.entry.key)
        for place, teams in sorted(places.items()):
            if place <= self.plan.prizes and len(teams) > 1:
                return teams
        return []

    def _next_question(self, now: int) -> list[Event]:
        state = self.state
        spec = self._round_spec()
        state.question_index += 1
        self._reset_question()
        if spec.kind is RoundKind.RISK:
            order = state.risk_order
            state.team_on_turn = order[state.question_index % len(order)]
            state.phase = Phase.RISK_CHOOSING
            return [Event("risk_choosing", EVERYONE_ROLES, {"team": state.team_on_turn})]
        state.question = state.rounds[state.round_index][state.question_index]
        if spec.kind is RoundKind.COMPULSORY:
            teams = self.team_ids()
            state.team_on_turn = teams[state.question_index % len(teams)]
        return self._show_question(spec, now)

    def _next_tiebreak_question(self, now: int) -> list[Event]:
        state = self.state
        if len(state.tiebreak_teams) < 2 or not state.tie_pool:
            state.phase = Phase.FINISHED
            return [Event("finished", EVERYONE_ROLES)]
        state.question_index += 1
        self._reset_question()
        state.question = state.tie_pool.pop(0)
        return self._show_question(self._round_spec(), now)

    def _reset_question(self) -> None:
        state = self.state
        state.question, state.team_on_turn, state.risk_value = None, None, None
        state.buzzes, state.locked_out, state.answers, state.distribution = [], [], {}, {}
        state.opened_ms, state.deadline_ms, state.voided = None, None, False

    def _show_question(self, spec: RoundSpec, now: int) -> list[Event]:
        state = self.state
        state.question_seq += 1
        state.phase = Phase.BUZZ_ARMED if spec.kind is RoundKind.BUZZER else Phase.READING
        state.deadline_ms = _deadline(now, spec.read_seconds) if spec.kind is not RoundKind.BUZZER else None
        return [Event("question_shown", EVERYONE_ROLES, {"question": state.question})]

    def _choose_risk(self, command: Command, now: int) -> list[Event]:
        state = self.state
        spec = self._round_spec()
        if command.role is Role.TEAM and command.team != state.team_on_turn:
            raise ContestError("现在不是本队选择分值", "not_your_turn")
        value = command.args.get("value")
        if value not in spec.risk_values:
            raise ContestError("请选择 " + "、".join(str(v) for v in spec.risk_values) + " 中的一个分值", "bad_value")
        pool = state.risk_pools.get(str(state.round_index), {}).get(str(value), [])
        if not pool:
            raise ContestError(f"{value} 分的题目已用完，请选择其他分值", "no_question")
        state.risk_value = value
        state.question = pool.pop(0)
        return [
            Event("risk_chosen", EVERYONE_ROLES, {"team": state.team_on_turn, "value": value}),
            *self._show_question(spec, now),
        ]

    def _open(self, command: Command, now: int) -> list[Event]:
        """Open answering (after reading) or buzzing (抢答, when the host says 开始)."""
        state = self.state
        spec = self._round_spec()
        state.opened_ms = now
        if state.phase is Phase.BUZZ_ARMED:
            state.phase = Phase.BUZZ_OPEN
            state.deadline_ms = _deadline(now, spec.buzz_seconds)
            return [Event("buzzing_opened", EVERYONE_ROLES)]
        state.phase = Phase.ANSWERING
        state.deadline_ms = _deadline(now, spec.answer_seconds)
        return [Event("answering_opened", EVERYONE_ROLES)]

    def _buzz(self, command: Command, now: int) -> list[Event]:
        state = self.state
        spec = self._round_spec()
        team = command.team
        assert team is not None
        if command.args.get("question") != state.question or state.question is None:
            raise ContestError("这道题已经结束", "late")
        if self.in_tiebreak and team not in state.tiebreak_teams:
            raise ContestError("本队不参加加赛", "not_in_tiebreak")
        if team in state.locked_out:
            raise ContestError("本队已不能抢答这道题", "locked_out")
        if any(buzz["team"] == team for buzz in state.buzzes if not buzz["foul"]):
            raise ContestError("本队已经抢答过", "duplicate")
        if state.phase is Phase.BUZZ_ARMED:  # before 开始: a foul
            state.buzzes.append({"team": team, "at_ms": now, "foul": True})
            state.locked_out.append(team)
            if spec.foul is FoulRule.PENALIZE and spec.foul_penalty:
                self._award([(team, -spec.foul_penalty, "抢答犯规")])
            return [Event("foul", EVERYONE_ROLES, {"team": team})]
        first = next((b for b in state.buzzes if not b["foul"]), None)
        state.buzzes.append({"team": team, "at_ms": now, "foul": False, "gap_ms": now - first["at_ms"] if first else 0})
        if state.phase is Phase.BUZZ_OPEN:
            state.phase = Phase.BUZZ_WON
            state.team_on_turn = team
            state.deadline_ms = _deadline(now, spec.answer_seconds)
            state.opened_ms = now
            return [Event("buzz_won", EVERYONE_ROLES, {"team": team})]
        return [Event("buzz_recorded", STAFF_ROLES, {"team": team})]

    def check_answer(self, command: Command, now: int) -> tuple[str, dict[str, Any]]:
        """Validate an answer without changing the state; return its key and record.

        The service uses this directly for 全员答题, where thousands of players answer at once: their
        answers are stored in their own rows (a unique key refuses duplicates) and handed back to the
        machine at the reveal, instead of rewriting the whole state per answer.
        """
        state = self.state
        if command.role is Role.PLAYER and command.player in state.kicked:
            raise ContestError("已被主持人移出比赛", "kicked")
        if state.phase not in (Phase.ANSWERING, Phase.BUZZ_WON):
            raise ContestError(f"当前阶段（{PHASE_LABELS[state.phase]}）不能作答", "wrong_phase")
        if command.args.get("question") != state.question or state.question is None:
            raise ContestError("这道题已经结束，答案未被记录", "late")
        key = self._answer_key(command, self._round_spec())
        if key in state.answers:
            raise ContestError("已经作答，不能重复提交", "duplicate")
        question = self.questions[state.question]
        try:
            outcome = grade(question, command.args.get("response"))
            stored = get_type(question.type).storable(question, command.args.get("response"))
        except InvalidResponse as error:  # a malformed answer is this answerer's refusal, nobody else's
            raise ContestError(error.message, "bad_response") from None
        if not outcome.answered:
            raise ContestError("请先选择答案", "blank")
        return key, {
            "response": stored,
            "at_ms": now,
            "verdict": str(outcome.verdict),
            "credit": outcome.credit,
            "team": command.team or self.players[command.player or ""]["team"],
        }

    def _answer(self, command: Command, now: int) -> list[Event]:
        """A team device (必答/抢答/风险) or a player (全员) answers the current question once."""
        state = self.state
        spec = self._round_spec()
        key, record = self.check_answer(command, now)
        state.answers[key] = record
        if spec.kind is RoundKind.EVERYONE:
            return [Event("answer_received", frozenset({Role.HOST}), {"count": len(state.answers)})]
        team = command.team or ""
        self.state.team_time_ms[team] = self.state.team_time_ms.get(team, 0) + max(0, now - (state.opened_ms or now))
        if state.phase is Phase.BUZZ_WON:
            return self._judge_buzz(record["verdict"] == Verdict.CORRECT, now)
        state.phase, state.deadline_ms = Phase.LOCKED, None
        return [Event("locked", EVERYONE_ROLES)]

    def _answer_key(self, command: Command, spec: RoundSpec) -> str:
        state = self.state
        if spec.kind is RoundKind.EVERYONE:
            if command.role is not Role.PLAYER or command.player not in self.players:
                raise ContestError("全员答题请用个人手机作答", "wrong_role")
            if self.players[command.player]["joined_seq"] >= state.question_seq:
                raise ContestError("您是在本题开始后加入的，请从下一题开始作答", "late_joiner")
            if state.phase is not Phase.ANSWERING:
                raise ContestError("现在不能作答", "wrong_phase")
            return f"player:{command.player}"
        if command.role is not Role.TEAM:
            raise ContestError("本环节由各队答题器作答", "wrong_role")
        if state.phase is Phase.BUZZ_WON or (state.phase is Phase.ANSWERING and spec.kind is not RoundKind.BUZZER):
            if command.team != state.team_on_turn:
                raise ContestError("现在不是本队作答", "not_your_turn")
            return f"team:{command.team}:{len(state.locked_out)}"
        raise ContestError("现在不能作答", "wrong_phase")

    def _judge_buzz(self, correct: bool, now: int) -> list[Event]:
        """Score the buzz winner's answer; a wrong one may reopen buzzing to the teams left."""
        state = self.state
        spec = self._round_spec()
        team = state.team_on_turn or ""
        if correct:
            if self.in_tiebreak:
                state.tiebreak_winners.append(team)
                state.tiebreak_teams = [t for t in state.tiebreak_teams if t != team]
            else:
                self._award([(team, spec.points, "抢答正确")])
            return self._reveal_now()
        state.locked_out.append(team)
        if spec.penalty and not self.in_tiebreak:
            self._award([(team, -spec.penalty, "抢答错误")])
        eligible = state.tiebreak_teams if self.in_tiebreak else self.team_ids()
        remaining = [t for t in eligible if t not in state.locked_out]
        if spec.reopen and remaining:
            state.phase = Phase.BUZZ_OPEN
            state.team_on_turn = None
            state.deadline_ms = _deadline(now, spec.buzz_seconds)
            return [Event("buzzing_reopened", EVERYONE_ROLES, {"wrong": team})]
        return self._reveal_now()

    def _judge(self, command: Command, now: int) -> list[Event]:
        """The host judges an oral answer: 抢答 winner, or the team on turn in 必答/风险."""
        state = self.state
        correct = bool(command.args.get("correct"))
        if state.phase is Phase.BUZZ_WON:
            return self._judge_buzz(correct, now)
        if state.team_on_turn is None:
            raise ContestError("现在没有需要评判的队伍", "wrong_phase")
        state.answers[f"team:{state.team_on_turn}:0"] = {
            "response": None,
            "at_ms": now,
            "verdict": "correct" if correct else "wrong",
            "credit": 1.0 if correct else 0.0,
            "team": state.team_on_turn,
        }
        return self._reveal(command, now)

    def _lock(self, command: Command, now: int) -> list[Event]:
        self.state.phase, self.state.deadline_ms = Phase.LOCKED, None
        return [Event("locked", EVERYONE_ROLES)]

    def _reveal(self, command: Command, now: int) -> list[Event]:
        """Score what was answered and show the answer, 解析 and 出处 to everyone."""
        state = self.state
        spec = self._round_spec()
        if spec.kind is RoundKind.EVERYONE:
            self._score_everyone(spec)
        elif spec.kind in (RoundKind.COMPULSORY, RoundKind.RISK):
            team = state.team_on_turn or ""
            answer = next((a for key, a in state.answers.items() if a["team"] == team), None)
            value = float(state.risk_value or 0) if spec.kind is RoundKind.RISK else spec.points
            penalty = float(state.risk_value or 0) if spec.kind is RoundKind.RISK else spec.penalty
            if answer is not None and answer["verdict"] == "correct":
                self._award([(team, value, f"{ROUND_LABELS[spec.kind]}答对")])
            elif penalty:
                self._award(
                    [
                        (
                            team,
                            -penalty,
                            f"{ROUND_LABELS[spec.kind]}答错" if answer else f"{ROUND_LABELS[spec.kind]}未作答",
                        )
                    ]
                )
        return self._reveal_now()

    def _reveal_now(self) -> list[Event]:
        state = self.state
        state.phase, state.deadline_ms = Phase.REVEALED, None
        return [Event("answer_revealed", EVERYONE_ROLES, {"question": state.question})]

    def _score_everyone(self, spec: RoundSpec) -> None:
        """Score the players' answers (handed in by the caller), then keep only the distribution: the
        answers themselves stay in their rows, so the snapshot does not grow with the number of players."""
        state = self.state
        per_team: dict[str, list[float]] = {team_id: [] for team_id in self.team_ids()}
        self.player_deltas = {}
        for player, info in self.players.items():
            if player in state.kicked or info["joined_seq"] >= state.question_seq:
                continue
            answer = state.answers.get(f"player:{player}")
            points = self._player_points(answer, spec) if answer is not None else 0.0
            per_team[info["team"]].append(points)
            if points:
                self.player_deltas[player] = points
        state.distribution = self._distribution()
        state.answers = {key: a for key, a in state.answers.items() if not key.startswith("player:")}
        self._update_leaderboard()
        awards = []
        for team_id, points in per_team.items():
            total = team_points(points, spec.team_score is TeamScoreRule.MEAN, self.plan.decimals)
            if total or any(points):  # a team mean rounded to 0 still holds its players' points for an undo
                awards.append((team_id, total, "全员答题"))
        if awards:
            self.player_group = self._award(awards)

    def _update_leaderboard(self) -> None:
        """The players' leaderboard from their stored totals plus this transition's deltas."""
        totals = {p: float(i.get("points", 0.0)) + self.player_deltas.get(p, 0.0) for p, i in self.players.items()}
        self.state.leaderboard = leaderboard(
            {p: contest_points(t, True) for p, t in totals.items()}, self.players, self.state.kicked
        )

    def _award(self, awards: list[tuple[str, float, str]]) -> int:
        group = self.state.next_group
        self.state.next_group += 1
        for team, delta, reason in awards:
            self.state.awards.append(Award(team, delta, reason, group, self.state.question, self.state.round_index))
        return group

    def _adjust(self, command: Command, now: int) -> list[Event]:
        team, reason = command.args.get("team"), str(command.args.get("reason", "")).strip()
        try:
            delta = float(command.args.get("delta"))
        except (TypeError, ValueError):
            raise ContestError("请填写调整的分数", "bad_value") from None
        if team not in self.team_ids():
            raise ContestError("没有这支队伍", "bad_team")
        if not reason:
            raise ContestError("调整分数必须填写原因", "no_reason")
        if delta == 0 or abs(delta) > 1000:
            raise ContestError("调整的分数应在 -1000 到 1000 之间且不为 0", "bad_value")
        self._award([(team, delta, f"主持人调整：{reason}")])
        return [Event("scores", EVERYONE_ROLES, {"team": team, "delta": delta, "reason": reason})]

    def _undo(self, command: Command, now: int) -> list[Event]:
        awards = self.state.awards
        if not awards:
            raise ContestError("没有可以撤销的计分", "nothing_to_undo")
        last = awards[-1].group
        undone = [a for a in awards if a.group == last]
        self.state.awards = [a for a in awards if a.group != last]
        events = [Event("scores", EVERYONE_ROLES, {"undone": [asdict(a) for a in undone]})]
        if self.undo_player_points:  # a 全员答题 reveal: its players' points go too
            self.player_deltas = {p: -points for p, points in self.undo_player_points.items()}
            self._update_leaderboard()
            events.append(Event("player_points_undone", EVERYONE_ROLES, {"players": len(self.player_deltas)}))
        return events

    def _pause(self, command: Command, now: int) -> list[Event]:
        state = self.state
        state.paused_phase = state.phase
        state.paused_left_ms = max(0, state.deadline_ms - now) if state.deadline_ms else None
        state.phase, state.deadline_ms = Phase.PAUSED, None
        state.pause_reason = str(command.args.get("reason", ""))
        return [Event("paused", EVERYONE_ROLES, {"reason": state.pause_reason})]

    def _resume(self, command: Command, now: int) -> list[Event]:
        state = self.state
        assert state.paused_phase is not None
        state.phase = state.paused_phase
        state.deadline_ms = now + state.paused_left_ms if state.paused_left_ms is not None else None
        state.paused_phase, state.paused_left_ms, state.pause_reason = None, None, ""
        return [Event("resumed", EVERYONE_ROLES)]

    def _void(self, command: Command, now: int) -> list[Event]:
        """The host voids the current question: nobody scores, the answer is shown."""
        self.state.voided = True
        return self._reveal_now()

    def _tick(self, command: Command, now: int) -> list[Event]:
        """The server's timer: act on a passed deadline (read time over, time up, nobody buzzed)."""
        state = self.state
        if state.deadline_ms is None or now < state.deadline_ms:
            return []
        if now - state.deadline_ms > OUTAGE_MS:  # the timers were not running (a restart): the host decides
            state.paused_phase, state.paused_left_ms, state.pause_reason = state.phase, OUTAGE_GRACE_MS, OUTAGE_REASON
            state.phase, state.deadline_ms = Phase.PAUSED, None
            return [Event("paused", EVERYONE_ROLES, {"reason": OUTAGE_REASON})]
        if state.phase is Phase.READING:
            return self._open(command, now)
        if state.phase is Phase.BUZZ_OPEN:  # nobody buzzed (or nobody left): the question is void
            state.voided = not any(not b["foul"] for b in state.buzzes)
            return self._reveal_now()
        if state.phase is Phase.BUZZ_WON:  # time up for the buzz winner: a wrong answer
            return self._judge_buzz(False, now)
        if state.phase is Phase.ANSWERING:
            return self._lock(command, now)
        return []

    def _kick(self, command: Command, now: int) -> list[Event]:
        who = command.args.get("participant")
        if who not in self.team_ids() and who not in self.players:
            raise ContestError("没有这个参赛者", "bad_participant")
        if who in self.state.kicked:
            raise ContestError("已经移出", "duplicate")
        self.state.kicked.append(who)
        return [Event("kicked", EVERYONE_ROLES, {"participant": who})]

    def _readmit(self, command: Command, now: int) -> list[Event]:
        who = command.args.get("participant")
        if who not in self.state.kicked:
            raise ContestError("该参赛者没有被移出", "bad_participant")
        self.state.kicked.remove(who)
        return [Event("readmitted", EVERYONE_ROLES, {"participant": who})]

    def _podium(self, command: Command, now: int) -> list[Event]:
        """The host reveals the next podium place (third, second, first), then the full table."""
        if not can_advance(self.ranking(), self.state.podium):
            raise ContestError("名次已全部公布", "podium_done")
        self.state.podium += 1
        return [Event("podium", EVERYONE_ROLES, {"stage": self.state.podium})]

    def _mute(self, command: Command, now: int) -> list[Event]:
        """The host mutes or unmutes the projector's sounds (kept in the state: a projector reload keeps it)."""
        muted = command.args.get("muted")
        if not isinstance(muted, bool):
            raise ContestError("请指定是否静音", "bad_value")
        if muted == self.state.muted:
            return []
        self.state.muted = muted
        return [Event("muted", STAFF_ROLES, {"muted": muted})]

    def _show_quote(self, command: Command, now: int) -> list[Event]:
        """The host lets the projector show (or hide) the 原文 after each reveal, to settle a dispute on the spot."""
        shown = command.args.get("shown")
        if not isinstance(shown, bool):
            raise ContestError("请指定是否在大屏显示原文", "bad_value")
        if shown == self.state.quote_shown:
            return []
        self.state.quote_shown = shown
        return [Event("quote_shown", STAFF_ROLES, {"shown": shown})]

    def _end(self, command: Command, now: int) -> list[Event]:
        """The host ends the contest now (abandoned or out of time): scores stand as they are."""
        state = self.state
        state.ended_early = True
        state.phase, state.paused_phase, state.paused_left_ms, state.deadline_ms = Phase.FINISHED, None, None, None
        state.question, state.team_on_turn = None, None
        return [Event("finished", EVERYONE_ROLES, {"ended_early": True})]


#: A deadline found this late was not missed by a 0.1 s timer but by a server that was down: the contest is
#: paused instead of judged, and on resume the clock gives back a short grace.
OUTAGE_MS, OUTAGE_GRACE_MS = 3_000, 10_000
OUTAGE_REASON = "服务器中断期间计时已到，未作判定。请确认后点“继续”（计时恢复 10 秒）"


def _rules_line(spec: RoundSpec) -> str:
    """The round's rules in one line, for the title card."""
    if spec.kind is RoundKind.COMPULSORY:
        deduction = f"，答错扣{spec.penalty:g}分" if spec.penalty else "，答错不扣分"
        return f"各队依次作答，答对得{spec.points:g}分{deduction}"
    if spec.kind is RoundKind.BUZZER:
        foul = f"，抢先犯规扣{spec.foul_penalty:g}分" if spec.foul is FoulRule.PENALIZE and spec.foul_penalty else ""
        return f"主持人宣布开始后抢答，答对得{spec.points:g}分，答错扣{spec.penalty:g}分{foul}"
    if spec.kind is RoundKind.RISK:
        values = "/".join(str(value) for value in spec.risk_values)
        return f"按比分由低到高选择{values}分，答对加分，答错扣分"
    bonus = f"，答对且越快加分越多（最多{spec.speed_bonus:g}分）" if spec.speed_bonus else ""
    rule = "各队平均分计入队伍" if spec.team_score is TeamScoreRule.MEAN else "各队得分合计计入队伍"
    return f"全体队员用手机作答，答对得{spec.points:g}分{bonus}，{rule}"


@dataclass(frozen=True)
class _Handler:
    function: Callable[[LiveContest, Command, int], list[Event]]
    roles: frozenset[Role]
    phases: frozenset[Phase]
    check_version: bool


_HOST = frozenset({Role.HOST})
_QUESTION_ENDED = frozenset(
    {Phase.READING, Phase.ANSWERING, Phase.BUZZ_ARMED, Phase.BUZZ_OPEN, Phase.BUZZ_WON, Phase.LOCKED}
)
_RUNNING = frozenset(set(Phase) - {Phase.LOBBY, Phase.PAUSED, Phase.FINISHED})

_HANDLERS: dict[str, _Handler] = {
    "start": _Handler(LiveContest._start, _HOST, frozenset({Phase.LOBBY}), True),
    "next": _Handler(LiveContest._next, _HOST, frozenset({Phase.ROUND_INTRO, Phase.REVEALED, Phase.SCOREBOARD}), True),
    "open": _Handler(LiveContest._open, _HOST, frozenset({Phase.READING, Phase.BUZZ_ARMED}), True),
    "lock": _Handler(LiveContest._lock, _HOST, frozenset({Phase.ANSWERING}), True),
    "reveal": _Handler(LiveContest._reveal, _HOST, frozenset({Phase.LOCKED, Phase.ANSWERING}), True),
    "judge": _Handler(LiveContest._judge, _HOST, frozenset({Phase.BUZZ_WON, Phase.ANSWERING, Phase.LOCKED}), True),
    "void": _Handler(LiveContest._void, _HOST, _QUESTION_ENDED, True),
    "adjust": _Handler(LiveContest._adjust, _HOST, frozenset(set(Phase) - {Phase.LOBBY}), False),
    "undo": _Handler(LiveContest._undo, _HOST, frozenset(set(Phase) - {Phase.LOBBY}), False),
    "pause": _Handler(LiveContest._pause, frozenset({Role.HOST, Role.SYSTEM}), _RUNNING, False),
    "resume": _Handler(LiveContest._resume, _HOST, frozenset({Phase.PAUSED}), False),
    "kick": _Handler(LiveContest._kick, _HOST, frozenset(), False),
    "readmit": _Handler(LiveContest._readmit, _HOST, frozenset(), False),
    "choose_risk": _Handler(
        LiveContest._choose_risk, frozenset({Role.HOST, Role.TEAM}), frozenset({Phase.RISK_CHOOSING}), False
    ),
    "buzz": _Handler(
        LiveContest._buzz, frozenset({Role.TEAM}), frozenset({Phase.BUZZ_ARMED, Phase.BUZZ_OPEN, Phase.BUZZ_WON}), False
    ),
    "answer": _Handler(
        LiveContest._answer, frozenset({Role.TEAM, Role.PLAYER}), frozenset({Phase.ANSWERING, Phase.BUZZ_WON}), False
    ),
    "tick": _Handler(LiveContest._tick, frozenset({Role.SYSTEM}), frozenset(), False),
    "podium": _Handler(LiveContest._podium, _HOST, frozenset({Phase.FINISHED}), True),
    "mute": _Handler(LiveContest._mute, _HOST, frozenset(), False),
    "show_quote": _Handler(LiveContest._show_quote, _HOST, frozenset(), False),
    "end": _Handler(LiveContest._end, _HOST, frozenset(set(Phase) - {Phase.FINISHED}), True),
}


def plan_to_dict(plan: ContestPlan) -> dict[str, Any]:
    """A plan as JSON-ready data (stored with the contest, so a later edit of the YAML changes nothing)."""
    return json.loads(json.dumps(asdict(plan)))


def plan_from_dict(data: dict[str, Any]) -> ContestPlan:
    """Rebuild a plan stored by `plan_to_dict`."""

    def source(raw: dict[str, Any]) -> QuestionSource:
        return QuestionSource(**{key: tuple(value) if isinstance(value, list) else value for key, value in raw.items()})

    rounds = tuple(
        RoundSpec(
            **{
                **raw,
                "kind": RoundKind(raw["kind"]),
                "source": source(raw["source"]),
                "foul": FoulRule(raw["foul"]),
                "team_score": TeamScoreRule(raw["team_score"]),
                "risk_values": tuple(raw["risk_values"]),
                "risk_difficulty": tuple((value, tuple(levels)) for value, levels in raw["risk_difficulty"]),
            }
        )
        for raw in data["rounds"]
    )
    return ContestPlan(
        title=data["title"],
        rounds=rounds,
        teams=tuple(TeamSpec(**team) for team in data.get("teams", ())),
        base_score=data.get("base_score", 100),
        tie_break=TieBreak(data.get("tie_break", "buzzer")),
        tie_break_source=source(data.get("tie_break_source", {"count": 5})),
        prizes=data.get("prizes", 3),
        decimals=data.get("decimals", False),
    )
