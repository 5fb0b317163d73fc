"""Contest plans in YAML (`question_banks/contests/*.yaml`, see docs/contest-plan.md) -> `ContestPlan`.

Pipeline, as for banks: bytes -> strict UTF-8 -> YAML node tree -> plain data plus the line of every
key and list item -> marshmallow (contest_plan_schema.py, built from the round types' registry) -> the
frozen plan dataclasses of `quizengine.modes.contest`. Every problem in every file is collected and
reported as `file:line: 第N轮: message` (the round is left out for plan-level problems); if there is any
problem, nothing is returned (all or nothing).

`check_plan_against_banks` (contest_plan_supply.py) then checks a valid plan against loaded banks: every
bank, category and fixed question exists, and every round can always be supplied with its questions.
This module re-exports what callers use from both, so `quizengine.banks.contest_plan` stays the one import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from quizengine.modes.contest import ContestPlan

from .contest_plan_problems import LoadedPlan, PlanLoadError, PlanProblem, flatten, problem, round_of
from .contest_plan_schema import CHOICE_TYPES, MAX_TEAMS, MIN_TEAMS, PlanSchema
from .contest_plan_supply import check_plan_against_banks, plan_fixed_ids, risk_pools, source_pool, source_section
from .loader import Bank, BankProblem, _parse, bank_files

__all__ = [
    "CHOICE_TYPES",
    "CONTESTS_DIR",
    "MAX_TEAMS",
    "MIN_TEAMS",
    "LoadedPlan",
    "PlanLoadError",
    "PlanProblem",
    "check_plan_against_banks",
    "check_plans",
    "load_plan",
    "load_plans",
    "plan_files",
    "plan_fixed_ids",
    "plan_from_mapping",
    "risk_pools",
    "source_pool",
    "source_section",
]

#: The folder (below the banks folder) that holds contest plans; the bank loader never reads it.
CONTESTS_DIR = "contests"


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
        problems.append(PlanProblem(display, line, round_of(key_path), f"字段“{key_path[-1]}”重复出现"))
    try:
        plan = PlanSchema().load(data)
    except ValidationError as error:
        problems.extend(problem(display, lines, field_path, message) for field_path, message in flatten(error.messages))
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
        problems = [problem("", {}, field_path, message) for field_path, message in flatten(error.messages)]
        raise PlanLoadError(problems) from None


def check_plans(paths: Iterable[str | Path], banks: Sequence[Bank]) -> tuple[list[LoadedPlan], list[PlanProblem]]:
    """Load every plan under `paths` and check the valid ones against `banks`; return plans and all problems."""
    problems: list[PlanProblem] = []
    plans = _load_all(paths, problems)
    for loaded in plans:
        problems.extend(check_plan_against_banks(loaded, banks))
    return plans, problems
