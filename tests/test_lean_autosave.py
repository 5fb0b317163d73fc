"""The autosave's lean path (quizengine.web.autosave.LeanAutosave): it only ever says "saved", exactly as Flask
would; every other case reaches Flask's view unchanged."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, signals
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from quizengine.models import Attempt, User
from quizengine.services import exam_saves
from quizengine.services.attempt_items import paper_item
from quizengine.web.autosave import LeanAutosave
from quizengine.web.request_log import init_request_log

from . import test_exam_autosave, test_exams
from .test_exam_autosave import _answers, _single, statements

#: The fixtures these tests share with the autosave's own (a member who has opened an exam paper).
setting = test_exams.setting
taking = test_exam_autosave.taking


@pytest.fixture
def flask_saves(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the saves Flask's view answered (the rest were answered by the lean path)."""
    answered: list[int] = []
    view = app.view_functions["exams.save"]

    @functools.wraps(view)  # the same name and module: CSRFProtect's exemption still applies
    def counted(**kwargs: Any) -> Any:
        answered.append(kwargs["attempt_id"])
        return view(**kwargs)

    monkeypatch.setitem(app.view_functions, "exams.save", counted)
    return answered


def _saver(client: FlaskClient, url: str, token: str) -> Callable[..., Any]:
    def save(position: int, response: Any, **headers: str) -> Any:
        return client.post(
            url, json={"position": position, "response": response}, headers={"X-CSRFToken": token, **headers}
        )

    return save


def _hook_names(app: Flask) -> set[str]:
    hooks = [*app.before_request_funcs.get(None, []), *app.before_request_funcs.get("exams", [])]
    hooks += [*app.after_request_funcs.get(None, []), *app.after_request_funcs.get("exams", [])]
    hooks += [*app.teardown_request_funcs.get(None, []), *app.teardown_appcontext_funcs]
    hooks += app.url_value_preprocessors.get(None, []) + app.url_value_preprocessors.get("exams", [])
    return {getattr(hook, "__name__", repr(hook)) for hook in hooks}


def test_every_hook_flask_would_run_is_accounted_for(app: Flask) -> None:
    app.config["REQUEST_LOG"] = True
    init_request_log(app)  # a production app also logs
    assert _hook_names(app) == set(LeanAutosave.ACCOUNTED_HOOKS)
    for signal in (signals.request_started, signals.request_finished, signals.got_request_exception):
        assert not signal.receivers, f"{signal.name} has receivers the lean path does not call"


def test_a_warm_save_is_answered_lean_with_flasks_reply(  # type: ignore[no-untyped-def]
    app: Flask,
    client: FlaskClient,
    session: Session,
    taking,
    flask_saves: list[int],
) -> None:
    attempt, url, token = taking
    item = _single(attempt)
    save = _saver(client, url, token)
    first = save(item.position, "A")  # the token is not known yet: Flask checks it
    assert first.status_code == 200 and flask_saves == [attempt.id]
    with statements(app.extensions["quizengine_db"].engine) as seen:
        second = save(item.position, "B")
    assert flask_saves == [attempt.id] and len(seen) == 1  # lean: the one UPDATE, nothing else
    assert second.status_code == 200 and second.json["ok"] and second.json["position"] == item.position
    assert dict(second.headers) | {"Content-Length": "-"} == dict(first.headers) | {"Content-Length": "-"}
    assert set(second.json) == set(first.json) == {"ok", "position", "savedAt", "serverNow"}
    assert _answers(session, attempt.id)[item.position] == paper_item(item).option_order[1]


def test_refusals_after_a_warm_save_are_flasks(client: FlaskClient, session: Session, taking, flask_saves) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    save = _saver(client, url, token)
    assert save(item.position, "A").status_code == 200  # cookie and token known from here on
    bad_key = save(item.position, "Z")
    assert bad_key.status_code == 422 and "不存在" in bad_key.json["message"]
    missing = save(99, "A")
    assert missing.status_code == 404 and missing.json["message"] == "没有找到这道题"
    assert client.post(url, data="nonsense", headers={"X-CSRFToken": token}).status_code == 400
    assert client.post(url, json={"position": item.position, "response": "A"}).status_code == 400  # no token
    foreign = client.post(
        url.replace(f"/{attempt.id}/", f"/{attempt.id + 1000}/"),
        json={"position": item.position, "response": "A"},
        headers={"X-CSRFToken": token},
    )
    assert foreign.status_code == 404
    assert len(flask_saves) == 1 + 5  # every refusal was Flask's

    row = session.get(Attempt, attempt.id)
    row.deadline_at = datetime.now(UTC) - timedelta(seconds=31)
    session.commit()
    late = save(item.position, "C")
    assert late.status_code == 409 and "答题时间已到" in late.json["message"]  # the body reached Flask intact
    assert _answers(session, attempt.id)[item.position] == paper_item(item).option_order[0]


def test_account_changes_reach_the_next_save(client: FlaskClient, session: Session, taking, flask_saves) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    save = _saver(client, url, token)
    assert save(item.position, "A").status_code == 200 and save(item.position, "B").status_code == 200
    assert len(flask_saves) == 1
    member = session.get(User, attempt.user_id)
    member.session_epoch += 1  # logged out elsewhere / password changed: this session has ended
    session.commit()
    ended = save(item.position, "C")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"] and len(flask_saves) == 2
    assert _answers(session, attempt.id)[item.position] == paper_item(item).option_order[1]


def test_an_expired_session_is_not_taken_from_the_memo(
    app: Flask,
    client: FlaskClient,
    session: Session,
    taking,
    flask_saves,
) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    save = _saver(client, url, token)
    assert save(item.position, "A").status_code == 200
    app.permanent_session_lifetime = timedelta(seconds=-1)  # every cookie has expired
    expired = save(item.position, "B")
    assert expired.status_code in (302, 400, 401) and len(flask_saves) == 2
    assert _answers(session, attempt.id)[item.position] == paper_item(item).option_order[0]


def test_an_error_in_the_lean_save_leaves_it_to_flask(  # type: ignore[no-untyped-def]
    client: FlaskClient,
    session: Session,
    taking,
    flask_saves,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempt, url, token = taking
    item = _single(attempt)
    save = _saver(client, url, token)
    assert save(item.position, "A").status_code == 200

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(exam_saves, "save_cached", broken)
    again = save(item.position, "B")
    assert again.status_code == 200 and len(flask_saves) == 2  # Flask's path saved it
    assert _answers(session, attempt.id)[item.position] == paper_item(item).option_order[1]


def test_unusual_requests_go_to_flask(app: Flask, client: FlaskClient, taking, flask_saves) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    save = _saver(client, url, token)
    assert save(item.position, "A").status_code == 200
    app.config["MAX_CONTENT_LENGTH"] = 10
    assert save(item.position, "B").status_code == 413  # Flask's limit, Flask's answer
    app.config["MAX_CONTENT_LENGTH"] = None
    app.config["TRUSTED_HOSTS"] = ["exam.example"]
    assert save(item.position, "B").status_code == 400  # localhost is not a trusted host
    app.config["TRUSTED_HOSTS"] = None
    assert (
        client.post(
            url + "x", json={"position": item.position, "response": "A"}, headers={"X-CSRFToken": token}
        ).status_code
        == 404
    )
    assert len(flask_saves) == 2  # the body too large reached the view; the untrusted host and the 404 did not
    assert save(item.position, "B").status_code == 200 and len(flask_saves) == 2  # lean again


@pytest.fixture
def request_logging(app: Flask) -> None:
    """The app logs its requests, as in production (set up before the app's first request)."""
    app.config["REQUEST_LOG"] = True
    init_request_log(app)


def test_the_lean_path_logs_the_same_line(request_logging, client: FlaskClient, taking, flask_saves, caplog) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    item = _single(attempt)
    save = _saver(client, url, token)
    with caplog.at_level(logging.INFO, logger="quizengine.requests"):
        save(item.position, "A")
        save(item.position, "B")
    lines = [record.getMessage() for record in caplog.records if record.name == "quizengine.requests"]
    assert len(flask_saves) == 1 and len(lines) == 2
    for line in lines:
        assert line.startswith(f"POST '{url}' 200 ") and line.endswith(f"user={attempt.user_id}")
