"""Browser test (issue #12 item 4): the committee's and a branch's A4 reports printed by Chromium to PDF.

Seeds two branches (one studying, one idle), an admin and the first branch's organizer, runs the real `run.py`,
opens each print view, waits until the trend chart is drawn (SVG), prints with Chromium's PDF output
(`page.pdf`, the CSS `@page` size: A4) and reads the PDF back with pypdf: page size, page count and the key text
(Chinese fonts embedded, so the text extracts). A screenshot of each print view (print media) is saved to look at.
"""

from __future__ import annotations

import io
import unicodedata
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

from .browser import DESKTOP, ROOT, chromium, live_server, needs_browser, shot, sign_in
from .test_summaries import _any

pytestmark = [pytest.mark.slow, needs_browser]

PASSWORD = "Dang-Jian-2026-xue"
A4_POINTS = (595, 842)  # 210 × 297 mm in PDF points, rounded


def _seed(instance: Path) -> int:
    app = create_app({"INSTANCE_PATH": instance, "BANKS_PATH": ROOT / "question_banks"})
    with app.app_context():
        first_run(app.config)
        session = db.session()
        users = {}
        for username, name, role, branch in [
            ("guanli", "党委管理员", Role.ADMIN, None),
            ("shuji", "李书记", Role.ORGANIZER, "第一党支部"),
            ("zhangsan", "张三", Role.MEMBER, "第一党支部"),
            ("lisi", "李四", Role.MEMBER, "第一党支部"),
            ("wangwu", "王五", Role.MEMBER, "第二党支部"),
        ]:
            users[username], _ = create_user(
                session, username=username, name=name, role=role, password=PASSWORD, branch_name=branch
            )
        session.commit()
        banks = tuple(session.scalars(select(Bank.id)))
        for _ in range(4):
            attempt = practice.start_practice(
                session, users["zhangsan"], practice.PracticeRequest(PracticeKind.RANDOM, banks, count=5)
            )
            for item in attempt.items:
                practice.answer_item(session, users["zhangsan"], attempt.id, item.position, _any(item))
        branch_id = users["shuji"].branch_id
    db.engine.dispose()
    assert branch_id is not None
    return branch_id


def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, base, username, PASSWORD)


def _print(page, url: str, name: str):  # type: ignore[no-untyped-def]
    """Open a print view, wait for the chart, return the PDF read back by pypdf (and save a screenshot)."""
    from pypdf import PdfReader

    page.goto(url)
    page.wait_for_function("() => document.documentElement.dataset.reportReady === '1'")
    assert page.locator("#report-trend svg path").count() > 0, "the trend chart is drawn as SVG"
    page.emulate_media(media="print")
    shot(page, name)
    reader = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True, print_background=True)))
    for pdf_page in reader.pages:
        assert (round(float(pdf_page.mediabox.width)), round(float(pdf_page.mediabox.height))) == A4_POINTS
    return reader


def _plain(text: str) -> str:
    """The PDF's text as a reader sees it: NFKC (the font maps some characters to their Kangxi-radical forms,
    ⽀ for 支), without the spaces and line breaks of the layout."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _text(reader) -> str:  # type: ignore[no-untyped-def]
    return "".join(_plain(page.extract_text()) for page in reader.pages)


def test_committee_and_branch_reports_print_on_a4(tmp_path: Path) -> None:
    branch_id = _seed(tmp_path / "instance")
    with live_server(tmp_path / "instance", ROOT / "question_banks") as server, chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        _login(page, server.url, "guanli")
        committee = _print(page, server.url + "/dashboard/overview/print", "report-01-committee-print")
        # page 1: the totals and the branches; page 2: the trend (its own page)
        assert len(committee.pages) == 2
        first, second = (_plain(page.extract_text()) for page in committee.pages)
        assert "党委学习考核报告" in first and "各支部对比" in first
        assert "第一党支部" in first and "第二党支部" in first and "合计" in first and "落后" in first
        assert "参学率与达标率" in second
        page.context.close()

        page = browser.new_page(viewport=DESKTOP)
        _login(page, server.url, "shuji")
        report = _print(page, server.url + f"/dashboard/branch/{branch_id}/print", "report-02-branch-print")
        assert len(report.pages) == 2
        text = _text(report)
        assert "第一党支部学习考核报告" in text and "党员考核情况" in text
        for name in ("李书记", "张三", "李四"):
            assert name in text
        assert "王五" not in text and "达标" in text and "还需自测4次" in text
        assert "验收标准" in text
