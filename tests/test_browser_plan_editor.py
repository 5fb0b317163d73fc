"""Browser test: the contest plan editor (竞赛方案) on the real server, in headless Chromium at 1366×900.

The organizer opens the editor from the standard plan, adds a round with the page's script, switches it to
抢答题 (its fields appear, other kinds' fields are hidden and not submitted) and saves the plan as a new
file, which then loads back. Screenshot: contest-plan-editor.png (tests/browser.py: screenshot_path).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from quizengine.banks.contest_plan import load_plan
from quizengine.modes.contest import FoulRule, RoundKind, RoundSpec

from .browser import DESKTOP, ROOT, chromium, live_server, needs_browser, shot

pytestmark = [pytest.mark.slow, needs_browser]

PASSWORD = "Hong-Qi-Piao-2026"


def _console(errors: list[str], message) -> None:  # type: ignore[no-untyped-def]
    """A console error (a CSP violation, say); failed loads are caught by status in `_response`."""
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(message.text)


def _response(errors: list[str], response) -> None:  # type: ignore[no-untyped-def]
    if response.status >= 400 and not response.url.endswith("/favicon.ico"):
        errors.append(f"{response.status} {response.url}")


def _sorted_banks(spec: RoundSpec) -> RoundSpec:
    return replace(spec, source=replace(spec.source, banks=tuple(sorted(spec.source.banks))))


def test_an_organizer_adds_a_round_and_saves_the_plan(tmp_path: Path) -> None:
    banks = tmp_path / "banks"
    shutil.copytree(ROOT / "question_banks", banks)
    with live_server(tmp_path / "instance", banks) as server, chromium() as browser:
        server.cli(
            "users", "create", "shuji", "--name", "张书记", "--role", "organizer", "--branch", "第一党支部",
            "--password", PASSWORD,
        )  # fmt: skip
        page = browser.new_context(viewport=DESKTOP).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: _console(errors, message))
        page.on("response", lambda response: _response(errors, response))
        page.goto(server.url + "/login")
        page.fill("#username", "shuji")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda address: "/login" not in address)

        page.goto(server.url + "/contests/")
        page.get_by_role("link", name="编辑方案 支部党建知识竞赛").click()
        page.wait_for_url("**/contests/plans/new?from=standard.yaml")
        rounds = page.locator("#plan-rounds [data-round]")
        assert rounds.count() == 4
        # the script shows each round's own fields only: 必答题 has no speed bonus, 全员答题 no penalty
        assert not rounds.nth(0).locator("[name='rounds-0-speed_bonus']").is_visible()
        assert rounds.nth(2).locator("[name='rounds-2-speed_bonus']").is_visible()
        assert not rounds.nth(2).locator("[name='rounds-2-penalty']").is_visible()

        page.get_by_role("button", name="添加一轮").click()
        assert rounds.count() == 5
        new = rounds.nth(4)
        assert new.locator(".plan-round-no").inner_text() == "第5轮"
        assert not new.locator("[name='rounds-4-buzz_seconds']").is_visible()
        new.locator("[name='rounds-4-kind']").select_option("buzzer")
        assert new.locator("[name='rounds-4-buzz_seconds']").is_visible()
        assert not new.locator("[name='rounds-4-speed_bonus']").is_visible()
        new.locator("[name='rounds-4-title']").fill("第五轮 抢答题（加试）")
        new.locator("[name='rounds-4-penalty']").fill("10")
        new.locator("[name='rounds-4-reopen']").select_option("false")
        new.locator("[name='rounds-4-source-banks'][value='liangxue-yizuo']").check()
        new.locator("[name='rounds-4-source-types'][value='single']").check()
        new.locator("[name='rounds-4-source-types'][value='judge']").check()
        new.locator("[name='rounds-4-source-count']").fill("6")
        # move it up one place and back: the rows are renumbered
        new.get_by_role("button", name="上移").click()
        assert rounds.nth(3).locator("[name='rounds-3-kind']").input_value() == "buzzer"
        rounds.nth(3).get_by_role("button", name="下移").click()
        assert rounds.nth(4).locator("[name='rounds-4-title']").input_value() == "第五轮 抢答题（加试）"

        page.fill("[name='title']", "第一党支部知识竞赛")
        page.fill("[name='file_name']", "zhibu-2026")
        page.get_by_role("button", name="保存为方案").click()
        page.wait_for_url("**/contests/plans/new?from=zhibu-2026.yaml")
        assert "已保存竞赛方案 zhibu-2026.yaml" in page.locator(".flash").inner_text()
        assert rounds.count() == 5
        rounds.nth(4).evaluate("row => window.scrollTo(0, row.getBoundingClientRect().top + window.scrollY - 16)")
        shot(page, "contest-plan-editor", full_page=False)
        assert not errors, errors

    plan = load_plan(banks / "contests" / "zhibu-2026.yaml").plan
    assert plan.title == "第一党支部知识竞赛"
    standard = load_plan(banks / "contests" / "standard.yaml").plan
    # the bank boxes are listed in bank order, so a source's banks come back in that order
    assert [_sorted_banks(spec) for spec in plan.rounds[:4]] == [_sorted_banks(spec) for spec in standard.rounds]
    added = plan.rounds[4]
    assert (added.kind, added.title, added.penalty, added.reopen) == (
        RoundKind.BUZZER,
        "第五轮 抢答题（加试）",
        10,
        False,
    )
    assert added.foul is FoulRule.PENALIZE and added.source.banks == ("liangxue-yizuo",)
    assert added.source.types == ("single", "judge") and added.source.count == 6
