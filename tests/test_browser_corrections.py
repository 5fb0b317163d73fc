"""Browser test (issue #13, 纠错): on a phone a member reports a question from practice feedback, the branch
organizer resolves it from the queue, and the member reads the outcome in 我的纠错.

Runs the real `run.py` with the shipped banks and drives Debian's Chromium at 390×844; screenshots go to
tests/screenshots/ (docs/screenshots/ with --update-screenshots).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .browser import PHONE, ROOT, chromium, live_server, needs_browser, scrolls_sideways, shot, sign_in

pytestmark = [pytest.mark.slow, needs_browser]

PASSWORD = "Hong-Qi-Piao-2026"


def _login(browser, url: str, username: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=PHONE, device_scale_factor=2)
    sign_in(page, url, username, PASSWORD)
    return page


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert not scrolls_sideways(page), page.url


def test_member_reports_and_organizer_resolves_on_a_phone(tmp_path: Path) -> None:
    with live_server(tmp_path / "instance", ROOT / "question_banks") as server, chromium() as browser:
        for username, name, role in [("shuji", "张书记", "organizer"), ("lihong", "李红", "member")]:
            server.cli(
                "users", "create", username, "--name", name, "--role", role, "--branch", "第一党支部",
                "--password", PASSWORD,
            )  # fmt: skip
        phone = _login(browser, server.url, "lihong")
        phone.goto(server.url + "/practice/")
        block = phone.locator("details.bank-block").first
        block.locator("summary").click()
        block.get_by_label("单选题").check()
        block.get_by_role("button", name="开始练习").click()
        stem = phone.locator("h1.stem").inner_text()
        phone.locator("form.answer-form .option").first.click()
        phone.get_by_role("link", name="题目有误？纠错").click()
        assert stem.strip()[:10] in phone.locator(".question-view").inner_text()
        phone.get_by_label("答案有误").check()
        phone.fill("#report-text", "党章原文与答案不一致，请核对。")
        _no_sideways_scroll(phone)
        shot(phone, "corrections-01-report-phone")
        phone.get_by_role("button", name="提交纠错").click()
        phone.get_by_text("已提交纠错").first.wait_for()  # the click starts the navigation; a loaded server is slow
        assert "已提交纠错" in phone.content() and "待处理" in phone.content()
        shot(phone, "corrections-02-mine-open-phone")

        organizer = _login(browser, server.url, "shuji")
        organizer.goto(server.url + "/corrections/queue")
        entry = organizer.locator("section.queue-entry")
        assert entry.count() == 1 and "党章原文与答案不一致" in entry.inner_text() and "李红" in entry.inner_text()
        _no_sideways_scroll(organizer)
        shot(organizer, "corrections-03-queue-phone")
        organizer.get_by_label("不采纳", exact=True).check()
        organizer.locator("textarea[name=note]").fill("答案与党章第一章第一条一致，题目无误。")
        organizer.get_by_role("button", name="提交处理").click()
        organizer.get_by_text("已处理").first.wait_for()
        assert "已处理" in organizer.content() and organizer.locator("section.queue-entry").count() == 0

        phone.goto(server.url + "/corrections/mine")
        outcome = phone.locator(".summary-item").inner_text()
        assert "未采纳" in outcome and "题目无误" in outcome
        _no_sideways_scroll(phone)
        shot(phone, "corrections-04-mine-resolved-phone")
