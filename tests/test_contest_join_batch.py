"""A member's player join reads the member's row itself (not the whole account through Flask-Login) and shares
its reads and its commit with the joins that arrive with it: the same decisions as before — a deactivated
account, an old session epoch, a 督导, a wrong PIN, a removed member, a finished contest — each join's own
refusal inside a batch, and an ack only once the join's row is committed."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from quizengine.extensions import db
from quizengine.models import Contest, ContestPlayer, Role, User
from quizengine.modes.contest import ContestError
from quizengine.services import contest_commands, contest_join, contest_member_joins
from quizengine.services.accounts import bump_session_epoch

from .conftest import csrf_token, login
from .test_contest_socket import (  # noqa: F401  (fixtures)
    NS,
    _client,
    _command,
    _fresh_caches,
    _join,
    _player_client,
    _seat,
    live,
)


@pytest.fixture(autouse=True)
def _fresh_throttle() -> None:
    contest_join.throttle.clear()


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def _logged_in_phone(app: Flask, username: str):  # type: ignore[no-untyped-def]
    http = app.test_client()
    login(http, username)
    return _client(app, http)


def _rows(session: Session, contest: Contest) -> list[tuple[str, str]]:
    session.expire_all()
    query = select(ContestPlayer.player, ContestPlayer.team).where(ContestPlayer.contest_id == contest.id)
    return sorted(tuple(row) for row in session.execute(query))  # type: ignore[misc]


def test_a_deactivated_account_or_an_old_session_is_refused_at_the_next_join(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
) -> None:
    phone = _logged_in_phone(app, "player1")
    other = _logged_in_phone(app, "player2")
    user = _user(session, "player1")
    user.active = False
    bump_session_epoch(session, _user(session, "player2"))
    session.commit()
    for sio in (phone, other):
        refused = _join(sio, pin=live.pin, role="player", team="t1")
        assert (refused["ok"], refused["code"]) == (False, "login_required")
    # at an open event such a phone is a guest like any other (the usual path decides): a name is asked for
    live.allow_guests = True
    session.commit()
    assert _join(phone, pin=live.pin, role="player", team="t1")["code"] == "name_required"
    assert _rows(session, live) == []
    user.active = True  # reactivated: the same connection's next join is a member's again
    session.commit()
    ack = _join(phone, pin=live.pin, role="player", team="t2")
    assert ack["ok"] and ack["view"]["me"]["player"] == str(user.id)
    assert _rows(session, live) == [(str(user.id), "t2")]


def test_a_deactivated_member_who_had_joined_is_refused_too(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
) -> None:
    phone, ack = _player_client(app, live, "player1", "t1")
    assert ack["ok"]  # in this process's player cache from now on
    user = _user(session, "player1")
    user.active = False
    session.commit()
    assert _join(phone, pin=live.pin, role="player", team="t1")["code"] == "login_required"


def test_an_inspector_a_wrong_pin_and_an_unknown_contest_are_refused_as_before(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
    make_user,
) -> None:
    make_user(Role.INSPECTOR, username="inspector")
    inspector = _logged_in_phone(app, "inspector")
    assert _join(inspector, pin=live.pin, role="player", team="t1")["code"] == "read_only"
    phone = _logged_in_phone(app, "player1")
    assert _join(phone, contest=live.id, pin="000000x", role="player", team="t1")["code"] == "bad_pin"
    assert _join(phone, contest=live.id + 99, pin=live.pin, role="player", team="t1")["code"] == "not_found"
    assert _join(phone, pin="nope", role="player", team="t1")["code"] == "not_found"
    assert _rows(session, live) == []


def test_a_finished_contest_takes_no_new_player_but_gives_a_joined_one_their_row(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
) -> None:
    host, _, _ = _seat(app, live, session)
    _, ack = _player_client(app, live, "player1", "t1")
    assert ack["ok"]
    assert _command(host, "start", 0)["ok"]
    http = app.test_client()
    login(http, "host")
    ended = {"csrf_token": csrf_token(http, "/contests/"), "action": "archive"}  # ends it early, then archives
    assert http.post(f"/contests/{live.id}/archive", data=ended).status_code == 302
    contest_commands._player_cache.clear()  # as a worker that has not seen player1
    _, back = _player_client(app, live, "player1", "t3")
    assert back["ok"] and back["view"]["me"]["team"] == "t1"
    _, late = _player_client(app, live, "player2", "t2")
    assert (late["ok"], late["code"]) == (False, "wrong_phase")
    assert _rows(session, live) == [(str(_user(session, "player1").id), "t1")]


def _pending(live: Contest, user: User, team: str = "t1", **data: Any) -> contest_member_joins._PendingJoin:  # noqa: F811
    payload = {"pin": live.pin, "role": "player", "team": team, **data}
    return contest_member_joins._PendingJoin(payload, user.id, user.session_epoch)


def test_joins_refused_inside_a_batch_are_refused_alone(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
    make_user,
) -> None:
    users = {name: make_user(username=name) for name in ("good1", "good2", "badpin", "badteam", "gone", "twice")}
    users["gone"].active = False
    session.commit()
    batch = [
        _pending(live, users["good1"], "t1"),
        _pending(live, users["badpin"], "t1", contest=live.id, pin="999999"),
        _pending(live, users["badteam"], "t9"),
        _pending(live, users["gone"], "t1"),
        _pending(live, users["twice"], "t2"),
        _pending(live, users["twice"], "t3"),  # a second phone in the same batch
        _pending(live, users["good2"], "t4"),
    ]
    with app.app_context():
        contest_member_joins._joins.write_batch(db.session, batch)
        db.session.remove()
    outcome = [(p.error.code if p.error else None, p.usual, p.new) for p in batch]
    assert outcome == [
        (None, False, True),
        ("bad_pin", False, False),
        ("bad_team", False, False),
        (None, True, False),  # the usual path refuses (or takes as a guest) a deactivated account
        (None, False, True),
        (None, True, False),  # after the batch, on the usual path: it meets the row just stored
        (None, False, True),
    ]
    assert all(p.done.is_set() for p in batch)
    ids = {name: str(user.id) for name, user in users.items()}
    assert _rows(session, live) == sorted([(ids["good1"], "t1"), (ids["twice"], "t2"), (ids["good2"], "t4")])


def test_a_row_stored_meanwhile_is_taken_and_the_rest_of_the_batch_is_stored(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
    make_user,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another worker stores one of the batch's players between the batch's read and its insert."""
    first, second = make_user(username="first"), make_user(username="second")
    new_rows = contest_member_joins._new_rows

    def racing(*args: Any) -> Any:
        rows = new_rows(*args)
        session.execute(
            insert(ContestPlayer),
            [{"contest_id": live.id, "player": str(second.id), "user_id": second.id, "team": "t4", "joined_seq": 0}],
        )
        session.commit()
        return rows

    monkeypatch.setattr(contest_member_joins, "_new_rows", racing)
    batch = [_pending(live, first, "t1"), _pending(live, second, "t2")]
    with app.app_context():
        contest_member_joins._joins.write_batch(db.session, batch)
        db.session.remove()
    assert [(p.error, p.new, p.info and p.info["team"]) for p in batch] == [(None, True, "t1"), (None, False, "t4")]
    assert _rows(session, live) == sorted([(str(first.id), "t1"), (str(second.id), "t4")])


@pytest.mark.parametrize("rollback_fails", [False, True])
def test_a_batch_the_database_fails_is_refused_and_nothing_is_cached(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
    make_user,
    monkeypatch: pytest.MonkeyPatch,
    rollback_fails: bool,
) -> None:
    users = [make_user(username=f"m{n}") for n in range(3)]
    batch = [_pending(live, user) for user in users]
    with app.app_context():
        failing = db.session()

        def commit() -> None:
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

        monkeypatch.setattr(failing, "commit", commit)
        if rollback_fails:  # the connection is gone: not even the rollback works
            monkeypatch.setattr(failing, "rollback", commit)
        contest_member_joins._joins.write_batch(db.session, batch)
        db.session.remove()
    assert [p.error.code if p.error else None for p in batch] == ["busy"] * 3
    assert _rows(session, live) == []
    assert not any((live.id, str(user.id)) in contest_commands._player_cache for user in users)
    monkeypatch.undo()
    phone = _logged_in_phone(app, "m0")  # the phone joins again: stored now
    assert _join(phone, pin=live.pin, role="player", team="t1")["ok"]


def test_joins_arriving_together_are_acked_only_once_their_rows_are_committed(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
    make_user,
) -> None:
    users = [make_user(username=f"crowd{n}") for n in range(12)]
    users[5].active = False  # refused inside the crowd's batches
    session.commit()
    with app.app_context():
        outside = create_engine(db.engine.url)  # a connection of its own: it sees only what is committed
    results: dict[int, object] = {}
    start = threading.Barrier(len(users))

    def join(user: User, team: str) -> None:
        with app.app_context():
            start.wait()
            try:
                contest_join.join(
                    db.session(),
                    {"pin": live.pin, "role": "player", "team": team},
                    None,
                    connection=f"sid{user.id}",
                    address="10.0.0.1",
                    login=(user.id, user.session_epoch),
                )
            except ContestError as error:
                results[user.id] = error.code
            else:
                with outside.connect() as connection:  # the moment the ack would go out
                    stored = connection.execute(
                        select(func.count(ContestPlayer.id)).where(
                            ContestPlayer.contest_id == live.id, ContestPlayer.player == str(user.id)
                        )
                    ).scalar()
                results[user.id] = stored
            finally:
                db.session.remove()

    threads = [threading.Thread(target=join, args=(user, f"t{n % 4 + 1}")) for n, user in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outside.dispose()
    assert results == {user.id: ("login_required" if n == 5 else 1) for n, user in enumerate(users)}
    assert len(_rows(session, live)) == 11


def test_strong_session_protection_keeps_the_usual_path(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(contest_join, "join_member", lambda *args: calls.append(args))
    app.config["SESSION_PROTECTION"] = "strong"
    try:
        _, ack = _player_client(app, live, "player1", "t1")
    finally:
        del app.config["SESSION_PROTECTION"]
    assert ack["ok"] and calls == []
    _, ack = _player_client(app, live, "player2", "t1")
    assert ack["ok"] and len(calls) == 1  # "basic" (the default): the member's row is read by the join itself
