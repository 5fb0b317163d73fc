"""学习计划 for members: this week's topic leads the home page with what to read (原文 excerpts) and a topic
practice drawn from its chapters; progress counts the member's finished topic sessions; past topics stay open;
topics that have not started cannot be practised; weeks turn at Monday 00:00 Beijing time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.study_plan import monday_of
from quizengine.engine.timing import FakeClock
from quizengine.models import Attempt, Role
from quizengine.services import practice, study_plans
from quizengine.services.study_plans import StudyPlanError

from .conftest import csrf_token, login
from .test_summaries import _any

BANK = """\
bank: zhangcheng
title: 党章题库
categories:
  - {id: ch1, title: 第一章 党员}
  - {id: ch2, title: 第二章 组织制度}
questions:
"""


def _bank(folder: Path) -> Path:
    lines = [BANK]
    for chapter in ("ch1", "ch2"):
        for n in range(6):
            quote = f", quote: {chapter}原文{n}" if n < 4 else ""
            lines.append(
                f"  - {{id: {chapter}-{n}, type: judge, category: {chapter}, stem: {chapter}判断{n}, answer: true,"
                f" explanation: 第{n}题的解析, reference: 党章{chapter}{quote}}}\n"
            )
    path = folder / "zhangcheng.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _plan(folder: Path, start: date) -> None:
    (folder / "plans").mkdir(exist_ok=True)
    (folder / "plans" / "jihua.yaml").write_text(
        f"""\
version: 1
title: 测试学习计划
start: {start.isoformat()}
study_day: {{weekday: 3, time: "15:00"}}
practice_count: 5
topics:
  - title: 学党章第一章
    read:
      - {{bank: zhangcheng, chapters: [ch1]}}
  - title: 学党章第二章
    read:
      - {{bank: zhangcheng, chapters: [ch2]}}
  - title: 通读党章
    read:
      - {{bank: zhangcheng}}
""",
        encoding="utf-8",
    )


# Wednesday 2026-12-09 10:00 in Beijing: week 2 of a plan that started on Monday 2026-11-30.
NOW = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)
START = date(2026, 11, 30)


@pytest.fixture
def member(app: Flask, session: Session, runner: FlaskCliRunner, make_user):  # type: ignore[no-untyped-def]
    banks = Path(app.config["BANKS_PATH"])
    assert runner.invoke(args=["banks", "load", str(_bank(banks))]).exit_code == 0
    _plan(banks, START)
    return make_user(Role.MEMBER, username="m1", name="甲")


def _plans(app: Flask):  # type: ignore[no-untyped-def]
    return study_plans.load_plans(Path(app.config["BANKS_PATH"]))


def test_this_week_reading_practice_and_progress(app: Flask, session: Session, member) -> None:  # type: ignore[no-untyped-def]
    clock, plans = FakeClock(NOW), _plans(app)
    day = study_plans.today(clock)
    [view] = study_plans.current_topics(session, member, plans, day)
    assert view.topic.title == "学党章第二章" and view.study_day == date(2026, 12, 9)
    [chapter] = view.reading
    assert (chapter.bank_title, chapter.chapter_title) == ("党章题库", "第二章 组织制度")
    assert [e.text for e in chapter.excerpts] == ["ch2原文0", "ch2原文1", "ch2原文2"]  # the first three
    assert view.progress.sessions == 0

    attempt = study_plans.start_topic_practice(session, member, plans, "jihua", "2", clock=clock)
    assert attempt.mode == "self_test" and attempt.question_count == 5
    assert attempt.title == "专题练习 · 学党章第二章" and attempt.study_topic == "jihua#2"
    assert {item.question.category for item in attempt.items} == {"ch2"}
    for item in attempt.items:
        practice.answer_item(session, member, attempt.id, item.position, _any(item), clock=clock)
    practice.finish_attempt(session, member, attempt.id, clock=clock)
    # an ordinary self-test of the same chapters does not count as the topic's practice
    other = practice.start_practice(session, member, practice.PracticeRequest("random", (), (), count=5), clock=clock)
    practice.finish_attempt(session, member, other.id, clock=clock)

    [view] = study_plans.current_topics(session, member, plans, day)
    assert (view.progress.sessions, view.progress.answered, view.progress.correct) == (1, 5, 5)
    [past] = study_plans.past_topics(session, member, plans, day)
    assert past.topic.title == "学党章第一章" and past.progress.sessions == 0


def test_a_whole_bank_topic_draws_from_every_chapter(app: Flask, session: Session, member) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(NOW + timedelta(weeks=1))
    attempt = study_plans.start_topic_practice(session, member, _plans(app), "jihua", "3", clock=clock)
    assert attempt.question_count == 5
    assert {item.question.bank.slug for item in attempt.items} == {"zhangcheng"}


def test_future_and_unknown_topics_are_refused(app: Flask, session: Session, member) -> None:  # type: ignore[no-untyped-def]
    clock, plans = FakeClock(NOW), _plans(app)
    with pytest.raises(StudyPlanError, match="从 2026-12-14 开始，还不能练习"):
        study_plans.start_topic_practice(session, member, plans, "jihua", "3", clock=clock)
    with pytest.raises(StudyPlanError, match="没有找到该专题"):
        study_plans.start_topic_practice(session, member, plans, "jihua", "9", clock=clock)
    with pytest.raises(StudyPlanError, match="没有找到该专题"):
        study_plans.start_topic_practice(session, member, plans, "nope", "1", clock=clock)
    assert session.scalar(select(func.count()).select_from(Attempt)) == 0


def test_the_week_turns_at_monday_midnight_in_beijing(app: Flask, session: Session, member) -> None:  # type: ignore[no-untyped-def]
    plans = _plans(app)
    sunday_late = datetime(2026, 12, 6, 15, 59, tzinfo=UTC)  # Sunday 23:59 in Beijing, already Monday nowhere
    monday = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # Monday 00:00 in Beijing, still Sunday in UTC
    [before] = study_plans.current_topics(session, member, plans, study_plans.today(FakeClock(sunday_late)))
    [after] = study_plans.current_topics(session, member, plans, study_plans.today(FakeClock(monday)))
    assert (before.topic.number, after.topic.number) == (1, 2)


def test_a_broken_plan_file_leaves_the_home_page_working(app: Flask, client: FlaskClient, member) -> None:  # type: ignore[no-untyped-def]
    (Path(app.config["BANKS_PATH"]) / "plans" / "jihua.yaml").write_text("version: [\n", encoding="utf-8")
    login(client, "m1")
    page = client.get("/")
    assert page.status_code == 200 and "本周专题" not in page.get_data(as_text=True)
    assert client.get("/study/").status_code == 200


def test_pages_home_topic_and_start(app: Flask, client: FlaskClient, session: Session, member, make_user) -> None:  # type: ignore[no-untyped-def]
    # the pages use the real clock: a plan whose second week is this week
    _plan(Path(app.config["BANKS_PATH"]), monday_of(study_plans.today()) - timedelta(weeks=1))
    login(client, "m1")
    home = client.get("/").get_data(as_text=True)
    assert "本周专题" in home and "学党章第二章" in home and "专题练习（5题）" in home and "学习日每周三 15:00" in home
    topic = client.get("/study/jihua/2").get_data(as_text=True)
    assert "ch2原文0" in topic and "——党章ch2" in topic and "第二章 组织制度" in topic
    index = client.get("/study/").get_data(as_text=True)
    assert "已学专题" in index and "学党章第一章" in index and "后续专题" in index and "通读党章" in index
    assert client.get("/study/jihua/3").status_code == 404  # not started yet
    assert client.get("/study/jihua/99").status_code == 404
    started = client.post("/study/jihua/2/practice", data={"csrf_token": csrf_token(client)})
    assert "/practice/" in started.headers["Location"]
    refused = client.post("/study/jihua/3/practice", data={"csrf_token": csrf_token(client)}, follow_redirects=True)
    assert "还不能练习" in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Attempt)) == 1

    make_user(Role.INSPECTOR, username="insp", branch=None)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, "insp")
    assert client.get("/study/jihua/2").status_code == 200
    assert client.post("/study/jihua/2/practice", data={"csrf_token": csrf_token(client)}).status_code == 403
