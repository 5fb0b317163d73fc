"""大字模式: a per-user larger-text preference, stored on the user and applied as a class on <html>."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from quizengine.models import User

from .conftest import csrf_token, login


def _html_tag(client: FlaskClient) -> str:
    page = client.get("/").get_data(as_text=True)
    return page[page.index("<html") : page.index(">", page.index("<html")) + 1]


def test_the_account_menu_turns_larger_text_on_and_off(client: FlaskClient, make_user, session: Session) -> None:
    user = make_user(username="laodangyuan", name="老党员")
    login(client, "laodangyuan")
    assert "large-text" not in _html_tag(client)
    page = client.get("/").get_data(as_text=True)
    assert "大字模式：已关闭" in page and 'aria-controls="site-nav"' in page  # the phone menu and its toggle
    token = csrf_token(client, "/")
    response = client.post(
        "/account/large-text", data={"on": "1", "csrf_token": token}, headers={"Referer": "http://localhost/record/"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "http://localhost/record/"
    assert 'class="large-text"' in _html_tag(client) and "大字模式：已开启" in client.get("/").get_data(as_text=True)
    session.expire_all()
    assert session.get(User, user.id).large_text is True  # stored on the user: follows them to every device
    client.post("/account/large-text", data={"on": "0", "csrf_token": token})
    assert "large-text" not in _html_tag(client)


def test_bad_toggles_change_nothing(client: FlaskClient, make_user, session: Session) -> None:
    user = make_user(username="zhang", name="张同志")
    assert client.post("/account/large-text", data={"on": "1"}).status_code in {302, 400}  # not logged in
    login(client, "zhang")
    token = csrf_token(client, "/")
    bad = client.post("/account/large-text", data={"on": "yes", "csrf_token": token})
    assert bad.status_code == 400 and "大字模式只能打开或关闭" in bad.get_data(as_text=True)
    assert client.post("/account/large-text", data={"on": "1"}).status_code == 400  # no CSRF token
    assert client.get("/account/large-text").status_code == 405
    session.expire_all()
    assert session.get(User, user.id).large_text is False
    elsewhere = {"Referer": "https://evil.example/"}
    sent = client.post("/account/large-text", data={"on": "1", "csrf_token": token}, headers=elsewhere)
    assert sent.headers["Location"] == "/"  # back to our own pages only
    session.expire_all()
    assert session.get(User, user.id).large_text is True
