"""The contest state machine: `handle(command, now)` checks and applies one command and returns its events.

Pure Python: the services feed it commands (with the server's receive time) and persist the resulting
state and events; the transports only deliver views. Every command is checked against the phase, the
sender's role and the state `version`, so a stale or forged command changes nothing. The machine owns the
phases every round shares; whatever differs between round kinds it asks the round's type (`rounds/`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from quizengine.engine.errors import InvalidResponse
from quizengine.engine.questions import Question, get_type, grade
from quizengine.engine.scoring import Ranked, RankEntry, rank, round_points

from . import controls, tiebreak, views
from .plan import ContestPlan, RoundKind, RoundSpec, TieBreak
from .rounds import RoundType, round_type
from .standings import RosterCounts, advance, can_advance, recount
from .state import (
    EVERYONE_ROLES,
    OUTAGE_GRACE_MS,
    OUTAGE_MS,
    OUTAGE_REASON,
    PHASE_LABELS,
    Award,
    Command,
    ContestError,
    ContestState,
    Event,
    Phase,
    Role,
    epoch_ms,
)


class LiveContest:
    """The machine over one contest's plan and state.

    It never reads the clock or the database: `now` is the server's receive time, `questions` the pinned
    revisions of every question the contest can ask, `players` the joined players (player id -> team,
    name, joined_seq) the caller loaded for this command. Players are not part of the state snapshot: each
    join is a row of its own, so a join costs the same with 10 players as with 2,000. A 全员答题 reveal
    sees only the players it concerns, with `roster_counts` saying how many there are in all
    (`scoring_needs_every_player` says when it must see them all).
    """

    def __init__(
        self,
        plan: ContestPlan,
        state: ContestState,
        questions: Mapping[str, Question],
        players: Mapping[str, Mapping[str, Any]] | None = None,
        roster_counts: RosterCounts | None = None,
    ) -> None:
        self.plan = plan
        self.state = state
        self.questions = questions
        self.players: Mapping[str, Mapping[str, Any]] = players or {}
        #: None: `players` is every joined player; else it holds only those this scoring concerns.
        self.roster_counts = roster_counts
        #: Set by a 全员答题 reveal: each scored player's points for the question (the service adds them up);
        #: by an undo of that reveal: the same points taken back.
        self.player_deltas: dict[str, float] = {}
        #: The award group a 全员答题 reveal scored the players in (the service logs their points with it).
        self.player_group: int | None = None
        #: Before an undo: the players' points logged with the last award group (the service reads them from
        #: the event log), so the undo takes them back too; the state never lists every player.
        self.undo_player_points: Mapping[str, float] = {}
        #: The key of the answer the last command recorded (the service stores the answer's row under it).
        self.answered_key: str | None = None

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

    def round_spec(self) -> RoundSpec:
        """The round being played: the plan's, or the 加赛 (buzzer questions among the tied teams)."""
        if self.in_tiebreak:
            return RoundSpec(RoundKind.BUZZER, "加赛抢答", self.plan.tie_break_source, points=0, penalty=0, reopen=True)
        spec = self.round
        assert spec is not None
        return spec

    @property
    def kind(self) -> RoundType:
        """The type of the round being played."""
        return round_type(self.round_spec().kind)

    def needs_players(self) -> bool:
        """Whether a round of the plan has players take turns (then every command sees the joined players)."""
        return any(round_type(spec.kind).needs_players(spec) for spec in self.plan.rounds)

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
        """Teams ranked by score; 加赛 winners first within their tie, then the plan's tie-break. In a 个人赛 the
        players, by their points after the latest reveal (the leaderboard's top; ties share a place)."""
        if self.plan.individual:
            top = self.state.leaderboard.get("top", [])
            return [Ranked(row["place"], RankEntry(row["player"], row["points"])) for row in top]
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

    def view_for(self, role: Role, team: str | None = None, player: str | None = None) -> dict[str, Any]:
        """What one client may see (views.view_for)."""
        return views.view_for(self, role, team, player)

    def roster(self, role: Role) -> dict[str, Any]:
        """Who has joined, for the host or the projector (views.roster)."""
        return views.roster(self, role)

    def new_player(self, player: str, team: object, name: str) -> dict[str, Any]:
        """A member joining by PIN for 全员答题: the record to store. A late joiner answers from the next question;
        in a 个人赛 the team is not asked for."""
        if self.state.phase is Phase.FINISHED:
            raise ContestError(f"当前阶段（{PHASE_LABELS[self.state.phase]}）不能加入", "wrong_phase")
        if self.plan.individual:  # no teams to choose: everyone plays for themselves
            team = self.team_ids()[0]
        if team not in self.team_ids():
            raise ContestError("请选择所在队伍", "bad_team")
        if player in self.state.kicked:
            raise ContestError("已被主持人移出比赛", "kicked")
        return {"team": team, "name": name, "joined_seq": self.state.question_seq}

    # ---- commands ------------------------------------------------------------------------------------

    def handle(self, command: Command, now: datetime) -> list[Event]:
        """Apply one command at `now`; raise ContestError (state unchanged) when it is not allowed."""
        handler = HANDLERS.get(command.name)
        if handler is None:
            raise ContestError(f"未知指令“{command.name}”", "unknown_command")
        if command.role not in handler.roles:
            raise ContestError("无权执行此操作", "wrong_role")
        participant = command.team if command.role is Role.TEAM else command.player
        if participant is not None and participant in self.state.kicked:
            raise ContestError("已被主持人移出比赛", "kicked")
        if handler.check_version and command.version != self.state.version:
            raise ContestError("页面状态已过期，请按最新状态操作", "stale_version")
        if handler.phases and self.state.phase not in handler.phases:
            raise ContestError(f"当前阶段（{PHASE_LABELS[self.state.phase]}）不能执行此操作", "wrong_phase")
        before = self.state.to_dict()
        try:
            events = handler.function(self, command, epoch_ms(now))
        except ContestError:
            self.state = ContestState.from_dict(before)
            raise
        if events:
            self.state.version += 1
        return events

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
        key = self.kind.answer_key(self, command, self.round_spec())
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

    # ---- helpers for the round types -----------------------------------------------------------------

    def award(self, awards: list[tuple[str, float, str]]) -> int:
        """Give or take points (team, delta, reason) as one award group; return the group."""
        group = self.state.next_group
        self.state.next_group += 1
        for team, delta, reason in awards:
            self.state.awards.append(Award(team, delta, reason, group, self.state.question, self.state.round_index))
        return group

    def scoring_needs_every_player(self) -> bool:
        """Whether scoring players now needs every joined player (to recount the standings), not just those
        it scores, the kicked ones and the current top ten (standings.py)."""
        return not can_advance(self.state)

    def eligible_by_team(self) -> dict[str, int]:
        """Per team, how many players may score the current question: joined before it, not removed."""
        state = self.state
        if self.roster_counts is None:
            counts = dict.fromkeys(self.team_ids(), 0)
            for player, info in self.players.items():
                if player not in state.kicked and info["joined_seq"] < state.question_seq:
                    counts[info["team"]] += 1
            return counts
        counts = {team_id: self.roster_counts.before_question.get(team_id, 0) for team_id in self.team_ids()}
        for player in state.kicked:
            info = self.players.get(player)
            if info is not None and info["joined_seq"] < state.question_seq:
                counts[info["team"]] -= 1
        return counts

    def update_leaderboard(self) -> None:
        """The players' leaderboard from their stored totals plus this transition's deltas: recounted when the
        machine sees every player, else moved on from the players scored (standings.py)."""
        if self.roster_counts is None:
            board, table = recount(self.players, self.player_deltas, self.state.kicked)
        else:
            board, table = advance(self.state, self.players, self.player_deltas, self.roster_counts.joined)
        self.state.leaderboard, self.state.player_table = board, table

    def show_question(self, spec: RoundSpec, now: int) -> list[Event]:
        """Show `state.question` in the phase the round starts a question in."""
        self.state.question_seq += 1
        self.kind.show(self, spec, now)
        return [Event("question_shown", EVERYONE_ROLES, {"question": self.state.question})]

    def reveal(self, command: Command, now: int) -> list[Event]:
        """Score what was answered (the round's rule) and show the answer, 解析 and 出处 to everyone."""
        self.kind.score(self, self.round_spec())
        return self.reveal_now()

    def reveal_now(self) -> list[Event]:
        """Show the answer without scoring (scored already, or void)."""
        state = self.state
        state.phase, state.deadline_ms = Phase.REVEALED, None
        return [Event("answer_revealed", EVERYONE_ROLES, {"question": state.question})]

    # ---- the common phases ---------------------------------------------------------------------------

    def _start(self, command: Command, now: int) -> list[Event]:
        if not self.plan.rounds:
            raise ContestError("比赛方案中没有环节")
        return self._enter_round(0, now)

    def _enter_round(self, index: int, now: int) -> list[Event]:
        state = self.state
        state.round_index, state.question_index = index, -1
        state.question, state.team_on_turn, state.deadline_ms = None, None, None
        state.phase, state.round_data = Phase.ROUND_INTRO, {}
        self.kind.enter(self, now)
        return [Event("round_started", EVERYONE_ROLES, {"round": index})]

    def _next(self, command: Command, now: int) -> list[Event]:
        state = self.state
        if state.phase is Phase.ROUND_INTRO:
            return self._next_question(now)
        if state.phase is Phase.REVEALED:
            if self.in_tiebreak:
                return tiebreak.next_question(self, now)
            if self.kind.has_next_question(self):
                return self._next_question(now)
            settled = self.kind.leave(self, now)
            state.phase = Phase.SCOREBOARD
            state.question, state.deadline_ms = None, None
            return [*settled, Event("scores", EVERYONE_ROLES)]
        # SCOREBOARD: next round, a tie-break, or the end
        if state.round_index + 1 < len(self.plan.rounds):
            return self._enter_round(state.round_index + 1, now)
        return tiebreak.start(self, now)

    def _next_question(self, now: int) -> list[Event]:
        self.state.question_index += 1
        self.reset_question()
        return self.kind.next_question(self, self.round_spec(), now)

    def reset_question(self) -> None:
        """Clear what belonged to the previous question."""
        state = self.state
        state.question, state.team_on_turn, state.risk_value = None, None, None
        state.buzzes, state.locked_out, state.answers, state.distribution = [], [], {}, {}
        state.opened_ms, state.deadline_ms, state.voided = None, None, False

    def _open(self, command: Command, now: int) -> list[Event]:
        """Open answering (after reading) or buzzing (抢答, when the host says 开始)."""
        return self.kind.open(self, self.round_spec(), now)

    def _choose(self, command: Command, now: int) -> list[Event]:
        return self.kind.choose(self, command, now)

    def _buzz(self, command: Command, now: int) -> list[Event]:
        return self.kind.buzz(self, command, now)

    def _answer(self, command: Command, now: int) -> list[Event]:
        """A team device or a player answers the current question once."""
        key, record = self.check_answer(command, now)
        self.state.answers[key] = record
        self.answered_key = key
        return self.kind.on_answer(self, command, record, now)

    def _judge(self, command: Command, now: int) -> list[Event]:
        """The host judges an oral answer."""
        return self.kind.judge(self, command, bool(command.args.get("correct")), now)

    def _lock(self, command: Command, now: int) -> list[Event]:
        self.state.phase, self.state.deadline_ms = Phase.LOCKED, None
        return [Event("locked", EVERYONE_ROLES)]

    def _void(self, command: Command, now: int) -> list[Event]:
        """The host voids the current question: nobody scores, the answer is shown."""
        self.state.voided = True
        return self.reveal_now()

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
        if state.phase is Phase.ANSWERING:
            return self._lock(command, now)
        return self.kind.on_timeout(self, now)


@dataclass(frozen=True)
class Handler:
    """A command: what applies it, who may send it, in which phases, and whether it must be fresh."""

    function: Callable[[LiveContest, Command, int], list[Event]]
    roles: frozenset[Role]
    phases: frozenset[Phase]
    check_version: bool


_HOST = frozenset({Role.HOST})
_QUESTION_ON = frozenset(
    {Phase.READING, Phase.ANSWERING, Phase.BUZZ_ARMED, Phase.BUZZ_OPEN, Phase.BUZZ_WON, Phase.LOCKED}
)
_RUNNING = frozenset(set(Phase) - {Phase.LOBBY, Phase.PAUSED, Phase.FINISHED})
_STARTED = frozenset(set(Phase) - {Phase.LOBBY})

HANDLERS: dict[str, Handler] = {
    "start": Handler(LiveContest._start, _HOST, frozenset({Phase.LOBBY}), True),
    "next": Handler(LiveContest._next, _HOST, frozenset({Phase.ROUND_INTRO, Phase.REVEALED, Phase.SCOREBOARD}), True),
    "open": Handler(LiveContest._open, _HOST, frozenset({Phase.READING, Phase.BUZZ_ARMED}), True),
    "lock": Handler(LiveContest._lock, _HOST, frozenset({Phase.ANSWERING}), True),
    "reveal": Handler(LiveContest.reveal, _HOST, frozenset({Phase.LOCKED, Phase.ANSWERING}), True),
    "judge": Handler(LiveContest._judge, _HOST, frozenset({Phase.BUZZ_WON, Phase.ANSWERING, Phase.LOCKED}), True),
    "void": Handler(LiveContest._void, _HOST, _QUESTION_ON, True),
    "adjust": Handler(controls.adjust, _HOST, _STARTED, False),
    "undo": Handler(controls.undo, _HOST, _STARTED, False),
    "pause": Handler(controls.pause, frozenset({Role.HOST, Role.SYSTEM}), _RUNNING, False),
    "resume": Handler(controls.resume, _HOST, frozenset({Phase.PAUSED}), False),
    "kick": Handler(controls.kick, _HOST, frozenset(), False),
    "readmit": Handler(controls.readmit, _HOST, frozenset(), False),
    "choose_risk": Handler(
        LiveContest._choose, frozenset({Role.HOST, Role.TEAM}), frozenset({Phase.RISK_CHOOSING}), False
    ),
    "buzz": Handler(
        LiveContest._buzz, frozenset({Role.TEAM}), frozenset({Phase.BUZZ_ARMED, Phase.BUZZ_OPEN, Phase.BUZZ_WON}), False
    ),
    "answer": Handler(
        LiveContest._answer, frozenset({Role.TEAM, Role.PLAYER}), frozenset({Phase.ANSWERING, Phase.BUZZ_WON}), False
    ),
    "tick": Handler(LiveContest._tick, frozenset({Role.SYSTEM}), frozenset(), False),
    "podium": Handler(controls.podium, _HOST, frozenset({Phase.FINISHED}), True),
    "mute": Handler(controls.mute, _HOST, frozenset(), False),
    "show_quote": Handler(controls.show_quote, _HOST, frozenset(), False),
    "end": Handler(controls.end, _HOST, frozenset(set(Phase) - {Phase.FINISHED}), True),
}
