"""The scale-out deployment for real: nginx with the shipped config, `run.py --workers 2`, PostgreSQL, Redis.

Clients come from different loopback addresses (127.0.0.x), so nginx's sticky-by-address hash puts the
host on one worker and the team devices and the exam taker on the other; `/healthz` through nginx tells
which worker an address lands on. Then the players' worker is killed mid-contest: its clients must be back
through nginx within 5 s with the right phase, question and scores, and nothing acknowledged may be lost.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import socketio
import websocket
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, select, text

from quizengine.deployment import nginx_config

from .browser import QUIZENGINE_CLI, ROOT, free_port
from .conftest import PG_ADMIN_URL
from .test_contest_restart import NS, PASSWORD, _banks, _create_contest, _pg_database, _redis_available, _team_codes
from .test_scale_out import nginx_main_config

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="needs Debian's nginx (apt-get install nginx)"),
    pytest.mark.skipif(not PG_ADMIN_URL, reason="needs PostgreSQL (set QUIZENGINE_TEST_DATABASE_URL)"),
    pytest.mark.skipif(not _redis_available(), reason="needs Redis on 127.0.0.1:6379"),
]
RECONNECT_BUDGET_SECONDS = 5.0


class FromAddress(HTTPAdapter):
    """Every connection of a requests session leaves from one source address (nginx hashes on it)."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]


def _session_from(source: str) -> requests.Session:
    http = requests.Session()
    http.mount("http://", FromAddress(source))
    return http


def _websocket_from(source: str) -> type[websocket.WebSocket]:
    """A websocket-client class whose every (re)connection leaves from `source`."""

    class FromSource(websocket.WebSocket):
        def connect(self, url: str, **options: object) -> None:
            parts = urlsplit(url)
            sock = socket.create_connection((parts.hostname, parts.port), timeout=10, source_address=(source, 0))
            super().connect(url, socket=sock, **options)

    return FromSource


class Player:
    """A python-socketio client from one source address, reconnecting as the pages do."""

    def __init__(self, url: str, source: str, http: requests.Session | None = None) -> None:
        self.messages: list[dict] = []
        self.sio = socketio.Client(
            reconnection=True,
            reconnection_delay=0.2,
            reconnection_delay_max=0.5,
            randomization_factor=0,
            websocket_extra_options={"class_": _websocket_from(source)},
        )
        self.sio.on("state", self.messages.append, namespace=NS)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items()) if http else ""
        self.sio.connect(url, namespaces=[NS], transports=["websocket"], headers={"Cookie": cookie} if cookie else {})

    def call(self, event: str, data: dict, timeout: float = 10) -> dict:
        return self.sio.call(event, data, namespace=NS, timeout=timeout)

    def command(self, name: str, version: int, **args: object) -> dict:
        return self.call("command", {"name": name, "version": version, "args": args})

    def rejoin(self, join: dict, deadline: float) -> dict:
        """Join again as soon as the connection is back (the page does it on `connect`)."""
        while time.monotonic() < deadline:
            try:
                answer = self.call("join", join, timeout=1)
            except (socketio.exceptions.SocketIOError, OSError):
                time.sleep(0.05)
                continue
            if answer.get("ok"):
                return answer
        raise AssertionError(f"not back within {RECONNECT_BUDGET_SECONDS} s")

    def close(self) -> None:
        self.sio.disconnect()


@contextmanager
def _nginx(tmp_path: Path, base_port: int) -> Iterator[str]:
    port = free_port()
    site = nginx_config(2, base_port, server_name="_", listen=f"127.0.0.1:{port}")
    (tmp_path / "nginx.conf").write_text(nginx_main_config(site, tmp_path), encoding="utf-8")
    process = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful: lets the websockets close
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


class Workers:
    """`python run.py --workers 2` with its labelled log collected."""

    def __init__(self, base_port: int, env: dict[str, str]) -> None:
        command = [sys.executable, str(ROOT / "run.py"), "--no-setup", "--workers", "2", "--base-port", str(base_port)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        for port in (base_port, base_port + 1):
            _wait_for_port(port, self.process)

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.append(line)

    def pid_of(self, worker: int) -> int:
        """The process id the worker announced in its start line (the latest one, after restarts)."""
        started = [line for line in self.lines if line.startswith(f"[worker {worker}] quizengine 已启动")]
        return int(re.search(r"进程号 (\d+)", started[-1]).group(1))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self._reader.join(timeout=5)


def _worker_at(url: str, source: str) -> int:
    return _session_from(source).get(f"{url}/healthz", timeout=10).json()["worker"]


def _addresses_by_worker(url: str) -> dict[int, str]:
    """A source address that nginx sends to each worker (the hash is deterministic, not chosen)."""
    found: dict[int, str] = {}
    for last in range(2, 250):
        source = f"127.0.0.{last}"
        found.setdefault(_worker_at(url, source), source)
        if len(found) == 2:
            return found
    raise AssertionError(f"every address lands on the same worker: {found}")


def _login(url: str, source: str, username: str) -> requests.Session:
    http = _session_from(source)
    page = http.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    signed_in = http.post(f"{url}/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert signed_in.ok and "/login" not in signed_in.url, signed_in.url
    return http


def _setup(env: dict[str, str]) -> None:
    quizengine = QUIZENGINE_CLI
    subprocess.run([*quizengine, "setup"], env=env, check=True, capture_output=True, cwd=ROOT)
    for username, name, role in (("host", "主持人", "organizer"), ("dangyuan", "王建国", "member")):
        account = ["--name", name, "--role", role, "--branch", "第一党支部", "--password", PASSWORD]
        subprocess.run(
            [*quizengine, "users", "create", username, *account],
            env=env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )


def _publish_exam(env: dict[str, str]) -> int:
    """A uniform-paper exam of three single-choice questions (every key is A), options in bank order."""
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "QUIZENGINE_INSTANCE", "QUIZENGINE_BANKS")})
    try:
        from quizengine import create_app
        from quizengine.extensions import db
        from quizengine.models import Branch, User
        from quizengine.services import exam_setup

        app = create_app({"SOCKETIO_MESSAGE_QUEUE": None})
        with app.app_context():
            session = db.session()
            host = session.scalars(select(User).where(User.username == "host")).one()
            branch_id = session.scalars(select(Branch.id).where(Branch.name == "第一党支部")).one()
            now = datetime.now(UTC)
            spec = exam_setup.ExamSpec(
                title="多进程月度测试",
                branch_ids=(branch_id,),
                opens_at=now - timedelta(minutes=1),
                closes_at=now + timedelta(hours=1),
                duration_minutes=30,
                blueprint={"sections": [{"types": ["single"], "count": 3, "points": 10}]},
                shuffle_options=False,
                pass_mark=18,
            )
            exam = exam_setup.create_exam(session, host, spec)
            exam_setup.publish_exam(session, host, exam.id)
            exam_id = exam.id
            db.engine.dispose()
        return exam_id
    finally:
        for key in ("DATABASE_URL", "QUIZENGINE_INSTANCE", "QUIZENGINE_BANKS"):
            os.environ.pop(key, None)


def _positions(database_url: str, attempt_id: int) -> list[int]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT position FROM attempt_items WHERE attempt_id = :a ORDER BY position"), {"a": attempt_id}
        )
        positions = [row[0] for row in rows]
    engine.dispose()
    return positions


def _save(http: requests.Session, url: str, attempt_id: int, token: str, position: int) -> None:
    saved = http.post(
        f"{url}/exams/attempts/{attempt_id}/answers",
        json={"position": position, "response": "A"},
        headers={"X-CSRFToken": token},
        timeout=10,
    )
    assert saved.status_code == 200, saved.text[:300]


def _scores(view: dict) -> dict[str, int]:
    return {team["id"]: team["score"] for team in view["teams"]}


def test_a_contest_and_an_exam_through_nginx_survive_losing_a_worker(tmp_path: Path) -> None:
    banks = _banks(tmp_path)
    base_port = _two_free_ports()
    with _pg_database() as database_url:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
            "SOCKETIO_CHANNEL": f"quizengine-test-{uuid.uuid4().hex[:8]}",  # our own key space
            "SECRET_KEY": "shared-by-both-workers",
            "QUIZENGINE_INSTANCE": str(tmp_path / "instance"),
            "QUIZENGINE_BANKS": str(banks),
            "QUIZENGINE_TRUSTED_PROXIES": "1",
            "QUIZENGINE_REQUEST_LOG": "0",
            "PYTHONUNBUFFERED": "1",
        }
        _setup(env)
        exam_id = _publish_exam(env)
        (tmp_path / "nginx").mkdir()
        with _nginx(tmp_path / "nginx", base_port) as url:
            env["PUBLIC_URL"] = url  # join links and the socket origin check name nginx's address
            workers = Workers(base_port, env)
            try:
                _contest_and_exam(url, database_url, exam_id, workers)
            finally:
                workers.stop()
        log = "".join(workers.lines)
        assert "[worker 1] quizengine 已启动" in log and "[worker 2] quizengine 已启动" in log
        assert "工作进程 2（端口" in log and "已重启（第 1 次）" in log  # the killed worker came back
        assert log.rstrip().endswith("[supervisor] 全部工作进程已停止")


def _two_free_ports() -> int:
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port + 1)) != 0:
                return port
    raise AssertionError("no two free consecutive ports")


def _contest_and_exam(url: str, database_url: str, exam_id: int, workers: Workers) -> None:
    sources = _addresses_by_worker(url)
    host_from, players_from = sources[1], sources[2]

    # The host on worker 1, both team devices and the member taking the exam on worker 2.
    http = _login(url, host_from, "host")
    contest_id = _create_contest(url, http)
    codes = _team_codes(database_url, contest_id)
    host = Player(url, host_from, http)
    view = host.call("join", {"contest": contest_id, "role": "host"})["view"]
    red, blue = Player(url, players_from), Player(url, players_from)
    red_join = red.call("join", {"contest": contest_id, "role": "team", "code": codes["t1"]})
    blue_join = blue.call("join", {"contest": contest_id, "role": "team", "code": codes["t2"]})
    member = _login(url, players_from, "dangyuan")
    started = member.post(f"{url}/exams/{exam_id}/start", data={"csrf_token": _token(member, url)}, timeout=10)
    attempt_id = int(re.search(r"/exams/attempts/(\d+)", started.url).group(1))
    positions = _positions(database_url, attempt_id)
    token = _token(member, url, f"/exams/attempts/{attempt_id}")

    for name in ("start", "next", "open"):
        view = {**view, "version": host.command(name, view["version"])["version"]}
    # Every broadcast reaches every client, across workers, through Redis.
    _until(lambda: all(p.messages and p.messages[-1]["view"]["phase"] == "buzz_open" for p in (red, blue)))
    question = red.messages[-1]["view"]["question"]
    assert red.call("buzz", {"question": question["id"]})["ok"]
    assert red.call("submit_answer", {"question": question["id"], "response": "A"})["ok"]
    _until(lambda: host.messages and _scores(host.messages[-1]["view"]) == {"t1": 110, "t2": 100})
    _save(member, url, attempt_id, token, positions[0])

    view = host.call("join", {"contest": contest_id, "role": "host"})["view"]
    for name in ("next", "open"):
        view = {**view, "version": host.command(name, view["version"])["version"]}
    _until(lambda: blue.messages and blue.messages[-1]["view"]["phase"] == "buzz_open")
    second = blue.messages[-1]["view"]["question"]
    assert blue.call("buzz", {"question": second["id"]})["ok"]  # acknowledged, then the worker dies

    os.kill(workers.pid_of(2), signal.SIGKILL)
    killed_at = time.monotonic()
    deadline = killed_at + RECONNECT_BUDGET_SECONDS
    red_back = red.rejoin({"contest": contest_id, "role": "team", "token": red_join["device_token"]}, deadline)
    blue_back = blue.rejoin({"contest": contest_id, "role": "team", "token": blue_join["device_token"]}, deadline)
    back_after = time.monotonic() - killed_at
    print(f"team devices back through nginx {back_after:.2f} s after their worker was killed")
    assert back_after <= RECONNECT_BUDGET_SECONDS
    for back in (red_back, blue_back):
        assert back["view"]["phase"] == "buzz_won" and back["view"]["question"]["id"] == second["id"]
        assert _scores(back["view"]) == {"t1": 110, "t2": 100}
    assert blue_back["view"]["me"]["my_turn"]  # the buzz acknowledged before the crash still stands
    assert blue.call("submit_answer", {"question": second["id"], "response": "A"})["ok"]
    _until(lambda: _scores(host.messages[-1]["view"]) == {"t1": 110, "t2": 110})
    _until(lambda: _scores(red.messages[-1]["view"]) == {"t1": 110, "t2": 110})

    # The exam goes on through nginx: the answer saved before the crash is kept, the rest are saved now.
    for position in positions[1:]:
        _save(member, url, attempt_id, token, position)
    submitted = member.post(
        f"{url}/exams/attempts/{attempt_id}/submit", data={"csrf_token": token}, timeout=10, allow_redirects=False
    )
    assert submitted.status_code == 302
    engine = create_engine(database_url)
    with engine.connect() as connection:
        score = connection.execute(text("SELECT score, status FROM attempts WHERE id = :a"), {"a": attempt_id}).one()
    engine.dispose()
    assert score[0] == 30 and score[1] != "open"
    for client in (host, red, blue):
        client.close()


def _token(http: requests.Session, url: str, path: str = "/exams/") -> str:
    page = http.get(f"{url}{path}", timeout=10).text
    return re.search(r'name="csrf[_-]token"[^>]*(?:value|content)="([^"]+)"', page).group(1)


def _until(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
