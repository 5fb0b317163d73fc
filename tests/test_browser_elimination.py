"""Browser test: 一站到底 (elimination) with players on their phones, on the real server, in one Chromium.

The organizer creates a contest from a plan with one 一站到底 round (players in turn, 20 points to the
winner); a projector (1920×1080) and three members' phones (390×844) join. 李红 answers right, 王强 and
张三 answer wrong and go out: the projector shows who is still standing after every reveal, each phone
shows whose turn it is (only the phone on turn gets answer buttons), and 李红 wins the round.

Screenshots: elimination-*.png (tests/screenshots/). No frame to the projector or a phone carried the
answer before its reveal; no page had a script or console error.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from quizengine.banks.loader import load_banks

from .browser import PHONE, ROOT, chromium, live_server, needs_browser, shot
from .test_browser_contest import (
    AUTOPLAY_POLICY,
    HOST,
    PROJECTOR,
    Frames,
    Screens,
    _assert_no_answer_before_reveal,
    _fits,
    _key,
    _login,
    _phase,
    _press,
    _squash,
)

pytestmark = [pytest.mark.slow, needs_browser]

ORGANIZER_PASSWORD = "Hong-Qi-Piao-2026"
MEMBER_PASSWORD = "Zhi-Bu-Xue-Xi-2026"
#: (username, name, team): they answer in this order, the order they join in.
MEMBERS = (("lihong", "李红", "t1"), ("wangqiang", "王强", "t2"), ("zhangsan", "张三", "t1"))
IDS = ["dz-zonggang-001", "dz-ch1-023", "dz-ch3-001", "dz-ch7-005"]
#: Spare questions: every contest keeps five ready for a 加赛, whatever its tie-break.
SPARE = ["dz-ch11-002", "dz-ch6-004", "dz-ch10-004", "dz-ch9-005", "dz-ch5-004"]

PLAN = f"""\
title: 一站到底挑战赛
teams:
  - {{name: 第一组, color: '#c0392b'}}
  - {{name: 第二组, color: '#2471a3'}}
prizes: 2
tie_break: time
rounds:
  - kind: elimination
    title: 个人一站到底
    contestants: players
    win_points: 20
    source: {{ids: [{", ".join(IDS)}]}}
    read_seconds: 60
    answer_seconds: 60
"""


def _write_banks(folder: Path) -> dict:  # type: ignore[type-arg]
    source = yaml.safe_load((ROOT / "question_banks" / "dangzhang-2022.yaml").read_text(encoding="utf-8"))
    by_id = {question["id"]: question for question in source["questions"]}
    questions = [by_id[question_id] for question_id in IDS + SPARE]
    used = {question.get("category") for question in questions}
    bank = {
        "bank": "elimination-test",
        "title": "一站到底测试题库",
        "source": source["source"],
        "categories": [category for category in source["categories"] if category["id"] in used],
        "questions": questions,
    }
    folder.mkdir()
    (folder / "elimination-test.yaml").write_text(yaml.safe_dump(bank, allow_unicode=True), encoding="utf-8")
    (folder / "contests").mkdir()
    (folder / "contests" / "elimination.yaml").write_text(PLAN, encoding="utf-8")
    return {_squash(question.stem): question for bank in load_banks([folder]) for question in bank.questions}


def test_players_answer_in_turn_and_the_projector_shows_who_is_standing(tmp_path: Path) -> None:
    questions = _write_banks(tmp_path / "banks")
    with live_server(tmp_path / "instance", tmp_path / "banks") as server, ThreadPoolExecutor(3) as pool:

        def create(username: str, name: str, role: str, password: str) -> str:
            args = ["users", "create", username, "--name", name, "--role", role, "--branch", "第一党支部"]
            return server.cli(*args, "--password", password)

        create("shuji", "张书记", "organizer", ORGANIZER_PASSWORD)
        members = [pool.submit(create, user, name, "member", MEMBER_PASSWORD) for user, name, _ in MEMBERS]
        with chromium() as browser:
            screens = Screens(browser)
            host = _login(screens.open(HOST), server.url, "shuji", ORGANIZER_PASSWORD)
            host.goto(server.url + "/contests/")
            host.select_option("#plan", "elimination.yaml")
            host.get_by_role("button", name="创建竞赛").click()
            host.wait_for_url(re.compile(r".*/contests/\d+/host$"))
            _phase(host, "lobby")
            index = host.context.new_page()
            index.goto(server.url + "/contests/")
            projector_url = server.url + index.get_by_role("link", name="大屏链接").get_attribute("href")
            pin = index.locator("td.otp-cell").first.inner_text().strip()
            index.close()

            projector = screens.open(PROJECTOR)
            projector.add_init_script(AUTOPLAY_POLICY)
            frames = {"大屏": Frames(projector)}
            projector.goto(projector_url)
            _phase(projector, "lobby", "#proj")
            projector.wait_for_selector("#sound-prompt:not([hidden])")
            projector.locator("#sound-prompt").click()

            phones = {}
            for done, (user, name, team) in zip(members, MEMBERS, strict=True):
                done.result()
                phone = _login(screens.open(PHONE, scale=2), server.url, user, MEMBER_PASSWORD)
                frames[name] = Frames(phone)
                phone.goto(f"{server.url}/contests/play?pin={pin}")
                phone.locator(f"[data-team={team}]").click()
                phone.wait_for_selector("#my-team")
                phones[name] = phone
            projector.wait_for_selector("#lobby-players:text('已有 3 名队员加入')")
            lihong, wangqiang, zhangsan = phones["李红"], phones["王强"], phones["张三"]

            # the title card names the contestants
            _press(host, "Space", "round_intro")
            _phase(projector, "round_intro", "#proj")
            assert projector.locator(".card-label").inner_text() == "一站到底"
            assert "最后留在场上的队员（或4题后仍在场上的）各得20分" in projector.locator(".card-rules").inner_text()
            projector.wait_for_selector("#standing .standing-entry >> nth=2")
            assert _names(projector) == ["李红", "王强", "张三"]
            assert projector.locator("#standing-left").inner_text() == "3 / 3"
            shot(projector, "elimination-01-projector-title-card")
            _fits(projector)

            # question 1: 李红's turn, right
            _press(host, "Space", "reading")
            _phase(lihong, "reading", "#dev")
            assert lihong.locator("#sub-line").inner_text() == "轮到你作答，请读题"
            _phase(wangqiang, "reading", "#dev")  # every screen is read once it shows the phase: they update apart
            assert "本题由李红（第一组）作答" in wangqiang.locator("#sub-line").inner_text()
            assert "李红（第一组） 作答" in host.locator("#turn-line").inner_text()
            _press(host, "o", "answering")
            _phase(lihong, "answering", "#dev")
            _phase(wangqiang, "answering", "#dev")
            _phase(zhangsan, "answering", "#dev")
            assert lihong.locator("#state-line").inner_text() == "请作答"
            assert wangqiang.locator("#answers").count() == 0 and zhangsan.locator("#answers").count() == 0
            projector.wait_for_selector("#turn:text('李红（第一组） 作答')")
            shot(lihong, "elimination-02-phone-my-turn")
            shot(wangqiang, "elimination-03-phone-waiting")
            shot(projector, "elimination-04-projector-question")
            _fits(projector)
            _answer(lihong, questions, right=True)
            _phase(host, "locked")
            _press(host, "Space", "revealed")

            # question 2: 王强's turn, wrong: he is out
            _press(host, "Space", "reading")
            _press(host, "o", "answering")
            _phase(wangqiang, "answering", "#dev")
            _answer(wangqiang, questions, right=False)
            _phase(host, "locked")
            _press(host, "Space", "revealed")
            projector.wait_for_selector("#standing-left:text('2 / 3')")
            assert projector.locator(".standing-entry.is-out .standing-name").inner_text() == "王强"
            wangqiang.wait_for_selector("#state-line:text('已出局')")
            assert "回答错误" in wangqiang.locator("#result").inner_text()
            shot(projector, "elimination-05-projector-one-out")
            shot(wangqiang, "elimination-06-phone-out")

            # question 3: 张三's turn (王强 is skipped), wrong: 李红 is the last one standing
            _press(host, "Space", "reading")
            assert "张三（第一组） 作答" in host.locator("#turn-line").inner_text()
            _press(host, "o", "answering")
            _phase(zhangsan, "answering", "#dev")
            _answer(zhangsan, questions, right=False)
            _phase(host, "locked")
            _press(host, "Space", "revealed")
            projector.wait_for_selector("#standing .standing-title:text('一站到底胜出')")
            assert projector.locator(".standing-entry.is-won .standing-name").inner_text() == "李红"
            assert projector.locator(".band-team[data-team=t1] .band-score").inner_text() == "120"
            lihong.wait_for_selector(".standing-entry.is-mine.is-won")
            shot(projector, "elimination-07-projector-winner")
            shot(lihong, "elimination-08-phone-winner")
            _fits(projector)
            _press(host, "Space", "scoreboard")  # decided: no fourth question
            shot(host, "elimination-09-host-scoreboard")

            for name, recorded in frames.items():
                _assert_no_answer_before_reveal(name, recorded)
            assert not screens.errors, screens.errors


def _names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [entry.inner_text() for entry in page.locator("#standing .standing-name").all()]


def _answer(phone, questions, right: bool) -> None:  # type: ignore[no-untyped-def]
    question = questions[_squash(phone.locator(".dev-stem").inner_text())]
    phone.locator(f"#answers [data-key='{_key(question, right)}']").click()
    phone.wait_for_selector("#state-line:text('已提交'), #state-line:text('已锁定')")
