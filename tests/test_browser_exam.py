"""Browser test: the monthly exam end to end (SPEC §4, UI.md "Exam").

An organizer schedules an exam on a laptop; a member takes it on a phone through the navigator, reloads mid-way
and finds every answer and the server's countdown, hands in with the unanswered question listed, and sees the
review; a second member loses the network mid-way and the answer still reaches the server; the organizer's
dashboard shows who is missing (一个不落), the distribution, the item analysis, and exports Excel.

Runs the real `run.py` with a small bank copied verbatim from the shipped Constitution bank and drives Debian's
Chromium; screenshots go to tests/screenshots/ (docs/screenshots/ with --update-screenshots).
"""

from __future__ import annotations

import io
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from quizengine.banks.loader import load_banks

from .browser import DESKTOP, PHONE, ROOT, chromium, click_through, live_server, needs_browser, scrolls_sideways, shot

pytestmark = [pytest.mark.slow, needs_browser]

ZONE = ZoneInfo("Asia/Shanghai")  # the app's DISPLAY_TIMEZONE: the form's datetime-local fields are in it
TITLE = "党章总纲月度测试"
BANK_TITLE = "党章总纲（2022年修改）"
# Verbatim from question_banks/dangzhang-2022.yaml: 4 single, 3 multiple, 4 judge, 2 fill.
QUESTION_IDS = [f"dz-zonggang-{n:03d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15)]
# (type label, count, points per question): 3×2 + 2×3 + 2×2 + 2×2 = 20 points, 9 questions.
BLUEPRINT = [("单选题", 3, 2), ("多选题", 2, 3), ("判断题", 2, 2), ("填空题", 2, 2)]
TOTAL_POINTS = 20
PASSWORD = "Hong-Qi-Piao-2026"


def _write_bank(folder: Path) -> Path:
    """A small bank of our own: chosen questions of the shipped Constitution bank, copied unchanged."""
    shipped = yaml.safe_load((ROOT / "question_banks" / "dangzhang-2022.yaml").read_text(encoding="utf-8"))
    questions = [question for question in shipped["questions"] if question["id"] in QUESTION_IDS]
    assert len(questions) == len(QUESTION_IDS)
    bank = {
        "bank": "dangzhang-zonggang-exam",
        "title": BANK_TITLE,
        "source": shipped["source"],
        "categories": [category for category in shipped["categories"] if category["id"] == "zonggang"],
        "questions": questions,
    }
    folder.mkdir(parents=True)
    (folder / "dangzhang-zonggang-exam.yaml").write_text(
        yaml.safe_dump(bank, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return folder


def _squash(text: str) -> str:
    """The browser collapses runs of spaces (the "（  ）" in stems), so compare with single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def _answer_key(banks: Path) -> dict[str, object]:
    """Stem -> engine question (to answer right or wrong on purpose, whatever order the paper has)."""
    [bank] = load_banks([banks])
    return {_squash(question.stem): question for question in bank.questions}


def _login(page, url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    click_through(page, page.get_by_role("button", name="登录"))


# ---- the exam page ------------------------------------------------------------------------------------


def _paper_types(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The question types of the member's paper, in paper order (to plan which ones to answer)."""
    return page.evaluate(
        "JSON.parse(document.getElementById('exam-state').textContent).questions.map(function (q) { return q.type; })"
    )


def _go_to(page, index: int) -> None:  # type: ignore[no-untyped-def]
    """Jump to a question with the navigator."""
    page.get_by_role("button", name=f"第{index + 1}题", exact=True).click()
    assert f"第 {index + 1} / " in page.locator(".question-type").inner_text()


def _cell_class(page, index: int) -> str:  # type: ignore[no-untyped-def]
    """The navigator cell's classes (is-answered / is-flagged / is-current)."""
    return page.get_by_role("button", name=f"第{index + 1}题", exact=True).get_attribute("class") or ""


def _current(page, key):  # type: ignore[no-untyped-def]
    return key[_squash(page.locator(".question-card h1.stem").inner_text())]


def _option_text(button) -> str:  # type: ignore[no-untyped-def]
    """An option button's own text (without the key badge)."""
    return _squash(
        button.evaluate("b => Array.from(b.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('')")
    )


def _click_option(page, text: str) -> None:  # type: ignore[no-untyped-def]
    buttons = page.locator(".question-card button.option")
    for index in range(buttons.count()):  # exact text: one option may contain another
        if _option_text(buttons.nth(index)) == _squash(text):
            buttons.nth(index).click()
            return
    raise AssertionError(f"option {text!r} not on the page")


def _expected(question, right: bool) -> object:  # type: ignore[no-untyped-def]
    """What the member gives: option texts (single/multiple), 对/错 (judge) or the blanks (fill)."""
    texts = {option.key: option.text for option in question.options}
    if question.type == "single":
        key = question.answer if right else next(k for k in texts if k != question.answer)
        return {texts[key]}
    if question.type == "multiple":
        keys = set(question.answer) if right else set(question.answer) - {sorted(question.answer)[0]}
        return {texts[key] for key in keys}
    if question.type == "judge":
        return "对" if question.answer == right else "错"
    return [accepted[0] if right else "不知道" for accepted in question.answer]


def _answer(page, key, right: bool = True) -> tuple[object, object]:  # type: ignore[no-untyped-def]
    """Answer the question on screen; return (question, what was given)."""
    question = _current(page, key)
    given = _expected(question, right)
    if question.type in ("single", "multiple"):
        for text in sorted(given):  # type: ignore[arg-type]
            _click_option(page, text)
    elif question.type == "judge":
        page.locator(".question-card button.option", has_text=str(given)).click()
    else:
        for blank, text in enumerate(given):  # type: ignore[arg-type]
            page.fill(f".question-card input[data-blank='{blank}']", text)
    return question, given


def _shown_answer(page, question) -> object:  # type: ignore[no-untyped-def]
    """What the page shows as chosen/filled for the question on screen (same shape as `_expected`)."""
    if question.type == "fill":
        inputs = page.locator(".question-card input[data-blank]")
        return [inputs.nth(i).input_value() for i in range(inputs.count())]
    chosen = page.locator(".question-card button.option[aria-pressed='true']")
    texts = {_option_text(chosen.nth(i)) for i in range(chosen.count())}
    if question.type == "judge":
        return "".join(texts)
    return texts


def _wait_saved(page) -> None:  # type: ignore[no-untyped-def]
    """Wait for the "已保存" indicator and for nothing to be left in the browser's own copy."""
    page.wait_for_function(
        "() => document.getElementById('save-state').textContent === '已保存'"
        " && Object.keys(JSON.parse(localStorage.getItem('quizengine-exam-' +"
        " JSON.parse(document.getElementById('exam-state').textContent).attemptId) || '{}')).length === 0",
        timeout=10_000,
    )


def _watch_save_state(page) -> None:  # type: ignore[no-untyped-def]
    """Record every text the save indicator shows from now on (in window.saveStates)."""
    page.evaluate(
        """() => {
            window.saveStates = [];
            const indicator = document.getElementById('save-state');
            if (window.saveWatcher) { window.saveWatcher.disconnect(); }
            window.saveWatcher = new MutationObserver(() => window.saveStates.push(indicator.textContent));
            window.saveWatcher.observe(indicator, { childList: true, characterData: true, subtree: true });
        }"""
    )


def _pending(page) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The answers kept in localStorage until the server acknowledges them."""
    return page.evaluate(
        "JSON.parse(localStorage.getItem('quizengine-exam-' +"
        " JSON.parse(document.getElementById('exam-state').textContent).attemptId) || '{}')"
    )


def _seconds_left(page) -> int:  # type: ignore[no-untyped-def]
    """The countdown as seconds ("09:41" or "1:02:03")."""
    parts = [int(part) for part in page.locator("#countdown").inner_text().split(":")]
    assert len(parts) in (2, 3), parts
    return sum(value * 60**power for power, value in enumerate(reversed(parts)))


def _start_exam(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/exams/")
    card = page.locator("article.exam-card", has_text=TITLE)
    card.get_by_role("button", name="开始考试").click()
    page.wait_for_selector(".question-card")
    page.wait_for_function("() => /^\\d/.test(document.getElementById('countdown').textContent)")


# ---- the test -----------------------------------------------------------------------------------------


def test_monthly_exam_end_to_end(tmp_path: Path) -> None:
    banks = _write_bank(tmp_path / "banks")
    key = _answer_key(banks)
    with live_server(tmp_path / "instance", banks) as server, chromium() as browser:
        branch = "第一党支部"  # created with the organizer, before the members join it
        server.cli(
            "users",
            "create",
            "shuji",
            "--name",
            "张书记",
            "--role",
            "organizer",
            "--branch",
            branch,
            "--password",
            "Hong-Qi-Piao-2026",
        )
        with ThreadPoolExecutor() as pool:  # each CLI call starts the app (seconds): overlap them with scheduling
            members = [
                pool.submit(
                    server.cli, "users", "create", username, "--name", name, "--branch", branch, "--password", PASSWORD
                )
                for username, name in (("lihong", "李红"), ("wangqiang", "王强"), ("zhaomin", "赵敏"))
            ]
            desk_context = browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
            desk = desk_context.new_page()
            _login(desk, server.url, "shuji", "Hong-Qi-Piao-2026")
            exam_id = _schedule_exam(desk, server.url)
            for member in members:
                member.result()
        desk.reload()
        assert desk.locator("#missing-count").inner_text() == "4"  # 张书记 and three members, nobody started yet

        _first_member_takes_the_exam(browser, server.url, key)
        _second_member_loses_the_network(browser, server.url, key)
        _organizer_reviews(desk, server.url, exam_id)
        desk_context.close()


def _schedule_exam(desk, url: str) -> int:  # type: ignore[no-untyped-def]
    """The organizer schedules the exam through /exams/new; return its id."""
    now = datetime.now(ZONE)
    desk.goto(url + "/exams/")
    desk.get_by_role("link", name="安排考试").first.click()
    desk.fill("input[name=title]", TITLE)
    desk.fill("input[name=opens_at]", (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    desk.fill("input[name=closes_at]", (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    desk.fill("input[name=duration_minutes]", "10")
    desk.fill("input[name=pass_mark]", "12")
    for index, (type_label, count, points) in enumerate(BLUEPRINT):
        desk.select_option(f"select[name=s{index}_bank]", label=BANK_TITLE)
        desk.select_option(f"select[name=s{index}_type]", label=type_label)
        desk.fill(f"input[name=s{index}_count]", str(count))
        desk.fill(f"input[name=s{index}_points]", str(points))
    desk.select_option("select[name=review_policy]", "immediately")
    assert desk.locator("input[name=paper_mode][value=uniform]").is_checked()  # 统一试卷 by default
    shot(desk, "exam-01-schedule")
    desk.get_by_role("button", name="保存草稿并预览试卷").click()
    desk.wait_for_url(re.compile(r"/exams/\d+/manage$"))
    assert "草稿" in desk.locator(".flash").inner_text()
    preview = desk.locator("#paper-preview")
    assert preview.locator("tbody tr").count() == 9 and f"满分 {TOTAL_POINTS}" in preview.inner_text()
    first = preview.locator("tbody").inner_text()
    for _ in range(5):  # the organizer may redraw the paper before publishing
        click_through(desk, desk.get_by_role("button", name="重新抽题"))
        if desk.locator("#paper-preview tbody").inner_text() != first:
            break
    assert desk.locator("#paper-preview tbody").inner_text() != first
    shot(desk, "exam-01b-paper-preview")
    click_through(desk, desk.get_by_role("button", name="发布考试"))
    assert "考试已发布" in desk.locator(".flash").inner_text()
    return int(re.search(r"/exams/(\d+)/manage", desk.url).group(1))  # type: ignore[union-attr]


def _first_member_takes_the_exam(browser, url: str, key) -> None:  # type: ignore[no-untyped-def]
    """李红 on a phone: navigator, autosave, reload mid-way, confirm listing the unanswered one, review."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    phone = context.new_page()
    _login(phone, url, "lihong", PASSWORD)
    _start_exam(phone, url)
    assert _seconds_left(phone) > 9 * 60  # 10 minutes from the server's start time
    types = _paper_types(phone)
    assert sorted(types) == sorted(["single"] * 3 + ["multiple"] * 2 + ["judge"] * 2 + ["fill"] * 2)

    # one of each type first (in navigator order), then the rest; one judge question stays unanswered
    first = [types.index(kind) for kind in ("single", "multiple", "judge", "fill")]
    skipped = len(types) - 1 - types[::-1].index("judge")
    rest = [index for index in range(len(types)) if index not in first and index != skipped]
    wrong = next(index for index in rest if types[index] == "single")  # one wrong answer on purpose
    given: dict[int, tuple[object, object]] = {}

    for index in first:
        _go_to(phone, index)
        _watch_save_state(phone)
        given[index] = _answer(phone, key, right=True)
        _wait_saved(phone)
        shown = phone.evaluate("() => window.saveStates")
        # typing is sent after a short pause, choices at once: never "已保存" before the server has the answer
        assert shown[0] != "已保存" and shown[-1] == "已保存", shown
        assert "is-answered" in _cell_class(phone, index)
    _go_to(phone, first[0])
    # focus mode: no site header or navigation while the attempt is open, only the exam's own bar
    assert not phone.locator("body > header").is_visible()
    assert phone.locator("a:visible").count() == 0  # no way off the paper but 交卷
    assert phone.locator("#progress").inner_text() == f"已答 {len(first)}/{len(types)}"
    assert not scrolls_sideways(phone)
    shot(phone, "exam-02-paper-phone")
    _go_to(phone, skipped)
    phone.get_by_role("button", name="标记本题").click()  # flagged to come back to (shown in the navigator)

    # reload mid-way: every answer comes back from the server, and the countdown keeps the server's deadline
    before, at = _seconds_left(phone), time.monotonic()
    assert _pending(phone) == {}  # nothing only in this browser: what comes back was stored on the server
    phone.reload()
    phone.wait_for_selector(".question-card")
    phone.wait_for_function("() => /^\\d/.test(document.getElementById('countdown').textContent)")
    after = _seconds_left(phone)
    elapsed = time.monotonic() - at
    assert before - elapsed - 2 <= after <= before - elapsed + 3, (before, after, elapsed)  # not restarted at 10:00
    for index, (question, answer) in given.items():
        assert "is-answered" in _cell_class(phone, index)
        _go_to(phone, index)
        assert _shown_answer(phone, question) == answer, (question.type, question.stem)
    assert "is-flagged" in _cell_class(phone, skipped)
    _go_to(phone, skipped)
    phone.reload()  # back on the question the member was on, not question 1
    phone.wait_for_selector(".question-card")
    assert f"第 {skipped + 1} / " in phone.locator(".question-type").inner_text()
    assert "is-current" in _cell_class(phone, skipped)
    shot(phone, "exam-03-navigator-after-reload")

    for index in rest:
        _go_to(phone, index)
        given[index] = _answer(phone, key, right=index != wrong)
    _wait_saved(phone)

    phone.get_by_role("button", name="交卷").click()
    dialog = phone.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert f"还有 1 题未作答（第 {skipped + 1} 题）" in dialog.inner_text()
    shot(phone, "exam-04-confirm")
    dialog.get_by_role("button", name="确认交卷").click()
    phone.wait_for_url(re.compile(r"/result$"))

    expected = TOTAL_POINTS - 2 - 2  # one wrong single, one unanswered judge (2 points each)
    assert f"得分 {expected} / {TOTAL_POINTS}" in _squash(phone.locator(".score-line").inner_text())
    assert "及格" in phone.locator(".score-line").inner_text()
    review = phone.locator(".summary-list > li")
    assert review.count() == len(types)
    assert phone.locator(".summary-list > li.correct").count() == len(types) - 2
    assert phone.locator(".summary-list > li.unanswered").count() == 1
    assert phone.locator(".summary-list > li.wrong").count() == 2  # the wrong one and the unanswered one
    mistake = phone.locator(".summary-list > li.wrong:not(.unanswered)")
    assert mistake.locator(".review-tag").inner_text() == "答错"
    assert "你的选择" in mistake.locator(".option-list li.is-wrong").inner_text()  # the options as shown, marked
    assert mistake.locator(".option-list li.is-right").count() == 1
    assert phone.locator(".summary-list > li.unanswered .review-tag").inner_text() == "未作答"
    text = phone.locator(".summary-list").inner_text()
    for question, _ in given.values():
        assert question.explanation[:12] in text
    assert text.count("解析") == len(types)
    shot(phone, "exam-05-result")
    context.close()


def _second_member_loses_the_network(browser, url: str, key) -> None:  # type: ignore[no-untyped-def]
    """王强 goes offline mid-way: the answer waits in localStorage and reaches the server when he is back."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    phone = context.new_page()
    _login(phone, url, "wangqiang", PASSWORD)
    _start_exam(phone, url)
    _go_to(phone, 0)
    _answer(phone, key)
    _wait_saved(phone)

    context.set_offline(True)
    _go_to(phone, 1)
    question, answer = _answer(phone, key)
    phone.wait_for_function("() => document.getElementById('save-state').textContent.indexOf('网络中断') === 0")
    assert "答案已保存在本机" in phone.locator("#save-state").inner_text()
    assert "1" in _pending(phone)  # kept in this browser until the server has it
    shot(phone, "exam-06-offline")

    context.set_offline(False)
    _wait_saved(phone)
    phone.evaluate("localStorage.clear()")  # what the page shows next can only come from the server
    phone.reload()
    phone.wait_for_selector(".question-card")
    _go_to(phone, 1)
    assert _shown_answer(phone, question) == answer

    phone.get_by_role("button", name="交卷").click()
    phone.locator("#confirm-dialog").get_by_role("button", name="确认交卷").click()
    phone.wait_for_url(re.compile(r"/result$"))
    context.close()


def _organizer_reviews(desk, url: str, exam_id: int) -> None:  # type: ignore[no-untyped-def]
    """一个不落, distribution chart with its table, item analysis, and the Excel export."""
    from openpyxl import load_workbook

    desk.goto(f"{url}/exams/{exam_id}/manage")
    status = {
        _squash(row.locator("td").nth(1).inner_text()): _squash(row.locator("td").nth(2).inner_text())
        for row in desk.locator("#member-status tbody tr").all()
    }
    assert status == {"张书记": "未参加", "李红": "已交卷", "王强": "已交卷", "赵敏": "未参加"}
    assert desk.locator("#missing-count").inner_text() == "2"
    lihong = desk.locator("#member-status tbody tr", has_text="李红")
    assert lihong.locator("td").nth(3).inner_text().strip() == "16"
    assert "及格" in lihong.locator("td").nth(4).inner_text()
    assert lihong.locator("td").nth(6).inner_text().strip() == "0"  # a reload or handing in is not a tab switch
    desk.wait_for_function("() => document.querySelector('#distribution-chart canvas') !== null")
    bands = {
        _squash(row.locator("td").first.inner_text()): int(row.locator("td").last.inner_text())
        for row in desk.locator("#distribution-table tbody tr").all()
    }
    assert sum(bands.values()) == 2 and bands["16 – 18"] == 1  # the chart's numbers as a table
    assert desk.locator("#item-stats tbody tr").count() >= len(BLUEPRINT)
    shot(desk, "exam-07-manage")

    with desk.expect_download() as download_info:
        desk.get_by_role("link", name="导出 Excel").click()
    day = datetime.now(ZONE).strftime("%Y-%m-%d")
    assert download_info.value.suggested_filename == f"{TITLE}-成绩-{day}.xlsx"  # Chinese, from filename*
    book = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert book.sheetnames == ["成绩", "题目分析"]
    rows = [list(row) for row in book["成绩"].iter_rows(values_only=True)]
    header = rows[0]
    lihong_row = dict(zip(header, next(row for row in rows if row[1] == "李红"), strict=True))
    assert lihong_row["状态"] == "已交卷" and lihong_row["得分"] == 16 and lihong_row["是否及格"] == "及格"
    assert next(row for row in rows if row[1] == "赵敏")[3] == "未参加"
    assert book["题目分析"].max_row - 1 == desk.locator("#item-stats tbody tr").count()
