"""The plan schema and the plan editor are built from the round types' registry (issue #14).

Each round kind declares its plan fields (name, type, label, default, limits); the schema checks exactly
those, the editor renders them with their words and defaults, and the page's script reads the kinds from
JSON the server embeds — it holds no copy of them.
"""

from __future__ import annotations

import json
import re
from typing import ClassVar

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quizengine.banks.contest_plan import PlanLoadError, plan_from_mapping
from quizengine.banks.contest_plan_schema import RoundSchema
from quizengine.config import PROJECT_ROOT
from quizengine.models import Role
from quizengine.modes.contest import RoundSpec, plan_from_dict, plan_to_dict, round_type, round_types
from quizengine.modes.contest.fields import COMMON, POINTS, PlanField
from quizengine.modes.contest.rounds import RoundType, register
from quizengine.web import plan_form

from .conftest import login


def test_the_round_schema_has_one_field_per_declared_name() -> None:
    declared = {field.name for kind in round_types() for field in kind.plan_fields()}
    assert set(RoundSchema().fields) == declared | {"kind", "title", "source"}
    for kind in round_types():
        assert kind.plan_fields()[: len(COMMON)] == COMMON
        assert all(field.label and field.type for field in kind.fields)


def test_defaults_are_the_declared_ones() -> None:
    for kind in round_types():
        source = {"count": 4}
        spec = plan_from_mapping({"title": "默认", "rounds": [{"kind": str(kind.kind), "source": source}]}).rounds[0]
        for field in kind.plan_fields():
            assert spec.value(field.name) == field.default, (kind.kind, field.name)


def test_a_declared_limit_is_checked_with_its_message() -> None:
    with pytest.raises(PlanLoadError) as raised:
        plan_from_mapping({"title": "x", "rounds": [{"kind": "buzzer", "source": {"count": 1}, "buzz_seconds": -1}]})
    assert [str(p) for p in raised.value.problems] == ["第1轮: buzz_seconds：秒数应为 0 到 600，实际为 -1"]


def test_a_choice_without_its_own_message_gets_the_plain_one() -> None:
    with pytest.raises(PlanLoadError) as raised:
        plan_from_mapping({"title": "x", "rounds": [{"kind": "buzzer", "source": {"count": 1}, "judged_by": "x"}]})
    assert [str(p) for p in raised.value.problems] == [
        "第1轮: judged_by：judged_by 应为 device（设备作答）或 host（主持人评判），实际为“x”"
    ]


def test_two_kinds_may_not_declare_one_name_differently() -> None:
    clash = PlanField("points", "int", "得分", 10, minimum=1)

    class Clashing(RoundType):
        kind = "clashing"
        label = "冲突"
        fields: ClassVar[tuple[PlanField, ...]] = (clash,)

    with pytest.raises(ValueError, match="clashes"):
        register(Clashing)
    with pytest.raises(KeyError):
        round_type("clashing")
    assert POINTS.same_schema(PlanField("points", "number", "另一个名字", 30, minimum=0))


def test_a_kinds_own_field_outside_roundspec_is_kept_in_extra_and_stored() -> None:
    spec = RoundSpec("compulsory", "必答题", plan_from_mapping(_one("compulsory")).rounds[0].source, extra=(("x", 3),))
    assert spec.value("x") == 3 and spec.value("points") == 10 and spec.value("missing", "d") == "d"
    plan = plan_from_mapping(_one("compulsory"))
    stored = plan_to_dict(plan)
    assert plan_from_dict(stored) == plan
    old = json.loads(json.dumps(stored))
    del old["rounds"][0]["extra"]  # a plan stored before `extra` existed
    assert plan_from_dict(old) == plan


def _one(kind: str) -> dict:
    return {"title": "x", "teams": ["甲", "乙"], "rounds": [{"kind": kind, "source": {"count": 2}}]}


def test_the_editor_embeds_the_registry_and_renders_every_declared_field(
    app: Flask, client: FlaskClient, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user(Role.ORGANIZER, username="shuji")
    login(client, "shuji")
    html = client.get("/contests/plans/new?from=").get_data(as_text=True)
    embedded = re.search(r'<script type="application/json" id="round-kinds">(.*?)</script>', html, re.S)
    assert embedded is not None
    registry = json.loads(embedded.group(1))
    assert registry == json.loads(json.dumps(plan_form.editor_kinds()))
    assert set(registry["kinds"]) == {str(kind.kind) for kind in round_types()}  # (the page's JSON sorts keys)
    for kind in round_types():
        entry = registry["kinds"][str(kind.kind)]
        assert entry["label"] == kind.label
        assert entry["fields"] == {
            field.name: plan_form.field_text(field, field.default) for field in kind.plan_fields()
        }
        assert f'<option value="{kind.kind}"' in html
    assert registry["kinds"]["buzzer"]["only_when"] == {"foul_penalty": ["foul", ["penalize"]]}
    assert registry["kinds"]["compulsory"]["only_when"] == {}
    for field in plan_form.round_fields():
        assert f'data-field="{field.name}">{field.editor_prompt()}' in html
        assert f'name="rounds-0-{field.name}"' in html


def test_the_editor_script_holds_no_copy_of_the_kinds() -> None:
    script = (PROJECT_ROOT / "static" / "js" / "contest-plan.js").read_text(encoding="utf-8")
    for kind in round_types():
        if kind.kind != "buzzer":  # "buzzer" is also the tie-break's value, which the script does read
            assert f'"{kind.kind}"' not in script
        assert kind.label not in script
    for field in plan_form.round_fields():
        assert f'"{field.name}"' not in script and field.label not in script
