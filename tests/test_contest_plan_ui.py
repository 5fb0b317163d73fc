"""The contest plan editor (竞赛方案) in the browser, through the Flask test client.

The form pre-fills from a plan file; 检查 / 保存为方案 / 创建竞赛 validate the posted form with the same
rules as the YAML check (and against the banks); any problem re-renders the form (400) with the Chinese
message and creates or writes nothing; a saved plan loads back equal; only organizers may use it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from quizengine.banks.contest_plan import load_plan, plan_from_mapping
from quizengine.config import PROJECT_ROOT
from quizengine.models import Contest, Role
from quizengine.modes.contest import FoulRule, RoundKind, TieBreak
from quizengine.web import plan_form

from .conftest import csrf_token, login

STANDARD = PROJECT_ROOT / "question_banks" / "contests" / "standard.yaml"


def _banks_dir(app: Flask) -> Path:
    return Path(app.config["BANKS_PATH"])


@pytest.fixture
def banks(app: Flask, runner: FlaskCliRunner) -> Path:
    """One bank `live` (30 single questions, two chapters) in the app's banks folder and in the database."""
    options = "{A: 甲, B: 乙, C: 丙, D: 丁}"
    lines = [
        "bank: live",
        "title: 竞赛题库",
        "categories:",
        "  - {id: ch1, title: 第一章}",
        "  - {id: ch2, title: 第二章}",
    ]
    lines.append("questions:")
    lines += [
        f"  - {{id: q-{n}, type: single, category: ch{n % 2 + 1}, difficulty: {n % 5 + 1}, stem: 竞赛题{n}, "
        f"options: {options}, answer: A}}"
        for n in range(30)
    ]
    folder = _banks_dir(app)
    (folder / "live.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "contests").mkdir()
    assert runner.invoke(args=["banks", "load", str(folder / "live.yaml")]).exit_code == 0
    return folder


@pytest.fixture
def organizer(client: FlaskClient, make_user) -> FlaskClient:  # type: ignore[no-untyped-def]
    make_user(Role.ORGANIZER, username="shuji")
    login(client, "shuji")
    return client


def _form(client: FlaskClient, action: str = "check", **overrides: str | list[str]) -> dict[str, str | list[str]]:
    """A valid two-team, two-round plan as the editor posts it (all fields of every kind, as without JS)."""
    data: dict[str, str | list[str]] = {
        "csrf_token": csrf_token(client, "/contests/plans/new"),
        "action": action,
        "title": "支部竞赛",
        "teams": "红队 #c0392b\n蓝队",
        "base_score": "100",
        "prizes": "2",
        "tie_break": "time",
        "file_name": "my-plan",
    }
    for index, kind in enumerate(("compulsory", "buzzer")):
        prefix = f"rounds-{index}-"
        data |= {
            f"{prefix}kind": kind,
            f"{prefix}title": f"第{index + 1}轮",
            f"{prefix}points": "10",
            f"{prefix}penalty": "5",
            f"{prefix}read_seconds": "5",
            f"{prefix}answer_seconds": "20",
            f"{prefix}judged_by": "device",
            f"{prefix}foul": "penalize",
            f"{prefix}foul_penalty": "10",
            f"{prefix}buzz_seconds": "15",
            f"{prefix}reopen": "false",
            f"{prefix}risk_values": "10, 20, 30",
            f"{prefix}risk_difficulty": "",
            f"{prefix}speed_bonus": "2",
            f"{prefix}team_score": "mean",
            f"{prefix}source-banks": ["live"],
            f"{prefix}source-categories": f"ch{index + 1}",
            f"{prefix}source-types": ["single"],
            f"{prefix}source-count": "4",
            f"{prefix}source-ids": "",
        }
    data |= overrides
    return data


def _contests(session: Session) -> int:
    return session.scalar(select(func.count(Contest.id))) or 0


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_editor_is_filled_in_from_the_standard_plan(app: Flask, organizer: FlaskClient) -> None:
    (_banks_dir(app) / "contests").mkdir()
    shutil.copy(STANDARD, _banks_dir(app) / "contests" / "standard.yaml")
    plan = load_plan(STANDARD).plan
    page = organizer.get("/contests/plans/new?from=standard.yaml")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="支部党建知识竞赛"' in html
    assert "第一组 #c0392b\n第二组 #2471a3" in html
    for index, spec in enumerate(plan.rounds):
        assert f'name="rounds-{index}-title" value="{spec.title}"' in html
        assert re.search(rf'name="rounds-{index}-kind".*?value="{spec.kind.value}" selected', html, re.S)
        assert f'name="rounds-{index}-source-count" value="{spec.source.count}"' in html
    assert f'name="rounds-{len(plan.rounds)}-kind"' not in html
    assert 'name="rounds-3-risk_values" value="10, 20, 30"' in html
    assert 'name="rounds-2-speed_bonus" value="2"' in html
    assert 'src="/static/js/contest-plan.js"' in html
    # the form as posted back without any change gives the same plan again
    values = plan_form.values_from_plan(plan)
    assert plan_from_mapping(plan_form.mapping_from_values(values)) == plan
    # the default is standard.yaml, and the index links to the editor
    assert 'value="支部党建知识竞赛"' in organizer.get("/contests/plans/new").get_data(as_text=True)
    assert organizer.get("/contests/plans/new?from=../standard.yaml").status_code == 404
    blank = organizer.get("/contests/plans/new?from=").get_data(as_text=True)  # 新建方案: one empty 必答题 round
    assert 'name="title" value=""' in blank and 'name="rounds-0-kind"' in blank and 'name="rounds-1-kind"' not in blank
    assert 'name="prizes" value=""' in blank  # left to the default, which follows the number of teams
    index = organizer.get("/contests/").get_data(as_text=True)
    assert "/contests/plans/new?from=standard.yaml" in index and "编辑方案" in index and "新建方案" in index


def test_a_valid_plan_creates_a_contest_with_the_submitted_teams_and_rounds(
    banks: Path, organizer: FlaskClient, session: Session
) -> None:
    checked = organizer.post("/contests/plans", data=_form(organizer))
    assert checked.status_code == 200 and "检查通过" in checked.get_data(as_text=True)
    assert _contests(session) == 0
    response = organizer.post("/contests/plans", data=_form(organizer, "create"))
    assert response.status_code == 302
    contest = session.scalars(select(Contest)).one()
    assert response.headers["Location"].endswith(f"/contests/{contest.id}/host")
    assert contest.title == "支部竞赛"
    assert [team["name"] for team in contest.state["teams"]] == ["红队", "蓝队"]
    assert contest.state["teams"][0]["color"] == "#c0392b"
    rounds = contest.state["rounds"]
    assert [len(questions) for questions in rounds] == [4, 4]
    assert all(int(question.split("-")[1]) % 2 == 0 for question in rounds[0])  # ch1 only
    assert all(int(question.split("-")[1]) % 2 == 1 for question in rounds[1])  # ch2 only
    assert contest.state["tie_pool"] == []  # a time tie-break is settled by time: no 加赛 questions are set aside
    assert not any(_banks_dir(organizer.application).joinpath("contests").iterdir())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rounds-0-source-count": "3"}, "第1轮：题源 题数：必答题各队轮流答题，题数（3）应为队伍数（2）的整数倍"),
        ({"teams": "红队"}, "队伍：队伍数应为 2 到 12 个，实际为 1 个"),
        ({"rounds-1-source-banks": ["nope"]}, "第2轮：题源 题库 第1项：题库“nope”不存在，现有题库：live"),
        ({"rounds-0-points": "十分"}, "第1轮：答对得分：应为数字"),
        ({"rounds-1-foul": "ignore", "rounds-1-source-ids": "q-1"}, "第2轮：题源 题数：已用 ids 指定题目时不能再写"),
        ({"rounds-1-read_seconds": "601"}, "第2轮：读题秒数：秒数应为 0 到 600，实际为 601"),
        ({"rounds-0-source-count": "40"}, "第1轮：题源 题数：本轮题源"),
        ({"title": ""}, "竞赛标题：竞赛标题不能为空"),
    ],
)
@pytest.mark.parametrize("action", ["check", "save", "create"])
def test_bad_input_is_shown_in_chinese_and_changes_nothing(
    banks: Path, organizer: FlaskClient, session: Session, overrides: dict, message: str, action: str
) -> None:
    response = organizer.post("/contests/plans", data=_form(organizer, action, **overrides))
    assert response.status_code == 400
    page = _page(response)
    assert message in page
    assert "个问题" in page
    # the organizer's input is kept
    for name, value in overrides.items():
        if name.endswith("-foul"):
            assert f'<option value="{value}" selected>' in page
        elif isinstance(value, str) and value and name != "teams":
            assert f'name="{name}" value="{value}"' in page
    assert _contests(session) == 0
    assert not any((banks / "contests").iterdir())


def test_a_problem_is_also_shown_next_to_its_round(banks: Path, organizer: FlaskClient) -> None:
    page = _page(organizer.post("/contests/plans", data=_form(organizer, **{"rounds-1-penalty": "-1"})))
    rounds = page.split("data-round>")
    assert '<p class="field-error">答错扣分：不能为负数，实际为 -1</p>' in rounds[2]  # the second round's fieldset
    assert "field-error" not in rounds[1]
    assert "第2轮：答错扣分：不能为负数，实际为 -1" in rounds[0]  # and in the list at the top


def test_fields_of_another_kind_are_dropped_not_refused(banks: Path, organizer: FlaskClient, session: Session) -> None:
    """Without JS every field of every kind is posted: a 必答题 row's speed_bonus or foul is not its own, so ignored."""
    values = plan_form.values_from_form(_multidict(_form(organizer)))
    mapping = plan_form.mapping_from_values(values)
    kept = {"kind", "title", "source", "points", "penalty", "read_seconds", "answer_seconds", "judged_by"}
    assert set(mapping["rounds"][0]) == kept
    assert "speed_bonus" not in mapping["rounds"][1] and mapping["rounds"][1]["foul"] == "penalize"
    # foul: ignore makes the (pre-filled) foul penalty unused too
    ignoring = plan_form.values_from_form(_multidict(_form(organizer, **{"rounds-1-foul": "ignore"})))
    assert "foul_penalty" not in plan_form.mapping_from_values(ignoring)["rounds"][1]
    response = organizer.post("/contests/plans", data=_form(organizer, "create", **{"rounds-1-foul": "ignore"}))
    assert response.status_code == 302
    assert _contests(session) == 1
    # a kind-foreign field that reaches the schema (e.g. a plan built by hand) is still refused in Chinese
    mapping["rounds"][0]["speed_bonus"] = 2
    _, problems = plan_form.check(mapping, [])
    assert any(p.round == 1 and p.message == "速度加分：只用于全员答题，必答题不能设置" for p in problems)


def _multidict(data: dict) -> MultiDict[str, str]:
    return MultiDict(
        [(key, item) for key, value in data.items() for item in ([value] if isinstance(value, str) else value)]
    )


def test_save_writes_a_plan_that_loads_back_equal(banks: Path, organizer: FlaskClient, session: Session) -> None:
    overrides = {
        "tie_break": "buzzer",
        "tie-source-banks": ["live"],
        "tie-source-types": ["single"],
        "tie-source-count": "3",
        "rounds-1-kind": "risk",
        "rounds-1-source-categories": "",
        "rounds-1-risk_values": "20, 40",
        "rounds-1-risk_difficulty": "20: 1 2；40: 3，4",
        "rounds-2-kind": "everyone",
        "rounds-2-title": "",
        "rounds-2-points": "10",
        "rounds-2-speed_bonus": "2.5",
        "rounds-2-team_score": "mean",
        "rounds-2-answer_seconds": "20",
        "rounds-2-source-ids": "q-1, q-3",
    }
    response = organizer.post("/contests/plans", data=_form(organizer, "save", **overrides))
    assert response.status_code == 302, _page(response)
    assert response.headers["Location"].endswith("/contests/plans/new?from=my-plan.yaml")
    path = banks / "contests" / "my-plan.yaml"
    saved = load_plan(path).plan
    values = plan_form.values_from_form(_multidict(_form(organizer, **overrides)))
    assert saved == plan_from_mapping(plan_form.mapping_from_values(values))
    assert [spec.kind for spec in saved.rounds] == [RoundKind.COMPULSORY, RoundKind.RISK, RoundKind.EVERYONE]
    assert saved.rounds[1].risk_difficulty == ((20, (1, 2)), (40, (3, 4)))
    assert saved.rounds[2].title == "全员答题" and saved.rounds[2].source.ids == ("q-1", "q-3")
    assert saved.rounds[2].speed_bonus == 2.5
    assert saved.tie_break is TieBreak.BUZZER and saved.tie_break_source.count == 3
    assert saved.rounds[0].foul is FoulRule.PENALIZE  # not a 必答题 field: the default
    assert [p.name for p in (banks / "contests").iterdir()] == ["my-plan.yaml"]  # no temp file left
    assert _contests(session) == 0
    # the editor re-opens it, and the index lists it
    assert 'value="支部竞赛"' in organizer.get(response.headers["Location"]).get_data(as_text=True)
    assert "my-plan.yaml" in organizer.get("/contests/").get_data(as_text=True)


def test_save_does_not_overwrite_without_the_tick(banks: Path, organizer: FlaskClient) -> None:
    path = banks / "contests" / "my-plan.yaml"
    assert organizer.post("/contests/plans", data=_form(organizer, "save", title="旧方案")).status_code == 302
    before = path.read_text(encoding="utf-8")
    response = organizer.post("/contests/plans", data=_form(organizer, "save"))
    assert response.status_code == 400
    assert "方案文件 my-plan.yaml 已存在；要替换它请勾选“覆盖”" in _page(response)
    assert path.read_text(encoding="utf-8") == before
    response = organizer.post("/contests/plans", data=_form(organizer, "save", overwrite="1"))
    assert response.status_code == 302
    assert load_plan(path).plan.title == "支部竞赛"


def test_saved_plans_belong_to_their_authors_branch(  # type: ignore[no-untyped-def]
    app: Flask, banks: Path, organizer: FlaskClient, make_user, session: Session
) -> None:
    """Another branch's organizer neither sees, opens, starts nor overwrites a saved plan; an admin may."""
    path = banks / "contests" / "my-plan.yaml"
    assert organizer.post("/contests/plans", data=_form(organizer, "save")).status_code == 302
    saved = path.read_text(encoding="utf-8")
    make_user(Role.ORGANIZER, username="other", branch="第二党支部")
    other = app.test_client()
    login(other, "other")
    assert "my-plan.yaml" not in other.get("/contests/").get_data(as_text=True)
    opened = other.get("/contests/plans/new?from=my-plan.yaml", follow_redirects=True)
    assert "方案 my-plan.yaml 属于其他支部，不能查看或使用" in _page(opened) and 'value="支部竞赛"' not in _page(opened)
    started = other.post("/contests/", data={"csrf_token": csrf_token(other, "/contests/"), "plan": "my-plan.yaml"})
    assert "属于其他支部" in _page(other.get(started.headers["Location"])) and _contests(session) == 0
    refused = other.post("/contests/plans", data=_form(other, "save", title="改掉它", overwrite="1"))
    assert refused.status_code == 400 and "方案 my-plan.yaml 属于其他支部，不能覆盖；请换一个文件名另存" in _page(
        refused
    )
    assert path.read_text(encoding="utf-8") == saved
    # a shipped template (no owner): everyone reads it, only an admin replaces it
    shutil.copy(STANDARD, banks / "contests" / "standard.yaml")
    assert "standard.yaml" in other.get("/contests/").get_data(as_text=True)
    replaced = other.post("/contests/plans", data=_form(other, "save", file_name="standard", overwrite="1"))
    assert replaced.status_code == 400 and "系统自带的方案模板，只有管理员可以覆盖" in _page(replaced)
    make_user(Role.ADMIN, username="admin")
    admin = app.test_client()
    login(admin, "admin")
    assert "my-plan.yaml" in admin.get("/contests/").get_data(as_text=True)
    assert admin.post("/contests/plans", data=_form(admin, "save", overwrite="1")).status_code == 302


@pytest.mark.parametrize("name", ["", "My-Plan", "../evil", "plan.yaml", "a" * 41, "计划"])
def test_a_bad_file_name_is_refused(banks: Path, organizer: FlaskClient, name: str) -> None:
    response = organizer.post("/contests/plans", data=_form(organizer, "save", file_name=name))
    assert response.status_code == 400
    assert "文件名只能由小写字母、数字和连字符组成" in _page(response)
    assert not any((banks / "contests").iterdir())
    assert not (banks / "evil.yaml").exists()


def test_members_may_not_use_the_editor(banks: Path, client: FlaskClient, make_user, session: Session) -> None:  # type: ignore[no-untyped-def]
    make_user(username="member")
    login(client, "member")
    assert client.get("/contests/plans/new").status_code == 403
    token = csrf_token(client, "/contests/")
    data = {"csrf_token": token, "action": "create", "title": "x", "teams": "a\nb", "rounds-0-kind": "compulsory"}
    assert client.post("/contests/plans", data=data).status_code == 403
    assert _contests(session) == 0


def test_a_post_without_the_csrf_token_is_refused(banks: Path, organizer: FlaskClient, session: Session) -> None:
    data = _form(organizer, "create")
    del data["csrf_token"]
    response = organizer.post("/contests/plans", data=data)
    assert response.status_code == 400 and "个问题" not in _page(response)  # refused before the editor ran
    assert _contests(session) == 0


def test_a_refused_file_name_is_listed_with_the_plan_problems(banks: Path, organizer: FlaskClient) -> None:
    data = _form(organizer, "save", file_name="Bad Name", **{"rounds-0-source-count": "3"})
    page = _page(organizer.post("/contests/plans", data=data))
    assert "方案有 2 个问题" in page
    assert "文件名只能由小写字母、数字和连字符组成" in page and "第1轮：题源 题数：必答题各队轮流答题" in page


def test_the_editor_offers_decimals_and_keeps_whole_points_as_the_default(app: Flask, organizer: FlaskClient) -> None:
    page = organizer.get("/contests/plans/new?from=").get_data(as_text=True)
    assert '<option value="false" selected>整数分（四舍五入）</option>' in page
    plan = load_plan(STANDARD).plan
    values = plan_form.values_from_plan(plan)
    assert "decimals" not in plan_form.mapping_from_values(values)  # the default is not written
    values["decimals"] = "true"
    assert plan_from_mapping(plan_form.mapping_from_values(values)).decimals is True


def test_a_new_plan_for_two_teams_saves_with_the_prize_places_left_blank(
    banks: Path, organizer: FlaskClient, session: Session
) -> None:
    """A new plan's form leaves 获奖名次数 blank: two teams then get two prize places, not a refused 3."""
    response = organizer.post("/contests/plans", data=_form(organizer, "create", prizes=""))
    assert response.status_code == 302
    assert session.scalars(select(Contest)).one().plan["prizes"] == 2
