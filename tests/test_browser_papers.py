"""Browser test (issue #13 item 5): printed papers through Chromium's PDF output, and the draw form on a phone.

Seeds the shipped banks and a published 统一试卷 exam of 47 questions (单选, 多选, 判断, 填空, 简答), runs the real
`run.py`, opens the exam's paper with its answer key, prints it with Chromium (`page.pdf`, the CSS `@page`:
A4) and reads the PDF back with pypdf: A4 pages, a plausible page count, the title, section headings and
every question's text present, no question split across two pages (each question's stem and options are
on one page), and the 答案与解析 starting on a page of its own after the last question. The paper alone and
the key alone print too. Screenshots: the paper on a desktop (screen and print media), the draw form and
a drawn paper at 390×844.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quizengine import create_app
from quizengine.engine.questions import BLANK_PATTERN
from quizengine.extensions import db
from quizengine.models import Branch, Role
from quizengine.services import exam_setup, printed_papers
from quizengine.services.accounts import create_user
from quizengine.services.setup import first_run

from .browser import DESKTOP, PHONE, ROOT, chromium, live_server, needs_browser, scrolls_sideways, shot, sign_in

pytestmark = [pytest.mark.slow, needs_browser]

PASSWORD = "Dang-Jian-2026-xue"
A4_POINTS = (595, 842)  # 210 × 297 mm in PDF points, rounded
SECTIONS = [
    {"types": ["single"], "count": 20, "points": 1},
    {"types": ["multiple"], "count": 10, "points": 2},
    {"types": ["judge"], "count": 10, "points": 1},
    {"types": ["fill"], "count": 5, "points": 2},
    {"types": ["short"], "count": 2, "points": 10},
]
_BRACKET = re.compile(r"[（(][ \u3000\t]*[）)]")


_RADICALS = re.compile("[\u2e80-\u2fdf]")


def _traditional_folds() -> dict[int, str]:
    """Kangxi radicals NFKC folds to a traditional character a simplified paper never holds (⼾ → 戶, ⾨ → 門):
    the font draws 户 and 门 with the radical's glyph, so the PDF's text says ⼾ where the page shows 户. Those
    characters (outside GB2312) match any character of a piece, like the unfoldable radicals."""
    folds = {}
    for code in range(0x2F00, 0x2FD6):
        folded = unicodedata.normalize("NFKC", chr(code))
        try:
            folded.encode("gb2312")
        except UnicodeEncodeError:
            folds[ord(folded)] = "\ufffd"
    return folds


_TRADITIONAL = _traditional_folds()


def _plain(text: str) -> str:
    """Text without the spaces and line breaks of the layout, in NFKC: the PDF's fonts map some characters to
    Kangxi-radical forms (⽀ for 支), which NFKC folds back."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _found(piece: str, text: str) -> bool:
    """`piece` is in the PDF text `text`. Characters NFKC cannot fold back (the CJK Radicals Supplement: ⺠ for 民,
    ⻔ for 门) or folds to a traditional form (⼾ → 戶 for 户: `_traditional_folds`) match any character of the
    piece, and punctuation matches any one character: a font draws some marks with one glyph (— and ―), and the
    PDF's text gives that glyph's first character."""

    def one(char: str) -> str:
        if unicodedata.category(char)[0] in "LN":
            return f"(?:{re.escape(char)}|\ufffd)"
        return "."

    return re.search("".join(map(one, piece)), _RADICALS.sub("\ufffd", text).translate(_TRADITIONAL)) is not None


def _pieces(stem: str, options: list[str]) -> list[str]:
    """A question's printed text in pieces: the stem between its blanks and answer brackets, and each option."""
    parts = [_plain(part) for piece in BLANK_PATTERN.split(stem) for part in _BRACKET.split(piece)]
    return [part for part in parts + [_plain(text) for text in options] if len(part) >= 2]


def _seed(instance: Path) -> tuple[int, list[list[str]]]:
    """Accounts, and a published exam over the shipped banks; its id and each question's printed pieces."""
    app = create_app({"INSTANCE_PATH": instance, "BANKS_PATH": ROOT / "question_banks"})
    with app.app_context():
        first_run(app.config)
        session = db.session()
        organizer, _ = create_user(
            session, username="shuji", name="李书记", role=Role.ORGANIZER, password=PASSWORD, branch_name="第一党支部"
        )
        create_user(
            session, username="zhangsan", name="张三", role=Role.MEMBER, password=PASSWORD, branch_name="第一党支部"
        )
        session.commit()
        now = datetime.now(UTC)
        spec = exam_setup.ExamSpec(
            title="十二月党章党规测试",
            branch_ids=(session.query(Branch.id).scalar(),),
            opens_at=now - timedelta(minutes=5),
            closes_at=now + timedelta(days=1),
            duration_minutes=60,
            blueprint={"sections": SECTIONS},
            pass_mark=48,
        )
        exam = exam_setup.create_exam(session, organizer, spec)
        exam_setup.publish_exam(session, organizer, exam.id)
        questions = [
            _pieces(question.stem, [option.text for option in question.options])
            for question, _, _ in printed_papers.frozen_questions(session, exam)
        ]
        exam_id = exam.id
    db.engine.dispose()
    return exam_id, questions


def _pdf_pages(page, url: str, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Open a paper, print it with Chromium, return each PDF page's text (A4 checked); save a print-media shot."""
    from pypdf import PdfReader

    page.goto(url)
    page.emulate_media(media="print")
    shot(page, name)
    reader = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    page.emulate_media(media="screen")
    for pdf_page in reader.pages:
        assert (round(float(pdf_page.mediabox.width)), round(float(pdf_page.mediabox.height))) == A4_POINTS
    return [_plain(pdf_page.extract_text()) for pdf_page in reader.pages]


def test_an_exam_paper_prints_on_a4_with_its_key_on_a_page_of_its_own(tmp_path: Path) -> None:
    exam_id, questions = _seed(tmp_path / "instance")
    with live_server(tmp_path / "instance", ROOT / "question_banks") as server, chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        sign_in(page, server.url, "shuji", PASSWORD)
        page.goto(f"{server.url}/exams/{exam_id}/manage")
        with page.expect_navigation():
            page.get_by_role("link", name="打印试卷", exact=True).click()
        assert page.url.endswith(f"/papers/exam/{exam_id}")
        with page.expect_navigation():
            page.get_by_role("link", name="试卷和答案", exact=True).click()
        shot(page, "papers-01-exam-screen")

        pages = _pdf_pages(page, page.url, "papers-02-exam-print")
        key_start = next(n for n, text in enumerate(pages) if "答案与解析" in text)
        paper_pages, key_pages = pages[:key_start], pages[key_start:]
        assert 3 <= len(paper_pages) <= 8 and 1 <= len(key_pages) <= 8, [len(paper_pages), len(key_pages)]
        first = paper_pages[0]
        assert "十二月党章党规测试" in first and "姓名" in first and "支部" in first and "得分" in first
        assert "限时:60分钟" in first and "满分:80分" in first
        for heading in ("一、单项选择题", "二、多项选择题", "三、判断题", "四、填空题", "五、简答题"):
            assert any(heading in text for text in paper_pages), heading
        for pieces in questions:  # each question whole on one page of the paper, none on the key's pages
            longest = max(pieces, key=len)
            homes = [n for n, text in enumerate(paper_pages) if _found(longest, text)]
            assert homes, f"question not printed: {longest}"
            assert any(all(_found(piece, paper_pages[n]) for piece in pieces) for n in homes), f"split: {pieces}"
        assert key_pages[0].index("答案与解析") < 40  # the key's heading opens its page
        assert "出处" in "".join(key_pages) and "解析" in "".join(key_pages)
        assert not any("一、单项选择题(共20题" in text for text in key_pages)

        paper_only = _pdf_pages(page, f"{server.url}/papers/exam/{exam_id}?part=paper", "papers-03-paper-only")
        assert len(paper_only) == len(paper_pages) and not any("答案与解析" in text for text in paper_only)
        key_only = _pdf_pages(page, f"{server.url}/papers/exam/{exam_id}?part=key", "papers-04-key-only")
        assert len(key_only) == len(key_pages) and "答案与解析" in key_only[0]
        assert not any("姓名" in text for text in key_only)


def test_the_draw_form_and_a_drawn_paper_on_a_phone(tmp_path: Path) -> None:
    _seed(tmp_path / "instance")
    with live_server(tmp_path / "instance", ROOT / "question_banks") as server, chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        sign_in(page, server.url, "shuji", PASSWORD)
        page.goto(server.url + "/exams/")
        with page.expect_navigation():
            page.get_by_role("link", name="抽题打印试卷").click()
        page.fill("input[name=title]", "支部党员大会测试")
        page.select_option("select[name=s0_type]", "single")
        page.fill("input[name=s0_count]", "4")
        page.select_option("select[name=s1_type]", "judge")
        page.fill("input[name=s1_count]", "3")
        page.select_option("select[name=s2_type]", "fill")
        page.fill("input[name=s2_count]", "2")
        page.select_option("select[name=part]", "all")
        shot(page, "papers-05-draw-form-phone")
        assert not scrolls_sideways(page)
        # the keyboard: after a full-page screenshot of a page reached by a link, headless Chromium drops the click
        page.get_by_role("button", name="生成试卷").press("Enter")
        page.wait_for_url(re.compile(r"seed=\d+"))  # the server chose the seed and put it in the URL
        page.wait_for_load_state()
        assert page.locator(".paper-q").count() == 9 and page.locator("#answers .paper-key-item").count() == 9
        assert page.locator(".paper-title").first.inner_text() == "支部党员大会测试"
        assert not scrolls_sideways(page)
        shot(page, "papers-06-drawn-phone")
        before = page.locator(".paper-stem").all_inner_texts()
        page.reload()
        assert page.locator(".paper-stem").all_inner_texts() == before  # the seed in the URL: the same paper
