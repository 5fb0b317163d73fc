"""The `next` target: one safe-redirect rule, and deep links that survive login and the first password change."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from quizengine.services.accounts import create_user
from quizengine.web.redirects import safe_next

from .conftest import PASSWORD, csrf_token

HOSTILE = [
    "//evil.example/x",
    "///evil.example/x",
    "/\t/evil.example/",
    "/%09/evil.example/",
    "/%2F/evil.example/",
    "/%5C/evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/ /evil.example",
    "/\r\nSet-Cookie: x=1",
    "/%0d%0aSet-Cookie:%20x=1",
    "/\x00",
    "http://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "//evil.example@good/",
    "/\u3000/evil.example",
    "\u2028/evil.example",
    "/" + "a" * 5000,
    "",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_safe_next_refuses_hostile_targets(target: str) -> None:
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize(
    "target", ["/", "/record/", "/contests/play?pin=123456", "/exams/3?tab=a%20b&x=//y", "/search?q=%E5%85%9A"]
)
def test_safe_next_keeps_local_paths(target: str) -> None:
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_redirects_off_site_or_fails(client: FlaskClient, make_user, target: str) -> None:
    make_user(username="nextuser")
    token = csrf_token(client)
    data = {"username": "nextuser", "password": PASSWORD, "csrf_token": token}
    response = client.post("/login", query_string={"next": target}, data=data)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/", location
    assert not urlsplit(location).netloc


def test_hostile_next_on_password_change_stays_home(client: FlaskClient, make_user) -> None:
    make_user(username="changer")
    token = csrf_token(client)
    client.post("/login", data={"username": "changer", "password": PASSWORD, "csrf_token": token})
    token = csrf_token(client, "/account/password")
    for target in ("//evil.example/", "/%09/evil.example/", "/\r\nX: y"):
        new = f"Zq7!mRt{len(target)}vbK"
        response = client.post(
            "/account/password",
            query_string={"next": target},
            data={"current": PASSWORD, "new": new, "confirm": new, "csrf_token": token},
        )
        assert response.status_code == 302 and response.headers["Location"] == "/"
        back = {"current": new, "new": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
        client.post("/account/password", data=back)


@pytest.mark.parametrize("deep_link", ["/contests/play?pin=123456", "/record/?tab=exams"])
def test_deep_link_survives_login_and_first_password_change(
    client: FlaskClient, session: Session, deep_link: str
) -> None:
    """A new member scans the projector's QR code, logs in with a one-time password, must change it,
    and lands on the page they scanned."""
    _, one_time = create_user(session, username="newbie", name="新党员", branch_name="第一党支部")
    assert one_time
    first = client.get(deep_link)
    assert first.status_code == 302
    login_url = first.headers["Location"]
    assert urlsplit(login_url).path == "/login"

    token = csrf_token(client, login_url)
    logged_in = client.post(login_url, data={"username": "newbie", "password": one_time, "csrf_token": token})
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == deep_link

    forced = client.get(deep_link)
    assert forced.status_code == 302
    change_url = forced.headers["Location"]
    assert urlsplit(change_url).path == "/account/password"
    change_page = client.get(change_url)
    assert change_page.status_code == 200 and "一次性密码" in change_page.get_data(as_text=True)

    new = "Hong-Qi-Piao-88"
    token = csrf_token(client, change_url)
    changed = client.post(change_url, data={"current": one_time, "new": new, "confirm": new, "csrf_token": token})
    assert changed.status_code == 302 and changed.headers["Location"] == deep_link
    assert client.get(deep_link).status_code == 200
