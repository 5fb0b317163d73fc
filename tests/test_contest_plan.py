"""Contest plans in YAML: the shipped template loads and can be played from the shipped banks; every
malformed plan fails with file:line, the round and the problem; the bank check finds what the banks
cannot supply; `quizengine contests check` exits 1 on any problem.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from quizengine.banks.contest_plan import (
    CHOICE_TYPES,
    PlanLoadError,
    check_plan_against_banks,
    check_plans,
    load_plan,
    load_plans,
    plan_fixed_ids,
    plan_from_mapping,
    risk_pools,
    source_pool,
)
from quizengine.banks.loader import Bank, load_banks
from quizengine.cli_contests import contests_cli
from quizengine.config import PROJECT_ROOT
from quizengine.modes.contest import (
    ContestPlan,
    FoulRule,
    QuestionSource,
    RoundKind,
    TeamScoreRule,
    TeamSpec,
    TieBreak,
)

BANKS_DIR = PROJECT_ROOT / "question_banks"
STANDARD = BANKS_DIR / "contests" / "standard.yaml"

HEADER = """\
title: 测试竞赛
teams: [红队, 蓝队]
rounds:
  - kind: compulsory
    source: {banks: [alpha], count: 4}
"""


def _write(tmp_path: Path, content: str | bytes, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _alpha_bank(tmp_path: Path) -> list[Bank]:
    """A small bank: 6 single at each difficulty 1–5 in ch1, 4 judge at difficulty 2 in ch2, one fill, one short."""
    lines = ["bank: alpha", "title: 测试题库", "categories:", "  - {id: ch1, title: 一}", "  - {id: ch2, title: 二}"]
    lines.append("questions:")
    for level in range(1, 6):
        for number in range(6):
            lines.append(
                f"  - {{id: a-s{level}-{number}, type: single, category: ch1, difficulty: {level},"
                f" stem: 单选{level}-{number}, options: {{A: 甲, B: 乙}}, answer: A}}"
            )
    for number in range(4):
        lines.append(
            f"  - {{id: a-j-{number}, type: judge, category: ch2, difficulty: 2, stem: 判断{number}, answer: true}}"
        )
    lines.append("  - {id: a-f-0, type: fill, category: ch2, stem: 填____空, answer: [[空]]}")
    lines.append("  - {id: a-short-0, type: short, category: ch2, stem: 简述, answer: 参考答案}")
    folder = tmp_path / "banks"
    folder.mkdir(exist_ok=True)
    (folder / "alpha.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_banks([folder])


@pytest.fixture(scope="module")
def shipped_banks() -> list[Bank]:
    return load_banks([BANKS_DIR])


# --- the shipped template -----------------------------------------------------------------------------


def test_standard_template_loads_as_published_practice() -> None:
    plan = load_plan(STANDARD).plan
    assert len(plan.teams) == 4 and all(team.color.startswith("#") for team in plan.teams)
    assert plan.base_score == 100 and plan.prizes == 3 and plan.tie_break is TieBreak.BUZZER
    kinds = [spec.kind for spec in plan.rounds]
    assert kinds == [RoundKind.COMPULSORY, RoundKind.BUZZER, RoundKind.EVERYONE, RoundKind.RISK]
    compulsory, buzzer, everyone, risk = plan.rounds
    assert (compulsory.points, compulsory.penalty) == (10, 0)
    assert (buzzer.points, buzzer.penalty, buzzer.foul, buzzer.foul_penalty) == (10, 10, FoulRule.PENALIZE, 10)
    assert 15 <= buzzer.buzz_seconds <= 20
    assert everyone.team_score is TeamScoreRule.MEAN and 0 < everyone.speed_bonus <= everyone.points / 4
    assert risk.risk_values == (10, 20, 30)
    assert risk.risk_difficulty == ((10, (1,)), (20, (2,)), (30, (3, 4, 5)))
    for spec in plan.rounds:
        assert spec.judged_by == "device" and set(spec.source.types) <= set(CHOICE_TYPES)
        if spec.kind in (RoundKind.COMPULSORY, RoundKind.RISK):
            assert spec.source.count % len(plan.teams) == 0
    assert speed_bonus_only_in_everyone(plan)


def speed_bonus_only_in_everyone(plan: ContestPlan) -> bool:
    return all(spec.speed_bonus == 0 for spec in plan.rounds if spec.kind is not RoundKind.EVERYONE)


def test_the_shipped_templates_can_be_supplied_by_the_shipped_banks(shipped_banks: list[Bank]) -> None:
    plans, problems = check_plans([BANKS_DIR / "contests"], shipped_banks)
    assert [loaded.slug for loaded in plans] == ["standard", "xiaowenda"]
    assert problems == [], "\n".join(map(str, problems))


def test_the_documented_example_is_a_valid_plan(tmp_path: Path, shipped_banks: list[Bank]) -> None:
    doc = (PROJECT_ROOT / "docs" / "contest-plan.md").read_text(encoding="utf-8")
    match = re.search(r"## A complete annotated example\n\n```yaml\n(.*?)```", doc, re.DOTALL)
    assert match, "docs/contest-plan.md has no annotated example"
    plans, problems = check_plans([_write(tmp_path, match.group(1))], shipped_banks)
    assert problems == [], "\n".join(map(str, problems))
    assert {spec.kind for spec in plans[0].plan.rounds} == set(RoundKind)


def test_bank_loader_does_not_read_the_contests_folder(shipped_banks: list[Bank]) -> None:
    assert all(not bank.path.startswith(str(BANKS_DIR / "contests")) for bank in shipped_banks)


# --- defaults -----------------------------------------------------------------------------------------


def test_defaults_come_from_the_dataclasses_and_labels(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "title: 简单竞赛\nrounds:\n"
        "  - kind: buzzer\n    source: {count: 3}\n"
        "  - kind: compulsory\n    judged_by: host\n    source: {count: 2}\n"
        "  - kind: risk\n    risk_values: [20, 40, 60]\n    source: {count: 2}\n"
        "  - kind: everyone\n    title: 全员抢分\n    source: {ids: [a-s1-0, a-s1-1]}\n",
    )
    plan = load_plan(path).plan
    buzzer, compulsory, risk, everyone = plan.rounds
    assert plan.teams == () and plan.base_score == 100 and plan.prizes == 3
    assert plan.tie_break_source == QuestionSource(types=CHOICE_TYPES, count=5)
    assert buzzer.title == "抢答题" and buzzer.source.types == CHOICE_TYPES
    assert (buzzer.points, buzzer.buzz_seconds, buzzer.read_seconds, buzzer.reopen) == (10, 15, 5, True)
    assert compulsory.source.types == ()  # the host judges: any type
    assert risk.risk_difficulty == ((20, (1, 2)), (40, (3,)), (60, (4, 5)))
    assert everyone.title == "全员抢分" and everyone.source.count == 2 and everyone.source.ids == ("a-s1-0", "a-s1-1")
    assert plan_fixed_ids(plan) == {"a-s1-0", "a-s1-1"}


def test_prize_places_default_to_three_but_never_more_than_the_teams(tmp_path: Path) -> None:
    two_teams = HEADER.replace("[红队, 蓝队]", "[红队, 蓝队]\ntie_break: time")
    plan = load_plan(_write(tmp_path, two_teams)).plan
    assert plan.prizes == 2
    assert plan.tie_break_questions is None  # a time tie-break draws no 加赛 questions
    assert load_plan(_write(tmp_path, HEADER)).plan.tie_break_questions == QuestionSource(types=CHOICE_TYPES, count=5)


def test_teams_as_names_or_mappings(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER.replace("[红队, 蓝队]", "\n  - 红队\n  - {name: ' 蓝队 ', color: '#2471A3'}"))
    assert load_plan(path).plan.teams == (TeamSpec("红队"), TeamSpec("蓝队", "#2471a3"))


def test_plan_from_mapping_validates_plain_data() -> None:
    plan = plan_from_mapping({"title": "界面", "rounds": [{"kind": "everyone", "source": {"count": 5}}]})
    assert plan.rounds[0].kind is RoundKind.EVERYONE
    with pytest.raises(PlanLoadError) as raised:
        plan_from_mapping({"title": "界面", "rounds": [{"kind": "buzzer", "source": {"count": 5}, "speed_bonus": 1}]})
    assert [str(problem) for problem in raised.value.problems] == ["第1轮: speed_bonus：只用于全员答题，抢答题不能设置"]


# --- malformed plans ----------------------------------------------------------------------------------

BUZZER = "  - kind: buzzer\n    source: {count: 2}\n"

# (name, file text or bytes, expected line, expected round, expected message part)
CASES = [
    ("unknown kind", HEADER + "  - kind: quiz\n    source: {count: 2}\n", 6, 2, "kind：未知轮次类型“quiz”"),
    ("speed bonus on a buzzer round", HEADER + BUZZER + "    speed_bonus: 2\n", 8, 2, "speed_bonus：只用于全员答题"),
    ("seconds out of range", HEADER + BUZZER + "    buzz_seconds: 900\n", 8, 2, "秒数应为 0 到 600，实际为 900"),
    ("count zero", HEADER + "  - kind: buzzer\n    source: {count: 0}\n", 7, 2, "题数至少为 1"),
    ("count missing", HEADER + "  - kind: buzzer\n    source:\n      banks: [alpha]\n", 7, 2, "缺少题数"),
    ("negative points", HEADER + "    points: -5\n", 6, 1, "points：不能为负数，实际为 -5"),
    ("points not a number", HEADER + "    points: 十\n", 6, 1, "points：应为数字"),
    ("misspelled field", HEADER + "    penalti: 10\n", 6, 1, "penalti：未知字段"),
    ("duplicate field", HEADER + "    points: 10\n    points: 20\n", 7, 1, "字段“points”重复出现"),
    (
        "risk value without difficulty",
        HEADER + "  - kind: risk\n    source: {count: 2}\n    risk_values: [20, 40]\n"
        "    risk_difficulty:\n      20: [1, 2]\n      50: [3]\n",
        11,
        2,
        "risk_difficulty.50：分值“50”不在 risk_values",
    ),
    (
        "risk difficulty out of range",
        HEADER + "  - kind: risk\n    source: {count: 2}\n    risk_difficulty: {10: [1], 20: 7, 30: [4, 5]}\n",
        8,
        2,
        "分值 20 对应的难度应为 1 到 5",
    ),
    (
        "risk difficulties shared by two values",
        HEADER + "  - kind: risk\n    source: {count: 2}\n    risk_difficulty: {10: [1, 2], 20: [2, 3], 30: [4, 5]}\n",
        8,
        2,
        "risk_difficulty.20：难度 2 已对应分值 10（每个难度只能对应一个分值）",
    ),
    (
        "risk value not positive",
        HEADER + "  - kind: risk\n    source: {count: 2}\n    risk_values: [0, 20, 30]\n",
        8,
        2,
        "风险分值应为 1 到 1000 的整数，实际为 0",
    ),
    (
        "two risk values and no mapping",
        HEADER + "  - kind: risk\n    source: {count: 2}\n    risk_values: [20, 40]\n",
        8,
        2,
        "有2个分值，请用 risk_difficulty",
    ),
    (
        "difficulties on a risk round",
        HEADER + "  - kind: risk\n    source:\n      count: 2\n      difficulties: [3]\n",
        9,
        2,
        "source.difficulties：风险题的难度由 risk_difficulty 按分值决定",
    ),
    (
        "fill questions on a device round",
        HEADER + "  - kind: buzzer\n    source:\n      types: [single, fill]\n      count: 2\n",
        8,
        2,
        "source.types：抢答题设备作答（judged_by: device），只能用单选题、多选题、判断题，不能用填空题",
    ),
    (
        "host judging all-answer round",
        HEADER + "  - kind: everyone\n    source: {count: 2}\n    judged_by: host\n",
        8,
        2,
        "judged_by：只用于必答题、抢答题、风险题",
    ),
    (
        "speed bonus above points",
        HEADER + "  - kind: everyone\n    source: {count: 2}\n    points: 5\n    speed_bonus: 8\n",
        9,
        2,
        "速度加分（8）不应超过答对得分（5）",
    ),
    (
        "foul penalty when fouls are ignored",
        HEADER + BUZZER + "    foul: ignore\n    foul_penalty: 5\n",
        9,
        2,
        "foul 为 ignore",
    ),
    ("bad foul rule", HEADER + BUZZER + "    foul: fine\n", 8, 2, "foul 应为 ignore 或 penalize"),
    (
        "bad team score rule",
        HEADER + "  - kind: everyone\n    source: {count: 2}\n    team_score: max\n",
        8,
        2,
        "应为 sum 或 mean",
    ),
    ("reopen not a boolean", HEADER + BUZZER + "    reopen: 是\n", 8, 2, "reopen：应为 true 或 false"),
    (
        "ids with count",
        HEADER + "  - kind: buzzer\n    source:\n      ids: [a-s1-0]\n      count: 2\n",
        9,
        2,
        "已用 ids 指定题目时不能再写",
    ),
    (
        "same fixed id in two rounds",
        HEADER + "  - kind: buzzer\n    source: {ids: [a-s1-0]}\n  - kind: buzzer\n    source:\n      ids:\n"
        "        - a-s1-1\n        - a-s1-0\n",
        12,
        3,
        "source.ids 第2项：题目“a-s1-0”已在第2轮使用",
    ),
    (
        "compulsory count not a multiple of the teams",
        HEADER.replace("count: 4", "count: 3"),
        5,
        1,
        "必答题各队轮流答题，题数（3）应为队伍数（2）的整数倍",
    ),
    ("round not a mapping", HEADER + "  - buzzer\n", 6, 2, "应为键值映射"),
    ("source missing", HEADER + "  - kind: buzzer\n", 6, 2, "source：缺少必填字段"),
    ("one team", HEADER.replace("[红队, 蓝队]", "[红队]"), 2, None, "队伍数应为 2 到 12 个，实际为 1 个"),
    ("thirteen teams", HEADER.replace("[红队, 蓝队]", str([f"队{n}" for n in range(13)])), 2, None, "实际为 13 个"),
    (
        "duplicate team names",
        HEADER.replace("[红队, 蓝队]", "\n  - 红队\n  - 蓝队\n  - 红队"),
        5,
        None,
        "队名“红队”重复",
    ),
    (
        "unquoted colour",
        HEADER.replace("[红队, 蓝队]", "\n  - 红队\n  - name: 蓝队\n    color: #2471a3"),
        5,
        None,
        "颜色要加引号",
    ),
    (
        "bad colour",
        HEADER.replace("[红队, 蓝队]", "\n  - 红队\n  - {name: 蓝队, color: blue}"),
        4,
        None,
        "颜色应为 '#rrggbb'",
    ),
    ("prizes above teams", HEADER + "prizes: 5\n", 6, None, "获奖名次数（5）不能多于队伍数（2）"),
    ("bad tie break", HEADER + "tie_break: coin\n", 6, None, "tie_break 应为 buzzer"),
    (
        "tie-break source with a time tie-break",
        HEADER + "tie_break: time\ntie_break_source: {count: 3}\n",
        7,
        None,
        "tie_break_source：tie_break 为 time",
    ),
    (
        "short questions in the tie-break",
        HEADER + "tie_break_source:\n  types: [short]\n  count: 3\n",
        7,
        None,
        "tie_break_source.types：加赛抢答在设备上作答，只能用单选题、多选题、判断题，不能用简答题",
    ),
    ("no rounds", "title: 空\nrounds: []\n", 2, None, "至少需要一轮"),
    ("missing title", HEADER.replace("title: 测试竞赛\n", ""), 1, None, "title：缺少必填字段"),
    ("unknown top-level field", HEADER + "base_scor: 100\n", 6, None, "base_scor：未知字段"),
    ("yaml syntax error", HEADER + "    source: [unclosed\n", 7, None, "YAML 语法错误"),
    ("top level is a list", "- kind: buzzer\n", 1, None, "顶层应为键值映射"),
    ("empty file", "", 1, None, "文件为空"),
    ("non utf-8 file", HEADER.encode("gbk"), 1, None, "文件不是 UTF-8 编码"),
]


@pytest.mark.parametrize(
    ("content", "line", "round_number", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_plan_names_file_line_round_and_problem(
    tmp_path: Path, content: str | bytes, line: int, round_number: int | None, message: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(PlanLoadError) as raised:
        load_plans([path])
    problems = raised.value.problems
    assert any(
        p.path == str(path) and p.line == line and p.round == round_number and message in p.message for p in problems
    ), "\n".join(map(str, problems))
    prefix = f"{path}:{problems[0].line}: " + (f"第{problems[0].round}轮: " if problems[0].round else "")
    assert str(problems[0]).startswith(prefix)


def test_every_file_is_checked_and_nothing_is_returned(tmp_path: Path) -> None:
    good = _write(tmp_path, HEADER, "a.yaml")
    bad_one = _write(tmp_path, HEADER + "    points: -1\n", "b.yaml")
    bad_two = _write(tmp_path, HEADER + BUZZER + "    speed_bonus: 1\n", "c.yaml")
    assert load_plans([good])
    with pytest.raises(PlanLoadError) as raised:
        load_plans([tmp_path])
    assert {p.path for p in raised.value.problems} == {str(bad_one), str(bad_two)}


def test_directory_without_plans_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PlanLoadError, match=r"没有找到 \.yaml 竞赛方案文件"):
        load_plans([tmp_path])
    with pytest.raises(PlanLoadError, match="contests:1: 找不到这个文件或目录"):
        load_plans([tmp_path / "contests"])


# --- against the banks --------------------------------------------------------------------------------


def _bank_problems(tmp_path: Path, text: str) -> list[str]:
    banks = _alpha_bank(tmp_path)
    loaded = load_plan(_write(tmp_path, text))
    return [str(problem) for problem in check_plan_against_banks(loaded, banks)]


def test_a_plan_the_bank_can_supply_has_no_problems(tmp_path: Path) -> None:
    text = (
        HEADER.replace("banks: [alpha]", "categories: [ch2]")
        + "  - kind: risk\n    source: {banks: [alpha], count: 4}\n"
    )
    text += "tie_break_source: {ids: [a-s1-0]}\n"
    assert _bank_problems(tmp_path, text) == []


def test_unknown_bank_category_and_ids(tmp_path: Path) -> None:
    text = HEADER.replace("banks: [alpha]", "banks: [alpha, beta], categories: [ch9]") + (
        "  - kind: buzzer\n    source:\n      ids: [a-s1-0, zz-1, a-short-0]\n"
    )
    path = tmp_path / "plan.yaml"
    assert _bank_problems(tmp_path, text) == [
        f"{path}:5: 第1轮: source.banks 第2项：题库“beta”不存在，现有题库：alpha",
        f"{path}:5: 第1轮: source.categories 第1项：章节“ch9”不在题库 alpha 中",
        f"{path}:8: 第2轮: source.ids 第2项：题目“zz-1”不在任何题库中",
        f"{path}:8: 第2轮: source.ids 第3项：题目“a-short-0”是简答题，设备作答只能用单选题、多选题、判断题",
    ]


def test_a_round_asking_more_than_its_pool(tmp_path: Path) -> None:
    text = HEADER + "  - kind: buzzer\n    source:\n      categories: [ch2]\n      count: 5\n"
    [problem] = _bank_problems(tmp_path, text)
    assert problem == (
        f"{tmp_path / 'plan.yaml'}:9: 第2轮: source.count：本轮题源（章节ch2，题型单选题、多选题、判断题）"
        "的题目只有4题，本轮需要5题"
    )


def test_host_judged_round_may_draw_any_type(tmp_path: Path) -> None:
    text = HEADER.replace("banks: [alpha]", "categories: [ch1]")
    text += "  - kind: buzzer\n    judged_by: host\n    source: {categories: [ch2], count: 6}\n"
    assert _bank_problems(tmp_path, text) == []


def test_risk_round_needs_enough_questions_at_each_value(tmp_path: Path) -> None:
    # difficulty 3 has 6 single questions: enough for 6 picks of 20, not for 8
    text = HEADER + "  - kind: risk\n    source: {banks: [alpha], count: 8}\n    risk_difficulty:\n"
    text += "      10: [1, 2]\n      20: [3]\n      30: [4, 5]\n"
    [problem] = _bank_problems(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'plan.yaml'}:10: 第2轮: risk_difficulty.20：分值20（难度3")
    assert "只有6题，本轮需要8题（最坏情况各队都选20分）" in problem


def test_rounds_that_share_a_pool_are_checked_together(tmp_path: Path) -> None:
    # ch2 choice questions: 4 judge; round 1 may take 3 of them, leaving 1 for round 2's 2
    text = (
        "title: 重叠\nrounds:\n"
        "  - kind: buzzer\n    source: {categories: [ch2], count: 3}\n"
        "  - kind: buzzer\n    source: {types: [judge], count: 2}\n"
    )
    [problem] = _bank_problems(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'plan.yaml'}:6: 第2轮: source.count：")
    assert "共4题，与第1轮的题源重叠，前面最多会用掉其中3题，剩下1题，不够本轮的2题" in problem


def test_a_risk_round_sets_aside_its_count_at_every_value_for_later_rounds(tmp_path: Path) -> None:
    # difficulty 3: 6 single questions; the risk round may set aside 2 of them, the buzzer round needs 5
    text = (
        "title: 风险在前\nrounds:\n"
        "  - kind: risk\n    source: {types: [single], count: 2}\n"
        "  - kind: buzzer\n    source: {difficulties: [3], count: 5}\n"
    )
    [problem] = _bank_problems(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'plan.yaml'}:6: 第2轮: source.count：")
    assert "共6题，与第1轮的题源重叠，前面最多会用掉其中2题，剩下4题，不够本轮的5题" in problem


def test_fixed_ids_are_kept_out_of_random_draws(tmp_path: Path) -> None:
    banks = _alpha_bank(tmp_path)
    plan = load_plan(_write(tmp_path, HEADER + "tie_break_source: {ids: [a-j-0, a-j-1]}\n")).plan
    pool = source_pool(QuestionSource(types=("judge",), count=1), banks, exclude=plan_fixed_ids(plan))
    assert [question.id for question in pool] == ["a-j-2", "a-j-3"]
    risk = plan_from_mapping({"title": "x", "rounds": [{"kind": "risk", "source": {"count": 1}}]}).rounds[0]
    assert {value: len(pool) for value, pool in risk_pools(risk, banks).items()} == {10: 16, 20: 6, 30: 12}


def test_the_tie_break_source_is_checked_last(tmp_path: Path) -> None:
    text = HEADER + "tie_break_source: {categories: [ch2], count: 5}\n"
    [problem] = _bank_problems(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'plan.yaml'}:6: tie_break_source.count：加赛题源")
    assert "只有4题，加赛需要5题" in problem


def test_a_plan_built_in_code_is_checked_without_lines(tmp_path: Path) -> None:
    banks = _alpha_bank(tmp_path)
    plan = plan_from_mapping({"title": "x", "rounds": [{"kind": "buzzer", "source": {"banks": ["nope"], "count": 1}}]})
    assert [str(p) for p in check_plan_against_banks(plan, banks)] == [
        "第1轮: source.banks 第1项：题库“nope”不存在，现有题库：alpha"
    ]


# --- the command --------------------------------------------------------------------------------------


def test_cli_checks_the_shipped_template_by_default(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():
        result = runner.invoke(contests_cli, ["check", "--banks", str(BANKS_DIR)])
    assert result.exit_code == 0, result.output
    assert "standard.yaml: 支部党建知识竞赛（4队，4轮" in result.output
    assert "xiaowenda.yaml: 学习日小问答（1轮：全员答题8题）" in result.output
    assert "检查通过：2 个竞赛方案" in result.output


def test_cli_reports_every_problem_and_exits_1(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    _alpha_bank(tmp_path)
    bad = _write(tmp_path, HEADER + "    points: -1\n", "bad.yaml")
    short = _write(tmp_path, HEADER.replace("count: 4", "count: 400"), "short.yaml")
    with app.app_context():
        result = runner.invoke(contests_cli, ["check", "--banks", str(tmp_path / "banks"), str(bad), str(short)])
    assert result.exit_code == 1
    assert f"{bad}:6: 第1轮: points：不能为负数" in result.output
    assert f"{short}:5: 第1轮: source.count：本轮题源" in result.output
    assert "共 2 个问题。" in result.output


def test_cli_default_folder_follows_the_configured_banks(app: Flask, runner: FlaskCliRunner) -> None:
    banks = Path(app.config["BANKS_PATH"])
    (banks / "alpha.yaml").write_text(
        "bank: alpha\ntitle: 甲\nquestions:\n  - {id: a-1, type: judge, stem: 题, answer: true}\n", encoding="utf-8"
    )
    (banks / "contests").mkdir()
    (banks / "contests" / "one.yaml").write_text(HEADER.replace("count: 4", "count: 2"), encoding="utf-8")
    with app.app_context():
        result = runner.invoke(contests_cli, ["check"])
    assert result.exit_code == 1
    assert f"{banks / 'contests' / 'one.yaml'}:5: 第1轮: source.count：本轮题源" in result.output


def test_cli_refuses_to_check_against_broken_banks(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("bank: x\ntitle: 坏\nquestions: []\n", encoding="utf-8")
    with app.app_context():
        result = runner.invoke(contests_cli, ["check", "--banks", str(tmp_path), str(STANDARD)])
    assert result.exit_code == 1
    assert "无法检查竞赛方案" in result.output


def test_contests_group_is_registered_on_the_app(app: Flask, runner: FlaskCliRunner) -> None:
    if "contests" not in app.cli.commands:
        pytest.skip("quizengine.cli has not registered contests_cli yet")
    result = runner.invoke(args=["contests", "check", "--banks", str(BANKS_DIR)])
    assert result.exit_code == 0, result.output


def test_whole_points_by_default_and_decimals_as_an_opt_in() -> None:
    rounds = [{"kind": "everyone", "source": {"count": 5}}]
    assert plan_from_mapping({"title": "整数", "rounds": rounds}).decimals is False
    assert plan_from_mapping({"title": "小数", "rounds": rounds, "decimals": True}).decimals is True
    with pytest.raises(PlanLoadError) as raised:
        plan_from_mapping({"title": "小数", "rounds": rounds, "decimals": "yes"})
    assert [str(problem) for problem in raised.value.problems] == ["decimals：应为 true 或 false"]
