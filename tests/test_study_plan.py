"""Study plans in YAML: the shipped 两学一做 plan loads and can be practised from the shipped banks; weeks run
Monday to Sunday; every malformed plan fails with file:line and a Chinese reason; `quizengine plans check`
exits 1 on any problem.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from quizengine.banks.loader import load_banks
from quizengine.banks.study_plan import PLANS_DIR, StudyPlanLoadError, check_study_plans, load_study_plans
from quizengine.cli_plans import plans_cli
from quizengine.config import PROJECT_ROOT
from quizengine.engine.study_plan import Reading, monday_of

BANKS_DIR = PROJECT_ROOT / "question_banks"
SHIPPED = BANKS_DIR / PLANS_DIR / "liangxue-yizuo.yaml"

PLAN = """\
version: 1
title: 测试计划
start: 2026-03-02
study_day: {weekday: 3, time: "15:00"}
topics:
  - title: 第一专题
    read:
      - {bank: alpha, chapters: [c1]}
  - title: 第二专题
    weeks: 2
    read:
      - {bank: alpha}
"""

ALPHA = """\
bank: alpha
title: 甲
categories:
  - {id: c1, title: 第一章}
  - {id: c2, title: 第二章}
questions:
  - {id: a-1, type: judge, stem: 题一, answer: true, category: c1}
  - {id: a-2, type: judge, stem: 题二, answer: false, category: c1}
"""


def _write(folder: Path, content: str | bytes, name: str = "plan.yaml") -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _problems(tmp_path: Path, content: str | bytes) -> list[str]:
    path = _write(tmp_path, content)
    with pytest.raises(StudyPlanLoadError) as error:
        load_study_plans([path])
    return [str(problem).replace(f"{path}:", "") for problem in error.value.problems]


def test_shipped_plan_loads_and_every_topic_can_be_practised() -> None:
    banks = load_banks([BANKS_DIR])
    plans, problems = check_study_plans([BANKS_DIR / PLANS_DIR], banks)
    assert problems == []
    [loaded] = plans
    plan = loaded.plan
    assert plan.title == "“两学一做”学习计划"
    assert plan.start.weekday() == 0
    assert plan.study_day.label() == "每周三 15:00"
    titles = [topic.title for topic in plan.topics]
    # 学党章党规 before 学系列讲话, and 做合格党员 last: the programme's order.
    assert titles[0].startswith("明确要求")
    assert max(i for i, t in enumerate(titles) if t.startswith(("学党章", "学党规"))) < min(
        i for i, t in enumerate(titles) if t.startswith("学系列讲话")
    )
    assert titles[-1].startswith("做合格党员")


def test_topics_follow_each_other_week_by_week(tmp_path: Path) -> None:
    [loaded] = load_study_plans([_write(tmp_path, PLAN)])
    plan = loaded.plan
    first, second = plan.topics
    assert (first.start, first.end) == (date(2026, 3, 2), date(2026, 3, 9))
    assert (second.start, second.end) == (date(2026, 3, 9), date(2026, 3, 23))
    assert second.questions == (Reading("alpha"),)  # questions default to what is read
    assert plan.study_day.at == time(15, 0)
    assert plan.study_day.in_week(date(2026, 3, 9)) == date(2026, 3, 11)


def test_week_boundaries_are_monday_to_sunday(tmp_path: Path) -> None:
    [loaded] = load_study_plans([_write(tmp_path, PLAN)])
    plan = loaded.plan
    assert plan.topic_on(date(2026, 3, 1)) is None  # the Sunday before
    assert plan.topic_on(date(2026, 3, 8)).number == 1  # Sunday: still week 1
    assert plan.topic_on(date(2026, 3, 9)).number == 2  # Monday: the next topic
    assert plan.topic_on(date(2026, 3, 22)).number == 2
    assert plan.topic_on(date(2026, 3, 23)) is None  # the plan is over
    assert [topic.number for topic in plan.past(date(2026, 3, 23))] == [2, 1]
    assert [topic.number for topic in plan.upcoming(date(2026, 3, 4))] == [2]
    assert monday_of(date(2026, 3, 8)) == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PLAN.replace("version: 1", "version: 2"), "1: version 应为 1"),
        (
            PLAN.replace("start: 2026-03-02", "start: 2026-03-03"),
            "3: start 应为周一（每周从周一开始），2026-03-03 是周二",
        ),
        (PLAN.replace("start: 2026-03-02", "start: 三月"), "3: start 应为日期"),
        (PLAN.replace('time: "15:00"', "time: 25:00"), "4: time 应写成带引号的 'HH:MM'"),
        (PLAN.replace("weekday: 3", "weekday: 8"), "4: weekday 应为 1 到 7 的整数"),
        (PLAN.replace("    weeks: 2\n", "    weeks: 0\n"), "10: weeks 应为 1 到 8 的整数"),
        (PLAN.replace("title: 第一专题", "titel: 第一专题"), "6: 未知字段“titel”（请检查拼写）"),
        (PLAN.replace("title: 第一专题", "titel: 第一专题"), "6: 缺少必填字段“title”"),
        (PLAN.replace("chapters: [c1]", "chapters: c1"), "8: chapters 应为章节标识的列表"),
        (PLAN.replace("    read:\n      - {bank: alpha}\n", ""), "9: 应为列表，每项写成 {bank: 题库标识"),
        (PLAN.replace("title: 测试计划\n", "title: 测试计划\ntitle: 又一个\n"), "3: 字段“title”重复出现"),
        (PLAN.split("topics:")[0] + "topics: []\n", "5: topics 应为至少一个专题的列表"),
        ("- 一\n- 二\n", "1: 学习计划顶层应为键值映射"),
        ("", "1: 文件为空"),
        ("title: [\n", "YAML 语法错误"),
        (PLAN.encode("gbk"), "文件不是 UTF-8 编码"),
    ],
)
def test_bad_plans_fail_with_file_line_and_reason(tmp_path: Path, content: str | bytes, expected: str) -> None:
    problems = _problems(tmp_path, content)
    assert any(expected in problem for problem in problems), problems


def test_every_problem_of_every_file_is_reported(tmp_path: Path) -> None:
    one = _write(tmp_path, PLAN.replace("version: 1", "version: 9"), "one.yaml")
    two = _write(tmp_path, PLAN.replace("weekday: 3", "weekday: 0").replace("weeks: 2", "weeks: 99"), "two.yaml")
    with pytest.raises(StudyPlanLoadError) as error:
        load_study_plans([tmp_path])
    found = [str(problem) for problem in error.value.problems]
    assert [p for p in found if p.startswith(str(one))] == [f"{one}:1: version 应为 1"]
    assert len([p for p in found if p.startswith(str(two))]) == 2


def test_banks_and_chapters_are_checked(tmp_path: Path) -> None:
    _write(tmp_path, ALPHA, "alpha.yaml")
    banks = load_banks([tmp_path / "alpha.yaml"])
    plans_dir = tmp_path / "plans"
    plans_dir.mkdir()
    bad = PLAN.replace("chapters: [c1]", "chapters: [c9]").replace("{bank: alpha}", "{bank: beta}")
    _write(plans_dir, bad)
    plans, problems = check_study_plans([plans_dir], banks)
    assert plans == []
    messages = [str(problem).replace(f"{plans_dir / 'plan.yaml'}:", "") for problem in problems]
    assert messages[0].startswith("8: 题库“alpha”没有章节“c9”（可选：c1、c2）")
    assert messages[1] == "12: 没有题库“beta”"


def test_a_topic_whose_chapters_hold_no_questions_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, ALPHA, "alpha.yaml")
    banks = load_banks([tmp_path / "alpha.yaml"])
    plan = _write(tmp_path, PLAN.replace("chapters: [c1]", "chapters: [c2]"), "empty.yaml")
    _, problems = check_study_plans([plan], banks)
    assert [str(p).replace(f"{plan}:", "") for p in problems] == ["6: 专题“第一专题”的章节里没有题目，无法练习"]


def test_cli_checks_the_shipped_plan_by_default(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():
        result = runner.invoke(plans_cli, ["check", "--banks", str(BANKS_DIR)])
    assert result.exit_code == 0, result.output
    assert f"{SHIPPED}: “两学一做”学习计划（2026-11-30 起" in result.output
    shipped_banks = len(list(BANKS_DIR.glob("*.yaml")))  # every shipped bank, however many there are
    assert f"检查通过：1 个学习计划（对照 {shipped_banks} 个题库）" in result.output


def test_cli_reports_every_problem_and_exits_1(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    _write(tmp_path, ALPHA, "alpha.yaml")
    bad = tmp_path / "plans"
    bad.mkdir()
    _write(bad, PLAN.replace("weekday: 3", "weekday: 9"))
    with app.app_context():
        result = runner.invoke(plans_cli, ["check", "--banks", str(tmp_path), str(bad)])
    assert result.exit_code == 1
    assert f"{bad / 'plan.yaml'}:4: weekday 应为 1 到 7 的整数" in result.output
    assert "共 1 个问题。" in result.output


def test_plans_group_is_registered_on_the_app(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["plans", "check", "--banks", str(BANKS_DIR)])
    assert result.exit_code == 0, result.output
