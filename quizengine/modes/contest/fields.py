"""Plan fields: what a round kind lets a plan set, declared once for the plan schema and the plan editor.

A round type lists its `PlanField`s (`RoundType.fields`); the schema (banks/contest_plan_schema.py) builds
one marshmallow field per name from the declaration (type, limits, choices), and the plan editor renders
and parses the form from it (label, prompt, default). The fields several kinds share are declared here; a
kind's own fields are declared in its own file. A field that is not an attribute of `RoundSpec` is kept in
`RoundSpec.extra`, so a new round kind needs no change to the plan dataclasses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .plan import RoundSpec

#: The value types a plan field may have.
FIELD_TYPES = frozenset({"number", "int", "bool", "choice", "int_list", "int_map"})

#: RoundSpec's own attributes and their defaults (everything else a kind declares goes to `extra`).
SPEC_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(RoundSpec)}


@dataclass(frozen=True)
class PlanField:
    """One field of a round in a plan: its type and limits (for the schema), its words (for the editor)."""

    #: The YAML key and the form field's name.
    name: str
    #: One of FIELD_TYPES: "number" (an int or a finite float), "int", "bool", "choice" (one of `choices`),
    #: "int_list" (a list of ints within the limits), "int_map" (int -> ints, checked by the round type).
    type: str
    #: The field's Chinese name in problem messages ("答对得分").
    label: str
    #: The value when a plan leaves the field out.
    default: Any
    #: Inclusive limits of a number, an int, or each item of an int_list (None: unbounded).
    minimum: float | None = None
    maximum: float | None = None
    #: A choice's or a bool's values with their Chinese names, in the editor's order.
    choices: tuple[tuple[str, str], ...] = ()
    #: The schema's message for a value outside the limits or the choices (`{input}`: the value), when the
    #: generic one does not read well.
    error: str = ""
    #: The schema's message for an empty int_list.
    empty_error: str = "不能为空列表"
    #: The editor's words for the field when they are not just `label` (a hint in brackets, say).
    prompt: str = ""
    #: The field only counts while another field of the round has one of these values: (name, values).
    only_when: tuple[str, tuple[str, ...]] | None = None
    #: Turns the loaded value into the RoundSpec's (an enum, a tuple); None keeps it as loaded.
    cast: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown plan field type {self.type!r} of {self.name!r}")

    @property
    def on_spec(self) -> bool:
        """True when RoundSpec has an attribute of this name (else the value lives in `RoundSpec.extra`)."""
        return self.name in SPEC_DEFAULTS

    def editor_prompt(self) -> str:
        """What the editor writes next to the input."""
        return self.prompt or self.label

    def same_schema(self, other: PlanField) -> bool:
        """True when two declarations of one name check values alike (their defaults and words may differ)."""
        keys = ("type", "minimum", "maximum", "choices", "error", "empty_error")
        return all(getattr(self, key) == getattr(other, key) for key in keys)


def spec_default(name: str) -> Any:
    """RoundSpec's default for one of its attributes."""
    return SPEC_DEFAULTS[name]


MAX_SECONDS = 600

READ_SECONDS = PlanField(
    "read_seconds",
    "int",
    "读题秒数",
    spec_default("read_seconds"),
    minimum=0,
    maximum=MAX_SECONDS,
    error=f"秒数应为 0 到 {MAX_SECONDS}，实际为 {{input}}",
)
ANSWER_SECONDS = PlanField(
    "answer_seconds",
    "int",
    "作答秒数",
    spec_default("answer_seconds"),
    minimum=0,
    maximum=MAX_SECONDS,
    error=f"秒数应为 0 到 {MAX_SECONDS}，实际为 {{input}}",
    prompt="作答秒数（0 不限时）",
)
POINTS = PlanField("points", "number", "答对得分", spec_default("points"), minimum=0)
PENALTY = PlanField("penalty", "number", "答错扣分", spec_default("penalty"), minimum=0)
JUDGED_BY = PlanField(
    "judged_by",
    "choice",
    "评判方式",
    spec_default("judged_by"),
    choices=(("device", "设备作答"), ("host", "主持人评判")),
)

#: The fields every round has besides its kind, title and source.
COMMON = (READ_SECONDS, ANSWER_SECONDS)
