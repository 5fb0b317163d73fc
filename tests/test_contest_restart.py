"""A real server process: a crash mid-question loses nothing, and several workers share one contest.

Clients are python-socketio clients over websocket, re-attaching the way the pages do: the host by logging
in again, a team device with its device token.
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import socketio
from sqlalchemy import create_engine, make_url, text

from .browser import start_server, stop_server
from .conftest import PG_ADMIN_URL

pytestmark = pytest.mark.slow
NS = "/contest"
PASSWORD = "Hong-Qi-Piao-2026"


def _banks(tmp_path: Path) -> Path:
    banks = tmp_path / "banks"
    (banks / "contests").mkdir(parents=True)
    options = "{A: 十八岁, B: 十六岁, C: 二十岁, D: 二十二岁}"
    lines = ["bank: restart", "title: 重启测试题库", "questions:"]
    extra = "explanation: 党章第一条, reference: 党章"
    lines += [
        f"  - {{id: r-{n}, type: single, stem: 入党年龄第{n}问, options: {options}, answer: A, {extra}}}"
        for n in range(12)
    ]
    (banks / "restart.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    plan = """\
title: 重启测试竞赛
teams: [红队, 蓝队]
tie_break: time
rounds:
  - kind: buzzer
    source: {banks: [restart], count: 3}
    points: 10
    penalty: 10
    buzz_seconds: 120
    answer_seconds: 120
"""
    (banks / "contests" / "restart.yaml").write_text(plan, encoding="utf-8")
    return banks


def _login(url: str, username: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert http.post(
        f"{url}/login", data={"username": username, "password": password, "csrf_token": token}, timeout=10
    ).ok
    return http


def _create_contest(url: str, http: requests.Session) -> int:
    page = http.get(f"{url}/", timeout=10).text  # any page with a form carries the session's CSRF token
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = http.post(
        f"{url}/contests/", data={"plan": "restart.yaml", "csrf_token": token}, timeout=10, allow_redirects=False
    )
    location = response.headers.get("Location", "")
    assert "/host" in location, (response.status_code, location, response.text[:300])
    return int(re.search(r"/contests/(\d+)/host", location).group(1))


class Client:
    """A python-socketio client that keeps every `state` message it receives."""

    def __init__(self, url: str, http: requests.Session | None = None) -> None:
        self.messages: list[dict] = []
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("state", self.messages.append, namespace=NS)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items()) if http else ""
        self.sio.connect(url, namespaces=[NS], transports=["websocket"], headers={"Cookie": cookie} if cookie else {})

    def call(self, event: str, data: dict) -> dict:
        return self.sio.call(event, data, namespace=NS, timeout=10)

    def command(self, name: str, version: int, **args: object) -> dict:
        return self.call("command", {"name": name, "version": version, "args": args})

    def close(self) -> None:
        self.sio.disconnect()


def _team_codes(database_url: str, contest_id: int) -> dict[str, str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT key, join_code FROM contest_teams WHERE contest_id = :c"), {"c": contest_id}
        )
        codes = {key: code for key, code in rows}
    engine.dispose()
    return codes


def _comparable(view: dict) -> dict:
    return {
        key: view[key] for key in ("version", "phase", "deadline_ms", "question", "teams", "buzzes", "team_on_turn")
    }


def test_a_crash_mid_question_loses_nothing(tmp_path: Path) -> None:
    instance, banks = tmp_path / "instance", _banks(tmp_path)
    process, server = start_server(instance, banks)
    try:
        server.cli(
            "users",
            "create",
            "host",
            "--name",
            "主持人",
            "--role",
            "organizer",
            "--branch",
            "第一党支部",
            "--password",
            PASSWORD,
        )
        http = _login(server.url, "host", PASSWORD)
        contest_id = _create_contest(server.url, http)
        codes = _team_codes(f"sqlite:///{instance / 'quizengine.sqlite3'}", contest_id)
        host = Client(server.url, http)
        view = host.call("join", {"contest": contest_id, "role": "host"})["view"]
        red = Client(server.url)
        red_ack = red.call("join", {"contest": contest_id, "role": "team", "code": codes["t1"]})
        blue = Client(server.url)
        blue.call("join", {"contest": contest_id, "role": "team", "code": codes["t2"]})
        for name in ("start", "next", "open"):
            view_version = host.command(name, view["version"])["version"]
            view = {**view, "version": view_version}
        question = (
            red_ack["view"]["question"]
            or host.call("join", {"contest": contest_id, "role": "host"})["view"]["question"]
        )
        assert red.call("buzz", {"question": question["id"]})["ok"]
        assert blue.call("buzz", {"question": question["id"]})["ok"]
        before = host.call("join", {"contest": contest_id, "role": "host"})["view"]
        assert before["phase"] == "buzz_won" and before["team_on_turn"] == "t1"
        for client in (host, red, blue):
            client.sio.eio.disconnect(abort=True)
    finally:
        stop_server(process, kill=True)  # a crash, not a clean shutdown

    process, server = start_server(instance, banks, port=int(server.url.rsplit(":", 1)[1]))
    try:
        host = Client(server.url, _login(server.url, "host", PASSWORD))
        after = host.call("join", {"contest": contest_id, "role": "host"})["view"]
        red = Client(server.url)
        red_view = red.call("join", {"contest": contest_id, "role": "team", "token": red_ack["device_token"]})["view"]
        # host loss paused the contest before the crash, or the crash left it as it was: both resume exactly
        if after["phase"] == "paused":
            assert after["paused_phase"] == "buzz_won"
            after = {**after, "phase": "buzz_won", "version": before["version"]}
            assert host.command(
                "resume", host.call("join", {"contest": contest_id, "role": "host"})["view"]["version"]
            )["ok"]
        else:
            assert _comparable(after) == _comparable(before)
        assert after["teams"] == before["teams"] and after["buzzes"] == before["buzzes"]
        assert red_view["me"]["team"] == "t1" and red_view["me"]["my_turn"]
        answered = red.call("submit_answer", {"question": question["id"], "response": "A"})
        assert answered["ok"]
        final = host.call("join", {"contest": contest_id, "role": "host"})["view"]
        assert final["phase"] == "revealed" and {t["id"]: t["score"] for t in final["teams"]} == {"t1": 110, "t2": 100}
        host.close()
        red.close()
    finally:
        stop_server(process)


def _redis_available() -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


@contextmanager
def _pg_database() -> Iterator[str]:
    name = f"quizengine_mw_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL or "", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL or "").set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.skipif(not PG_ADMIN_URL, reason="needs PostgreSQL (set QUIZENGINE_TEST_DATABASE_URL)")
@pytest.mark.skipif(not _redis_available(), reason="needs Redis on 127.0.0.1:6379")
def test_two_workers_share_a_contest_through_redis(tmp_path: Path) -> None:
    banks = _banks(tmp_path)
    with _pg_database() as database_url:
        env = {
            "DATABASE_URL": database_url,
            "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
            "SOCKETIO_CHANNEL": f"quizengine-test-{uuid.uuid4().hex[:8]}",  # our own key space
            "SECRET_KEY": "shared-by-both-workers",
        }
        first, server_a = start_server(tmp_path / "a", banks, extra_env=env)
        second = None
        try:
            server_a.cli(
                "users",
                "create",
                "host",
                "--name",
                "主持人",
                "--role",
                "organizer",
                "--branch",
                "第一党支部",
                "--password",
                PASSWORD,
            )
            second, server_b = start_server(tmp_path / "b", banks, extra_env=env)
            http = _login(server_a.url, "host", PASSWORD)
            contest_id = _create_contest(server_a.url, http)
            codes = _team_codes(database_url, contest_id)
            host = Client(server_a.url, http)  # the host on worker A
            view = host.call("join", {"contest": contest_id, "role": "host"})["view"]
            team = Client(server_b.url)  # a team device on worker B
            assert team.call("join", {"contest": contest_id, "role": "team", "code": codes["t1"]})["ok"]
            # A host joining on A counts only A's devices, then hears from the one on B through the queue.
            team.sio.on("device_check", lambda *_: team.sio.emit("device_here", {}, namespace=NS), namespace=NS)
            devices: list[dict] = []
            second_host = Client(server_a.url, http)
            second_host.sio.on("device", devices.append, namespace=NS)
            assert second_host.call("join", {"contest": contest_id, "role": "host"})["devices"]["t1"] is False
            deadline = time.monotonic() + 10
            while not devices and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [(d["team"], d["online"]) for d in devices] == [("t1", True)]
            second_host.close()
            assert host.command("start", view["version"])["ok"]
            deadline = time.monotonic() + 10
            while not team.messages and time.monotonic() < deadline:
                time.sleep(0.05)
            assert team.messages and team.messages[-1]["view"]["phase"] == "round_intro"
            host.close()
            team.close()
        finally:
            stop_server(first)
            if second is not None:
                stop_server(second)
