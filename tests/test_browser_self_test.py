"""Browser test (issue #4): a member imported from an Excel roster logs in on a phone, practises by chapter,
sees 解析 after each answer, redoes the wrong answer and finds the session in the learning record.

Runs the real `run.py` with the shipped banks and drives Debian's Chromium; screenshots go to tests/screenshots/
(docs/screenshots/ with --update-screenshots).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quizengine.banks.loader import load_banks

from .browser import (
    DESKTOP,
    PHONE,
    ROOT,
    chromium,
    click_through,
    live_server,
    needs_browser,
    scrolls_sideways,
    shot,
    sign_in,
)

pytestmark = [pytest.mark.slow, needs_browser]

BANK = "中国共产党章程（2022年修改）"
CHAPTER = "第一章 党员"


def _answers() -> dict[str, object]:
    """Stem -> engine question, from the shipped Constitution bank (to answer right or wrong on purpose)."""
    [bank] = [bank for bank in load_banks([ROOT / "question_banks"]) if bank.slug == "dangzhang-2022"]
    return {_squash(question.stem): question for question in bank.questions}


def _squash(text: str) -> str:
    """The browser collapses runs of spaces (the "（  ）" in stems), so compare with single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def _answer(page, question, right: bool) -> None:  # type: ignore[no-untyped-def]
    """Tap the right (or a wrong) option of a single-choice or judge question."""
    if question.type == "judge":
        label = "对" if question.answer == right else "错"
        page.get_by_role("button", name=re.compile(f"{label}$")).click()
        return
    texts = {option.key: option.text for option in question.options}
    key = question.answer if right else next(k for k in texts if k != question.answer)
    buttons = page.locator("button.option")
    for index in range(buttons.count()):  # exact text: one option may contain another ("中央委员会…全体会议")
        shown = buttons.nth(index).evaluate(
            "b => Array.from(b.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('')"
        )
        if _squash(shown) == _squash(texts[key]):
            buttons.nth(index).click()
            return
    raise AssertionError(f"option {texts[key]!r} not on the page")


def _current_question(page, answers):  # type: ignore[no-untyped-def]
    return answers[_squash(page.locator("h1.stem").inner_text())]


def _make_roster(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "用户名", "手机号", "党小组", "党员类别"])
    sheet.append(["李红", "lihong", "13912345678", "第一党小组", "正式"])
    sheet.append(["王强", "", "13987654321", "第二党小组", "预备"])
    book.save(path)
    return path


def test_imported_member_practises_on_a_phone(tmp_path: Path) -> None:
    answers = _answers()
    with live_server(tmp_path / "instance", ROOT / "question_banks") as server, chromium() as browser:
        server.cli(
            "users",
            "create",
            "shuji",
            "--name",
            "张书记",
            "--role",
            "organizer",
            "--branch",
            "第一党支部",
            "--password",
            "Hong-Qi-Piao-2026",
        )
        member_password = _import_roster(browser, server.url, _make_roster(tmp_path / "roster.xlsx"))

        phone = browser.new_page(viewport=PHONE, device_scale_factor=2)
        phone.goto(server.url + "/login")
        phone.fill("#username", "lihong")
        phone.fill("#password", member_password)
        shot(phone, "self-test-01-login-phone")
        phone.get_by_role("button", name="登录").click()
        phone.fill("#current", member_password)
        phone.fill("#new", "Chun-Feng-Hua-Yu-9")
        phone.fill("#confirm", "Chun-Feng-Hua-Yu-9")
        click_through(phone, phone.get_by_role("button", name="保存新密码"))
        assert "密码已修改" in phone.content()

        phone.goto(server.url + "/practice/")
        shot(phone, "self-test-02-menu")
        block = phone.locator("details.bank-block", has_text=BANK)
        block.locator("summary").click()
        block.get_by_label(re.compile(CHAPTER)).check()
        block.get_by_label("单选题").check()
        block.get_by_label("判断题").check()
        block.locator("select[name=count]").select_option("5")
        block.get_by_role("button", name="开始练习").click()

        for number in range(5):
            assert f"第 {number + 1} / 5 题" in phone.locator(".attempt-bar").inner_text()
            question = _current_question(phone, answers)
            if number == 0:
                shot(phone, "self-test-03-question")
            _answer(phone, question, right=number != 0)
            verdict = phone.locator(".verdict").inner_text()
            assert ("回答正确" in verdict) == (number != 0)
            facts = phone.locator(".answer-facts").inner_text()
            assert question.explanation[:10] in facts and question.reference in facts
            if number == 0:
                shot(phone, "self-test-04-feedback-wrong")
            phone.locator("a.btn-primary").click()

        summary = phone.locator(".score-line").inner_text()
        assert "答对 4 / 5 题" in summary
        today = phone.locator("#today")
        assert today.locator("#earned .stat-value").inner_text() == "+9"  # 4 right + 5 for the finished session
        assert today.locator("#today-points .stat-value").inner_text() == "9/50"
        assert today.locator("#streak .stat-value").inner_text() == "1"
        assert "今日目标 10 题：已答 5 题，还差 5 题" in today.inner_text()
        assert "建议下一步：智能练习" in today.inner_text()
        _fits(phone)
        shot(phone, "self-test-05-summary")

        phone.goto(server.url + "/practice/wrong-book")
        assert "错题本 1 题" in re.sub(r"\s+", " ", phone.locator("h1").inner_text())
        phone.get_by_role("button", name="重练错题（10题）").click()
        question = _current_question(phone, answers)
        _answer(phone, question, right=True)
        assert "回答正确" in phone.locator(".verdict").inner_text()
        shot(phone, "self-test-06-redo-right")

        phone.goto(server.url + "/")
        goal = phone.locator("#today")
        assert "今日目标 10 题：已答 6 题，还差 4 题" in goal.inner_text()
        assert phone.locator("#daily-goal").get_attribute("value") == "6"
        _fits(phone)
        shot(phone, "self-test-08-home-goal")

        phone.goto(server.url + "/record/")
        assert phone.locator(".stat-value").first.inner_text() == "6"
        recent = phone.locator("#recent-sessions").inner_text()
        assert "自选练习" in recent and "错题重练" in recent
        chapters = phone.locator("#chapter-mastery").inner_text()
        assert CHAPTER in chapters
        phone.wait_for_function("() => document.querySelector('#calendar-chart canvas') !== null")
        shot(phone, "self-test-07-record")


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing scrolls sideways on the phone."""
    assert not scrolls_sideways(page)


def _import_roster(browser, url: str, roster: Path) -> str:  # type: ignore[no-untyped-def]
    """The organizer imports the roster on a laptop; return 李红's one-time password."""
    desk = browser.new_page(viewport=DESKTOP)
    sign_in(desk, url, "shuji", "Hong-Qi-Piao-2026")
    desk.goto(url + "/org/")
    desk.get_by_role("link", name=re.compile("导入")).first.click()
    desk.set_input_files("input[type=file]", str(roster))
    desk.get_by_role("button", name=re.compile("预览")).click()
    shot(desk, "roster-01-preview")
    desk.get_by_role("button", name=re.compile("确认导入")).click()
    shot(desk, "roster-02-imported")
    row = desk.locator("tr", has_text="lihong")
    password = row.locator("td").last.inner_text().strip()
    desk.close()
    return password
