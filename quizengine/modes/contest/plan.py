"""The contest plan: teams, rounds, tie-break (frozen dataclasses), and its stored JSON form.

A round's `kind` names a round type in the registry (`rounds/`); the four original kinds keep their
`RoundKind` members, so `spec.kind is RoundKind.BUZZER` still holds for plans read back from storage.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

#: Prize places when a plan does not say (ties for these places are broken); never more than the teams.
DEFAULT_PRIZES = 3


class RoundKind(StrEnum):
    """The names of the four original round kinds (the registry in `rounds/` may hold more)."""

    COMPULSORY = "compulsory"  # 必答题: each team in turn
    BUZZER = "buzzer"  # 抢答题: first buzz after the host opens wins
    RISK = "risk"  # 风险题: the team picks a value, ± that value
    EVERYONE = "everyone"  # 全员答题: every player answers


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
    #: Question tags (a question carrying any of them matches), e.g. 投影 for the projector-ready set.
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoundSpec:
    """One round of a contest plan. Each round type reads the fields it declares (`RoundType.fields`)."""

    #: A registered round type's name (`rounds.round_type(kind)`).
    kind: str
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
    #: The values of the plan fields a round kind declares that are not attributes above (name, value),
    #: so a new kind brings its own fields without a change here; read them with `value(name)`.
    extra: tuple[tuple[str, Any], ...] = ()

    def value(self, name: str, default: Any = None) -> Any:
        """A plan field's value: an attribute of the spec, or one of its kind's own fields in `extra`."""
        if name != "extra" and name in self.__dataclass_fields__:
            return getattr(self, name)
        return dict(self.extra).get(name, default)


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
    prizes: int = DEFAULT_PRIZES
    #: Computed points (speed bonus, team means) keep two decimals instead of whole numbers.
    decimals: bool = False
    #: 个人赛: no teams; every joined player plays on their phone and is ranked by their own points (ties
    #: share a place). Inside, the players belong to one team nobody sees (it carries the undo's groups), and
    #: the plan's tie-break is `time` with no questions, so no 加赛 is ever drawn or played.
    individual: bool = False

    @property
    def tie_break_questions(self) -> QuestionSource | None:
        """The 加赛 questions to set aside: only a buzzer tie-break has any; a time tie-break is settled by time."""
        return self.tie_break_source if self.tie_break is TieBreak.BUZZER else None


def default_prizes(team_count: int) -> int:
    """Three prize places unless the plan names fewer teams: a two-team plan has two places to give."""
    return min(DEFAULT_PRIZES, team_count) if team_count else DEFAULT_PRIZES


def plan_to_dict(plan: ContestPlan) -> dict[str, Any]:
    """A plan as JSON-ready data (stored with the contest, so a later edit of the YAML changes nothing)."""
    return json.loads(json.dumps(asdict(plan)))


def source_from_dict(raw: dict[str, Any]) -> QuestionSource:
    """A question source from its JSON form (lists become tuples)."""
    return QuestionSource(**{key: tuple(value) if isinstance(value, list) else value for key, value in raw.items()})


def plan_from_dict(data: dict[str, Any]) -> ContestPlan:
    """Rebuild a plan stored by `plan_to_dict`."""
    from .rounds import round_type  # the round types import this module

    rounds = tuple(
        RoundSpec(
            **{
                **raw,
                "kind": round_type(raw["kind"]).kind,
                "source": source_from_dict(raw["source"]),
                "foul": FoulRule(raw["foul"]),
                "team_score": TeamScoreRule(raw["team_score"]),
                "risk_values": tuple(raw["risk_values"]),
                "risk_difficulty": tuple((value, tuple(levels)) for value, levels in raw["risk_difficulty"]),
                "extra": tuple((name, value) for name, value in raw.get("extra", ())),
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
        tie_break_source=source_from_dict(data.get("tie_break_source", {"count": 5})),
        prizes=data.get("prizes", DEFAULT_PRIZES),
        decimals=data.get("decimals", False),
        individual=data.get("individual", False),
    )
