"""Kept closed: every socket event of every role, from one declared table, and a Hypothesis fuzz over them.

The matrix: each role connects as far as it may (its own join) and sends every client event with a
well-formed payload in the lobby; the expected ack code of every cell is declared in `MATRIX`. The fuzz
sends arbitrary and near-valid payloads to every event from every role: no exception escapes, every call
acks `{ok, …}`, and a refused call leaves the contest exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.extensions import db
from quizengine.models import Contest, Role
from quizengine.realtime import protocol
from quizengine.schemas.contest import COMMAND_ARGS
from quizengine.services import contest_join

from .conftest import login
from .test_contest_socket import NS, _client, _fresh_caches, _join, live  # noqa: F401  (fixtures)

#: The events a client may send, each with a well-formed payload (the lobby: nothing is playable yet).
EVENTS: dict[str, dict[str, Any]] = {
    protocol.COMMAND: {"name": "start", "version": 99, "args": {}},
    protocol.BUZZ: {"question": "c-1"},
    protocol.CHOOSE_RISK: {"value": 10},
    protocol.SUBMIT_ANSWER: {"question": "c-1", "response": "A"},
    protocol.DEVICE_HERE: {},
}

#: role -> (the join it attempts, its ack code, then the ack code of every event). "ok" means accepted.
MATRIX: dict[str, tuple[str, str, dict[str, str]]] = {
    "anonymous": ("host", "not_host", dict.fromkeys(EVENTS, "wrong_role")),
    "member": (
        "player",
        "ok",
        {**dict.fromkeys(EVENTS, "wrong_role"), protocol.SUBMIT_ANSWER: "wrong_phase"},
    ),
    "member_other_branch": (  # the PIN given in the room is the audience
        "player",
        "ok",
        {**dict.fromkeys(EVENTS, "wrong_role"), protocol.SUBMIT_ANSWER: "wrong_phase"},
    ),
    "member_as_host": ("host", "not_host", dict.fromkeys(EVENTS, "wrong_role")),
    "organizer_other_branch": ("host", "not_host", dict.fromkeys(EVENTS, "wrong_role")),
    "host_organizer": ("host", "ok", {**dict.fromkeys(EVENTS, "wrong_role"), protocol.COMMAND: "stale_version"}),
    "admin": ("host", "ok", {**dict.fromkeys(EVENTS, "wrong_role"), protocol.COMMAND: "stale_version"}),
    "team_device": (
        "team",
        "ok",
        {
            protocol.COMMAND: "wrong_role",
            protocol.BUZZ: "wrong_phase",
            protocol.CHOOSE_RISK: "wrong_phase",
            protocol.SUBMIT_ANSWER: "wrong_phase",
            protocol.DEVICE_HERE: "ok",
        },
    ),
    "projector": ("projector", "ok", dict.fromkeys(EVENTS, "wrong_role")),
}

LOGINS = {
    "member": "player1",
    "member_other_branch": "faraway",
    "member_as_host": "player1",
    "organizer_other_branch": "rival",
    "host_organizer": "host",
    "admin": "admin",
}


@pytest.fixture
def connect(app: Flask, live: Contest, session: Session, make_user) -> Callable[[str], tuple[Any, dict]]:  # type: ignore[no-untyped-def]  # noqa: F811
    """A socket connection joined as `role` (as far as that role may join), and its join ack."""
    make_user(username="faraway", branch="第二党支部")
    make_user(Role.ORGANIZER, username="rival", branch="第二党支部")
    make_user(Role.ADMIN, username="admin")
    team = session.scalar(select(Contest).where(Contest.id == live.id)).teams[0]

    logged_in: dict[str, Any] = {}

    def join(role: str) -> tuple[Any, dict]:
        if role not in logged_in:  # one login per role (the fuzz connects once per example)
            logged_in[role] = app.test_client()
            if role in LOGINS:
                login(logged_in[role], LOGINS[role])
        sio = _client(app, logged_in[role])
        kind = MATRIX[role][0]
        credentials = {
            "host": {"contest": live.id},
            "player": {"pin": live.pin, "team": "t1"},
            "team": {"contest": live.id, "code": team.join_secret},
            "projector": {"contest": live.id, "token": live.projector_token},
        }[kind]
        return sio, _join(sio, role=kind, **credentials)

    return join


def test_every_host_command_of_the_engine_has_an_args_schema() -> None:
    """A command the engine knows but the wire schema does not would be refused as unknown (and vice versa)."""
    from quizengine.modes.contest import HANDLERS as _HANDLERS
    from quizengine.modes.contest import Role as ContestRole

    assert set(COMMAND_ARGS) == {name for name, handler in _HANDLERS.items() if ContestRole.HOST in handler.roles}


def _code(ack: dict) -> str:
    return "ok" if ack["ok"] else ack["code"]


@pytest.mark.parametrize("role", list(MATRIX))
def test_socket_authorization_matrix(connect: Callable[[str], tuple[Any, dict]], role: str) -> None:
    _, join_code, expected = MATRIX[role]
    sio, ack = connect(role)
    assert _code(ack) == join_code
    got = {event: _code(sio.emit(event, payload, namespace=NS, callback=True)) for event, payload in EVENTS.items()}
    assert got == expected


# ---- fuzz --------------------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["nan", "inf", "-1e309", "²", "A", "t1", "c-1", "\x00", "x" * 600]),
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
_fields = st.sampled_from(
    [
        "name",
        "version",
        "args",
        "question",
        "response",
        "value",
        "team",
        "delta",
        "reason",
        "participant",
        "correct",
        "muted",
        "shown",
    ]
)
_near_valid_args = st.dictionaries(_fields, _json, max_size=4)
_command = st.fixed_dictionaries(
    {"name": st.sampled_from([*COMMAND_ARGS, "tick", "explode", ""]), "version": _json, "args": _near_valid_args}
)
_payload = st.one_of(_json, st.dictionaries(_fields, _json, max_size=4), _command)


def _snapshot(live_id: int) -> str:
    session = db.session()
    session.expire_all()
    contest = session.get(Contest, live_id)
    return json.dumps([contest.version, contest.state], sort_keys=True)


@pytest.mark.parametrize("role", ["anonymous", "member", "host_organizer", "team_device", "projector"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=st.sampled_from([protocol.JOIN, *EVENTS]), payload=_payload, bare=st.booleans())
def test_fuzz_every_event_acks_and_refusals_change_nothing(  # type: ignore[no-untyped-def]
    app: Flask,
    live: Contest,  # noqa: F811
    connect,
    role: str,
    event: str,
    payload: Any,
    bare: bool,
) -> None:
    contest_join.throttle.clear()  # the fuzz would otherwise spend the join allowance
    sio, _ = connect(role)
    with app.app_context():
        before = _snapshot(live.id)
    args = () if bare else (payload,)  # `bare`: an event with no payload at all
    ack = sio.emit(event, *args, namespace=NS, callback=True)
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
    if not ack["ok"]:
        assert ack["code"] and ack["message"]
        with app.app_context():
            assert _snapshot(live.id) == before
