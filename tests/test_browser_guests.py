"""An open event on a phone: a guest scans the QR code, types a name, picks a team and is in the contest."""

from __future__ import annotations

from pathlib import Path

import pytest

from quizengine import create_app
from quizengine.banks.contest_plan import load_plan
from quizengine.extensions import db
from quizengine.models import Role
from quizengine.services.accounts import create_user
from quizengine.services.contest_setup import create_contest
from quizengine.services.setup import first_run

from .browser import PHONE, ROOT, chromium, live_server, needs_browser, scrolls_sideways, shot

pytestmark = [pytest.mark.slow, needs_browser]


def _open_event(instance: Path) -> str:
    app = create_app({"INSTANCE_PATH": instance, "BANKS_PATH": ROOT / "question_banks"})
    with app.app_context():
        first_run(app.config)
        session = db.session()
        host, _ = create_user(
            session,
            username="shuji",
            name="李书记",
            role=Role.ORGANIZER,
            password="guest-test-2026",
            branch_name="第一党支部",
        )
        plan = load_plan(ROOT / "question_banks" / "contests" / "standard.yaml").plan
        pin = create_contest(session, host, plan, allow_guests=True).pin
    db.engine.dispose()
    return pin


def test_a_guest_joins_an_open_event_by_name_on_a_phone(tmp_path: Path) -> None:
    pin = _open_event(tmp_path / "instance")
    with live_server(tmp_path / "instance", ROOT / "question_banks") as server, chromium() as browser:
        page = browser.new_page(viewport=PHONE, device_scale_factor=2)
        page.goto(f"{server.url}/contests/play?pin={pin}")
        page.locator("#join:not([hidden])").wait_for()
        assert "请填写姓名" in page.locator("#state-line").inner_text()
        page.locator(".team-pick-btn").first.click()
        assert page.locator("#notice").inner_text() == "请先填写姓名"  # nobody joins nameless
        page.fill("#guest-name", "张三")
        shot(page, "contest-guest-01-join")
        page.locator(".team-pick-btn").first.click()
        page.locator("#join[hidden]").wait_for(state="attached")
        assert not scrolls_sideways(page), "scrolls sideways"
        credential = page.evaluate(f"localStorage.getItem('quizengine-contest-{pin}-guest')")
        assert credential and credential.startswith("g")
        page.reload()  # the phone comes back as the same guest, without typing the name again
        page.locator("#join[hidden]").wait_for(state="attached")
        page.wait_for_function("() => document.getElementById('conn').textContent.includes('已连接')")
        shot(page, "contest-guest-02-joined")
        assert page.evaluate(f"localStorage.getItem('quizengine-contest-{pin}-guest')") == credential
