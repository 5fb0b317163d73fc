"""The round-type registry: one small class per round kind, registered by name.

The machine owns the phases every round shares (show, open, lock, reveal, pause, adjust, undo, void,
tie-break) and asks the current round's type whatever differs between kinds: who answers, how an answer or
a buzz is handled, how the question is scored, and the rules line. A round type keeps no state of its own:
everything lives in the machine's `ContestState` (its own bookkeeping in `state.round_data`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..fields import COMMON, PlanField
from ..state import EVERYONE_ROLES, Command, ContestError, Event, Phase, Role, deadline

if TYPE_CHECKING:
    from ..machine import LiveContest
    from ..plan import RoundSpec

#: Plan fields every round has: its kind, title and question source, and the COMMON fields (timers).
COMMON_FIELDS = frozenset({"kind", "title", "source"} | {field.name for field in COMMON})


@dataclass(frozen=True)
class Draw:
    """One pool a round draws from, for the plan's check against the banks (when not just its source)."""

    #: The difficulties this pool takes (replacing the source's).
    difficulties: tuple[int, ...]
    #: How many questions it may take, at worst.
    count: int
    #: The pool in the problem message; `{source}` is replaced by the source's description.
    condition: str
    #: The field (below the round) a problem points at when the plan writes it, else the source's count.
    path: tuple[str, ...]
    #: Words added to a problem's message.
    note: str = ""


class RoundType:
    """Base class: the behaviour of a round where the team on turn answers on its device (or orally)."""

    #: The name plans use (`kind:` in YAML).
    kind: ClassVar[str]
    #: The round's name on every screen.
    label: ClassVar[str]
    #: Where the kind comes in lists (the plan editor, the docs): lower first.
    position: ClassVar[int] = 100
    #: The plan fields this kind reads besides its kind, title, source and the COMMON timers (for the
    #: schema and the plan editor), in the editor's order.
    fields: ClassVar[tuple[PlanField, ...]] = ()
    #: Source fields a plan may not use for this kind (the editor hides them; `check_plan` says why).
    source_excludes: ClassVar[frozenset[str]] = frozenset()
    #: Teams answer in turn, so the question count must be a multiple of the number of teams.
    in_turn: ClassVar[bool] = False
    #: Every player answers on their own phone (never judged by the host).
    players_answer: ClassVar[bool] = False
    #: The phase in which the team on turn answers.
    answer_phase: ClassVar[Phase] = Phase.ANSWERING

    def rules(self, spec: RoundSpec) -> str:
        """The round's rules in one line, for the title card."""
        raise NotImplementedError

    def individual_rules(self, spec: RoundSpec) -> str:
        """The rules line in a 个人赛 (no teams to speak of); the same line unless the kind says otherwise."""
        return self.rules(spec)

    def players_only(self, spec: RoundSpec) -> bool:
        """Whether every contestant of this round is a joined player on their own phone: only such rounds can
        be played in a 个人赛 (no teams)."""
        return self.players_answer

    # ---- the plan ------------------------------------------------------------------------------------

    def plan_fields(self) -> tuple[PlanField, ...]:
        """Every plan field of this kind: the COMMON ones, then its own."""
        return COMMON + self.fields

    def field_names(self) -> frozenset[str]:
        """The names a round of this kind may set (COMMON_FIELDS and its own fields)."""
        return COMMON_FIELDS | {field.name for field in self.fields}

    def on_device(self, values: Mapping[str, Any]) -> bool:
        """Whether answers are given on devices (then only choice questions work), from the round's values."""
        return self.players_answer or values.get("judged_by", "device") == "device"

    def check_plan(self, data: Mapping[str, Any], errors: dict[str, Any]) -> None:
        """Add the problems of this kind's own rules across fields to `errors` (keyed like the YAML).

        `data` is the round as the schema loaded it (fields checked one by one, nothing built yet); only
        the fields the plan writes are in it.
        """

    def build_plan(self, data: dict[str, Any]) -> dict[str, Any]:
        """The RoundSpec values of fields that need more than their `cast` (popped from `data`)."""
        return {}

    def plan_draws(self, spec: RoundSpec) -> list[Draw] | None:
        """The pools the round draws from, for the check against the banks; None: its source, `count` questions."""
        return None

    # ---- questions -----------------------------------------------------------------------------------

    def question_pools(self, spec: RoundSpec, teams: int) -> Mapping[str, tuple[int, tuple[int, ...] | None]] | None:
        """Questions drawn per pool when the contest is created (name -> count, difficulties), or None for
        one list of `spec.source` (the usual case)."""
        return None

    def enter(self, m: LiveContest, now: int) -> None:
        """Set up the round as its title card is shown."""

    def has_next_question(self, m: LiveContest) -> bool:
        """Whether the round asks another question after the current one."""
        state = m.state
        return state.question_index + 1 < len(state.rounds[state.round_index])

    def leave(self, m: LiveContest, now: int) -> list[Event]:
        """The round's last question is over and the scoreboard follows: settle what the round still owes."""
        return []

    def next_question(self, m: LiveContest, spec: RoundSpec, now: int) -> list[Event]:
        """Move to the round's next question (`question_index` is already advanced)."""
        state = m.state
        state.question = state.rounds[state.round_index][state.question_index]
        return m.show_question(spec, now)

    def show(self, m: LiveContest, spec: RoundSpec, now: int) -> None:
        """The phase a shown question starts in: reading, answering opens when the read time is over."""
        m.state.phase = Phase.READING
        m.state.deadline_ms = deadline(now, spec.read_seconds)

    def open(self, m: LiveContest, spec: RoundSpec, now: int) -> list[Event]:
        """Open answering after the reading."""
        state = m.state
        state.opened_ms = now
        state.phase = Phase.ANSWERING
        state.deadline_ms = deadline(now, spec.answer_seconds)
        return [Event("answering_opened", EVERYONE_ROLES)]

    # ---- answers -------------------------------------------------------------------------------------

    def answer_key(self, m: LiveContest, command: Command, spec: RoundSpec) -> str:
        """Who may answer now, as the answer's key (one answer per key)."""
        state = m.state
        if command.role is not Role.TEAM:
            raise ContestError("本环节由各队答题器作答", "wrong_role")
        if state.phase is self.answer_phase:
            if command.team != state.team_on_turn:
                raise ContestError("现在不是本队作答", "not_your_turn")
            return f"team:{command.team}:{len(state.locked_out)}"
        raise ContestError("现在不能作答", "wrong_phase")

    def on_answer(self, m: LiveContest, command: Command, record: dict[str, Any], now: int) -> list[Event]:
        """A recorded answer: the team's answering time counts, and its answer locks the question."""
        state = m.state
        team = command.team or ""
        state.team_time_ms[team] = state.team_time_ms.get(team, 0) + max(0, now - (state.opened_ms or now))
        state.phase, state.deadline_ms = Phase.LOCKED, None
        return [Event("locked", EVERYONE_ROLES)]

    def judge(self, m: LiveContest, command: Command, correct: bool, now: int) -> list[Event]:
        """The host judges the oral answer of the team on turn, then reveals."""
        state = m.state
        if state.team_on_turn is None:
            raise ContestError("现在没有需要评判的队伍", "wrong_phase")
        state.answers[f"team:{state.team_on_turn}:0"] = {
            "response": None,
            "at_ms": now,
            "verdict": "correct" if correct else "wrong",
            "credit": 1.0 if correct else 0.0,
            "team": state.team_on_turn,
        }
        return m.reveal(command, now)

    def buzz(self, m: LiveContest, command: Command, now: int) -> list[Event]:
        """A team's buzz (only buzzer rounds take them)."""
        raise ContestError("本环节不能抢答", "wrong_phase")

    def choose(self, m: LiveContest, command: Command, now: int) -> list[Event]:
        """A team's choice of the question's value (only risk rounds offer one)."""
        raise ContestError("本环节不能选择分值", "wrong_phase")

    def on_timeout(self, m: LiveContest, now: int) -> list[Event]:
        """A passed deadline in a phase of this round's own (the machine handles reading and answering)."""
        return []

    # ---- scoring and views ---------------------------------------------------------------------------

    def score(self, m: LiveContest, spec: RoundSpec) -> None:
        """Score the current question at the reveal (nothing unless the round says so)."""

    def score_turn(self, m: LiveContest, value: float, penalty: float) -> None:
        """Score the team on turn: `value` for a right answer, `-penalty` for a wrong or missing one."""
        state = m.state
        team = state.team_on_turn or ""
        answer = next((a for a in state.answers.values() if a["team"] == team), None)
        if answer is not None and answer["verdict"] == "correct":
            m.award([(team, value, f"{self.label}答对")])
        elif penalty:
            m.award([(team, -penalty, f"{self.label}答错" if answer else f"{self.label}未作答")])

    def question_points(self, m: LiveContest, spec: RoundSpec) -> float:
        """The points the current question is worth, as the screens show them."""
        return spec.points

    def round_view(self, m: LiveContest, spec: RoundSpec) -> dict[str, Any]:
        """Extra keys of the round's part of every view."""
        return {}

    def add_view(self, m: LiveContest, spec: RoundSpec, view: dict[str, Any], role: Role, revealed: bool) -> None:
        """Extra keys of one role's view while this round is on."""

    def player_points(self, m: LiveContest, answer: Mapping[str, Any], spec: RoundSpec) -> float | None:
        """A player's points for their own answer (only rounds where players answer)."""
        return None

    # ---- players taking turns ------------------------------------------------------------------------

    def needs_players(self, spec: RoundSpec) -> bool:
        """Whether commands must see every joined player while a plan with this round is played (players
        take turns in it). Loading them costs a query per command, so only such plans pay for it."""
        return False

    def player_answers_are_commands(self, m: LiveContest) -> bool:
        """Whether a player's answer changes the contest now (one player answers in turn): it is then applied
        as a command, instead of stored in its own row and handed in at the reveal (全员答题)."""
        return False

    def player_can_answer(self, m: LiveContest, player: str, info: Mapping[str, Any], answer: Any) -> bool:
        """Whether a joined player may answer the current question now (their view's `can_answer`)."""
        state = m.state
        return (
            state.phase is Phase.ANSWERING
            and self.players_answer
            and info["joined_seq"] < state.question_seq
            and answer is None
        )


_REGISTRY: dict[str, RoundType] = {}


def register(cls: type[RoundType]) -> type[RoundType]:
    """Class decorator: make a round type available to plans by its `kind`.

    A field name two kinds share must be checked alike (the schema has one field per name).
    """
    known = {field.name: field for kind in _REGISTRY.values() for field in kind.plan_fields()}
    for field in cls.fields:
        if field.name in COMMON_FIELDS or (field.name in known and not known[field.name].same_schema(field)):
            raise ValueError(f"round kind {cls.kind!r}: field {field.name!r} clashes with another kind's")
    _REGISTRY[str(cls.kind)] = cls()
    return cls


def round_type(kind: str) -> RoundType:
    """The registered round type named `kind` (KeyError when there is none)."""
    return _REGISTRY[str(kind)]


def round_types() -> list[RoundType]:
    """Every registered round type, by `position` (the plan editor's order)."""
    return sorted(_REGISTRY.values(), key=lambda kind: kind.position)


def plan_fields() -> list[PlanField]:
    """Every plan field of every kind, once per name: COMMON first, then by kind (the editor's order)."""
    seen: dict[str, PlanField] = {}
    for kind in round_types():
        for field in kind.plan_fields():
            seen.setdefault(field.name, field)
    return list(seen.values())
