"""Browser test (issue #12): on a phone, the organizer assigns a practice from the dashboard's weakest chapter; a
member sees it on the home page as 支部布置的练习, does it, and the organizer sees them among those who have.

Seeds an instance with the shipped banks, an organizer and two members who practised one chapter of the
廉洁自律准则 bank (so it is the branch's weakest), then runs the real `run.py` and drives Debian's Chromium at
390×844. Screenshots go to tests/screenshots/ (docs/screenshots/ with --update-screenshots).
"""

from __future__ import annotations

from datetime import date, timedelta
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

from .browser import PHONE, ROOT, chromium, click_through, live_server, needs_browser, scrolls_sideways, shot, sign_in
from .test_summaries import _any

pytestmark = [pytest.mark.slow, needs_browser]

PASSWORD = "Dang-Jian-2026-xue"
BRANCH = "第一党支部"
CHAPTER = "中国共产党廉洁自律准则 · 导语"


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
        ]:
            users[username], _ = create_user(
                session, username=username, name=name, role=role, password=PASSWORD, branch_name=BRANCH
            )
        bank_id = session.scalar(select(Bank.id).where(Bank.slug == "lianjie-zilv-2015"))
        for username in ("zhangsan", "lisi"):
            for _ in range(2):
                request = practice.PracticeRequest(PracticeKind.CUSTOM, (bank_id,), ((bank_id, "daoyu"),), count=10)
                attempt = practice.start_practice(session, users[username], request)
                for item in attempt.items:
                    practice.answer_item(session, users[username], attempt.id, item.position, _any(item, "D"))
    db.engine.dispose()


def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, base, username, PASSWORD)


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    assert not scrolls_sideways(page), "scrolls sideways"


def _answer_current(page) -> None:  # type: ignore[no-untyped-def]
    """Give some answer to the question on screen, whatever its type, then go on from the feedback."""
    form = page.locator("form.answer-form")
    if form.locator("button.option").count():
        click_through(page, form.locator("button.option").first)
    else:
        if form.locator("input[type=checkbox]").count():
            form.locator("input[type=checkbox]").first.check()
        for field in form.locator("input[name=blank], textarea").all():
            field.fill("不确定")
        click_through(page, form.get_by_role("button", name="提交答案"))
    click_through(page, page.locator("a.btn-primary"))  # 下一题 / 查看本次结果


def test_organizer_assigns_from_the_weak_chapter_and_a_member_does_it_on_the_phone(tmp_path: Path) -> None:
    _seed(tmp_path / "instance")
    due = (date.today() + timedelta(days=3)).isoformat()
    with live_server(tmp_path / "instance", ROOT / "question_banks") as server, chromium() as browser:
        organizer = browser.new_page(viewport=PHONE, device_scale_factor=2)
        _login(organizer, server.url, "shuji")
        organizer.goto(server.url + "/dashboard/")
        weak = organizer.locator("#weak-chapters tbody tr", has_text=CHAPTER)
        assert weak.count() == 1
        click_through(organizer, weak.get_by_role("link", name="布置练习"))
        assert organizer.locator("#title").input_value() == "专项练习：导语"
        assert organizer.locator("input[name=chapter]:checked").count() == 1
        organizer.fill("#count", "5")
        organizer.fill("#due_on", due)
        _fits(organizer)
        shot(organizer, "assignment-01-organizer-form")
        click_through(organizer, organizer.get_by_role("button", name="布置练习"))
        assert "已布置练习“专项练习：导语”" in organizer.locator(".flash").inner_text()
        summary = organizer.locator("#assignment-summary").inner_text()
        assert "已完成 0/3 人" in summary and "5 题" in summary
        detail_url = organizer.url

        member = browser.new_page(viewport=PHONE, device_scale_factor=2)
        _login(member, server.url, "lisi")
        member.goto(server.url + "/")
        task = member.locator("#assignments")
        assert "支部布置的练习" in task.inner_text() and "专项练习：导语" in task.inner_text()
        assert f"截止{int(due[5:7])}月{int(due[8:])}日" in task.inner_text()
        _fits(member)
        shot(member, "assignment-02-member-home")
        click_through(member, task.get_by_role("button", name="开始练习（5题）"))
        assert "支部布置 · 专项练习：导语" in member.title()
        for _ in range(5):
            _answer_current(member)
        assert "/summary" in member.url
        member.goto(server.url + "/")
        assert member.locator("#assignments").count() == 0  # done: no longer on the home page
        member.goto(server.url + "/record/")
        assert "已完成" in member.locator("#assignments").inner_text()
        _fits(member)
        shot(member, "assignment-03-member-record")

        organizer.goto(detail_url)
        assert "已完成 1/3 人" in organizer.locator("#assignment-summary").inner_text()
        assert "李四" in organizer.locator("#done-members").inner_text()
        assert "李四" not in organizer.locator("#pending-members").inner_text()
        _fits(organizer)
        shot(organizer, "assignment-04-organizer-who-has-done-it")
        organizer.goto(server.url + "/dashboard/")
        reminder = organizer.locator("#reminder-text").input_value()
        assert "· 支部布置的练习“专项练习：导语”" in reminder and "未完成：张三、李书记" in reminder
