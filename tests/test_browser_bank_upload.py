"""Browser test (issue #13, 题库管理): a branch organizer uploads an Excel sheet with a bad row, sees its questions
as members will and the row's problem, saves the bank; it appears in the list, and a member of the branch
practises it, while a member of another branch does not see it.

Runs the real `run.py` on a copy of the shipped banks (saving writes under BANKS_PATH/local/) and drives
Debian's Chromium at desktop size and at 390×844; screenshots go to tests/screenshots/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .bank_files import HEADER, xlsx_bytes
from .browser import DESKTOP, PHONE, ROOT, chromium, live_server, needs_browser, scrolls_sideways, shot

pytestmark = [pytest.mark.slow, needs_browser]

PASSWORD = "Hong-Qi-Piao-2026"
ROWS = [
    HEADER,
    [
        "单选题",
        "支部自学题：党的最高理想和最终目标是（  ）。",
        "实现共产主义",
        "全面小康",
        "共同富裕",
        "民族复兴",
        "A",
        "党章总纲",
    ],
    ["判断题", "支部自学题：预备党员的预备期为一年。", "", "", "", "", "对", "党章第七条"],
    ["单选题", "支部自学题：这一行忘了填答案", "甲", "乙", "", "", "", ""],
    [
        "多选题",
        "支部自学题：<script>alert(1)</script>党员的义务包括",
        "认真学习",
        "<b>努力工作</b>",
        "休息",
        "",
        "AB",
        "",
    ],
]


def _login(browser, url: str, username: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=viewport, device_scale_factor=2 if viewport == PHONE else 1)
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda address: "/login" not in address)
    return page


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert not scrolls_sideways(page), page.url


def _upload(page, url: str, sheet: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/banks/upload")
    page.set_input_files("#file", str(sheet))
    page.get_by_role("button", name="上传并预览").click()
    page.get_by_role("heading", name="导入预览").wait_for()


def test_organizer_imports_a_sheet_and_a_member_practises_it(tmp_path: Path) -> None:
    banks = tmp_path / "banks"
    shutil.copytree(ROOT / "question_banks", banks)
    sheet = tmp_path / "支部题库.xlsx"
    sheet.write_bytes(xlsx_bytes(*ROWS))
    with live_server(tmp_path / "instance", banks) as server, chromium() as browser:
        for username, name, role, branch in [
            ("shuji", "张书记", "organizer", "第一党支部"),
            ("lihong", "李红", "member", "第一党支部"),
            ("wanggang", "王刚", "member", "第二党支部"),
        ]:
            server.cli(
                "users", "create", username, "--name", name, "--role", role, "--branch", branch, "--password", PASSWORD
            )  # fmt: skip
        desk = _login(browser, server.url, "shuji", DESKTOP)
        _upload(desk, server.url, sheet)
        cards = desk.locator(".preview-questions .question-card")
        assert cards.count() == 3
        assert "党的最高理想和最终目标是" in cards.nth(0).inner_text() and "实现共产主义" in cards.nth(0).inner_text()
        assert "<script>alert(1)</script>" in cards.nth(2).inner_text()  # shown as text, never run
        assert desk.locator(".preview-questions script").count() == 0
        problems = desk.locator(".problem-list").inner_text()
        assert "支部题库.xlsx:4" in problems and "答案" in problems
        shot(desk, "banks-01-preview-desktop")

        phone_org = _login(browser, server.url, "shuji", PHONE)
        _upload(phone_org, server.url, sheet)
        _no_sideways_scroll(phone_org)
        shot(phone_org, "banks-02-preview-phone")

        desk.get_by_label("新题库名称").fill("第一支部自学题库")
        desk.get_by_label("新题库标识（小写字母、数字和连字符）").fill("diyi-zixue")
        desk.get_by_label("跳过有问题的 1 道题，只保存无误的 3 道题").check()
        desk.get_by_role("button", name="保存题库").click()
        desk.get_by_text("已保存题库“第一支部自学题库”").wait_for()
        card = desk.locator("section.bank-card", has_text="第一支部自学题库")
        assert "第一党支部自有题库" in card.inner_text() and "3</strong>" in card.inner_html()
        shot(desk, "banks-03-list-desktop")
        assert (banks / "local" / "diyi-zixue.yaml").is_file()

        phone_org.goto(server.url + "/banks/")
        _no_sideways_scroll(phone_org)
        shot(phone_org, "banks-04-list-phone", full_page=False)
        phone_org.goto(server.url + "/banks/questions?q=支部自学题")
        assert "共找到 3 道题" in phone_org.locator("[role=status]").inner_text()
        _no_sideways_scroll(phone_org)
        shot(phone_org, "banks-06-search-phone", full_page=False)
        phone_org.locator(".search-hit a").first.click()
        phone_org.get_by_role("heading", name="修订记录").wait_for()
        assert "实现共产主义" in phone_org.locator(".question-view").first.inner_text()
        _no_sideways_scroll(phone_org)
        shot(phone_org, "banks-07-question-phone")

        member = _login(browser, server.url, "lihong", PHONE)
        member.goto(server.url + "/practice/")
        block = member.locator("details.bank-block", has_text="第一支部自学题库")
        block.locator("summary").click()
        block.get_by_role("button", name="顺序练习（接着上次）").click()
        member.locator("h1.stem").wait_for()
        assert "党的最高理想和最终目标是" in member.locator("h1.stem").inner_text()
        _no_sideways_scroll(member)
        shot(member, "banks-05-member-practises-phone")

        stranger = _login(browser, server.url, "wanggang", PHONE)  # another branch: the bank is not theirs
        stranger.goto(server.url + "/practice/")
        assert "第一支部自学题库" not in stranger.content()


def test_an_admin_gives_a_new_bank_to_a_branch_on_a_phone(tmp_path: Path) -> None:
    """At 390×844: the admin's save form offers the owner (党委共享 or a branch) and says beside the merge choice
    that shipped banks change only through YAML; the saved bank is the branch's own, in the list and on the
    printed-paper form of that branch's organizer only."""
    banks = tmp_path / "banks"
    shutil.copytree(ROOT / "question_banks", banks)
    sheet = tmp_path / "支部题库.xlsx"
    sheet.write_bytes(xlsx_bytes(*ROWS[:3]))
    with live_server(tmp_path / "instance", banks) as server, chromium() as browser:
        for username, role, branch in [
            ("guanli", "admin", ""),
            ("shuji", "organizer", "第一党支部"),
            ("shuji2", "organizer", "第二党支部"),
        ]:
            extra = ["--branch", branch] if branch else []
            server.cli("users", "create", username, "--name", username, "--role", role, *extra, "--password", PASSWORD)
        admin = _login(browser, server.url, "guanli", PHONE)
        _upload(admin, server.url, sheet)
        note = admin.locator(".merge-note")
        assert "随附题库只能通过 YAML 修改" in note.inner_text() and note.is_visible()
        owner = admin.get_by_label("新题库归属")
        assert owner.locator("option").first.inner_text() == "党委共享（所有支部可见）"
        owner.select_option(label="第一党支部自有（只有该支部可见）")
        admin.get_by_label("新题库名称").fill("第一支部专用题库")
        admin.get_by_label("新题库标识（小写字母、数字和连字符）").fill("diyi-zhuanyong")
        _no_sideways_scroll(admin)
        shot(admin, "banks-08-admin-owner-phone")
        admin.get_by_role("button", name="保存题库").click()
        admin.get_by_text("已保存题库“第一支部专用题库”").wait_for()
        card = admin.locator("section.bank-card", has_text="第一支部专用题库")
        assert "第一党支部自有题库" in card.inner_text()
        _no_sideways_scroll(admin)

        own = _login(browser, server.url, "shuji", PHONE)
        own.goto(server.url + "/papers/draw")
        assert "第一支部专用题库" in own.locator("select[name=s0_bank]").inner_text()
        other = _login(browser, server.url, "shuji2", PHONE)
        other.goto(server.url + "/papers/draw")
        assert "第一支部专用题库" not in other.locator("select[name=s0_bank]").inner_text()
        slug = "diyi-zhuanyong"
        other.goto(f"{server.url}/papers/draw?go=1&seed=1&s0_bank={slug}&s0_count=1")
        assert f"题库“{slug}”是其他支部自己的题库" in other.locator("[role=alert]").inner_text()
        _no_sideways_scroll(other)
        shot(other, "banks-09-paper-refused-phone", full_page=False)
