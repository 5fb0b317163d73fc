"""Browser test (issue #12): the organizer sees on a phone who in the branch has not met this month's 验收标准 and
why, copies the reminder for the branch's chat group; a member sees on the home page what is still missing.

Seeds an instance with the shipped banks, an organizer and three members (one who practised enough, one who
practised once, one idle), then runs the real `run.py` and drives Debian's Chromium at 390×844. Screenshots go to
tests/screenshots/ (docs/screenshots/ with --update-screenshots).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from quizengine import create_app
from quizengine.extensions import db
from quizengine.models import Bank, Role
from quizengine.modes.self_test import PracticeKind
from quizengine.services import practice
from quizengine.services.accounts import create_user
from quizengine.services.setup import first_run

from .browser import PHONE, ROOT, chromium, live_server, needs_browser, screenshot_path, scrolls_sideways, shot, sign_in
from .test_summaries import _any

pytestmark = [pytest.mark.slow, needs_browser]

PASSWORD = "Dang-Jian-2026-xue"
BRANCH = "第一党支部"


def _seed(instance: Path) -> None:
    app = create_app({"INSTANCE_PATH": instance, "BANKS_PATH": ROOT / "question_banks"})
    with app.app_context():
        first_run(app.config)
        session = db.session()
        users = {}
        for username, name, role in [
            ("shuji", "李书记", Role.ORGANIZER),
            ("zhangsan", "张三", Role.MEMBER),
            ("lisi", "李四", Role.MEMBER),
            ("wangwu", "王五", Role.MEMBER),
        ]:
            users[username], _ = create_user(
                session, username=username, name=name, role=role, password=PASSWORD, branch_name=BRANCH
            )
        session.commit()
        banks = tuple(session.scalars(select(Bank.id)))
        for username, sessions in (("zhangsan", 4), ("lisi", 1)):
            for _ in range(sessions):
                request = practice.PracticeRequest(PracticeKind.RANDOM, banks, count=5)
                attempt = practice.start_practice(session, users[username], request)
                for item in attempt.items:
                    practice.answer_item(session, users[username], attempt.id, item.position, _any(item))
    db.engine.dispose()


def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, base, username, PASSWORD)


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    assert not scrolls_sideways(page), "scrolls sideways"


def test_organizer_sees_who_is_missing_and_copies_the_reminder(tmp_path: Path) -> None:
    _seed(tmp_path / "instance")
    with live_server(tmp_path / "instance", ROOT / "question_banks") as server, chromium() as browser:
        context = browser.new_context(viewport=PHONE, device_scale_factor=2)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        organizer = context.new_page()
        _login(organizer, server.url, "shuji")
        organizer.goto(server.url + "/dashboard/")
        assert "第一党支部学习看板" in organizer.locator("h1").inner_text()
        rows = {
            row.locator("td").nth(0).inner_text(): row.locator("td").nth(1).inner_text()
            for row in organizer.locator("#standings tbody tr").all()
        }
        assert rows == {"李书记": "未开始", "张三": "达标", "李四": "未达标", "王五": "未开始"}
        assert "还需自测 3 次" in organizer.locator("#standings").inner_text()
        reminder = organizer.locator("#reminder-text").input_value()
        assert "· 王五：还需自测 4 次" in reminder and "· 李四：还需自测 3 次" in reminder and "张三" not in reminder
        assert reminder.rstrip().endswith(server.url + "/")
        organizer.wait_for_function("() => document.querySelector('#trend-chart canvas') !== null")
        _fits(organizer)
        shot(organizer, "dashboard-01-organizer-phone")
        organizer.get_by_role("button", name="复制提醒").click()
        # The clipboard write is asynchronous: wait for the page to report it.
        organizer.locator("#copy-status", has_text="已复制").wait_for()
        assert organizer.evaluate("navigator.clipboard.readText()") == reminder
        organizer.locator("#reminder").screenshot(path=str(screenshot_path("dashboard-02-reminder")))
        context.close()

        member = browser.new_page(viewport=PHONE, device_scale_factor=2)
        _login(member, server.url, "lisi")
        member.goto(server.url + "/")
        standing = member.locator("#standing")
        assert "学习要求" in standing.inner_text() and "未达标" in standing.inner_text()
        assert "本月还需自测 3 次" in standing.inner_text()
        _fits(member)
        shot(member, "dashboard-03-member-home")
        member.goto(server.url + "/record/")
        assert "本月还需自测 3 次" in member.locator("#standing").inner_text()
