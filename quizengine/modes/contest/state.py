"""The contest's state snapshot, its phases and roles, and the commands and events that change it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from quizengine.engine.errors import QuizError


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
    #: How many joined players (kicked ones too) have each non-zero leaderboard total (repr of the total ->
    #: count; bounded by the distinct totals): a reveal updates it from the players it scored
    #: (standings.py). None: not known (a kick, a readmission, an older snapshot), recounted at the next one.
    player_table: dict[str, int] | None = None
    #: Podium reveal stage once finished (0 = not started; see podium.py).
    podium: int = 0
    #: The host muted the projector's sounds.
    muted: bool = False
    #: The host ended the contest before its last round (an abandoned contest).
    ended_early: bool = False
    #: The host lets the projector show the 原文 (quote) of a question after its reveal.
    quote_shown: bool = False
    #: The current round type's own bookkeeping (JSON-ready), emptied when a round starts.
    round_data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready snapshot."""
        data = asdict(self)
        data["phase"] = str(self.phase)
        data["paused_phase"] = str(self.paused_phase) if self.paused_phase else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContestState:
        """Rebuild from `to_dict()` (a snapshot from before a field existed gets its default)."""
        values = dict(data)
        values["phase"] = Phase(values["phase"])
        values["paused_phase"] = Phase(values["paused_phase"]) if values.get("paused_phase") else None
        values["awards"] = [Award(**award) for award in values.get("awards", [])]
        return cls(**values)


def epoch_ms(moment: datetime) -> int:
    """A moment as epoch milliseconds (the state's time unit)."""
    return int(moment.timestamp() * 1000)


def deadline(now_ms: int, seconds: int) -> int | None:
    """A phase deadline `seconds` from now; 0 seconds means no timer (the host moves on)."""
    return now_ms + seconds * 1000 if seconds > 0 else None


#: A deadline found this late was not missed by a 0.1 s timer but by a server that was down: the contest is
#: paused instead of judged, and on resume the clock gives back a short grace.
OUTAGE_MS, OUTAGE_GRACE_MS = 3_000, 10_000
OUTAGE_REASON = "服务器中断期间计时已到，未作判定。请确认后点“继续”（计时恢复 10 秒）"
