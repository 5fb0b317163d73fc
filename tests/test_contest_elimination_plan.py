"""一站到底 in plans: its own fields (contestants, win_points) load from YAML, are checked in Chinese, are
stored with the contest, and the plan editor offers them from the registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quizengine.banks.contest_plan import PlanLoadError, check_plan_against_banks, load_plan, plan_from_mapping
from quizengine.banks.loader import load_banks
from quizengine.models import Role
from quizengine.modes.contest import plan_from_dict, plan_to_dict
from quizengine.web import plan_form

from .conftest import login

PLAN = """\
title: 一站到底
teams: [红队, 蓝队]
prizes: 2
rounds:
  - kind: elimination
    source: {count: 5}
  - kind: elimination
    title: 个人一站到底
    contestants: players
    win_points: 20
    answer_seconds: 15
    source: {count: 8}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_elimination_plan_loads_with_its_own_fields(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, PLAN)).plan
    teams, players = plan.rounds
    assert (teams.kind, teams.title, teams.value("contestants"), teams.value("win_points")) == (
        "elimination",
        "一站到底",
        "teams",
        30,
    )
    assert (players.value("contestants"), players.value("win_points"), players.answer_seconds) == ("players", 20, 15)
    assert players.source.types == ("single", "multiple", "judge")  # answered on phones
    assert plan_from_dict(plan_to_dict(plan)) == plan


@pytest.mark.parametrize(
    ("round_text", "line", "message"),
    [
        (
            "contestants: everyone",
            4,
            "contestants：contestants 应为 teams（各队轮流）或 players（队员轮流），实际为“everyone”",
        ),
        ("win_points: -5", 4, "win_points：不能为负数，实际为 -5"),
        (
            "contestants: players\n    judged_by: host",
            5,
            "judged_by：队员轮流（contestants: players）时由轮到的队员用手机作答",
        ),
        ("speed_bonus: 2", 4, "speed_bonus：只用于全员答题，一站到底不能设置"),
    ],
)
def test_bad_elimination_fields_are_refused_in_chinese(
    tmp_path: Path, round_text: str, line: int, message: str
) -> None:
    text = f"title: 一站到底\nrounds:\n  - kind: elimination\n    {round_text}\n    source: {{count: 3}}\n"
    with pytest.raises(PlanLoadError) as raised:
        load_plan(_write(tmp_path, text))
    assert any(p.round == 1 and message in p.message and p.line == line for p in raised.value.problems), raised.value


def test_the_count_is_checked_against_the_banks(tmp_path: Path) -> None:
    folder = tmp_path / "banks"
    folder.mkdir()
    (folder / "b.yaml").write_text(
        "bank: b\ntitle: 题\nquestions:\n"
        + "".join(f"  - {{id: b-{n}, type: judge, stem: 判断{n}, answer: true}}\n" for n in range(4)),
        encoding="utf-8",
    )
    rounds = [{"kind": "elimination", "source": {"count": 6}}]
    plan = plan_from_mapping({"title": "x", "tie_break": "time", "rounds": rounds})
    [problem] = check_plan_against_banks(plan, load_banks([folder]))
    assert "的题目只有4题，本轮需要6题" in problem.message


def test_the_editor_round_trips_an_elimination_round_and_drops_judging_for_players(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, PLAN)).plan
    values = plan_form.values_from_plan(plan)
    assert values["rounds"][1]["contestants"] == "players" and values["rounds"][1]["win_points"] == "20"
    mapping = plan_form.mapping_from_values(values)
    assert "judged_by" in mapping["rounds"][0] and "judged_by" not in mapping["rounds"][1]
    assert plan_from_mapping(mapping) == plan


def test_the_editor_offers_the_round_from_the_registry(app: Flask, client: FlaskClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user(Role.ORGANIZER, username="shuji")
    login(client, "shuji")
    html = client.get("/contests/plans/new?from=").get_data(as_text=True)
    assert '<option value="elimination" >一站到底</option>' in html
    assert 'data-field="contestants">参赛方式（队员轮流时用手机作答）' in html
    assert '<option value="players" >队员轮流</option>' in html
    kinds = plan_form.editor_kinds()["kinds"]
    assert kinds["elimination"]["fields"]["win_points"] == "30"
    assert kinds["elimination"]["only_when"] == {"judged_by": ["contestants", ["teams"]]}
