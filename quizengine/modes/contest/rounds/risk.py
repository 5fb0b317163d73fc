"""风险题: in turn, weakest team first, a team picks the question's value; right adds it, wrong takes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..fields import JUDGED_BY, PlanField, spec_default
from ..plan import RoundKind
from ..state import EVERYONE_ROLES, Command, ContestError, Event, Phase, Role
from .base import Draw, RoundType, register

if TYPE_CHECKING:
    from ..machine import LiveContest
    from ..plan import RoundSpec

MAX_RISK_VALUE = 1000

RISK_VALUES = PlanField(
    "risk_values",
    "int_list",
    "风险分值",
    spec_default("risk_values"),
    minimum=1,
    maximum=MAX_RISK_VALUE,
    error=f"风险分值应为 1 到 {MAX_RISK_VALUE} 的整数，实际为 {{input}}",
    empty_error="至少要有一个分值",
    cast=tuple,
)
RISK_DIFFICULTY = PlanField(
    "risk_difficulty", "int_map", "分值难度", spec_default("risk_difficulty"), prompt="各分值难度（如 10: 1 2；20: 3）"
)
#: Without a mapping, three values stand, low to high, for these difficulties.
DEFAULT_LEVELS: tuple[tuple[int, ...], ...] = tuple(levels for _, levels in RISK_DIFFICULTY.default)


def turns(spec: RoundSpec, teams: int) -> int:
    """How many questions each team chooses in the round."""
    return max(1, spec.source.count // max(1, teams)) if spec.source.count else 1


@register
class Risk(RoundType):
    """Each value stands for a difficulty; its questions are drawn per value when the contest is created."""

    kind = RoundKind.RISK
    label = "风险题"
    position = 3
    fields = (RISK_VALUES, RISK_DIFFICULTY, JUDGED_BY)
    source_excludes = frozenset({"difficulties", "ids"})
    in_turn = True

    def rules(self, spec: RoundSpec) -> str:
        values = "/".join(str(value) for value in spec.risk_values)
        return f"按比分由低到高选择{values}分，答对加分，答错扣分"

    # ---- the plan ------------------------------------------------------------------------------------

    def check_plan(self, data: Mapping[str, Any], errors: dict[str, Any]) -> None:
        """Questions are drawn per value at its difficulties; values ascend; each value has its difficulties."""
        source = data["source"]
        if "difficulties" in source:
            errors.setdefault("source", {})["difficulties"] = [
                "风险题的难度由 risk_difficulty 按分值决定，source 中不要写难度"
            ]
        if "ids" in source:
            errors.setdefault("source", {})["ids"] = ["风险题按所选分值的难度抽题，不能用 ids 指定题目"]
        values = data.get("risk_values")
        if values is not None and (sorted(set(values)) != values):
            errors["risk_values"] = ["应从小到大排列，且不能重复，如 [10, 20, 30]"]
        elif "risk_difficulty" in data:
            mapping_errors = _check_mapping(data["risk_difficulty"], values or RISK_VALUES.default)
            if mapping_errors:
                errors["risk_difficulty"] = mapping_errors
        elif values is not None and len(values) != len(DEFAULT_LEVELS):
            errors["risk_values"] = [
                f"有{len(values)}个分值，请用 risk_difficulty 写出每个分值对应的难度，如 {{20: [1, 2], 40: [3]}}"
            ]

    def build_plan(self, data: dict[str, Any]) -> dict[str, Any]:
        """The values and, when the plan does not map them, the default difficulties of three values."""
        values = tuple(data.pop("risk_values", RISK_VALUES.default))
        return {"risk_values": values, "risk_difficulty": _mapping(data.pop("risk_difficulty", None), values)}

    def plan_draws(self, spec: RoundSpec) -> list[Draw]:
        """Each value's pool must hold the round's count: at worst every team chooses that value."""
        return [
            Draw(
                levels,
                spec.source.count,
                f"分值{value}（难度{'、'.join(map(str, levels))}，{{source}}）",
                ("risk_difficulty", str(value)),
                f"（最坏情况各队都选{value}分）",
            )
            for value, levels in spec.risk_difficulty
        ]

    def question_pools(self, spec: RoundSpec, teams: int) -> Mapping[str, tuple[int, tuple[int, ...] | None]]:
        return {str(value): (turns(spec, teams) * teams, levels) for value, levels in spec.risk_difficulty}

    def enter(self, m: LiveContest, now: int) -> None:
        scores = m.scores()  # weakest team chooses first; ties keep plan order
        m.state.risk_order = sorted(m.team_ids(), key=lambda team_id: scores[team_id])

    def has_next_question(self, m: LiveContest) -> bool:
        spec = m.round
        assert spec is not None
        return m.state.question_index + 1 < len(m.state.risk_order) * turns(spec, len(m.team_ids()))

    def next_question(self, m: LiveContest, spec: RoundSpec, now: int) -> list[Event]:
        state = m.state
        order = state.risk_order
        state.team_on_turn = order[state.question_index % len(order)]
        state.phase = Phase.RISK_CHOOSING
        return [Event("risk_choosing", EVERYONE_ROLES, {"team": state.team_on_turn})]

    def choose(self, m: LiveContest, command: Command, now: int) -> list[Event]:
        state = m.state
        spec = m.round_spec()
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
            *m.show_question(spec, now),
        ]

    def score(self, m: LiveContest, spec: RoundSpec) -> None:
        value = float(m.state.risk_value or 0)
        self.score_turn(m, value, value)

    def question_points(self, m: LiveContest, spec: RoundSpec) -> float:
        return float(m.state.risk_value) if m.state.risk_value else spec.points

    def round_view(self, m: LiveContest, spec: RoundSpec) -> dict[str, Any]:
        return {"risk_values": list(spec.risk_values)}


def _check_mapping(raw: Any, values: Sequence[int]) -> Any:
    """Problems of a `risk_difficulty` mapping ({value: [difficulties]}), keyed like the YAML."""
    if not isinstance(raw, dict):
        return ["应写成“分值: 难度列表”，如 {10: [1, 2], 20: [3], 30: [4, 5]}"]
    errors: dict[str, list[str]] = {}
    for key, levels in raw.items():
        if isinstance(key, bool) or not isinstance(key, int) or key not in values:
            errors[str(key)] = [f"分值“{key}”不在 risk_values（{'、'.join(map(str, values))}）中"]
            continue
        items = levels if isinstance(levels, list) else [levels]
        if not items or any(isinstance(level, bool) or level not in range(1, 6) for level in items):
            errors[str(key)] = [f"分值 {key} 对应的难度应为 1 到 5 的整数或其列表，实际为“{levels}”"]
        elif len(set(items)) != len(items):
            errors[str(key)] = [f"分值 {key} 对应的难度有重复"]
    if errors:
        return errors
    missing = [str(value) for value in values if value not in raw]
    if missing:
        return [f"分值 {'、'.join(missing)} 没有对应的难度（每个分值都要写出难度）"]
    owner: dict[int, int] = {}
    for key, levels in raw.items():
        for level in levels if isinstance(levels, list) else [levels]:
            if level in owner:
                return {str(key): [f"难度 {level} 已对应分值 {owner[level]}（每个难度只能对应一个分值）"]}
            owner[level] = key
    return {}


def _mapping(raw: Any, values: tuple[int, ...]) -> tuple[tuple[int, tuple[int, ...]], ...]:
    if raw is None:
        if values == RISK_VALUES.default:
            return RISK_DIFFICULTY.default
        return tuple(zip(values, DEFAULT_LEVELS, strict=True))
    return tuple(
        (value, tuple(sorted(raw[value] if isinstance(raw[value], list) else [raw[value]]))) for value in values
    )
