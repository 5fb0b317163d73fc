"""Problems of a contest plan and where they are: `file:line: 第N轮: field：message`.

Shared by the loader (contest_plan.py), which turns the schema's messages into located problems, and the
check against the banks (contest_plan_supply.py), which locates its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quizengine.modes.contest import ContestPlan

from .format import MESSAGES_ZH, clip
from .loader import ProblemsError

_MESSAGES = {
    **MESSAGES_ZH,
    "Invalid input type.": "应为键值映射",
    "Not a valid boolean.": "应为 true 或 false",
}


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
        return line_of(self.lines, tuple(str(part) for part in parts))


def line_of(lines: Mapping[tuple[str, ...], int], path: tuple[str, ...]) -> int:
    """The line of the deepest part of `path` the file writes (1 for the file, 0 without lines)."""
    for size in range(len(path), -1, -1):
        if path[:size] in lines:
            return lines[path[:size]]
    return 1 if lines else 0


def flatten(messages: Any, prefix: tuple[str | int, ...] = ()) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """marshmallow's nested messages as (field path, Chinese message) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from flatten(value, prefix if key == "_schema" else (*prefix, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from flatten(message, prefix)
    else:
        yield prefix, clip(_MESSAGES.get(str(messages), str(messages)))


def round_of(path: Sequence[str | int]) -> int | None:
    """The 1-based round a field path is in (None: a plan-level field)."""
    if len(path) >= 2 and path[0] == "rounds" and str(path[1]).isdigit():
        return int(path[1]) + 1
    return None


def describe_path(path: Sequence[str | int]) -> str:
    """`source.banks 第2项` for a field path inside a round (or the whole plan); list items counted from 1."""
    inside = list(path[2:]) if round_of(path) else list(path)
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


def problem(display: str, lines: Mapping[tuple[str, ...], int], path: Sequence[str | int], message: str) -> PlanProblem:
    """A problem of the field at `path`, on its line (or its nearest written parent's)."""
    field = describe_path(path)
    text = f"{field}：{message}" if field else message
    return PlanProblem(display, line_of(lines, tuple(str(part) for part in path)), round_of(path), text)
