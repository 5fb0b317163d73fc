"""Browser test (issue #16): with a study plan whose second topic is this week, a member's phone shows 本周专题 and
starts its practice; the secretary records the study day's attendance on a phone; the committee's 通报 prints on
A4 through Chromium's PDF output with the branches ranked and the missed study day named. Screenshots are saved
to look at.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from quizengine import create_app
from quizengine.engine.study_plan import monday_of
from quizengine.extensions import db
from quizengine.models import Role
from quizengine.services import study_plans
from quizengine.services.accounts import create_user
from quizengine.services.setup import first_run

from .browser import DESKTOP, PHONE, chromium, live_server, needs_browser, shot
from .test_browser_reports import A4_POINTS, _login, _plain
from .test_study_topics import _bank, _plan

pytestmark = [pytest.mark.slow, needs_browser]

PASSWORD = "Dang-Jian-2026-xue"


def _seed(instance: Path, banks: Path) -> None:
    banks.mkdir()
    _bank(banks)
    # the second topic is this week's: the first one's study day (a Wednesday) has passed
    _plan(banks, monday_of(study_plans.today()) - timedelta(weeks=1))
    app = create_app({"INSTANCE_PATH": instance, "BANKS_PATH": banks})
    with app.app_context():
        first_run(app.config)  # migrate, load the banks folder
        session = db.session()
        for username, name, role, branch in [
            ("guanli", "党委管理员", Role.ADMIN, None),
            ("shuji", "李书记", Role.ORGANIZER, "第一党支部"),
            ("zhangsan", "张三", Role.MEMBER, "第一党支部"),
            ("lisi", "李四", Role.MEMBER, "第一党支部"),
            ("wangwu", "王五", Role.MEMBER, "第二党支部"),
        ]:
            create_user(session, username=username, name=name, role=role, password=PASSWORD, branch_name=branch)
        session.commit()
    db.engine.dispose()


def test_this_week_attendance_and_the_bulletin(tmp_path: Path) -> None:
    from pypdf import PdfReader

    instance, banks = tmp_path / "instance", tmp_path / "banks"
    _seed(instance, banks)
    with live_server(instance, banks) as server, chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        _login(page, server.url, "zhangsan")
        card = page.locator(".this-week")
        assert "学党章第二章" in card.inner_text() and "学习日每周三 15:00" in card.inner_text()
        shot(page, "study-01-member-home-phone")
        page.get_by_role("link", name="读原文摘录").click()
        assert "ch2原文0" in page.locator("blockquote.quote").first.inner_text()
        shot(page, "study-02-topic-phone")
        page.get_by_role("button", name="专题练习（5题）").click()
        page.wait_for_url("**/practice/**")
        assert "专题练习 · 学党章第二章" in page.content()
        page.context.close()

        page = browser.new_page(viewport=PHONE)
        _login(page, server.url, "shuji")
        page.goto(server.url + "/study/")
        page.get_by_role("link", name="本支部学习日与出勤").click()
        assert page.locator("tr.is-missing").count() == 2  # neither study day recorded yet
        page.locator("tr", has_text="学党章第一章").get_by_role("link", name="记录出勤").click()
        page.get_by_label("张三").check()
        page.get_by_label("李四").check()
        shot(page, "study-03-attendance-phone")
        page.get_by_role("button", name="保存出勤").click()
        row = page.locator("tr", has_text="学党章第一章")
        assert "3/3" not in row.inner_text() and "2/3" in row.inner_text()
        shot(page, "study-04-branch-study-days-phone")
        page.context.close()

        page = browser.new_page(viewport=DESKTOP)
        _login(page, server.url, "guanli")
        page.goto(server.url + "/study/check/")
        ranking = page.locator("#study-check tbody tr")
        assert "第一党支部" in ranking.nth(0).inner_text() and "第二党支部" in ranking.nth(1).inner_text()
        assert "is-missing" in (ranking.nth(1).get_attribute("class") or "")
        shot(page, "study-05-check")
        page.get_by_role("link", name="打印通报").click()
        page.wait_for_function("() => document.documentElement.dataset.reportReady === '1'")
        page.emulate_media(media="print")
        shot(page, "study-06-bulletin-print")
        reader = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True, print_background=True)))
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == A4_POINTS
        text = "".join(_plain(p.extract_text()) for p in reader.pages)
        assert "各支部学习日开展情况的通报" in text and "各支部排名" in text
        assert "未按计划开展学习日的支部" in text and "第二党支部:学党章第一章" in text  # NFKC: full-width colon
