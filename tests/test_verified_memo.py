"""The memo of verified session cookies and CSRF tokens: a hit never accepts what a fresh check would refuse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, session
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from quizengine.web.verified import VerifiedMemo, immutable_values

from .test_exam_autosave import _answers, _single, taking  # noqa: F401  (taking is a fixture)
from .test_exams import setting  # noqa: F401  (a fixture)


def test_memo_is_bounded_and_forgets_the_least_recently_used() -> None:
    memo = VerifiedMemo(size=2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # "a" is now the most recently used
    memo.put("c", 3)
    assert len(memo) == 2 and memo.get("b") is None and memo.get("a") == 1 and memo.get("c") == 3
    memo.discard("a")
    assert memo.get("a") is None


def test_only_sessions_of_scalars_are_shared() -> None:
    assert immutable_values({"_user_id": "3:1", "_fresh": True, "n": 1, "x": None})
    assert not immutable_values({"_flashes": [("message", "已保存")]})


def _cookie(client: FlaskClient) -> str:
    found = client.get_cookie("quizengine_session")
    assert found is not None
    return found.value


def test_a_memoized_cookie_expires_with_the_session_lifetime(app: Flask, client: FlaskClient, taking) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    attempt, url, token = taking
    body = {"position": _single(attempt).position, "response": "A"}
    assert client.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 200  # the cookie is memoized
    app.permanent_session_lifetime = timedelta(seconds=-1)  # every signed cookie is now too old
    try:
        expired = client.post(url, json=body, headers={"X-CSRFToken": token})
    finally:
        app.permanent_session_lifetime = timedelta(days=31)
    assert expired.status_code == 400  # an empty session: no CSRF session token, as a fresh check finds


def test_a_tampered_or_foreign_cookie_is_not_taken_from_the_memo(
    app: Flask,
    client: FlaskClient,
    session: Session,
    taking,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    body = {"position": _single(attempt).position, "response": "A"}
    assert client.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 200
    good = _cookie(client)
    client.set_cookie("quizengine_session", good[:-2] + ("aa" if not good.endswith("aa") else "bb"))
    assert client.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 400
    client.set_cookie("quizengine_session", good)
    original_key = app.secret_key
    app.secret_key = "another-key-after-rotation"  # the memo is per key: the old cookie is checked afresh
    try:
        assert client.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 400
    finally:
        app.secret_key = original_key
    assert client.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 200


def test_sessions_built_from_the_memo_are_independent_copies(app: Flask, client: FlaskClient) -> None:
    @app.get("/_test/session-put")
    def put() -> str:
        session["note"] = "a"
        return "ok"

    @app.get("/_test/session-read")
    def read() -> Any:
        seen = session.get("note", "-")
        session["note"] = "changed-in-this-request-only"
        session.modified = False  # not saved: the next request must see the cookie's value again
        return seen

    assert client.get("/_test/session-put").status_code == 200
    assert client.get("/_test/session-read").get_data(as_text=True) == "a"
    assert client.get("/_test/session-read").get_data(as_text=True) == "a"


def test_a_memoized_csrf_token_is_refused_with_another_session(
    client: FlaskClient,
    session: Session,
    taking,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    attempt, url, token = taking
    body = {"position": _single(attempt).position, "response": "A"}
    assert client.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 200  # token memoized
    other = client.application.test_client()  # no session of its own: the same token must not pass there
    assert other.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 400
    with client.session_transaction() as cookie_session:
        cookie_session["csrf_token"] = "0" * 40  # a new session token (as after logging in again)
    assert client.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 400
    assert _answers(session, attempt.id)[_single(attempt).position] is not None  # only the first save stored


def test_a_save_keeps_the_cookie_and_says_it_varies_by_cookie(client: FlaskClient, taking) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    attempt, url, token = taking
    saved = client.post(
        url, json={"position": _single(attempt).position, "response": "A"}, headers={"X-CSRFToken": token}
    )
    assert saved.status_code == 200 and "Set-Cookie" not in saved.headers
    assert "Cookie" in saved.headers.get("Vary", "")  # as Flask's own save_session says for an accessed session
    assert (
        saved.headers["X-Content-Type-Options"] == "nosniff"
        and "default-src" in saved.headers["Content-Security-Policy"]
    )


def test_ensure_sync_remembers_functions_not_the_instances_of_bound_methods(app: Flask) -> None:
    class View:
        def dispatch(self) -> str:
            return "ok"

    def plain() -> str:
        return "ok"

    first, second = View(), View()
    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(first.dispatch) == first.dispatch and app.ensure_sync(second.dispatch) == second.dispatch
    remembered = app._plain  # type: ignore[attr-defined]
    assert View.dispatch in remembered and plain in remembered
    assert all(not hasattr(key, "__self__") for key in remembered)  # no per-request instance kept alive
