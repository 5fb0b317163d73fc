"""The marshmallow schema of a contest plan, built from the round types' registry.

Each round kind declares its plan fields (`modes/contest/fields.py`: type, limits, choices); the round
schema gets one field per name, refuses a field the round's kind does not declare, and asks the kind for
its own rules across fields (`RoundType.check_plan`) and for the values that need building
(`RoundType.build_plan`). Defaults not written in the YAML are the declared defaults (RoundSpec's, read
from the dataclass), with two decided here: a round's title defaults to its kind's Chinese label, and a
round answered on devices (and the 加赛) draws only single/multiple/judge questions unless `types` says
otherwise.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from quizengine.engine.questions import QUESTION_TYPES
from quizengine.modes.contest import (
    ContestPlan,
    QuestionSource,
    RoundSpec,
    TeamSpec,
    TieBreak,
    default_prizes,
    round_type,
    round_types,
)
from quizengine.modes.contest.fields import PlanField
from quizengine.modes.contest.rounds import COMMON_FIELDS, plan_fields

from .format import SLUG

#: Question types a device can answer with buttons (and the server can grade at once).
CHOICE_TYPES: tuple[str, ...] = ("single", "multiple", "judge")

MIN_TEAMS, MAX_TEAMS = 2, 12
MAX_TEAM_NAME = 20


def type_labels(names: Iterable[str]) -> str:
    """Question types by their Chinese names (单选题、判断题)."""
    return "、".join(QUESTION_TYPES[name].label if name in QUESTION_TYPES else name for name in names)


def _kinds_with(field_name: str) -> str:
    return "、".join(kind.label for kind in round_types() if field_name in kind.field_names())


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


def _range(spec: PlanField, whole: bool) -> list[validate.Validator]:
    """The limits of a number or an int, with the declared message or a plain one."""
    low, high = spec.minimum, spec.maximum
    if low is None and high is None:
        return []
    if spec.error:
        message = spec.error
    elif high is None and low == 0:
        message = "不能为负数，实际为 {input}"
    elif high is None:
        message = f"不能小于 {low:g}，实际为 {{input}}"
    elif low is None:
        message = f"不能大于 {high:g}，实际为 {{input}}"
    else:
        message = f"应为 {low:g} 到 {high:g}{'的整数' if whole else ''}，实际为 {{input}}"
    return [validate.Range(low, high, error=message)]


def _choice_message(spec: PlanField) -> str:
    names = [f"{value}（{label}）" for value, label in spec.choices]
    listed = "、".join(names[:-1]) + "或 " + names[-1] if len(names) > 1 else "".join(names)
    return spec.error or f"{spec.name} 应为 {listed}，实际为“{{input}}”"


def schema_field(spec: PlanField) -> fields.Field:
    """The marshmallow field that checks one declared plan field."""
    if spec.type == "number":
        return _Number(validate=_range(spec, whole=False))
    if spec.type == "int":
        return _Int(validate=_range(spec, whole=True))
    if spec.type == "bool":
        return _Bool()
    if spec.type == "choice":
        return fields.String(validate=validate.OneOf([value for value, _ in spec.choices], error=_choice_message(spec)))
    if spec.type == "int_list":
        return fields.List(
            _Int(validate=_range(spec, whole=True)), validate=validate.Length(min=1, error=spec.empty_error)
        )
    return fields.Raw()  # int_map: its round type checks it (check_plan)


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
    tags = fields.List(fields.String(validate=validate.Length(1, 40, error="标签应为 1 到 40 个字符")))
    count = _Int(validate=validate.Range(min=1, error="题数至少为 1，实际为 {input}"))
    ids = fields.List(fields.String(validate=validate.Regexp(SLUG, error="题目 id 只能由小写字母、数字和连字符组成")))

    @validates_schema
    def check_filters_or_ids(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Either filters with a count, or fixed ids (then the count is the number of ids); no repeats."""
        errors: dict[str, Any] = {}
        for name in ("banks", "categories", "types", "difficulties", "tags", "ids"):
            values = data.get(name) or []
            repeated = sorted({str(value) for value in values if values.count(value) > 1})
            if repeated:
                errors[name] = [f"有重复：{'、'.join(repeated)}"]
        if "ids" in data:
            if not data["ids"]:
                errors["ids"] = ["不能为空列表（或删去 ids，改用 banks/types/count 抽题）"]
            for name in ("banks", "categories", "types", "difficulties", "tags", "count"):
                if name in data:
                    errors[name] = ["已用 ids 指定题目时不能再写（题数就是 ids 的个数）"]
        elif "count" not in data:
            errors["count"] = ["缺少题数（或用 ids 指定题目）"]
        if errors:
            raise ValidationError(errors)


class _RoundRules(Schema):
    """One round: the kind's rules (`validates_schema`) and the RoundSpec (`post_load`); the fields of every
    kind are added from the registry (RoundSchema below)."""

    class Meta:
        unknown = RAISE

    kind = fields.String(
        required=True,
        validate=validate.OneOf([kind.kind for kind in round_types()], error="未知轮次类型“{input}”，可用：{choices}"),
    )
    title = fields.String(validate=_not_blank("轮次标题不能为空"))
    source = fields.Nested(SourceSchema, required=True)

    @validates_schema
    def check_kind_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Fields of another kind, device rounds with types a device cannot answer, then the kind's own rules."""
        kind = round_type(data["kind"])
        errors: dict[str, Any] = {}
        for name in data:
            if name not in kind.field_names():
                errors[name] = [f"只用于{_kinds_with(name)}，{kind.label}不能设置"]
        source = data["source"]
        if kind.on_device(data):
            wrong = [name for name in source.get("types", ()) if name not in CHOICE_TYPES]
            if wrong:
                how = "由每位队员在设备上作答" if kind.players_answer else "设备作答（judged_by: device）"
                hint = "" if kind.players_answer else "；要用这些题型请设 judged_by: host，由主持人评判"
                errors.setdefault("source", {})["types"] = [
                    f"{kind.label}{how}，只能用{type_labels(CHOICE_TYPES)}，不能用{type_labels(wrong)}{hint}"
                ]
        kind.check_plan(data, errors)
        if errors:
            raise ValidationError(errors)

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> RoundSpec:
        """The RoundSpec, with the declared defaults for everything not written."""
        kind = round_type(data.pop("kind"))
        source = data.pop("source")
        values: dict[str, Any] = {"kind": kind.kind, "title": data.pop("title", kind.label).strip()}
        values["source"] = build_source(source, on_device=kind.on_device(data))
        values.update(kind.build_plan(data))
        extra: dict[str, Any] = {}
        for spec in kind.fields:
            if spec.name in values:
                continue
            value = spec.default
            if spec.name in data:
                value = spec.cast(data[spec.name]) if spec.cast else data[spec.name]
            if spec.on_spec:
                values[spec.name] = value
            else:
                extra[spec.name] = value
        values.update({name: value for name, value in data.items() if name in COMMON_FIELDS})
        return RoundSpec(**values, extra=tuple(extra.items()))


#: The round schema: the rules above and one field per plan field name of every registered kind.
RoundSchema: type[Schema] = type(
    "RoundSchema", (_RoundRules,), {spec.name: schema_field(spec) for spec in plan_fields()}
)


def build_source(data: dict[str, Any], *, on_device: bool) -> QuestionSource:
    """The QuestionSource of a loaded source; a device round without `types` draws choice questions only."""
    if "ids" in data:
        return QuestionSource(ids=tuple(data["ids"]), count=len(data["ids"]))
    types = data.get("types") or (CHOICE_TYPES if on_device else ())
    return QuestionSource(
        banks=tuple(data.get("banks", ())),
        categories=tuple(data.get("categories", ())),
        types=tuple(types),
        difficulties=tuple(sorted(data.get("difficulties", ()))),
        count=data["count"],
        tags=tuple(tag.strip() for tag in data.get("tags", ())),
    )


#: Top-level fields that belong to teams, which a 个人赛 has none of.
TEAM_ONLY = {
    "teams": "个人赛没有队伍，每位参加者用自己的手机作答，请删去 teams",
    "base_score": "个人赛按每人的得分排名，没有队伍基础分，请删去 base_score",
    "tie_break": "个人赛同分者名次并列，不加赛，请删去 tie_break",
    "tie_break_source": "个人赛同分者名次并列，不加赛，请删去 tie_break_source",
}


def _check_individual(data: dict[str, Any], errors: dict[str, Any]) -> None:
    """A 个人赛: no team fields, and only rounds where every contestant is a player on their own phone."""
    for name, message in TEAM_ONLY.items():
        if name in data:
            errors[name] = [message]
    for index, spec in enumerate(data["rounds"]):
        kind = round_type(spec.kind)
        if not kind.players_only(spec):
            errors.setdefault("rounds", {}).setdefault(index, {})["kind"] = [
                f"个人赛没有队伍，每一轮都要由每人用自己的手机作答；这一轮的{kind.label}由队伍作答"
            ]


class PlanSchema(Schema):
    """The top level of a plan file; rounds are RoundSchema, `post_load` builds the ContestPlan."""

    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=_not_blank("竞赛标题不能为空"))
    teams = fields.List(
        _Team(),
        validate=_team_count,
    )
    base_score = _Number(validate=validate.Range(min=0, error="不能为负数，实际为 {input}"))
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
    individual = _Bool()
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
        if data.get("individual"):
            _check_individual(data, errors)
        used: dict[str, str] = {}
        for index, spec in enumerate(rounds):
            where = errors.setdefault("rounds", {}).setdefault(index, {})
            kind = round_type(spec.kind)
            if teams and kind.in_turn and spec.source.count % len(teams):
                field = "ids" if spec.source.ids else "count"
                where.setdefault("source", {})[field] = [
                    f"{kind.label}各队轮流答题，题数（{spec.source.count}）应为队伍数（{len(teams)}）的整数倍"
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
                    f"加赛抢答在设备上作答，只能用{type_labels(CHOICE_TYPES)}，不能用{type_labels(wrong)}"
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
        if data.get("individual"):  # a 个人赛: ties share a place, so no 加赛 and no questions kept for one
            kept = {name: data[name] for name in ("prizes", "decimals") if name in data}
            none = {"tie_break": TieBreak.TIME, "tie_break_source": QuestionSource(count=0)}
            return ContestPlan(
                title=data["title"].strip(), rounds=tuple(data["rounds"]), individual=True, **kept, **none
            )
        values: dict[str, Any] = {"title": data["title"].strip(), "rounds": tuple(data["rounds"])}
        if "teams" in data:
            values["teams"] = tuple(data["teams"])
        for name in ("base_score", "prizes", "decimals"):
            if name in data:
                values[name] = data[name]
        if "prizes" not in data and "teams" in data:
            values["prizes"] = default_prizes(len(data["teams"]))
        if "tie_break" in data:
            values["tie_break"] = TieBreak(data["tie_break"])
        if "tie_break_source" in data:
            values["tie_break_source"] = build_source(data["tie_break_source"], on_device=True)
        elif values.get("tie_break", TieBreak.BUZZER) == TieBreak.BUZZER:
            default = ContestPlan(title="", rounds=()).tie_break_source
            values["tie_break_source"] = dataclasses.replace(default, types=default.types or CHOICE_TYPES)
        return ContestPlan(**values)
