"""The autosave hot path: one conditional UPDATE, every refusal unchanged, no mutable data from a cache."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from quizengine.config import load_config
from quizengine.extensions import Database, db
from quizengine.models import Attempt, AttemptItem, User
from quizengine.services import exam_access, exam_saves, exam_taking, passwords
from quizengine.services.access import NotAllowed
from quizengine.services.attempt_items import paper_item

from .conftest import csrf_token, login
from .test_exams import _now, _right, _spec, scheduled, setting  # noqa: F401  (setting is a fixture)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` inside the block (transaction control excluded)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _answers(session: Session, attempt_id: int) -> list[Any]:
    session.expire_all()
    return list(
        session.scalars(
            select(AttemptItem.response).where(AttemptItem.attempt_id == attempt_id).order_by(AttemptItem.position)
        )
    )


@pytest.fixture
def taking(client: FlaskClient, session: Session, setting):  # type: ignore[no-untyped-def]  # noqa: F811
    """m0 has started an exam and opened the paper (as the page does); returns (attempt, save url, token)."""
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, _now()))
    attempt = exam_taking.start_exam(session, member, exam.id)
    login(client, "m0")
    token = csrf_token(client, "/exams/")
    assert client.get(f"/exams/attempts/{attempt.id}").status_code == 200
    return attempt, f"/exams/attempts/{attempt.id}/answers", token


def _single(attempt: Attempt) -> AttemptItem:
    return next(item for item in attempt.items if item.revision.content["type"] == "single")


def test_a_save_is_one_conditional_update(app: Flask, client: FlaskClient, session: Session, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    with statements(db.engine) as seen:
        saved = client.post(url, json={"position": item.position, "response": "B"}, headers={"X-CSRFToken": token})
    assert saved.status_code == 200 and saved.json["ok"] and saved.json["position"] == item.position
    assert "Set-Cookie" not in saved.headers  # the session cookie is not signed again on every save
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("UPDATE ATTEMPT_ITEMS")
    assert _answers(session, attempt.id)[item.position] == paper_item(item).option_order[1]


def test_refusals_change_nothing(client: FlaskClient, session: Session, make_user, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    answer = {"position": item.position, "response": "A"}

    def post(body: Any = None, **kwargs: Any) -> Any:
        return client.post(url, json=answer if body is None else body, headers={"X-CSRFToken": token}, **kwargs)

    assert post({"position": "0"}).status_code == 400  # malformed: position not a number
    assert post({"position": True, "response": "A"}).status_code == 400
    assert post([item.position, "A"]).status_code == 400  # not an object
    assert client.post(url, data="nonsense", headers={"X-CSRFToken": token}).status_code == 400
    wrong_shape = post({"position": item.position, "response": ["A", "B"]})
    assert wrong_shape.status_code == 422 and wrong_shape.json["code"] == "invalid_response"
    bad_key = post({"position": item.position, "response": "Z"})
    assert bad_key.status_code == 422 and "不存在" in bad_key.json["message"]
    missing = post({"position": 99, "response": "A"})
    assert missing.status_code == 404 and missing.json["message"] == "没有找到这道题"
    assert client.post(url, json=answer).status_code == 400  # no CSRF token
    assert client.post(url, json=answer, headers={"X-CSRFToken": token[:-2] + "xx"}).status_code == 400
    assert client.post(url, json=answer, headers={"X-CSRF-Token": token}).status_code == 200  # Flask-WTF's other header
    client.post(url, json={"position": item.position, "response": None}, headers={"X-CSRFToken": token})
    assert _answers(session, attempt.id) == [None] * attempt.question_count

    login(client, "m1")  # another member's attempt: not found, whatever the answer's shape
    other_token = csrf_token(client, "/exams/")
    for body in (answer, {"position": item.position, "response": "Z"}):
        foreign = client.post(url, json=body, headers={"X-CSRFToken": other_token})
        assert foreign.status_code == 404 and foreign.json["message"] == "没有找到这道题"
    assert _answers(session, attempt.id) == [None] * attempt.question_count


def test_inactive_member_and_forced_password_change_are_refused(client: FlaskClient, session: Session, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    member = session.get(User, attempt.user_id)
    member.must_change_password = True
    session.commit()
    for body in ({"position": item.position, "response": "A"}, {"position": "x"}):
        forced = client.post(url, json=body, headers={"X-CSRFToken": token})
        assert forced.status_code == 302 and forced.headers["Location"].endswith("/account/password")
    member.must_change_password, member.active = False, False
    session.commit()
    for body in ({"position": item.position, "response": "A"}, {"position": "x"}):
        gone = client.post(url, json=body, headers={"X-CSRFToken": token})
        assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert _answers(session, attempt.id) == [None] * attempt.question_count
    anonymous = client.application.test_client()
    refused = anonymous.post(url, json={"position": item.position, "response": "A"})
    assert refused.status_code == 400  # no session at all: the CSRF check refuses first, as before
    assert _answers(session, attempt.id) == [None] * attempt.question_count


def test_submitted_elsewhere_between_two_saves_is_refused(client: FlaskClient, session: Session, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    first = client.post(url, json={"position": item.position, "response": "A"}, headers={"X-CSRFToken": token})
    assert first.status_code == 200  # the paper is cached in this process now
    exam_taking.submit_exam(session, session.get(User, attempt.user_id), attempt.id)  # another device submits
    second = client.post(url, json={"position": item.position, "response": "C"}, headers={"X-CSRFToken": token})
    assert second.status_code == 409 and "试卷已提交" in second.json["message"]
    assert _answers(session, attempt.id)[item.position] == paper_item(item).option_order[0]


def test_deadline_moved_in_the_database_is_seen_by_the_next_save(client: FlaskClient, session: Session, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    assert client.post(url, json={"position": item.position, "response": "A"}, headers={"X-CSRFToken": token}).json[
        "ok"
    ]
    row = session.get(Attempt, attempt.id)
    row.deadline_at = datetime.now(UTC) - timedelta(seconds=31)  # past deadline + the 30 s grace
    session.commit()
    late = client.post(url, json={"position": item.position, "response": "C"}, headers={"X-CSRFToken": token})
    assert late.status_code == 409 and "答题时间已到" in late.json["message"]
    session.expire_all()
    assert session.get(Attempt, attempt.id).status == "finished"  # finalized lazily, as before
    assert _answers(session, attempt.id)[item.position] == paper_item(item).option_order[0]


def test_within_grace_is_saved_and_a_blank_clears(client: FlaskClient, session: Session, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    row = session.get(Attempt, attempt.id)
    row.deadline_at = datetime.now(UTC) - timedelta(seconds=20)  # within the 30 s grace
    session.commit()
    saved = client.post(url, json={"position": item.position, "response": "A"}, headers={"X-CSRFToken": token})
    assert saved.status_code == 200
    cleared = client.post(url, json={"position": item.position, "response": None}, headers={"X-CSRFToken": token})
    assert cleared.status_code == 200
    session.expire_all()
    stored = session.scalar(select(AttemptItem).where(AttemptItem.id == item.id))
    assert stored.response is None and stored.answered_at is None


def test_paper_page_loads_items_eagerly_and_parses_once(client: FlaskClient, session: Session, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, _url, _token = taking
    with statements(db.engine) as seen:
        page = client.get(f"/exams/attempts/{attempt.id}")
    assert page.status_code == 200 and 'id="exam-state"' in page.get_data(as_text=True)
    assert len(seen) == 3, seen  # the user, the attempt with its exam, the items with their questions
    assert not any(
        re.search(r"question_revisions\.content\b", sql) for sql in seen
    )  # parsed questions come from the cache


def test_papers_draw_least_used_questions_first(session: Session, setting, fake_clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    organizer, members = setting
    blueprint = {"sections": [{"types": ["judge"], "count": 2, "points": 5}]}  # 6 judge questions in the bank
    drawn = []
    for number in range(3):  # 3 monthly exams × 2 questions: every judge question asked once
        spec = _spec(session, fake_clock, blueprint=blueprint, pass_mark=5, title=f"第{number + 1}次")
        exam = scheduled(session, organizer, spec)
        attempt = exam_taking.start_exam(session, members[0], exam.id, clock=fake_clock, rng=random.Random(7))
        drawn += [item.question_id for item in attempt.items]
    assert len(set(drawn)) == 6


def test_service_refuses_with_the_same_errors(session: Session, setting, fake_clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    organizer, (member, other, _) = setting
    exam = scheduled(session, organizer, _spec(session, fake_clock))
    attempt = exam_taking.start_exam(session, member, exam.id, clock=fake_clock)
    item = _single(attempt)
    with pytest.raises(NotAllowed, match="没有找到这道题"):
        exam_saves.save_answer(session, other.id, attempt.id, item.position, "A", clock=fake_clock)
    member.active = False
    session.commit()
    with pytest.raises(exam_access.NotSignedIn):
        exam_saves.save_answer(session, member.id, attempt.id, item.position, "A", clock=fake_clock)
    member.active, member.must_change_password = True, True
    session.commit()
    with pytest.raises(exam_access.PasswordChangeRequired):
        exam_saves.save_answer(session, member.id, attempt.id, item.position, "A", clock=fake_clock)
    member.must_change_password = False
    session.commit()
    exam_saves.save_answer(session, member.id, attempt.id, item.position, _right(item), clock=fake_clock)
    assert _answers(session, attempt.id)[item.position] == item.revision.content["answer"]


def test_password_hashing_runs_in_gevents_thread_pool_when_patched(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real = passwords._hasher

    class Recording:
        def hash(self, password: str) -> str:
            threads.append(threading.get_ident())
            return real.hash(password)

        def verify(self, password_hash: str, password: str) -> bool:
            threads.append(threading.get_ident())
            return real.verify(password_hash, password)

    monkeypatch.setattr(passwords, "_hasher", Recording())
    hashed = passwords.hash_password("horse-battery-42")  # not monkey-patched: in this thread
    assert threads == [threading.get_ident()]
    monkeypatch.setattr(passwords.monkey, "is_module_patched", lambda name: True)
    assert passwords.verify_password(hashed, "horse-battery-42")
    assert not passwords.verify_password(hashed, "wrong")
    assert len(threads) == 3 and threads[1] != threading.get_ident()


def test_pool_settings_are_read_from_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    environ = {
        "QUIZENGINE_DB_POOL_SIZE": "4",
        "QUIZENGINE_DB_MAX_OVERFLOW": "6",
        "QUIZENGINE_DB_POOL_TIMEOUT": "12.5",
        "DATABASE_URL": "postgresql+psycopg://quiz@127.0.0.1:1/nowhere",  # never connected to here
    }
    config = load_config({"INSTANCE_PATH": tmp_path, "SECRET_KEY": "x"}, environ=environ)
    assert (config["DB_POOL_SIZE"], config["DB_MAX_OVERFLOW"], config["DB_POOL_TIMEOUT"]) == (4, 6, 12.5)
    defaults = load_config({"INSTANCE_PATH": tmp_path, "SECRET_KEY": "x"}, environ={})
    assert (defaults["DB_POOL_SIZE"], defaults["DB_MAX_OVERFLOW"], defaults["DB_POOL_TIMEOUT"]) == (10, 10, 60.0)
    flask_app = Flask("pool-check")
    flask_app.config.update(config)
    database = Database()  # not the app's: the shared one stays bound to the test database
    database.init_app(flask_app)
    assert database.engine is not None
    pool = database.engine.pool
    assert (pool.size(), pool._max_overflow, pool._timeout) == (4, 6, 12.5)  # type: ignore[attr-defined]
    database.engine.dispose()


def test_forced_password_change_still_guards_every_other_page(client: FlaskClient, session: Session, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, _url, _token = taking
    member = session.get(User, attempt.user_id)
    member.must_change_password = True
    session.commit()
    page = client.get(f"/exams/attempts/{attempt.id}")
    assert page.status_code == 302 and page.headers["Location"].startswith("/account/password?next=")


def test_https_saves_need_a_same_site_referrer(client: FlaskClient, session: Session, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    body = {"position": item.position, "response": "A"}

    def post(**headers: str) -> Any:
        return client.post(url, json=body, base_url="https://localhost", headers={"X-CSRFToken": token, **headers})

    assert post().status_code == 400  # no referrer, as Flask-WTF's CSRFProtect refuses over HTTPS
    assert post(Referer="https://elsewhere.example/exams/").status_code == 400
    assert _answers(session, attempt.id) == [None] * attempt.question_count
    assert post(Referer=f"https://localhost/exams/attempts/{attempt.id}").status_code == 200


def test_a_submit_waits_for_a_save_in_flight_on_postgresql(app: Flask, session: Session, setting) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The save reads the attempt FOR SHARE: the submit's claim cannot commit between that save and its grading."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks matter with concurrent writers: PostgreSQL only (set QUIZENGINE_TEST_DATABASE_URL)")
    organizer, (member, *_) = setting
    exam = scheduled(session, organizer, _spec(session, _now()))
    attempt = exam_taking.start_exam(session, member, exam.id)
    item = _single(attempt)
    params = {
        "b_item": item.id,
        "b_attempt": attempt.id,
        "b_user": member.id,
        "b_cutoff": datetime.now(UTC) - timedelta(seconds=30),
        "b_response": "A",
        "b_answered_at": datetime.now(UTC),
    }
    claim = "UPDATE attempts SET status = 'finished' WHERE id = :id AND status = 'open'"
    with db.engine.connect() as saving, db.engine.connect() as submitting:
        assert saving.execute(exam_saves._SAVE, params).rowcount == 1  # in flight: not committed yet
        submitting.exec_driver_sql("SET lock_timeout = '300ms'")
        with pytest.raises(OperationalError, match="lock timeout"):
            submitting.execute(text(claim), {"id": attempt.id})
        submitting.rollback()
        saving.commit()
        assert submitting.execute(text(claim), {"id": attempt.id}).rowcount == 1  # after the save, it goes on
        submitting.commit()
