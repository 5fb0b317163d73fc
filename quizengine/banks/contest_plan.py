"""Contest plans in YAML (`question_banks/contests/*.yaml`, see docs/contest-plan.md) -> `ContestPlan`.

Pipeline, as for banks: bytes -> strict UTF-8 -> YAML node tree -> plain data plus the line of every
key and list item -> marshmallow -> the frozen plan dataclasses of `quizengine.modes.contest`.
Every problem in every file is collected and reported as `file:line: 第N轮: message` (the round is left
out for plan-level problems); if there is any problem, nothing is returned (all or nothing).

`check_plan_against_banks` then checks a valid plan against loaded banks: every bank, category and
fixed question exists, and every round can always be supplied with its questions (see its docstring
for the exact rule).

Defaults not written in the YAML are the defaults of `RoundSpec`/`ContestPlan`, read from the
dataclasses themselves, with three exceptions decided here: a round's title defaults to its Chinese
label; a round answered on devices (and the 加赛) draws only single/multiple/judge questions unless
`types` says otherwise; a risk round with three values but no mapping maps them, low to high, to
difficulties [1, 2], [3], [4, 5].
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from quizengine.engine.questions import QUESTION_TYPES, Question
from quizengine.engine.selection import PoolEntry, Section
from quizengine.modes.contest import (
    ContestPlan,
    FoulRule,
    QuestionSource,
    RoundKind,
    RoundSpec,
    TeamScoreRule,
    TeamSpec,
    TieBreak,
    round_type,
    round_types,
)
from quizengine.modes.contest.rounds import COMMON_FIELDS

from .format import MESSAGES_ZH, SLUG, clip
from .loader import Bank, BankProblem, ProblemsError, _parse, bank_files

#: The folder (below the banks folder) that holds contest plans; the bank loader never reads it.
CONTESTS_DIR = "contests"

#: Question types a device can answer with buttons (and the server can grade at once).
CHOICE_TYPES: tuple[str, ...] = ("single", "multiple", "judge")

#: Who judges an answer: the team's device (graded at once) or the host (an oral answer).
JUDGES = ("device", "host")

MIN_TEAMS, MAX_TEAMS = 2, 12
MAX_SECONDS = 600
MAX_TEAM_NAME = 20
MAX_RISK_VALUE = 1000

_ROUND_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(RoundSpec)}
_DEFAULT_RISK_LEVELS: tuple[tuple[int, ...], ...] = tuple(levels for _, levels in _ROUND_DEFAULTS["risk_difficulty"])

_MESSAGES = {
    **MESSAGES_ZH,
    "Invalid input type.": "应为键值映射",
    "Not a valid boolean.": "应为 true 或 false",
}


def _translate(message: str) -> str:
    return _MESSAGES.get(message, message)


# --- the round kinds: what each may set ---------------------------------------------------------------


@dataclass(frozen=True)
class KindRule:
    """What a round of one kind may set, beyond the fields every round has."""

    #: Optional fields of a round of this kind (a field outside this set is an error, not ignored).
    fields: frozenset[str]
    #: True when questions go to the teams in turn, so the count must be a multiple of the team count.
    in_turn: bool = False
    #: True when the round is always answered on devices (no `judged_by`).
    always_device: bool = False


#: One rule per round kind, read from the round types' registry (modes/contest/rounds).
KIND_RULES: dict[str, KindRule] = {
    kind.kind: KindRule(kind.fields, in_turn=kind.in_turn, always_device=kind.players_answer) for kind in round_types()
}
ROUND_LABELS: dict[str, str] = {kind.kind: kind.label for kind in round_types()}


def _kinds_with(field_name: str) -> str:
    return "、".join(ROUND_LABELS[kind] for kind, rule in KIND_RULES.items() if field_name in rule.fields)


def _type_labels(names: Iterable[str]) -> str:
    return "、".join(QUESTION_TYPES[name].label if name in QUESTION_TYPES else name for name in names)


# --- problems -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanProblem:
    """One thing wrong in a contest plan, located for the author; `round` is 1-based (None: the whole plan)."""

    path: str
    line: int
    round: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: " if self.path else ""
        return f"{where}第{self.round}轮: {self.message}" if self.round else f"{where}{self.message}"


class PlanLoadError(ProblemsError[PlanProblem]):
    """Plan files with problems; no plan was returned."""


@dataclass(frozen=True)
class LoadedPlan:
    """A valid plan with where it came from: `lines` maps a key path (as strings) to its 1-based line."""

    path: str
    slug: str
    plan: ContestPlan
    lines: Mapping[tuple[str, ...], int] = dataclasses.field(default_factory=dict, compare=False)

    def line_of(self, *parts: str | int) -> int:
        """The line of the deepest written part of `parts` (e.g. `"rounds", 1, "source", "count"`)."""
        return _line_of(self.lines, tuple(str(part) for part in parts))


def _line_of(lines: Mapping[tuple[str, ...], int], path: tuple[str, ...]) -> int:
    for size in range(len(path), -1, -1):
        if path[:size] in lines:
            return lines[path[:size]]
    return 1 if lines else 0


# --- value fields -------------------------------------------------------------------------------------


class _Number(fields.Field):
    """An int or a finite float; YAML booleans and quoted numbers are refused."""

    default_error_messages = {"invalid": "应为数字"}  # noqa: RUF012  (marshmallow reads a class attribute)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.make_error("invalid")
        return value


class _Int(fields.Field):
    """An int; YAML booleans, floats and quoted numbers are refused."""

    default_error_messages = {"invalid": "应为整数"}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class _Bool(fields.Field):
    """Exactly YAML true/false."""

    default_error_messages = {"invalid": "应为 true 或 false"}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


class _Team(fields.Field):
    """A team: a bare name, or `{name: 红队, color: '#c0392b'}`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> TeamSpec:
        if isinstance(value, str):
            return TeamSpec(name=self._name(value))
        if not isinstance(value, dict):
            raise ValidationError("队伍应写成队名，或 {name: 队名, color: '#c0392b'}")
        errors: dict[str, list[str]] = {
            str(key): ["未知字段（请检查拼写）"] for key in value if key not in ("name", "color")
        }
        name = ""
        if "name" not in value:
            errors["name"] = ["缺少必填字段"]
        else:
            try:
                name = self._name(value["name"])
            except ValidationError as error:
                errors["name"] = list(error.messages)  # type: ignore[arg-type]
        color = value.get("color", "")
        if color is None:
            errors["color"] = ["颜色要加引号，如 color: '#c0392b'（不加引号时 # 之后会被当作注释）"]
        elif not isinstance(color, str) or (color and not _COLOR.fullmatch(color)):
            errors["color"] = [f"颜色应为 '#rrggbb' 形式，实际为“{color}”"]
        if errors:
            raise ValidationError(errors)
        return TeamSpec(name=name, color=color.lower())

    @staticmethod
    def _name(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("队名不能为空")
        name = value.strip()
        if len(name) > MAX_TEAM_NAME:
            raise ValidationError(f"队名“{name}”超过{MAX_TEAM_NAME}个字（投影屏上要放得下）")
        return name


def _not_blank(message: str) -> validate.Validator:
    return validate.Regexp(r"\s*\S", error=message)


def _seconds() -> _Int:
    return _Int(validate=validate.Range(0, MAX_SECONDS, error=f"秒数应为 0 到 {MAX_SECONDS}，实际为 {{input}}"))


def _not_negative() -> _Number:
    return _Number(validate=validate.Range(min=0, error="不能为负数，实际为 {input}"))


def _team_count(teams: list[TeamSpec]) -> None:
    if not MIN_TEAMS <= len(teams) <= MAX_TEAMS:
        raise ValidationError(f"队伍数应为 {MIN_TEAMS} 到 {MAX_TEAMS} 个，实际为 {len(teams)} 个")


# --- schemas ------------------------------------------------------------------------------------------


class SourceSchema(Schema):
    """Where a round's questions come from: filters and a count, or fixed question ids."""

    class Meta:
        unknown = RAISE

    banks = fields.List(
        fields.String(validate=validate.Regexp(SLUG, error="题库 bank 只能由小写字母、数字和连字符组成"))
    )
    categories = fields.List(
        fields.String(validate=validate.Regexp(SLUG, error="章节 id 只能由小写字母、数字和连字符组成"))
    )
    types = fields.List(
        fields.String(validate=validate.OneOf(list(QUESTION_TYPES), error="未知题型“{input}”，可用题型：{choices}"))
    )
    difficulties = fields.List(_Int(validate=validate.Range(1, 5, error="难度应为 1 到 5 的整数，实际为 {input}")))
    count = _Int(validate=validate.Range(min=1, error="题数至少为 1，实际为 {input}"))
    ids = fields.List(fields.String(validate=validate.Regexp(SLUG, error="题目 id 只能由小写字母、数字和连字符组成")))

    @validates_schema
    def check_filters_or_ids(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Either filters with a count, or fixed ids (then the count is the number of ids); no repeats."""
        errors: dict[str, Any] = {}
        for name in ("banks", "categories", "types", "difficulties", "ids"):
            values = data.get(name) or []
            repeated = sorted({str(value) for value in values if values.count(value) > 1})
            if repeated:
                errors[name] = [f"有重复：{'、'.join(repeated)}"]
        if "ids" in data:
            if not data["ids"]:
                errors["ids"] = ["不能为空列表（或删去 ids，改用 banks/types/count 抽题）"]
            for name in ("banks", "categories", "types", "difficulties", "count"):
                if name in data:
                    errors[name] = ["已用 ids 指定题目时不能再写（题数就是 ids 的个数）"]
        elif "count" not in data:
            errors["count"] = ["缺少题数（或用 ids 指定题目）"]
        if errors:
            raise ValidationError(errors)


class RoundSchema(Schema):
    """One round; `validates_schema` applies the rules of its kind, `post_load` builds the RoundSpec."""

    class Meta:
        unknown = RAISE

    kind = fields.String(
        required=True,
        validate=validate.OneOf([kind.kind for kind in round_types()], error="未知轮次类型“{input}”，可用：{choices}"),
    )
    title = fields.String(validate=_not_blank("轮次标题不能为空"))
    source = fields.Nested(SourceSchema, required=True)
    points = _not_negative()
    penalty = _not_negative()
    foul = fields.String(
        validate=validate.OneOf(
            [rule.value for rule in FoulRule], error="foul 应为 ignore 或 penalize，实际为“{input}”"
        )
    )
    foul_penalty = _not_negative()
    read_seconds = _seconds()
    answer_seconds = _seconds()
    buzz_seconds = _seconds()
    reopen = _Bool()
    risk_values = fields.List(
        _Int(
            validate=validate.Range(
                1, MAX_RISK_VALUE, error=f"风险分值应为 1 到 {MAX_RISK_VALUE} 的整数，实际为 {{input}}"
            )
        ),
        validate=validate.Length(min=1, error="至少要有一个分值"),
    )
    risk_difficulty = fields.Raw()
    speed_bonus = _not_negative()
    team_score = fields.String(
        validate=validate.OneOf(
            [rule.value for rule in TeamScoreRule], error="team_score 应为 sum 或 mean，实际为“{input}”"
        )
    )
    judged_by = fields.String(
        validate=validate.OneOf(JUDGES, error="judged_by 应为 device（设备作答）或 host（主持人评判），实际为“{input}”")
    )

    @validates_schema
    def check_kind_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Fields of another kind, device rounds with types a device cannot answer, risk values, speed bonus."""
        kind = round_type(data["kind"]).kind
        rule = KIND_RULES[kind]
        label = ROUND_LABELS[kind]
        errors: dict[str, Any] = {}
        for name in data:
            if name not in COMMON_FIELDS and name not in rule.fields:
                errors[name] = [f"只用于{_kinds_with(name)}，{label}不能设置"]
        source = data["source"]
        if "foul_penalty" in data and data.get("foul") == FoulRule.IGNORE:
            errors["foul_penalty"] = ["foul 为 ignore（提前抢答不处罚）时不能设置犯规扣分"]
        if _on_device(kind, data.get("judged_by")):
            wrong = [name for name in source.get("types", ()) if name not in CHOICE_TYPES]
            if wrong:
                how = "由每位队员在设备上作答" if rule.always_device else "设备作答（judged_by: device）"
                hint = "" if rule.always_device else "；要用这些题型请设 judged_by: host，由主持人评判"
                errors.setdefault("source", {})["types"] = [
                    f"{label}{how}，只能用{_type_labels(CHOICE_TYPES)}，不能用{_type_labels(wrong)}{hint}"
                ]
        if kind is RoundKind.RISK:
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
                mapping_errors = _check_risk_mapping(data["risk_difficulty"], values or _ROUND_DEFAULTS["risk_values"])
                if mapping_errors:
                    errors["risk_difficulty"] = mapping_errors
            elif values is not None and len(values) != len(_DEFAULT_RISK_LEVELS):
                errors["risk_values"] = [
                    f"有{len(values)}个分值，请用 risk_difficulty 写出每个分值对应的难度，如 {{20: [1, 2], 40: [3]}}"
                ]
        if "speed_bonus" in data and "speed_bonus" in rule.fields:
            points = data.get("points", _ROUND_DEFAULTS["points"])
            if data["speed_bonus"] > points:
                errors["speed_bonus"] = [
                    f"速度加分（{data['speed_bonus']}）不应超过答对得分（{points}）：答题脚本不到一秒就能作答，不宜过分奖励速度"
                ]
            elif data["speed_bonus"] and data.get("answer_seconds", _ROUND_DEFAULTS["answer_seconds"]) == 0:
                errors["speed_bonus"] = [
                    "answer_seconds 为 0（不限时）时没有速度加分，请删去 speed_bonus 或设置答题时间"
                ]
        if errors:
            raise ValidationError(errors)

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> RoundSpec:
        """The RoundSpec, with the dataclass defaults for everything not written."""
        kind = round_type(data.pop("kind")).kind
        source = data.pop("source")
        values: dict[str, Any] = {"kind": kind, "title": data.pop("title", ROUND_LABELS[kind]).strip()}
        values["source"] = _build_source(source, on_device=_on_device(kind, data.get("judged_by")))
        if kind is RoundKind.RISK:
            risk_values = tuple(data.pop("risk_values", _ROUND_DEFAULTS["risk_values"]))
            raw = data.pop("risk_difficulty", None)
            values["risk_values"] = risk_values
            values["risk_difficulty"] = _risk_mapping(raw, risk_values)
        if "foul" in data:
            values["foul"] = FoulRule(data.pop("foul"))
        if "team_score" in data:
            values["team_score"] = TeamScoreRule(data.pop("team_score"))
        values.update(data)
        return RoundSpec(**values)


def _on_device(kind: str, judged_by: str | None) -> bool:
    return KIND_RULES[kind].always_device or (judged_by or _ROUND_DEFAULTS["judged_by"]) == "device"


def _build_source(data: dict[str, Any], *, on_device: bool) -> QuestionSource:
    if "ids" in data:
        return QuestionSource(ids=tuple(data["ids"]), count=len(data["ids"]))
    types = data.get("types") or (CHOICE_TYPES if on_device else ())
    return QuestionSource(
        banks=tuple(data.get("banks", ())),
        categories=tuple(data.get("categories", ())),
        types=tuple(types),
        difficulties=tuple(sorted(data.get("difficulties", ()))),
        count=data["count"],
    )


def _check_risk_mapping(raw: Any, values: Sequence[int]) -> Any:
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


def _risk_mapping(raw: Any, values: tuple[int, ...]) -> tuple[tuple[int, tuple[int, ...]], ...]:
    if raw is None:
        if values == _ROUND_DEFAULTS["risk_values"]:
            return _ROUND_DEFAULTS["risk_difficulty"]
        return tuple(zip(values, _DEFAULT_RISK_LEVELS, strict=True))
    return tuple(
        (value, tuple(sorted(raw[value] if isinstance(raw[value], list) else [raw[value]]))) for value in values
    )


class PlanSchema(Schema):
    """The top level of a plan file; rounds are RoundSchema, `post_load` builds the ContestPlan."""

    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=_not_blank("竞赛标题不能为空"))
    teams = fields.List(
        _Team(),
        validate=_team_count,
    )
    base_score = _not_negative()
    prizes = _Int(
        validate=validate.Range(1, MAX_TEAMS, error=f"获奖名次数 prizes 应为 1 到 {MAX_TEAMS}，实际为 {{input}}")
    )
    tie_break = fields.String(
        validate=validate.OneOf(
            [rule.value for rule in TieBreak],
            error="tie_break 应为 buzzer（加赛抢答）或 time（用时少者胜），实际为“{input}”",
        )
    )
    tie_break_source = fields.Nested(SourceSchema)
    decimals = _Bool()
    rounds = fields.List(
        fields.Nested(RoundSchema), required=True, validate=validate.Length(min=1, error="至少需要一轮（rounds 为空）")
    )

    @validates_schema
    def check_plan_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Unique team names, prizes vs teams, turns shared fairly, fixed ids used once, the tie-break."""
        errors: dict[str, Any] = {}
        teams: list[TeamSpec] = data.get("teams", [])
        seen: set[str] = set()
        for index, team in enumerate(teams):
            if team.name in seen:
                errors.setdefault("teams", {})[index] = [f"队名“{team.name}”重复"]
            seen.add(team.name)
        if teams and data.get("prizes", 0) > len(teams):
            errors["prizes"] = [f"获奖名次数（{data['prizes']}）不能多于队伍数（{len(teams)}）"]
        rounds: list[RoundSpec] = data["rounds"]
        used: dict[str, str] = {}
        for index, spec in enumerate(rounds):
            where = errors.setdefault("rounds", {}).setdefault(index, {})
            if teams and KIND_RULES[spec.kind].in_turn and spec.source.count % len(teams):
                field = "ids" if spec.source.ids else "count"
                where.setdefault("source", {})[field] = [
                    f"{ROUND_LABELS[spec.kind]}各队轮流答题，题数（{spec.source.count}）应为队伍数（{len(teams)}）的整数倍"
                ]
            for position, question_id in enumerate(spec.source.ids):
                if question_id in used:
                    where.setdefault("source", {}).setdefault("ids", {})[position] = [
                        f"题目“{question_id}”已在{used[question_id]}使用，同一场竞赛不重复出题"
                    ]
                used[question_id] = f"第{index + 1}轮"
            if not where:
                del errors["rounds"][index]
        if not errors.get("rounds"):
            errors.pop("rounds", None)
        tie_break = data.get("tie_break", TieBreak.BUZZER)
        if "tie_break_source" in data:
            if tie_break == TieBreak.TIME:
                errors["tie_break_source"] = ["tie_break 为 time（用时少者胜）时不需要加赛题源"]
            wrong = [name for name in data["tie_break_source"].get("types", ()) if name not in CHOICE_TYPES]
            if wrong:
                errors.setdefault("tie_break_source", {})["types"] = [
                    f"加赛抢答在设备上作答，只能用{_type_labels(CHOICE_TYPES)}，不能用{_type_labels(wrong)}"
                ]
            for position, question_id in enumerate(data["tie_break_source"].get("ids", ())):
                if question_id in used:
                    errors.setdefault("tie_break_source", {}).setdefault("ids", {})[position] = [
                        f"题目“{question_id}”已在{used[question_id]}使用，加赛题不能与比赛题重复"
                    ]
        if errors:
            raise ValidationError(errors)

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> ContestPlan:
        """The ContestPlan, with the dataclass defaults for everything not written."""
        values: dict[str, Any] = {"title": data["title"].strip(), "rounds": tuple(data["rounds"])}
        if "teams" in data:
            values["teams"] = tuple(data["teams"])
        for name in ("base_score", "prizes", "decimals"):
            if name in data:
                values[name] = data[name]
        if "tie_break" in data:
            values["tie_break"] = TieBreak(data["tie_break"])
        if "tie_break_source" in data:
            values["tie_break_source"] = _build_source(data["tie_break_source"], on_device=True)
        elif values.get("tie_break", TieBreak.BUZZER) == TieBreak.BUZZER:
            default = ContestPlan(title="", rounds=()).tie_break_source
            values["tie_break_source"] = dataclasses.replace(default, types=default.types or CHOICE_TYPES)
        return ContestPlan(**values)


# --- loading ------------------------------------------------------------------------------------------


def plan_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their *.yaml/*.yml files (top level only), by the banks' rule."""
    return bank_files(paths)


def _line_map(node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int], duplicates: list) -> None:
    """Record the line of every mapping key and sequence item below `node` (paths as strings)."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            key_path = (*path, key)
            if key in seen:
                duplicates.append((key_path, key_node.start_mark.line + 1))
            seen.add(key)
            lines[key_path] = key_node.start_mark.line + 1
            _line_map(value_node, key_path, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            item_path = (*path, str(index))
            lines[item_path] = item.start_mark.line + 1
            _line_map(item, item_path, lines, duplicates)


def _flatten(messages: Any, prefix: tuple[str | int, ...] = ()) -> Iterable[tuple[tuple[str | int, ...], str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, prefix if key == "_schema" else (*prefix, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, prefix)
    else:
        yield prefix, clip(_translate(str(messages)))


def _round_of(path: Sequence[str | int]) -> int | None:
    if len(path) >= 2 and path[0] == "rounds" and str(path[1]).isdigit():
        return int(path[1]) + 1
    return None


def _describe_path(path: Sequence[str | int]) -> str:
    """`source.banks 第2项` for a field path inside a round (or the whole plan); list items counted from 1."""
    inside = list(path[2:]) if _round_of(path) else list(path)
    text = ""
    previous_is_name = False
    for part in inside:
        if isinstance(part, int):
            text += f" 第{part + 1}项"
            previous_is_name = False
        else:
            text += ("." if previous_is_name else " ") + str(part)
            previous_is_name = True
    return text.strip()


def _problem(
    display: str, lines: Mapping[tuple[str, ...], int], path: Sequence[str | int], message: str
) -> PlanProblem:
    field = _describe_path(path)
    text = f"{field}：{message}" if field else message
    return PlanProblem(display, _line_of(lines, tuple(str(part) for part in path)), _round_of(path), text)


def _load_file(path: Path, display: str, problems: list[PlanProblem]) -> LoadedPlan | None:
    parse_problems: list[BankProblem] = []
    data, root, _ = _parse(path, display, parse_problems)  # duplicate keys: _line_map reports them by round
    problems.extend(PlanProblem(p.path, p.line, None, p.message) for p in parse_problems)
    if root is None:
        if data is None and not parse_problems:
            problems.append(PlanProblem(display, 1, None, "文件为空"))
        return None
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        problems.append(
            PlanProblem(display, root.start_mark.line + 1, None, "竞赛方案顶层应为键值映射（title、teams、rounds…）")
        )
        return None
    lines: dict[tuple[str, ...], int] = {(): root.start_mark.line + 1}
    duplicates: list[tuple[tuple[str, ...], int]] = []
    _line_map(root, (), lines, duplicates)
    for key_path, line in duplicates:
        problems.append(PlanProblem(display, line, _round_of(key_path), f"字段“{key_path[-1]}”重复出现"))
    try:
        plan = PlanSchema().load(data)
    except ValidationError as error:
        problems.extend(
            _problem(display, lines, field_path, message) for field_path, message in _flatten(error.messages)
        )
        return None
    if duplicates:
        return None
    return LoadedPlan(path=display, slug=path.stem, plan=plan, lines=lines)


def _load_all(paths: Iterable[str | Path], problems: list[PlanProblem]) -> list[LoadedPlan]:
    paths = list(paths)
    missing = [path for path in paths if not Path(path).exists()]
    for path in missing:
        problems.append(PlanProblem(str(path), 1, None, "找不到这个文件或目录"))
    files = plan_files(path for path in paths if path not in missing)
    if not files and not missing:
        where = ", ".join(str(path) for path in paths) or "."
        problems.append(PlanProblem(where, 1, None, "没有找到 .yaml 竞赛方案文件"))
        return []
    plans = []
    for path in files:
        loaded = _load_file(path, str(path), problems)
        if loaded is not None:
            plans.append(loaded)
    return plans


def load_plans(paths: Iterable[str | Path]) -> list[LoadedPlan]:
    """Validate every plan under `paths` (directories: their top-level *.yaml) and return them.

    Raises PlanLoadError listing every problem of every file; then nothing is returned.
    """
    problems: list[PlanProblem] = []
    plans = _load_all(paths, problems)
    if problems:
        raise PlanLoadError(problems)
    return plans


def load_plan(path: str | Path) -> LoadedPlan:
    """Validate one plan file (raises PlanLoadError)."""
    [plan] = load_plans([path])
    return plan


def plan_from_mapping(data: Mapping[str, Any]) -> ContestPlan:
    """Validate a plan given as plain data (e.g. built in the UI); problems carry no file or line."""
    try:
        return PlanSchema().load(dict(data))
    except ValidationError as error:
        problems = [_problem("", {}, field_path, message) for field_path, message in _flatten(error.messages)]
        raise PlanLoadError(problems) from None


# --- checking against banks ---------------------------------------------------------------------------


def plan_fixed_ids(plan: ContestPlan) -> frozenset[str]:
    """Question ids a plan names in `ids` (reserved: no round or 加赛 draws them at random)."""
    sources = [spec.source for spec in plan.rounds]
    if plan.tie_break is TieBreak.BUZZER:
        sources.append(plan.tie_break_source)
    return frozenset(question_id for source in sources for question_id in source.ids)


def source_section(source: QuestionSource, *, difficulties: Iterable[int] | None = None) -> Section:
    """The engine `Section` (filters + count) that draws a filtered source; `difficulties` overrides (风险题)."""
    levels = tuple(difficulties) if difficulties is not None else source.difficulties
    return Section(
        count=source.count,
        banks=source.banks,
        categories=source.categories,
        types=source.types,
        difficulties=levels,
    )


def source_pool(
    source: QuestionSource,
    banks: Sequence[Bank],
    *,
    difficulties: Iterable[int] | None = None,
    exclude: Iterable[str] = (),
) -> list[Question]:
    """The questions a source may draw from, in bank order.

    Fixed `ids`: those questions, in the plan's order (unknown ids are left out). Filters: every question
    passing every non-empty filter (as `engine.selection.Section.matches`: a category matches in any
    selected bank) and not in `exclude` (pass `plan_fixed_ids(plan)`). `difficulties` replaces the
    source's difficulty filter (a risk value's levels).
    """
    if source.ids:
        by_id = {question.id: question for bank in banks for question in bank.questions}
        return [by_id[question_id] for question_id in source.ids if question_id in by_id]
    section = source_section(source, difficulties=difficulties)
    excluded = set(exclude)
    return [
        question
        for bank in banks
        for question in bank.questions
        if question.id not in excluded and section.matches(PoolEntry(question, bank.slug))
    ]


def risk_pools(spec: RoundSpec, banks: Sequence[Bank], *, exclude: Iterable[str] = ()) -> dict[int, list[Question]]:
    """风险题: the pool of each value (questions at the value's difficulties)."""
    excluded = frozenset(exclude)
    return {
        value: source_pool(spec.source, banks, difficulties=levels, exclude=excluded)
        for value, levels in spec.risk_difficulty
    }


@dataclass
class _Demand:
    """What one round (or the 加赛) may take from the banks, for the worst-case supply check."""

    name: str
    pool: set[str]
    count: int


def _unknown_references(
    source: QuestionSource, on_device: bool, banks: Sequence[Bank], base: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    by_slug = {bank.slug: bank for bank in banks}
    for position, slug in enumerate(source.banks):
        if slug not in by_slug:
            known = "、".join(sorted(by_slug)) or "（没有题库）"
            problems.append(((*base, "banks", position), f"题库“{slug}”不存在，现有题库：{known}"))
    selected = [by_slug[slug] for slug in source.banks if slug in by_slug] if source.banks else list(banks)
    for position, category in enumerate(source.categories):
        if not any(category == item.id for bank in selected for item in bank.categories):
            if source.banks:
                where = "、".join(bank.slug for bank in selected) or "所选题库"
                problems.append(((*base, "categories", position), f"章节“{category}”不在题库 {where} 中"))
            else:
                problems.append(((*base, "categories", position), f"没有哪个题库有章节“{category}”"))
    if source.ids:
        by_id = {question.id: question for bank in banks for question in bank.questions}
        for position, question_id in enumerate(source.ids):
            question = by_id.get(question_id)
            if question is None:
                problems.append(((*base, "ids", position), f"题目“{question_id}”不在任何题库中"))
            elif on_device and question.type not in CHOICE_TYPES:
                problems.append(
                    (
                        (*base, "ids", position),
                        f"题目“{question_id}”是{_type_labels([question.type])}，设备作答只能用{_type_labels(CHOICE_TYPES)}",
                    )
                )
    return problems


def _supply(demand: _Demand, earlier: list[_Demand], condition: str) -> str | None:
    """Why `demand` may run dry when every earlier demand took its count from the overlap first."""
    if len(demand.pool) < demand.count:
        return f"{condition}的题目只有{len(demand.pool)}题，本轮需要{demand.count}题"
    taken = [(other.name, min(other.count, len(other.pool & demand.pool))) for other in earlier]
    used = sum(count for _, count in taken)
    if len(demand.pool) - used < demand.count:
        names = "、".join(dict.fromkeys(name for name, count in taken if count))
        return (
            f"{condition}的题目共{len(demand.pool)}题，与{names}的题源重叠，前面最多会用掉其中{used}题，"
            f"剩下{len(demand.pool) - used}题，不够本轮的{demand.count}题（请加大题源或减少题数）"
        )
    return None


def check_plan_against_banks(plan: ContestPlan | LoadedPlan, banks: Sequence[Bank]) -> list[PlanProblem]:
    """Check a valid plan against loaded banks; return every problem (empty: the plan can be played).

    - every bank slug, category (in at least one selected bank) and fixed question id exists, and a
      fixed question on a device round is single/multiple/judge;
    - every round can always be supplied, whatever earlier rounds drew: its pool (questions matching its
      source, minus questions any round names in `ids`) must hold its count even after every earlier
      round took its whole count from the overlap of their pools. A risk round must manage this for each
      value, as if every team chose that value; the 加赛 (tie_break: buzzer) comes last.

    Problems point at the plan's lines when `plan` is a LoadedPlan.
    """
    located = plan if isinstance(plan, LoadedPlan) else None
    contest = plan.plan if isinstance(plan, LoadedPlan) else plan
    display = located.path if located else ""
    lines = located.lines if located else {}
    reserved = plan_fixed_ids(contest)
    problems: list[PlanProblem] = []
    earlier: list[_Demand] = []
    entries: list[tuple[str, tuple[str | int, ...], QuestionSource, RoundSpec | None]] = [
        (f"第{index + 1}轮", ("rounds", index, "source"), spec.source, spec)
        for index, spec in enumerate(contest.rounds)
    ]
    if contest.tie_break is TieBreak.BUZZER:
        entries.append(("加赛", ("tie_break_source",), contest.tie_break_source, None))
    for name, base, source, spec in entries:
        on_device = spec is None or _on_device(spec.kind, spec.judged_by)
        unknown = _unknown_references(source, on_device, banks, base)
        problems.extend(_problem(display, lines, path, message) for path, message in unknown)
        if unknown or source.ids:
            continue
        what = "加赛题源" if spec is None else "本轮题源"
        count_path = (*base, "count")
        if spec is not None and spec.kind is RoundKind.RISK:
            value_demands: list[_Demand] = []
            before = len(problems)
            for value, questions in risk_pools(spec, banks, exclude=reserved).items():
                levels = "、".join(map(str, dict(spec.risk_difficulty)[value]))
                pool = {question.id for question in questions}
                value_demands.append(_Demand(name, pool, source.count))
                condition = f"分值{value}（难度{levels}，{source_section(source).describe()}）"
                message = _supply(value_demands[-1], earlier, condition)
                if message:
                    written = ("rounds", str(base[1]), "risk_difficulty", str(value)) in lines
                    path = ("rounds", base[1], "risk_difficulty", str(value)) if written else count_path
                    problems.append(_problem(display, lines, path, message + f"（最坏情况各队都选{value}分）"))
            if len(problems) == before:  # a round that already fails is reported once, not in every later round
                earlier.extend(value_demands)  # a draw may set aside `count` questions for each value
            continue
        pool = {question.id for question in source_pool(source, banks, exclude=reserved)}
        demand = _Demand(name, pool, source.count)
        message = _supply(demand, earlier, f"{what}（{source_section(source).describe()}）")
        if message:
            if spec is None:
                message = message.replace("本轮", "加赛")
            problems.append(_problem(display, lines, count_path, message))
        else:
            earlier.append(demand)
    return problems


def check_plans(paths: Iterable[str | Path], banks: Sequence[Bank]) -> tuple[list[LoadedPlan], list[PlanProblem]]:
    """Load every plan under `paths` and check the valid ones against `banks`; return plans and all problems."""
    problems: list[PlanProblem] = []
    plans = _load_all(paths, problems)
    for loaded in plans:
        problems.extend(check_plan_against_banks(loaded, banks))
    return plans, problems
