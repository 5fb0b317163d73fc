"""Every HTTP error is a styled Chinese page with a way back, or a Chinese JSON error for JSON clients."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from quizengine.models import Role

from .conftest import csrf_token, login


class _VisibleText(HTMLParser):
    """The text a person sees: the title and the body, without scripts, styles and hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_english(html: str) -> list[str]:
    """Latin words a user could read on the page (a Chinese page has none)."""
    parser = _VisibleText()
    parser.feed(html)
    return re.findall(r"[A-Za-z]{2,}", " ".join(parser.parts))


@pytest.fixture
def app_with_faults(app: Flask) -> Flask:
    """The app plus routes that fail in each way a view can (registered before the first request)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a crash becomes the 500 page

    @app.get("/_fault/<int:status>")
    def fault(status: int) -> str:
        abort(status)

    @app.get("/_fault/own-message")
    def own_message() -> str:
        abort(404, "没有找到这场考试")

    @app.get("/_fault/crash")
    def crash() -> str:
        raise RuntimeError("boom")

    return app


@pytest.mark.parametrize(
    ("status", "title"),
    [
        (400, "请求有误"),
        (403, "无权访问"),
        (404, "页面不存在"),
        (405, "无法这样打开此页面"),
        (413, "内容过大"),
        (429, "操作过于频繁"),
    ],
)
def test_each_status_is_a_chinese_page_with_a_way_home(app_with_faults: Flask, status: int, title: str) -> None:
    response = app_with_faults.test_client().get(f"/_fault/{status}")
    page = response.get_data(as_text=True)
    assert response.status_code == status and response.mimetype == "text/html"
    assert f'<h1 id="error-title">{title}</h1>' in page and f"错误代码 {status}" in page
    assert 'href="/">返回首页</a>' in page and 'class="brand-bar' in page  # the site's own layout
    assert visible_english(page) == []


def test_a_crash_is_a_chinese_500_page_and_json_for_json_clients(app_with_faults: Flask) -> None:
    client = app_with_faults.test_client()
    response = client.get("/_fault/crash")
    assert response.status_code == 500 and "系统出错" in response.get_data(as_text=True)
    assert visible_english(response.get_data(as_text=True)) == []
    as_json = client.get("/_fault/crash", headers={"Accept": "application/json"})
    assert as_json.status_code == 500 and as_json.json["ok"] is False and as_json.json["code"] == "server_error"


def test_real_routing_errors_are_chinese(client: FlaskClient) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    assert "Not Found" not in missing.get_data(as_text=True)
    wrong_method = client.get("/logout")  # logging out is a POST
    assert wrong_method.status_code == 405 and "无法这样打开此页面" in wrong_method.get_data(as_text=True)


def test_a_view_s_own_chinese_message_is_kept_but_werkzeug_s_english_is_not(app_with_faults: Flask) -> None:
    client = app_with_faults.test_client()
    assert "没有找到这场考试" in client.get("/_fault/own-message").get_data(as_text=True)
    body = client.get("/_fault/404", headers={"Accept": "application/json"}).json
    assert body == {"ok": False, "code": "not_found", "message": body["message"]}
    assert visible_english(body["message"]) == [] and "请检查链接" in body["message"]


def test_a_member_on_an_organizer_page_gets_the_403_page(client: FlaskClient, make_user) -> None:
    make_user(username="member1", name="张一")
    login(client, "member1")
    response = client.get("/exams/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "无权访问" in page and visible_english(page) == []


def test_too_large_a_request_is_refused_with_the_413_page(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"username": "x" * 4096, "password": "y"})
    assert response.status_code == 413 and "内容过大" in response.get_data(as_text=True)


def test_a_form_without_its_csrf_token_gets_the_expired_page(client: FlaskClient, make_user) -> None:
    make_user(username="member2", name="张二")
    login(client, "member2")
    response = client.post("/logout", data={}, headers={"Referer": "http://localhost/records/"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "页面已失效" in page and "刷新后重新提交" in page
    assert 'href="http://localhost/records/">返回上一页</a>' in page
    assert visible_english(page) == []
    assert "张二" in client.get("/").get_data(as_text=True)  # still logged in: nothing changed


def test_the_back_link_only_leads_to_our_own_pages(client: FlaskClient) -> None:
    page = client.get("/no-such-page", headers={"Referer": "https://evil.example/phish"}).get_data(as_text=True)
    assert "返回上一页" not in page and "evil.example" not in page


def test_json_clients_get_json_errors(client: FlaskClient, make_user) -> None:
    make_user(username="member3", role=Role.MEMBER)
    login(client, "member3")
    token = csrf_token(client, "/")
    no_token = client.post("/exams/attempts/1/answers", json={"position": 1, "response": "A"})
    assert no_token.status_code == 400
    assert no_token.json == {"ok": False, "code": "csrf", "message": no_token.json["message"]}
    assert "刷新" in no_token.json["message"]
    wrong_method = client.get("/exams/attempts/1/answers", headers={"Accept": "application/json"})
    assert wrong_method.status_code == 405 and wrong_method.json["code"] == "method_not_allowed"
    missing = client.post("/exams/attempts/999999/answers", json={"position": 1}, headers={"X-CSRFToken": token})
    assert missing.status_code in {400, 404} and missing.json["ok"] is False


def test_every_page_title_is_chinese(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert visible_english(f"<p>{title}</p>") == []
