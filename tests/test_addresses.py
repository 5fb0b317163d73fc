"""Join links phones can open: the choice of address, the projector's QR code and its warning, own origins."""

from __future__ import annotations

import json
import random
import re

import pytest
import segno
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from quizengine.models import Contest, Role
from quizengine.modes.contest import ContestPlan, QuestionSource, RoundKind, RoundSpec
from quizengine.services import addresses, contest_setup
from quizengine.services.addresses import LOOPBACK_WARNING, join_base_url, own_origins, reachable_lan
from quizengine.web import contests as contest_views

from .conftest import login

LAN = ["192.168.1.20", "10.0.0.5"]


@pytest.mark.parametrize(
    ("public_url", "opened", "lan", "expected"),
    [
        ("https://quiz.example.org", "http://127.0.0.1:5000/", LAN, "https://quiz.example.org"),
        ("https://quiz.example.org/dangxiao", "http://192.168.1.20:5000/", LAN, "https://quiz.example.org/dangxiao"),
        (None, "http://192.168.1.30:5000/", LAN, "http://192.168.1.30:5000"),
        (None, "http://quiz.local:8080/app/", LAN, "http://quiz.local:8080/app"),
        (None, "http://127.0.0.1:5000/", LAN, "http://192.168.1.20:5000"),
        (None, "http://localhost:5000/", LAN, "http://192.168.1.20:5000"),
        (None, "http://[::1]:5000/", LAN, "http://192.168.1.20:5000"),
        (None, "http://127.0.0.1/", LAN, "http://192.168.1.20"),
    ],
)
def test_join_base_prefers_public_url_then_the_opened_host_then_the_first_lan_address(
    public_url: str | None, opened: str, lan: list[str], expected: str
) -> None:
    assert join_base_url(public_url, opened, lan) == (expected, None)


def test_only_loopback_keeps_the_address_and_warns_with_the_fix() -> None:
    base, warning = join_base_url(None, "http://127.0.0.1:5000/", [])
    assert base == "http://127.0.0.1:5000"
    assert warning == LOOPBACK_WARNING and "PUBLIC_URL" in warning and "python run.py" in warning


def test_a_server_bound_to_loopback_has_no_lan_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(addresses, "lan_addresses", lambda: LAN)
    assert reachable_lan(None) == LAN and reachable_lan("0.0.0.0") == LAN
    assert reachable_lan("127.0.0.1") == [] and reachable_lan("localhost") == []
    assert reachable_lan("10.0.0.5") == ["10.0.0.5"]


def test_lan_addresses_are_unicast_ipv4_without_loopback_or_duplicates() -> None:
    found = addresses.lan_addresses()
    assert len(found) == len(set(found))
    for address in found:
        assert addresses._usable(address) and not address.startswith("127.")


@pytest.mark.parametrize("bad", ["quiz.example.org", "ftp://quiz.example.org", "https://", "https://a.org/?x=1"])
def test_a_public_url_that_is_not_an_http_url_is_refused_in_chinese(bad: str) -> None:
    with pytest.raises(ValueError, match="PUBLIC_URL 应是 http:// 或 https:// 开头的网址"):
        addresses.normalize_public_url(bad)


def test_own_origins_are_the_request_host_and_the_public_url() -> None:
    assert own_origins(None, "http://192.168.1.20:5000/") == {"http://192.168.1.20:5000"}
    assert own_origins("https://Quiz.Example.org:443/dangxiao/", "http://127.0.0.1:5000/") == {
        "https://quiz.example.org",
        "http://127.0.0.1:5000",
    }
    assert "http://192.168.1.20:8000" not in own_origins(None, "http://192.168.1.20:5000/")


# ---- the projector page and its QR code ---------------------------------------------------------------------


@pytest.fixture
def contest(app: Flask, session: Session, make_user, tmp_path) -> Contest:  # type: ignore[no-untyped-def]
    bank = tmp_path / "live.yaml"
    options = "{A: 甲, B: 乙}"
    bank.write_text(
        "bank: live\ntitle: 竞赛题库\nquestions:\n"
        + "".join(f"  - {{id: c-{n}, type: single, stem: 题{n}, options: {options}, answer: A}}\n" for n in range(12)),
        encoding="utf-8",
    )
    assert app.test_cli_runner().invoke(args=["banks", "load", str(bank)]).exit_code == 0
    plan = ContestPlan("支部知识竞赛", (RoundSpec(RoundKind.EVERYONE, "全员答题", QuestionSource(count=1), points=10),))
    return contest_setup.create_contest(session, make_user(Role.ORGANIZER, username="host"), plan, rng=random.Random(1))


def _projector(client: FlaskClient, contest: Contest, base_url: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    page = client.get(f"/contests/{contest.id}/projector/{contest.projector_token}", base_url=base_url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    boot = re.search(r'<script type="application/json" id="contest-boot">(.*?)</script>', html, re.S)
    assert boot
    return html, json.loads(boot.group(1))


def _qr_target(client: FlaskClient, qr_path: str, base_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The text the QR image encodes (segno.make is watched while the image is drawn)."""
    encoded: list[str] = []
    real_make = segno.make

    def watch(content: str, **kwargs):  # type: ignore[no-untyped-def]
        encoded.append(content)
        return real_make(content, **kwargs)

    monkeypatch.setattr(contest_views.segno, "make", watch)
    response = client.get(qr_path, base_url=base_url)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert len(encoded) == 1
    return encoded[0]


@pytest.mark.parametrize(
    ("public_url", "opened", "lan", "expected_base"),
    [
        ("https://quiz.example.org", "http://127.0.0.1:5000", LAN, "https://quiz.example.org"),
        (None, "http://192.168.1.30:5000", LAN, "http://192.168.1.30:5000"),
        (None, "http://127.0.0.1:5000", LAN, "http://192.168.1.20:5000"),
    ],
)
def test_the_projector_qr_code_and_join_link_use_an_address_phones_can_open(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, contest: Contest, monkeypatch, public_url, opened, lan, expected_base
) -> None:
    app.config["PUBLIC_URL"] = public_url
    monkeypatch.setattr(addresses, "lan_addresses", lambda: lan)
    html, boot = _projector(client, contest, opened)
    assert boot["playUrl"] == f"{expected_base}/contests/play"
    assert "proj-warning" not in html
    assert _qr_target(client, boot["qr"], opened, monkeypatch) == f"{expected_base}/contests/play?pin={contest.pin}"


@pytest.mark.parametrize(("bind_host", "lan"), [(None, []), ("127.0.0.1", LAN)])
def test_the_projector_warns_when_only_loopback_is_available(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, contest: Contest, monkeypatch, bind_host, lan
) -> None:
    app.config["BIND_HOST"] = bind_host
    monkeypatch.setattr(addresses, "lan_addresses", lambda: lan)
    html, boot = _projector(client, contest, "http://127.0.0.1:5000")
    assert '<p class="proj-warning" role="alert">' in html
    assert "当前地址只能在本机访问" in html and "PUBLIC_URL" in html
    assert boot["playUrl"] == "http://127.0.0.1:5000/contests/play"


def test_the_organizer_contest_list_shows_the_join_link_phones_can_open(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, contest: Contest, monkeypatch
) -> None:
    monkeypatch.setattr(addresses, "lan_addresses", lambda: LAN)
    login(client, "host")
    page = client.get("/contests/").get_data(as_text=True)  # opened as http://localhost/
    assert "http://192.168.1.20/contests/play" in page


def test_the_host_console_and_the_team_code_sheet_warn_too(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, contest: Contest, monkeypatch
) -> None:
    monkeypatch.setattr(addresses, "lan_addresses", lambda: [])
    login(client, "host")
    for path in (f"/contests/{contest.id}/host", f"/contests/{contest.id}/teams/print"):
        page = client.get(path).get_data(as_text=True)  # opened as http://localhost/
        assert '<p class="flash flash-error" role="alert">' in page and "当前地址只能在本机访问" in page, path
    monkeypatch.setattr(addresses, "lan_addresses", lambda: LAN)
    sheet = client.get(f"/contests/{contest.id}/teams/print").get_data(as_text=True)
    assert "当前地址只能在本机访问" not in sheet and "http://192.168.1.20/contests/" in sheet
