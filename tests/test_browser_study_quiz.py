"""Browser test (issue #16 item 3): the study day's 小问答. A member's phone shows this week's topic; the secretary
starts the 小问答 from the same card in one click and lands on the host console; the projector shows the join QR
code; two members' phones (separate contexts, 390×844) open the link the QR code carries, answer every question,
and the leaderboard, podium and phones rank them one by one; the branch's study day then counts both as present
and the secretary adds a member who came without a phone. Screenshots are saved to look at.
"""

from __future__ import annotations

import io
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import segno

from quizengine import create_app
from quizengine.engine.study_plan import monday_of
from quizengine.extensions import db
from quizengine.models import Role
from quizengine.services import study_plans
from quizengine.services.accounts import create_user
from quizengine.services.setup import first_run

from .browser import DESKTOP, PHONE, chromium, live_server, needs_browser, scrolls_sideways, shot
from .test_browser_contest import Screens, _login, _phase
from .test_study_topics import _bank, _plan

pytestmark = [pytest.mark.slow, needs_browser]

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Dang-Jian-2026-xue"
PROJECTOR = {"width": 1920, "height": 1080}
#: (username, name): the secretary, two members with phones, one without.
PEOPLE = [("shuji", "李书记"), ("zhangsan", "张三"), ("lisi", "李四"), ("wangwu", "王五")]


def _seed(instance: Path, banks: Path) -> None:
    banks.mkdir()
    _bank(banks)
    _plan(banks, monday_of(study_plans.today()) - timedelta(weeks=1))  # the second topic (ch2) is this week's
    (banks / "contests").mkdir()
    shutil.copy(ROOT / "question_banks" / "contests" / "xiaowenda.yaml", banks / "contests" / "xiaowenda.yaml")
    app = create_app({"INSTANCE_PATH": instance, "BANKS_PATH": banks})
    with app.app_context():
        first_run(app.config)
        session = db.session()
        for username, name in PEOPLE:
            role = Role.ORGANIZER if username == "shuji" else Role.MEMBER
            create_user(session, username=username, name=name, role=role, password=PASSWORD, branch_name="第一党支部")
        session.commit()
    db.engine.dispose()


def _answer(phone, right: bool) -> None:  # type: ignore[no-untyped-def]
    """Every question of the topic is a judge question whose answer is 对 (true)."""
    phone.locator("#answers [data-key='{}']".format("true" if right else "false")).click()
    phone.locator("#sent").wait_for()


def test_the_study_day_quiz_from_the_topic_to_the_attendance(tmp_path: Path) -> None:
    instance, banks = tmp_path / "instance", tmp_path / "banks"
    _seed(instance, banks)
    with live_server(instance, banks) as server, chromium() as browser:
        screens = Screens(browser)
        member = _login(screens.open(PHONE, scale=2), server.url, "zhangsan", PASSWORD)
        card = member.locator(".this-week")
        assert "学党章第二章" in card.inner_text() and "开展学习日小问答" not in card.inner_text()
        shot(member, "study-quiz-01-member-home-phone")

        # ---- the secretary starts it from this week's topic, in one click ----------------------------------
        host = _login(screens.open(DESKTOP), server.url, "shuji", PASSWORD)
        host.locator(".this-week").get_by_role("button", name="开展学习日小问答").click()
        host.wait_for_url(re.compile(r".*/contests/\d+/host$"))
        _phase(host, "lobby")
        assert "小问答 · 学党章第二章" in host.locator(".host-title").inner_text()
        assert host.locator("#team-qr").is_hidden() and host.locator(".host-adjust").is_hidden()
        contest_url = host.url
        # a second click on the card reopens the same console (no second quiz)
        host.goto(server.url + "/")
        host.locator(".this-week").get_by_role("button", name="开展学习日小问答").click()
        host.wait_for_url(contest_url)
        assert "已为您重新打开主持台" in host.locator("#host-flash").inner_text()
        _phase(host, "lobby")

        projector = screens.open(PROJECTOR)
        projector.goto(server.url + (host.locator("#projector-link").get_attribute("href") or ""))
        _phase(projector, "lobby", "#proj")
        projector.wait_for_function("() => (document.querySelector('.lobby-qr img') || {}).naturalWidth > 0")
        pin = host.locator("#pin").inner_text().strip()
        link = (
            projector.locator(".lobby-url").inner_text().removeprefix("或打开 ").removesuffix(" 输入竞赛码")
            + f"?pin={pin}"
        )
        # the QR code on the projector carries exactly this link (the server draws it with segno)
        served = projector.request.get(
            server.url + (projector.locator(".lobby-qr img").get_attribute("src") or "")
        ).body()
        buffer = io.BytesIO()
        segno.make(link, error="m").save(buffer, kind="svg", scale=8, border=2, dark="#222", light="#fff")
        assert served == buffer.getvalue()

        # ---- two phones open the QR link (the room's address), each its own device, and sign in there ----
        phones = {}
        for username, name in PEOPLE[1:3]:
            phone = screens.open(PHONE, scale=2)
            phone.goto(link)
            phone.fill("#username", username)
            phone.fill("#password", PASSWORD)
            phone.get_by_role("button", name="登录").click()
            phone.wait_for_url(link)  # back to the quiz, as themselves
            phone.wait_for_function("() => document.getElementById('conn').textContent.includes('已连接')")
            phone.locator("#team-line", has_text="个人赛").wait_for()
            phones[name] = phone
        projector.locator("#lobby-players", has_text="已有 2 人加入").wait_for()
        assert set(projector.locator("#lobby-names").inner_text().split("、")) == {"张三", "李四"}
        shot(projector, "study-quiz-02-projector-lobby-qr", full_page=False)
        shot(phones["李四"], "study-quiz-03-phone-joined")
        host.locator("#players-count", has_text="2").wait_for()
        shot(host, "study-quiz-04-host-lobby")

        # ---- six questions: 张三 always right, 李四 right on the first two ----------------------------------
        host.keyboard.press(" ")  # 开始比赛
        _phase(host, "round_intro")
        assert "按个人累计得分排名" in projector.locator(".card-rules").inner_text()
        for number in range(6):
            host.keyboard.press(" ")  # the question; answering opens after the read time
            _phase(host, "answering")
            for name, phone in phones.items():
                phone.locator("#answers").wait_for()
                _answer(phone, name == "张三" or number < 2)
            if number == 0:
                shot(phones["张三"], "study-quiz-05-phone-answered")
            host.locator("#count-number", has_text="2").wait_for()
            host.keyboard.press(" ")  # lock
            _phase(host, "locked")
            host.keyboard.press(" ")  # reveal
            _phase(host, "revealed")
        phones["李四"].locator("#result", has_text="回答错误").wait_for()
        shot(phones["李四"], "study-quiz-06-phone-revealed")
        host.locator("#host-leaders li").first.wait_for()
        assert [_text(li) for li in host.locator("#host-leaders li").all()] == [
            "第 1 名 张三 60 分",
            "第 2 名 李四 20 分",
        ]
        host.keyboard.press(" ")  # the scoreboard: the individual leaderboard, no teams
        _phase(projector, "scoreboard", "#proj")
        rows = projector.locator("#leaderboard .leader-row")
        assert [_text(row) for row in rows.all()] == ["1 张三 60", "2 李四 20"]
        assert projector.locator(".rank-list").count() == 0 and projector.locator("#band .band-team").count() == 0
        shot(projector, "study-quiz-07-projector-leaderboard", full_page=False)

        host.keyboard.press(" ")  # 结束比赛: no 加赛 in a 个人赛
        _phase(host, "finished")
        for _ in range(3):  # second place, first place, the full table
            before = host.evaluate("() => document.body.dataset.version")
            host.keyboard.press(" ")
            host.wait_for_function("(v) => document.body.dataset.version !== v", arg=before)
        projector.locator("#podium.is-done").wait_for()
        assert [_text(name) for name in projector.locator(".podium-name").all()] == [
            "李四",
            "张三",
        ]  # 2, 1 on the podium
        shot(projector, "study-quiz-08-projector-podium", full_page=False)
        phones["张三"].locator("#final-place", has_text="第 1 名").wait_for()
        phones["李四"].locator("#final-place", has_text="第 2 名").wait_for()
        shot(phones["张三"], "study-quiz-09-phone-final")
        assert [_text(row) for row in host.locator("#host-ranking tbody tr").all()] == [
            "第 1 名 张三 60",
            "第 2 名 李四 20",
        ]
        assert host.locator("#host-leaders").count() == 0  # the final table replaces the running standing
        shot(host, "study-quiz-10-host-final")

        # ---- the study day: both present; the secretary adds 王五, who came without a phone ------------
        secretary = _login(screens.open(PHONE, scale=2), server.url, "shuji", PASSWORD)
        secretary.goto(server.url + "/study/")
        secretary.get_by_role("link", name="本支部学习日与出勤").click()
        row = secretary.locator("tr", has_text="学党章第二章")
        assert "2/4" in row.inner_text() and "已结束 · 成绩" in row.inner_text()
        row.get_by_role("link", name="记录出勤").click()
        assert secretary.locator("label", has_text="已参加小问答").count() == 2
        secretary.get_by_label("王五").check()
        shot(secretary, "study-quiz-11-attendance-phone")
        secretary.get_by_role("button", name="保存出勤").click()
        row = secretary.locator("tr", has_text="学党章第二章")
        assert "3/4" in row.inner_text()
        assert not scrolls_sideways(secretary), "scrolls sideways"
        shot(secretary, "study-quiz-12-branch-study-days-phone")
        assert not screens.errors, screens.errors


def _text(locator) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", locator.inner_text()).strip()
