"""Every HTTP input bounded and typed: body size (413), field sizes, ids in URLs, numbers in forms, JSON depth.

Each refusal is a clear Chinese 4xx and stores nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.config import load_config
from quizengine.models import Attempt, AttemptItem, Exam
from quizengine.schemas.answers import ANSWER_TEXT_MAX

from . import test_exam_autosave, test_exams
from .conftest import csrf_token, login
from .test_exam_autosave import _answers
from .test_exams import _now

setting, taking = test_exams.setting, test_exam_autosave.taking  # fixtures, shared


def _short(attempt: Attempt) -> AttemptItem:
    return next(item for item in attempt.items if item.revision.content["type"] == "short")


def test_a_50_mb_short_answer_is_refused_with_a_413_and_nothing_is_stored(
    client: FlaskClient, session: Session, taking
) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _short(attempt)
    huge = client.post(
        url,
        json={"position": item.position, "response": "长" * (50 * 1024 * 1024 // 3)},
        headers={"X-CSRFToken": token},
    )
    assert huge.status_code == 413 and huge.json["ok"] is False and "大小限制" in huge.json["message"]
    too_long = client.post(
        url, json={"position": item.position, "response": "字" * (ANSWER_TEXT_MAX + 1)}, headers={"X-CSRFToken": token}
    )
    assert too_long.status_code == 400 and f"最多 {ANSWER_TEXT_MAX} 字" in too_long.json["message"]
    assert _answers(session, attempt.id) == [None] * attempt.question_count
    fits = client.post(
        url, json={"position": item.position, "response": "字" * ANSWER_TEXT_MAX}, headers={"X-CSRFToken": token}
    )
    assert fits.status_code == 200


def test_the_413_page_is_styled_and_chinese(client: FlaskClient) -> None:
    page = client.post("/login", data={"username": "x" * (7 * 1024 * 1024)})
    assert page.status_code == 413 and "内容过大" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "body",
    [
        {"position": 2**63, "response": "A"},  # a huge position
        {"position": -1, "response": "A"},
        {"position": 1.5, "response": "A"},
        {"position": "1", "response": "A"},
        {"position": 0, "response": [["A"]]},  # nested where a flat list is expected
        {"position": 0, "response": {"A": 1}},
        {"position": 0, "response": "A", "extra": 1},
    ],
)
def test_malformed_autosave_bodies_are_400_json(client: FlaskClient, session: Session, taking, body: Any) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    refused = client.post(url, json=body, headers={"X-CSRFToken": token})
    assert refused.status_code == 400 and refused.json["ok"] is False and refused.json["message"]
    assert _answers(session, attempt.id) == [None] * attempt.question_count


def test_json_nested_thousands_deep_is_refused_before_decoding(client: FlaskClient, session: Session, taking) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    for depth in (1_000, 100_000):
        body = '{"position": 0, "response": ' + "[" * depth + "]" * depth + "}"
        refused = client.post(url, data=body, content_type="application/json", headers={"X-CSRFToken": token})
        assert refused.status_code == 400 and "嵌套过深" in refused.json["message"]
    assert _answers(session, attempt.id) == [None] * attempt.question_count


@pytest.mark.parametrize("number", [str(2**63), "9" * 40, "2147483648"])
def test_huge_ids_in_urls_are_404_even_anonymous(client: FlaskClient, number: str) -> None:
    for path in (f"/contests/{number}/team", f"/contests/{number}/join.svg", f"/exams/attempts/{number}"):
        assert client.get(path).status_code in {404, 302}, path  # 302: log in first, never a 500
    assert client.get(f"/contests/{number}/team").status_code == 404


def test_huge_ids_are_404_for_a_member_too(client: FlaskClient, setting) -> None:  # type: ignore[no-untyped-def]
    login(client, "m0")
    for path in (f"/exams/attempts/{2**63}", f"/practice/{2**64}", f"/record/{10**30}", "/practice/%C2%B2"):
        assert client.get(path).status_code == 404, path


def _exam_form(token: str, branch_id: int, **changes: str) -> dict[str, str]:
    now = _now().now()
    form = {
        "csrf_token": token,
        "title": "限值测试",
        "branch": str(branch_id),
        "opens_at": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "30",
        "s0_type": "single",
        "s0_count": "3",
        "s0_points": "2",
        "pass_mark": "3",
        "review_policy": "after_close",
        "multiple_policy": "all_or_nothing",
    }
    form.update(changes)
    return form


@pytest.mark.parametrize(
    "changes",
    [
        {"s0_count": "²"},  # a Unicode digit
        {"s0_count": "9" * 30},
        {"s0_points": "nan"},
        {"s0_points": "inf"},
        {"pass_mark": "1e999"},
        {"duration_minutes": "三十"},
        {"attempts_allowed": str(2**63)},
        {"branch": "99999999999999999999"},
        {"title": "长" * 500},
    ],
)
def test_bad_numbers_and_sizes_in_the_exam_form_are_refused(
    client: FlaskClient,
    session: Session,
    setting,
    changes: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    organizer, _ = setting
    login(client, "org")
    token = csrf_token(client, "/exams/new")
    assert client.post("/exams/new", data=_exam_form(token, organizer.branch_id)).status_code == 302  # the baseline
    before = session.scalar(select(func.count()).select_from(Exam))
    page = client.post("/exams/new", data=_exam_form(token, organizer.branch_id, **changes))
    assert page.status_code == 400 and "输入有误" in page.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Exam)) == before


def test_practice_answer_position_must_be_a_plain_number(client: FlaskClient, setting) -> None:  # type: ignore[no-untyped-def]
    login(client, "m0")
    token = csrf_token(client, "/practice/")
    started = client.post("/practice/start", data={"csrf_token": token, "kind": "custom", "count": "5"})
    attempt_url = started.headers["Location"]
    for position in ("²", str(2**63), "-1", ""):
        answered = client.post(f"{attempt_url}/answer", data={"csrf_token": token, "position": position, "choice": "A"})
        assert answered.status_code == 400 and "position" in answered.get_data(as_text=True)
    long_text = client.post(
        f"{attempt_url}/answer", data={"csrf_token": token, "position": "0", "type": "short", "text": "字" * 5000}
    )
    assert long_text.status_code == 400 and "答案过长" in long_text.get_data(as_text=True)


def test_request_size_limit_is_configurable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert load_config({"INSTANCE_PATH": tmp_path}, environ={})["MAX_CONTENT_LENGTH"] == 6 * 1024 * 1024
    settings = load_config({"INSTANCE_PATH": tmp_path}, environ={"QUIZENGINE_MAX_CONTENT_LENGTH": "1048576"})
    assert settings["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_socket_messages_are_capped_by_engine_io(client: FlaskClient) -> None:
    """Engine.IO drops a message larger than SOCKET_MAX_MESSAGE_BYTES before any handler parses it."""
    from quizengine.extensions import socketio

    assert socketio.server.eio.max_http_buffer_size == client.application.config["SOCKET_MAX_MESSAGE_BYTES"] == 65536
