"""The contest plan editor (竞赛方案): HTML form <-> plain plan mapping <-> YAML file.

The form is a flat set of strings (`rounds-<i>-<field>`, `rounds-<i>-source-<field>`, `tie-source-<field>`).
The round fields, their words, types and defaults come from the round types' registry (each kind declares
its `PlanField`s), for the form, for parsing it and for the page's script (`editor_kinds`, embedded in the
page as JSON). `values_from_plan` / `values_from_form` turn a ContestPlan or a posted form into the same
nested *values* (strings, lists of checked boxes) the template renders, so a form with problems comes back
exactly as the organizer typed it. `mapping_from_values` builds the plain mapping that `plan_from_mapping`
validates: blank fields are left out (the plan's defaults apply), numbers that do not parse are passed on
as text (the schema then says 应为数字), and fields that do not belong to a round's kind (or that count
only with another field's value, `PlanField.only_when`) are dropped, so the page works without
JavaScript, which hides them.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from werkzeug.datastructures import MultiDict

from quizengine.banks.contest_plan import PlanLoadError, PlanProblem, check_plan_against_banks, plan_from_mapping
from quizengine.banks.loader import Bank
from quizengine.modes.contest import (
    ContestPlan,
    QuestionSource,
    RoundKind,
    RoundSpec,
    TieBreak,
    default_prizes,
    round_types,
)
from quizengine.modes.contest.fields import COMMON, PlanField
from quizengine.modes.contest.rounds import plan_fields

#: A saved plan's file name (without .yaml).
FILE_NAME = re.compile(r"[a-z0-9-]{1,40}")


def round_fields() -> list[PlanField]:
    """Every round field of every kind, once per name, in the editor's order (the title and source apart)."""
    return plan_fields()


#: Round fields edited as one line of text each (the source is edited separately).
ROUND_FIELDS = ("title", *(field.name for field in round_fields()))
_FIELDS = {field.name: field for field in round_fields()}

#: Chinese names of the plan's fields, for problem messages (the schema names the YAML keys).
FIELD_LABELS = {
    "title": "标题",
    "teams": "队伍",
    "base_score": "基础分",
    "prizes": "获奖名次数",
    "tie_break": "并列处理",
    "decimals": "计分精度",
    "individual": "赛制",
    "tie_break_source": "加赛题源",
    "rounds": "轮次",
    "kind": "类型",
    "source": "题源",
    "banks": "题库",
    "categories": "章节",
    "types": "题型",
    "difficulties": "难度",
    "tags": "标签",
    "count": "题数",
    "ids": "指定题目",
    **{field.name: field.label for field in round_fields()},
    "name": "队名",
    "color": "颜色",
}

_SPLIT = re.compile(r"[\s,，、;；]+")
_TEAM_LINE = re.compile(r"(.*?)\s+(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6})")


# --- plan -> values ---------------------------------------------------------------------------------------


def _text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def source_values(source: QuestionSource) -> dict[str, Any]:
    """A question source as form values."""
    return {
        "banks": list(source.banks),
        "categories": ", ".join(source.categories),
        "types": list(source.types),
        "difficulties": [str(level) for level in source.difficulties],
        "tags": ", ".join(source.tags),
        "count": "" if source.ids or not source.count else str(source.count),
        "ids": ", ".join(source.ids),
    }


def field_text(field: PlanField, value: Any) -> str:
    """A field's value as the form shows it."""
    if field.type == "number":
        return _text(value)
    if field.type == "bool":
        return "true" if value else "false"
    if field.type == "int_list":
        return ", ".join(map(str, value))
    if field.type == "int_map":
        return "；".join(f"{key}: {' '.join(map(str, levels))}" for key, levels in value)
    return str(value)  # int, choice (a StrEnum's str is its value)


def round_values(spec: RoundSpec) -> dict[str, Any]:
    """A round as form values (every field, whatever the kind: switching kind keeps sensible defaults)."""
    values: dict[str, Any] = {"kind": str(spec.kind), "title": spec.title}
    for field in round_fields():
        values[field.name] = field_text(field, spec.value(field.name, field.default))
    values["source"] = source_values(spec.source)
    return values


def blank_round() -> dict[str, Any]:
    """A new 必答题 row with the plan defaults (the title left blank: the kind's label applies)."""
    values = round_values(RoundSpec(RoundKind.COMPULSORY, "", QuestionSource()))
    values["source"]["types"] = []
    return values


def empty_plan() -> ContestPlan:
    """What a new plan starts from when there is no plan file: one 必答题 round and the default teams' count."""
    return ContestPlan(title="", rounds=(RoundSpec(RoundKind.COMPULSORY, "", QuestionSource()),))


def values_from_plan(plan: ContestPlan) -> dict[str, Any]:
    """A whole plan as form values."""
    return {
        "title": plan.title,
        "teams": "\n".join(f"{team.name} {team.color}".strip() for team in plan.teams),
        "base_score": _text(plan.base_score),
        "prizes": "" if plan.prizes == default_prizes(len(plan.teams)) else str(plan.prizes),
        "tie_break": plan.tie_break.value,
        "decimals": "true" if plan.decimals else "false",
        "individual": "true" if plan.individual else "false",
        "tie_source": source_values(plan.tie_break_source),
        "rounds": [round_values(spec) for spec in plan.rounds],
    }


# --- posted form -> values ----------------------------------------------------------------------------------


def _source_from_form(form: MultiDict[str, str], prefix: str) -> dict[str, Any]:
    return {
        "banks": form.getlist(f"{prefix}banks"),
        "categories": form.get(f"{prefix}categories", "").strip(),
        "types": form.getlist(f"{prefix}types"),
        "difficulties": form.getlist(f"{prefix}difficulties"),
        "tags": form.get(f"{prefix}tags", "").strip(),
        "count": form.get(f"{prefix}count", "").strip(),
        "ids": form.get(f"{prefix}ids", "").strip(),
    }


def values_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The posted form as values, rounds in the order of their numbers (the script renumbers on every move)."""
    indices = sorted(
        {int(match.group(1)) for key in form if (match := re.fullmatch(r"rounds-([0-9]{1,3})-kind", key)) is not None}
    )
    rounds = []
    for index in indices:
        prefix = f"rounds-{index}-"
        values: dict[str, Any] = {"kind": form.get(f"{prefix}kind", "")}
        values.update({name: form.get(prefix + name, "").strip() for name in ROUND_FIELDS})
        values["source"] = _source_from_form(form, f"{prefix}source-")
        rounds.append(values)
    return {
        "title": form.get("title", "").strip(),
        "teams": form.get("teams", "").strip(),
        "base_score": form.get("base_score", "").strip(),
        "prizes": form.get("prizes", "").strip(),
        "tie_break": form.get("tie_break", ""),
        "decimals": form.get("decimals", ""),
        "individual": form.get("individual", ""),
        "tie_source": _source_from_form(form, "tie-source-"),
        "rounds": rounds,
    }


# --- values -> plain mapping --------------------------------------------------------------------------------


def _number(text: str) -> Any:
    """An int or finite float; text that is not a number is passed on for the schema to refuse."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _numbers(text: str) -> list[Any]:
    return [_number(part) for part in _SPLIT.split(text) if part]


def _words(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text) if part]


def _int_map(text: str) -> Any:
    """`10: 1 2；20: 3；30: 4 5` -> {10: [1, 2], 20: [3], 30: [4, 5]}; anything else is passed on as text."""
    mapping: dict[Any, Any] = {}
    for part in re.split(r"[;；\n]+", text):
        if not part.strip():
            continue
        value, sep, levels = part.replace("：", ":").partition(":")
        if not sep:
            return text
        mapping[_number(value.strip())] = _numbers(levels)
    return mapping


def _source_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = {}
    if values["ids"]:
        source["ids"] = _words(values["ids"])
    for name in ("banks", "types"):
        if values[name]:
            source[name] = list(values[name])
    if values["categories"]:
        source["categories"] = _words(values["categories"])
    if values.get("tags"):
        source["tags"] = _words(values["tags"])
    if values["difficulties"]:
        source["difficulties"] = [_number(level) for level in values["difficulties"]]
    if values["count"]:
        source["count"] = _number(values["count"])
    return source


def _parse(field: PlanField, text: str) -> Any:
    """A field's text as plain data of its type (what does not parse is passed on for the schema to refuse)."""
    if field.type in ("number", "int"):
        return _number(text)
    if field.type == "bool":
        return {"true": True, "false": False}.get(text, text)
    if field.type == "int_list":
        return _numbers(text)
    if field.type == "int_map":
        return _int_map(text)
    return text


def _counts(field: PlanField, values: Mapping[str, Any]) -> bool:
    """False when the field counts only with another field's value and that field (or its default) differs."""
    if field.only_when is None:
        return True
    name, allowed = field.only_when
    other = _FIELDS.get(name)
    given = values.get(name) or (field_text(other, other.default) if other else "")
    return given in allowed


def _round_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    kind = next((k for k in round_types() if str(k.kind) == values["kind"]), None)
    mapping: dict[str, Any] = {"kind": values["kind"]}
    if values["title"]:
        mapping["title"] = values["title"]
    mapping["source"] = _source_mapping(values["source"])
    for field in kind.plan_fields() if kind else COMMON:
        text = values.get(field.name, "")
        if text and _counts(field, values):
            mapping[field.name] = _parse(field, text)
    return mapping


def _teams(text: str) -> list[Any]:
    teams: list[Any] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _TEAM_LINE.fullmatch(line)
        teams.append({"name": match.group(1), "color": match.group(2).lower()} if match else line)
    return teams


def mapping_from_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The plain plan mapping (as a YAML file would give it) for `plan_from_mapping` and for saving."""
    if values.get("individual") == "true":  # a 个人赛 has no teams: their fields are left out, not refused
        mapping: dict[str, Any] = {"title": values["title"], "individual": True}
        if values["prizes"]:
            mapping["prizes"] = _number(values["prizes"])
        if values.get("decimals") == "true":
            mapping["decimals"] = True
        mapping["rounds"] = [_round_mapping(round_) for round_ in values["rounds"]]
        return mapping
    mapping = {"title": values["title"], "teams": _teams(values["teams"])}
    if values["base_score"]:
        mapping["base_score"] = _number(values["base_score"])
    if values["prizes"]:
        mapping["prizes"] = _number(values["prizes"])
    if values["tie_break"]:
        mapping["tie_break"] = values["tie_break"]
    if values.get("decimals") == "true":  # whole points are the default: only the opt-in is written
        mapping["decimals"] = True
    tie_source = _source_mapping(values["tie_source"])
    if tie_source and values["tie_break"] != TieBreak.TIME:
        mapping["tie_break_source"] = tie_source
    mapping["rounds"] = [_round_mapping(round_) for round_ in values["rounds"]]
    return mapping


# --- checking -----------------------------------------------------------------------------------------------


def translate(problem: PlanProblem) -> PlanProblem:
    """The problem with its field path (`source.count 第2项`) in Chinese (`题数 第2项`)."""
    head, sep, rest = problem.message.partition("：")
    path, space, item = head.partition(" ")
    parts = path.split(".")
    if not sep or parts[0] not in FIELD_LABELS:
        return problem
    if parts[0] == "title":
        label = "竞赛标题" if problem.round is None else "轮次标题"
    else:
        label = " ".join(FIELD_LABELS.get(part, part) for part in parts)
    where = f"{label}{space}{item}" if item else label
    return PlanProblem(problem.path, problem.line, problem.round, f"{where}：{rest}")


def check(mapping: Mapping[str, Any], banks: Sequence[Bank]) -> tuple[ContestPlan | None, list[PlanProblem]]:
    """Validate the mapping, then check it against the banks; return the plan (None on any problem) and problems."""
    try:
        plan = plan_from_mapping(mapping)
    except PlanLoadError as error:
        return None, [translate(problem) for problem in error.problems]
    problems = [translate(problem) for problem in check_plan_against_banks(plan, banks)]
    return (None if problems else plan), problems


# --- saving -------------------------------------------------------------------------------------------------


def save_refusal(folder: Path, name: str, *, overwrite: bool) -> str | None:
    """Why the plan may not be saved under `name` (a bad file name, or an existing file not to overwrite)."""
    if not FILE_NAME.fullmatch(name):
        return "文件名只能由小写字母、数字和连字符组成，最多 40 个字符，如 zhibu-2026"
    if (folder / f"{name}.yaml").exists() and not overwrite:
        return f"方案文件 {name}.yaml 已存在；要替换它请勾选“覆盖”"
    return None


def save_plan(mapping: Mapping[str, Any], folder: Path, name: str, *, overwrite: bool) -> Path:
    """Write the plan as `<folder>/<name>.yaml`, atomically; raise ValueError (in Chinese) when refused."""
    refusal = save_refusal(folder, name, overwrite=overwrite)
    if refusal:
        raise ValueError(refusal)
    path = folder / f"{name}.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(dict(mapping), allow_unicode=True, sort_keys=False)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def kind_choices() -> list[tuple[str, str]]:
    """(value, Chinese label) of every round kind, for the kind selector."""
    return [(str(kind.kind), kind.label) for kind in round_types()]


def editor_kinds() -> dict[str, Any]:
    """What the page's script needs from the registry: each kind's label, fields with their defaults (as
    form text), the fields that count only with another field's value, and the source fields it does not take."""
    return {
        "kinds": {
            str(kind.kind): {
                "label": kind.label,
                "fields": {field.name: field_text(field, field.default) for field in kind.plan_fields()},
                "only_when": {
                    field.name: [field.only_when[0], list(field.only_when[1])]
                    for field in kind.plan_fields()
                    if field.only_when
                },
                "source_excludes": sorted(kind.source_excludes),
            }
            for kind in round_types()
        }
    }
