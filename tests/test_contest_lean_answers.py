"""Players' answers taken without Flask's request context (realtime.contest.install_lean_answers): the same
acks and rows as through Flask-SocketIO, every other sender still through it, no database session left over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.extensions import db
from quizengine.models import Contest, ContestAnswer
from quizengine.realtime import protocol

from . import test_contest_socket
from .test_contest_socket import NS, _open_everyone_question

#: The contest socket tests' fixtures: a live contest with a host and two members who may play.
live = test_contest_socket.live
_fresh_caches = test_contest_socket._fresh_caches


@pytest.fixture
def contexts(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The request contexts Flask made for Socket.IO events (by the event's path: always the socket's)."""
    made: list[str] = []
    real: Callable[..., Any] = app.request_context

    def counted(environ: dict[str, Any]) -> Any:
        made.append(environ.get("PATH_INFO", ""))
        return real(environ)

    monkeypatch.setattr(app, "request_context", counted)
    return made


def _answer(sio: Any, *payload: Any) -> dict[str, Any]:
    return sio.emit(protocol.SUBMIT_ANSWER, *payload, namespace=NS, callback=True)  # type: ignore[no-any-return]


def _stored(session: Session, live: Contest) -> int:
    return session.scalar(select(func.count(ContestAnswer.id)).where(ContestAnswer.contest_id == live.id)) or 0


def test_a_players_answer_is_stored_without_a_request_context(
    app: Flask, live: Contest, session: Session, contexts: list[str]
) -> None:
    _, (first, second), question = _open_everyone_question(app, live, session)
    contexts.clear()
    acks = [_answer(sio, {"question": question, "response": "A"}) for sio in (first, second)]
    assert all(ack["ok"] and ack["question"] == question and ack["response"] == "A" for ack in acks)
    assert all(isinstance(ack["at_ms"], int) and isinstance(ack["server_now"], int) for ack in acks)
    assert contexts == [] and _stored(session, live) == 2
    assert not db.session.registry.has()  # the batch writer's session was removed, as Flask's teardown does
    again = _answer(first, {"question": question, "response": "B"})
    assert again["ok"] is False and again["code"] == "duplicate" and _stored(session, live) == 2


def test_bad_payloads_are_refused_as_through_flask(
    app: Flask, live: Contest, session: Session, contexts: list[str]
) -> None:
    _, (first, _second), question = _open_everyone_question(app, live, session)
    contexts.clear()
    for payload in ((), ({"question": question, "response": "A"}, "extra"), ("A",), ({"question": question},)):
        refused = _answer(first, *payload)
        assert refused["ok"] is False and refused["code"] == "bad_input" and refused["message"], payload
    wrong = _answer(first, {"question": "not-this-one", "response": "A"})
    assert wrong["ok"] is False and wrong["code"] != "bad_input"  # the machine's refusal, as before
    assert contexts == [] and _stored(session, live) == 0


def test_other_senders_still_go_through_flask(app: Flask, live: Contest, session: Session, contexts: list[str]) -> None:
    _, _players, question = _open_everyone_question(app, live, session)
    stranger = test_contest_socket._client(app)  # connected, never joined: no identity
    contexts.clear()
    refused = _answer(stranger, {"question": question, "response": "A"})
    assert refused["ok"] is False and refused["code"] == "wrong_role" and len(contexts) == 1
    assert _stored(session, live) == 0
