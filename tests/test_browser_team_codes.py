"""Team devices in the browser: the host console's team QR codes, the printable A4 sheet (one team per
page), and two devices of the same team joining from the team's link, both staying connected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .browser import PHONE, chromium, live_server, needs_browser, shot
from .test_browser_contest import HOST, ORGANIZER_PASSWORD, Screens, _login, _phase, _write_banks

pytestmark = [pytest.mark.slow, needs_browser]


def test_team_qr_codes_on_the_console_and_the_printed_sheet_and_two_devices_per_team(tmp_path: Path) -> None:
    _write_banks(tmp_path / "banks")
    with live_server(tmp_path / "instance", tmp_path / "banks") as server, chromium() as browser:
        args = ["users", "create", "shuji", "--name", "张书记", "--role", "organizer", "--branch", "第一党支部"]
        server.cli(*args, "--password", ORGANIZER_PASSWORD)
        screens = Screens(browser)
        host = _login(screens.open(HOST), server.url, "shuji", ORGANIZER_PASSWORD)
        host.goto(server.url + "/contests/")
        host.select_option("#plan", "test-plan.yaml")
        host.get_by_role("button", name="创建竞赛").click()
        host.wait_for_url(re.compile(r".*/contests/\d+/host$"))
        _phase(host, "lobby")
        host.locator("#team-qr summary").click()
        host.wait_for_function(
            "() => [...document.querySelectorAll('#team-qr img')].every(img => img.naturalWidth > 0)"
        )
        assert host.locator("#team-qr li").count() == 3
        host.locator("#team-qr").scroll_into_view_if_needed()
        shot(host, "contest-team-qr-console")
        # the team's device link in the console's table carries the team secret, not the short code
        link = host.locator("#teams tr[data-team='t1'] a.otp-cell").get_attribute("href")
        assert link and re.search(r"code=[\w-]{22,}", link)

        with host.expect_popup() as popup:
            host.get_by_role("link", name="打印各队二维码").click()
        sheet = popup.value
        sheet.wait_for_function(
            "() => [...document.querySelectorAll('.team-code-card img')].every(i => i.naturalWidth > 0)"
        )
        assert sheet.locator(".team-code-card").count() == 3
        sheet.emulate_media(media="print")
        breaks = sheet.eval_on_selector_all(
            ".team-code-card", "cards => cards.map(c => getComputedStyle(c).breakAfter)"
        )
        assert breaks == ["page", "page", "auto"]
        assert sheet.locator(".team-codes-bar").is_hidden()
        shot(sheet, "contest-team-codes-print")

        devices = []
        for _ in range(2):  # two devices of the same team, each from the team's link
            page = screens.open(PHONE, scale=2)
            page.goto(server.url + link if link.startswith("/") else link)
            page.wait_for_selector("#my-team")
            devices.append(page)
        for page in devices:
            assert "第一组" in page.locator("#team-line").inner_text()
        devices[0].reload()  # the first device re-attaches with its own token after the second joined
        devices[0].wait_for_selector("#my-team")
        assert "第一组" in devices[0].locator("#team-line").inner_text()
        host.wait_for_selector("#teams tr[data-team='t1'] [data-device='online']")
        assert not screens.errors, screens.errors
