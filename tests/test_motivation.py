"""Self-test that motivates: the summary's points, today's points against the cap, the streak, the next practice;
the daily goal on the home page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quizengine.config import load_config
from quizengine.engine.timing import FakeClock
from quizengine.models import Bank, QuestionProgress, User
from quizengine.modes.self_test import PracticeKind
from quizengine.services import practice

from .conftest import csrf_token, login


def _bank(tmp_path: Path) -> Path:
    """Two chapters of six 判断题 each; every answer is 对 (true)."""
    lines = ["bank: goals", "title: 党章题库", "categories:", "  - {id: c1, title: 总纲}", "  - {id: c2, title: 党员}"]
    lines.append("questions:")
    for chapter in ("c1", "c2"):
        lines += [
            f"  - {{id: {chapter}-{n}, type: judge, category: {chapter}, stem: {chapter}题{n}, answer: true}}"
            for n in range(6)
        ]
    path = tmp_path / "goals.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def bank(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> Bank:
    assert runner.invoke(args=["banks", "load", str(_bank(tmp_path))]).exit_code == 0
    return session.scalar(select(Bank).where(Bank.slug == "goals"))


@pytest.fixture
def member(client: FlaskClient, make_user) -> User:  # type: ignore[no-untyped-def]
    user = make_user(username="lihong")
    login(client, "lihong")
    return user


def _practise(client: FlaskClient, bank: Bank, chapter: str, right: int, wrong: int = 0) -> str:
    """One 5-question chapter session through the pages, `right` answers right; returns the summary page."""
    token = csrf_token(client, "/practice/")
    started = client.post(
        "/practice/start", data={"csrf_token": token, "kind": "custom", "count": "5", "chapter": f"{bank.id}:{chapter}"}
    )
    assert started.status_code == 302, started.get_data(as_text=True)
    attempt_url = started.headers["Location"]
    for position in range(right + wrong):
        choice = "true" if position < right else "false"
        saved = client.post(
            f"{attempt_url}/answer",
            data={"csrf_token": token, "position": str(position), "type": "judge", "choice": choice},
        )
        assert saved.status_code == 302
    page = client.get(f"{attempt_url}/summary")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _stat(page: str, box: str) -> str:
    match = re.search(rf'id="{box}"><span class="stat-value num">([^<]*)</span>', page)
    assert match, f"no {box} on the page"
    return match.group(1)


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_summary_shows_points_earned_today_against_the_cap_and_the_streak(
    client: FlaskClient, bank: Bank, member: User
) -> None:
    page = _practise(client, bank, "c1", right=4, wrong=1)
    assert _stat(page, "earned") == "+9"  # 4 correct × 1 + 5 for the finished session
    assert _stat(page, "today-points") == "9/50"
    assert _stat(page, "streak") == "1"
    assert "今日目标 10 题：已答 5 题，还差 5 题" in _text(page)
    assert '<progress class="goal-bar" id="daily-goal" max="10" value="5">' in page

    second = _practise(client, bank, "c2", right=5)
    assert _stat(second, "earned") == "+10" and _stat(second, "today-points") == "19/50"
    assert "今日目标 10 题：已答 10 题，目标完成！" in _text(second)


def test_the_daily_cap_limits_what_a_session_earns(app: Flask, client: FlaskClient, bank: Bank, member: User) -> None:
    app.config["POINTS_DAILY_CAP"] = 12
    assert _stat(_practise(client, bank, "c1", right=5), "earned") == "+10"
    capped = _practise(client, bank, "c2", right=5)
    assert _stat(capped, "earned") == "+2" and _stat(capped, "today-points") == "12/12"
    assert "今日积分已达上限" in capped


def test_the_streak_counts_the_days_before_today(
    client: FlaskClient, session: Session, bank: Bank, member: User
) -> None:
    for days_ago in (2, 1):
        clock = FakeClock(datetime.now(UTC) - timedelta(days=days_ago))
        request = practice.PracticeRequest(PracticeKind.RANDOM, (bank.id,), count=5)
        attempt = practice.start_practice(session, member, request, clock=clock)
        practice.answer_item(session, member, attempt.id, 0, "true", clock=clock)
    page = _practise(client, bank, "c1", right=5)
    assert _stat(page, "streak") == "3"
    assert _stat(page, "today-points") == "10/50"  # earlier days do not count today


def test_reviews_due_suggest_smart_practice(client: FlaskClient, session: Session, bank: Bank, member: User) -> None:
    _practise(client, bank, "c1", right=3, wrong=2)
    session.execute(
        update(QuestionProgress)
        .where(QuestionProgress.user_id == member.id, QuestionProgress.in_wrong_book.is_(True))
        .values(due_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "建议下一步： 智能练习" in _text(page) and "有 2 道题到了复习时间" in page
    assert '<input type="hidden" name="kind" value="smart">' in page and 'name="chapter"' not in page


def test_without_due_reviews_the_weakest_chapter_is_suggested(client: FlaskClient, bank: Bank, member: User) -> None:
    _practise(client, bank, "c1", right=3, wrong=2)  # 60 %: weak (no review is due for ten minutes)
    page = _practise(client, bank, "c2", right=4, wrong=1)  # 80 %: not weak
    assert "建议下一步： 薄弱章节：党章题库 · 总纲" in _text(page) and "这一章正确率 60%" in page
    assert '<input type="hidden" name="kind" value="custom">' in page
    assert f'<input type="hidden" name="chapter" value="{bank.id}:c1">' in page
    started = client.post(
        "/practice/start",
        data=dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.split('id="next-practice"')[1])
        ),
    )
    assert started.status_code == 302 and "/practice/" in started.headers["Location"]  # the suggestion starts


def test_nothing_weak_or_due_suggests_new_questions(client: FlaskClient, bank: Bank, member: User) -> None:
    page = _practise(client, bank, "c1", right=5)
    assert "建议下一步： 智能练习" in _text(page) and "学几道还没做过的新题" in page


def test_the_home_page_shows_the_daily_goal_to_a_signed_in_member_only(
    app: Flask, client: FlaskClient, bank: Bank, member: User
) -> None:
    app.config["DAILY_GOAL"] = 20
    _practise(client, bank, "c1", right=5)
    home = client.get("/").get_data(as_text=True)
    assert "今日目标 20 题：已答 5 题，还差 15 题" in _text(home)
    assert '<progress class="goal-bar" id="daily-goal" max="20" value="5">' in home
    assert _stat(home, "today-points") == "10/50" and 'id="earned"' not in home
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert "今日目标" not in client.get("/").get_data(as_text=True)


def test_the_daily_goal_is_configured_from_the_environment(tmp_path: Path) -> None:
    assert load_config({"INSTANCE_PATH": tmp_path}, environ={})["DAILY_GOAL"] == 10
    assert load_config({"INSTANCE_PATH": tmp_path}, environ={"QUIZENGINE_DAILY_GOAL": "20"})["DAILY_GOAL"] == 20
