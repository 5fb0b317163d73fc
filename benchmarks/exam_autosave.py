"""Exam autosave under a start spike, against real server processes (issue #5).

N members start one exam within a few seconds (POST start + GET paper), then save answers: at a fixed
rate (open loop, latency measured from the scheduled send time) and as fast as C clients can
(closed loop, saves/s). The same client then drives a *baseline*: a bare Flask + SQLAlchemy endpoint
doing the same one-row UPDATE, served the same way (gevent monkey-patched, ``quizengine.server.serve``,
the app's ``make_engine`` with its SQLite pragmas). Every figure is printed with the ratio app/baseline, and the
database is checked afterwards: the last acknowledged answer of every (attempt, position) must be stored.

    .venv/bin/python benchmarks/exam_autosave.py              # 1,000 members on SQLite (about 1.5 minutes)
    .venv/bin/python benchmarks/exam_autosave.py --quick      # 200 members, short phases (about 30 s)
    .venv/bin/python benchmarks/exam_autosave.py --postgres   # on a throw-away PostgreSQL database

Only the standard library and the app's own dependencies are used; the HTTP client is a small asyncio
HTTP/1.1 keep-alive client (one core is the client's, the other the server's). Everything runs on
127.0.0.1 and every loop is bounded in count and time. Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    HOST,
    Server,
    free_port,
    log,
    machine_cpu_seconds,
    percentile,
    process_cpu_seconds,
)

USER_AGENT = "quizengine-bench/1.0"
PASSWORD = "bench-Password-2026"
BRANCH = "基准测试党支部"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
#: A monthly test drawn from every shipped bank: 25 questions of all five types.
BLUEPRINT = {
    "sections": [
        {"types": ["single"], "count": 10, "points": 2},
        {"types": ["multiple"], "count": 5, "points": 4},
        {"types": ["judge"], "count": 5, "points": 2},
        {"types": ["fill"], "count": 3, "points": 2},
        {"types": ["short"], "count": 2, "points": 5},
    ]
}
TARGETS = {"throughput_ratio": 0.7, "throughput_min": 700.0, "open_loop_p99_ms": 150.0}


# ---- a small HTTP/1.1 keep-alive client ------------------------------------------------------------


@dataclass
class HttpResponse:
    """Status, lower-cased headers (Set-Cookie values collected in `cookies`) and body."""

    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: bytes


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time (Content-Length or chunked bodies)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[HttpResponse] | None = None
        self.closed = False
        self._head: tuple[int, dict[str, str], list[str], int] | None = None  # status, headers, cookies, body at

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed by the server"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            self._parse()

    def _parse(self) -> None:
        if self._head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            cookies: list[str] = []
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                if name == "set-cookie":
                    cookies.append(value)
                headers[name] = value
            self._head = (int(lines[0].split(" ", 2)[1]), headers, cookies, end + 4)
        status, headers, cookies, start = self._head
        if "content-length" in headers:
            stop = start + int(headers["content-length"])
            if len(self.buffer) < stop:
                return
            body = bytes(self.buffer[start:stop])
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parsed = _dechunk(self.buffer, start)
            if parsed is None:
                return
            body, stop = parsed
        else:
            raise ValueError("response without a length is not supported")
        del self.buffer[:stop]
        self._head = None
        assert self.waiter is not None
        self.waiter.set_result(HttpResponse(status, headers, cookies, body))
        if headers.get("connection", "").lower() == "close" and self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes, timeout: float) -> HttpResponse:
        """Send one request and wait for its response (the connection is closed on timeout)."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        timer = loop.call_later(timeout, self._time_out)
        self.transport.write(request)
        try:
            return await self.waiter
        finally:
            timer.cancel()
            self.waiter = None

    def _time_out(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(TimeoutError("no response in time"))
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


def _dechunk(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    body = bytearray()
    at = start
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        chunk_start = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", chunk_start)
            return (bytes(body), trailer_end + 2) if trailer_end >= 0 else None
        if len(buffer) < chunk_start + size + 2:
            return None
        body += buffer[chunk_start : chunk_start + size]
        at = chunk_start + size + 2


class ConnectionPool:
    """Keep-alive connections to one port, opened on demand up to `limit`; waiters are served in order."""

    def __init__(self, port: int, limit: int) -> None:
        self.port, self.limit = port, limit
        self.idle: list[HttpConnection] = []
        self.count = 0
        self.waiters: list[asyncio.Future[HttpConnection | None]] = []

    async def acquire(self) -> HttpConnection:
        loop = asyncio.get_running_loop()
        while True:
            while self.idle:
                connection = self.idle.pop()
                if not connection.closed:
                    return connection
                self.count -= 1
            if self.count < self.limit:
                self.count += 1
                try:
                    _, connection = await loop.create_connection(HttpConnection, HOST, self.port)
                except BaseException:
                    self.count -= 1
                    raise
                return connection
            waiter: asyncio.Future[HttpConnection | None] = loop.create_future()
            self.waiters.append(waiter)
            handed = await waiter
            if handed is not None:
                return handed

    def release(self, connection: HttpConnection) -> None:
        if connection.closed:
            self.count -= 1
            if self.waiters:
                self.waiters.pop(0).set_result(None)  # it may open a new one
        elif self.waiters:
            self.waiters.pop(0).set_result(connection)
        else:
            self.idle.append(connection)

    async def request(self, raw: bytes, timeout: float) -> HttpResponse:
        connection = await self.acquire()
        try:
            return await connection.exchange(raw, timeout)
        except BaseException:
            connection.close()
            raise
        finally:
            self.release(connection)

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


class Pools:
    """A ConnectionPool per server port (one per app worker), opened on first use."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.by_port: dict[int, ConnectionPool] = {}

    async def request(self, port: int, raw: bytes, timeout: float) -> HttpResponse:
        pool = self.by_port.get(port)
        if pool is None:
            pool = self.by_port[port] = ConnectionPool(port, self.limit)
        return await pool.request(raw, timeout)

    def close(self) -> None:
        for pool in self.by_port.values():
            pool.close()


def build_request(
    method: str, path: str, port: int, headers: Iterable[tuple[str, str]] = (), body: bytes | None = None
) -> bytes:
    """Serialize one HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", f"User-Agent: {USER_AGENT}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


# ---- members, answers and the ledger of acknowledgements ------------------------------------------


@dataclass
class Member:
    """One simulated member: session cookie, CSRF tokens, attempt and paper as the page gave them."""

    user_id: int
    username: str
    cookie: str
    form_token: str  # the session's CSRF token for forms (from login)
    attempt_id: int | None = None
    page_token: str = ""  # <meta name="csrf-token"> of the exam page, sent as X-CSRFToken
    questions: list[dict[str, Any]] = field(default_factory=list)
    saves: int = 0
    port: int = 0  # the app worker this member's browser talks to (nginx keeps a client on one worker)

    def take_cookies(self, response: HttpResponse) -> None:
        for value in response.cookies:
            pair = value.split(";", 1)[0]
            if pair.startswith("quizengine_session="):
                self.cookie = pair


def answer_for(question: dict[str, Any], seq: int, rng: random.Random) -> Any:
    """A response a member could give, in shown keys; text answers carry the save's number."""
    keys = [key for key, _text in question.get("options") or []]
    kind = question["type"]
    if kind == "single":
        return rng.choice(keys)
    if kind == "multiple":
        return sorted(rng.sample(keys, rng.randint(1, len(keys))))
    if kind == "judge":
        return rng.random() < 0.5
    if kind == "fill":
        return [f"答案{seq}-{blank}" for blank in range(max(1, question.get("blanks") or 1))]
    return f"第{seq}次保存：" + "坚持和加强党的全面领导，" * 6


class Ledger:
    """Per (attempt, position): the last acknowledged response, and responses whose fate is unknown.

    A member has at most one save in flight, so acknowledgements of one key arrive in send order. A
    save that failed without a clear refusal (timeout, 5xx, dropped connection) may or may not have been
    applied, so the stored value may also be one of those.
    """

    def __init__(self) -> None:
        self.acked: dict[tuple[int, int], Any] = {}
        self.unknown: dict[tuple[int, int], list[Any]] = {}

    def ack(self, key: tuple[int, int], response: Any) -> None:
        self.acked[key] = response
        self.unknown.pop(key, None)

    def maybe(self, key: tuple[int, int], response: Any) -> None:
        self.unknown.setdefault(key, []).append(response)


# ---- phase statistics --------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    """Latencies (seconds) of successful requests and a tally of failures."""

    name: str
    latencies: list[float] = field(default_factory=list)
    ok: int = 0  # successes counted in the figures
    handled: int = 0  # every success while the phase was metered (CPU per request is per these)
    record_until: float = math.inf  # closed loop: only saves completed by then are counted
    server_errors: int = 0  # any 5xx, or a body saying "database is locked"
    refused: int = 0  # other non-success statuses (4xx, unexpected redirects)
    transport_errors: int = 0  # timeouts and dropped connections
    seconds: float = 0.0  # the phase's nominal length (throughput is ok / seconds)
    wall: float = 0.0  # measured wall time, tail included (CPU shares are of this)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    examples: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    handled_by: dict[int, int] = field(default_factory=dict)  # successes per server port (per app worker)

    def record_failure(self, kind: str, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 5:
            self.examples.append(detail[:300])

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies)
        ms = {f"p{p:g}_ms": round(percentile(values, p) * 1000, 1) for p in (50, 95, 99)}
        return {
            "requests_ok": self.ok,
            **ms,
            "max_ms": round(values[-1] * 1000, 1) if values else math.nan,
            "per_second": round(self.ok / self.seconds, 1) if self.seconds else math.nan,
            "seconds": round(self.seconds, 2),
            "server_errors": self.server_errors,
            "refused": self.refused,
            "transport_errors": self.transport_errors,
            "wall_seconds": round(self.wall, 2),
            "server_cpu_pct": round(100 * self.server_cpu / self.wall, 1) if self.wall else math.nan,
            "server_cpu_ms_per_ok": round(1000 * self.server_cpu / self.handled, 3) if self.handled else math.nan,
            "per_server_core_second": round(self.handled / self.server_cpu, 1) if self.server_cpu else math.nan,
            "client_cpu_pct": round(100 * self.client_cpu / self.wall, 1) if self.wall else math.nan,
            "examples": self.examples,
            **self.extra,
        }


def classify(result: PhaseResult, response: HttpResponse, ok: bool, count: bool = True) -> bool:
    """Count one response (a success only when `count`: a step of a longer flow is not); True on success."""
    if ok:
        result.ok += count
        result.handled += count
        return True
    text = response.body[:300].decode("utf-8", "replace")
    if response.status >= 500 or b"database is locked" in response.body:
        result.record_failure("server_errors", f"{response.status} {text}")
    else:
        result.record_failure("refused", f"{response.status} {text}")
    return False


# ---- server processes ----------------------------------------------------------------------------------


def postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL cluster (other users' work included): every live postgres process, plus
    the exited backends, whose time the postmaster holds as its children's."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += process_cpu_seconds(int(entry.name), children=True)
            except OSError:
                continue
    return total


def start_app_server(instance: Path, url: str, port: int, logs: Path) -> Server:
    """run.py exactly as an operator starts it (first-run setup included; it finds everything in place)."""
    env = {
        **os.environ,
        "QUIZENGINE_INSTANCE": str(instance),
        "QUIZENGINE_BANKS": str(ROOT / "question_banks"),
        "DATABASE_URL": url,
        "PYTHONUNBUFFERED": "1",
    }
    return Server(
        "app", [sys.executable, str(ROOT / "run.py"), "--port", str(port)], env, port, "quizengine 已启动", logs
    )


def start_baseline_server(url: str, port: int, logs: Path) -> Server:
    """The baseline in its own gevent-patched process (patched before anything else is imported)."""
    code = (
        "from gevent import monkey; monkey.patch_all()\n"
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from benchmarks.exam_autosave import serve_baseline; serve_baseline(sys.argv[2], int(sys.argv[3]))\n"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-c", code, str(ROOT), url, str(port)]
    return Server("baseline", argv, env, port, "baseline serving", logs)


def baseline_table(metadata: Any) -> Any:
    """The baseline's answers table: one row per (attempt, position), like attempt_items."""
    from sqlalchemy import JSON, Column, DateTime, Integer, Table, UniqueConstraint

    return Table(
        "bench_answers",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("attempt_id", Integer, nullable=False),
        Column("position", Integer, nullable=False),
        Column("response", JSON),
        Column("answered_at", DateTime),
        UniqueConstraint("attempt_id", "position"),
    )


def baseline_app(url: str) -> Any:
    """The baseline: POST /exams/attempts/<id>/answers as a bare Flask view: parse JSON, UPDATE one row, commit."""
    from flask import Flask, jsonify, request
    from sqlalchemy import MetaData, update

    from quizengine.extensions import make_engine

    engine = make_engine(url)
    answers = baseline_table(MetaData())
    app = Flask("baseline")

    @app.post("/exams/attempts/<int:attempt_id>/answers")
    def save(attempt_id: int) -> Any:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("position"), int):
            return jsonify({"ok": False}), 400
        now = datetime.now(UTC)
        with engine.begin() as connection:
            done = connection.execute(
                update(answers)
                .where(answers.c.attempt_id == attempt_id, answers.c.position == payload["position"])
                .values(response=payload.get("response"), answered_at=now.replace(tzinfo=None))
            ).rowcount
        if done != 1:
            return jsonify({"ok": False}), 404
        return jsonify(
            {"ok": True, "position": payload["position"], "savedAt": now.isoformat(), "serverNow": now.isoformat()}
        )

    return app


def serve_baseline(url: str, port: int) -> None:
    """Serve the baseline app the way run.py serves quizengine (gevent WSGIServer, TCP_NODELAY)."""
    from flask_socketio import SocketIO

    from quizengine.server import serve

    app = baseline_app(url)
    socketio = SocketIO(app, async_mode="gevent")
    print("baseline serving", flush=True)
    serve(app, socketio, HOST, port)  # the server run.py uses (gevent WSGIServer, TCP_NODELAY)


# ---- setup through the app's own services ----------------------------------------------------------------


@dataclass
class Setup:
    """What the benchmark prepared: the app (for verification), the exam and the members."""

    app: Any
    exam_id: int
    members: list[Member]
    seconds: float


def prepare(url: str, instance: Path, count: int, paper_mode: str = "uniform") -> Setup:
    """Migrate, load the shipped banks, add members (one shared Argon2 hash), schedule the exam, mint sessions.

    Sessions are made by Flask-Login's own `login_user` and Flask-WTF's `generate_csrf` in a request
    context and signed with the instance's secret key, so the cookie is the one a real login would set;
    a sample of members also logs in for real over HTTP (see `login_sample`).
    """
    from flask import session as flask_session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import insert, select

    from quizengine import create_app
    from quizengine.extensions import db
    from quizengine.models import MemberStatus, Role, User
    from quizengine.services.accounts import create_user, get_or_create_branch
    from quizengine.services.exam_setup import ExamSpec, create_exam, publish_exam
    from quizengine.services.setup import first_run

    started = time.monotonic()
    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": url, "BANKS_PATH": ROOT / "question_banks"})
    with app.app_context():
        first_run(app.config)
        session = db.session()
        organizer, _ = create_user(
            session,
            username="bench-organizer",
            name="基准组织员",
            role=Role.ORGANIZER,
            password=PASSWORD,
            branch_name=BRANCH,
        )
        shared_hash = organizer.password_hash  # hash_password(PASSWORD), computed once and shared by every member
        branch_id = get_or_create_branch(session, BRANCH).id
        now = datetime.now(UTC)
        session.execute(
            insert(User),
            [
                {
                    "username": f"bench{n:05d}",
                    "name": f"党员{n:05d}",
                    "password_hash": shared_hash,
                    "role": Role.MEMBER,
                    "branch_id": branch_id,
                    "member_status": MemberStatus.FULL,
                    "active": True,
                    "must_change_password": False,
                    "created_at": now,
                }
                for n in range(count)
            ],
        )
        session.commit()
        exam = create_exam(
            session,
            organizer,
            ExamSpec(
                title="基准测试月考",
                branch_ids=(branch_id,),
                opens_at=now - timedelta(minutes=10),
                closes_at=now + timedelta(hours=4),
                duration_minutes=120,
                blueprint={**BLUEPRINT, "difficulty_tolerance": 2} if paper_mode == "random" else BLUEPRINT,
                pass_mark=40,
                paper_mode=paper_mode,
            ),
        )
        publish_exam(session, organizer, exam.id)
        users = session.scalars(select(User).where(User.username.like("bench0%")).order_by(User.id)).all()
        exam_id = exam.id
        db.session.remove()
        db.engine.dispose()  # the server owns the database from here on
    serializer = app.session_interface.get_signing_serializer(app)
    members = []
    for user in users:  # each in a request (and app) context of its own, as each login is
        environ = {"REMOTE_ADDR": HOST}
        with app.test_request_context("/login", environ_base=environ, headers={"User-Agent": USER_AGENT}):
            token = generate_csrf()
            login_user(user)
            cookie = serializer.dumps(dict(flask_session))
        members.append(Member(user.id, user.username, f"{app.config['SESSION_COOKIE_NAME']}={cookie}", token))
    return Setup(app, exam_id, members, time.monotonic() - started)


def prepare_baseline(url: str, members: list[Member]) -> None:
    """Create the baseline table with one row per (attempt, position) the app's members got."""
    from sqlalchemy import MetaData, insert

    from quizengine.extensions import make_engine

    engine = make_engine(url)
    metadata = MetaData()
    table = baseline_table(metadata)
    metadata.create_all(engine)
    rows = [
        {"attempt_id": member.attempt_id, "position": question["position"]}
        for member in members
        for question in member.questions
    ]
    with engine.begin() as connection:
        connection.execute(insert(table), rows)
    engine.dispose()


# ---- phases ---------------------------------------------------------------------------------------------


class Meter:
    """CPU over one phase: the server, PostgreSQL (when used), this client, and everything else on the machine.

    Percentages are of one core over the phase's wall time (the machine has two cores: 200 % is all of it).
    "Other" is what processes outside the benchmark took, and "steal" what the hypervisor took: both make
    the figures of that phase less trustworthy. A group of app workers (``servers``) is also read worker by
    worker, and Redis (its own ``INFO cpu``) when a URL is given.
    """

    def __init__(self, server: Any, postgres: bool, redis_url: str | None = None) -> None:
        self.server, self.postgres, self.redis_url = server, postgres, redis_url
        self.workers: list[Server] = list(getattr(server, "servers", [server]))

    def _read(self) -> tuple[float, ...]:
        from benchmarks.fanout_workers import redis_cpu_seconds

        busy, steal = machine_cpu_seconds()
        pg = postgres_cpu_seconds() if self.postgres else 0.0
        redis = redis_cpu_seconds(self.redis_url) if self.redis_url else 0.0
        workers = [worker.cpu() for worker in self.workers]
        return time.monotonic(), time.process_time(), sum(workers), pg, busy, steal, redis, *workers

    def __enter__(self) -> Meter:
        self.before = self._read()
        return self

    def __exit__(self, *_: object) -> None:
        self.used = [after - before for after, before in zip(self._read(), self.before, strict=True)]

    def fill(self, result: PhaseResult, idle: list[float] | None = None) -> None:
        """Store the phase's CPU figures; with `idle` (each worker's background CPU per second), also CPU per
        request net of that background over the phase's wall time."""
        wall, client, server, pg, busy, steal, redis, *workers = self.used
        result.wall, result.server_cpu, result.client_cpu = wall, server, client
        result.extra["other_cpu_pct"] = round(100 * max(0.0, busy - client - server - pg - redis) / wall, 1)
        result.extra["steal_pct"] = round(100 * steal / wall, 1)
        if self.postgres:
            result.extra["postgres_cpu_pct"] = round(100 * pg / wall, 1)
        if self.redis_url:
            result.extra["redis_cpu_s"] = round(redis, 3)
        result.extra["per_worker"] = [
            {
                "port": worker.port,
                "cpu_s": round(cpu, 3),
                "handled": result.handled_by.get(worker.port, 0),
                "cpu_ms_per_ok": round(1000 * cpu / result.handled_by[worker.port], 3)
                if result.handled_by.get(worker.port)
                else math.nan,
            }
            for worker, cpu in zip(self.workers, workers, strict=True)
        ]
        if idle is not None:
            background = sum(idle) * wall
            result.extra["background_cpu_pct"] = round(100 * sum(idle), 1)
            result.extra["net_cpu_ms_per_ok"] = (
                round(1000 * max(0.0, server - background) / result.handled, 3) if result.handled else math.nan
            )
            for row, rate in zip(result.extra["per_worker"], idle, strict=True):
                net = max(0.0, row["cpu_s"] - rate * wall)
                row["net_cpu_ms_per_ok"] = round(1000 * net / row["handled"], 3) if row["handled"] else math.nan


async def login_sample(pools: Pools, members: list[Member], concurrency: int) -> PhaseResult:
    """Real logins over HTTP (GET /login for the form's CSRF token, POST /login): Argon2 at production cost."""
    result = PhaseResult("login")
    queue = list(members)

    async def worker() -> None:
        while queue:
            member = queue.pop()
            port = member.port
            try:
                page = await pools.request(port, build_request("GET", "/login", port), 60)
                cookie = next(c.split(";", 1)[0] for c in page.cookies if c.startswith("quizengine_session="))
                token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.body) or re.search(
                    rb'name="csrf_token"[^>]*value="([^"]+)"', page.body
                )
                assert token is not None, "no CSRF token on /login"
                form = urllib.parse.urlencode(
                    {"username": member.username, "password": PASSWORD, "csrf_token": token.group(1).decode()}
                ).encode()
                headers = [("Cookie", cookie), ("Content-Type", "application/x-www-form-urlencoded")]
                sent = time.monotonic()
                response = await pools.request(port, build_request("POST", "/login", port, headers, form), 60)
            except (OSError, TimeoutError, AssertionError, StopIteration) as error:
                result.record_failure("transport_errors", repr(error))
                continue
            if classify(result, response, response.status == 302 and bool(response.cookies)):
                result.latencies.append(time.monotonic() - sent)
                member.cookie = cookie
                member.take_cookies(response)
                member.form_token = token.group(1).decode()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result


STATE = re.compile(rb'<script type="application/json" id="exam-state">(.*?)</script>', re.S)
META = re.compile(rb'<meta name="csrf-token" content="([^"]+)"')


async def start_spike(pools: Pools, exam_id: int, members: list[Member], spread: float) -> PhaseResult:
    """Each member starts at a fixed time over `spread` seconds: POST start (302) then GET the paper.

    Latency is measured from the member's scheduled time to the paper received (so a server that falls
    behind shows it, instead of slowing the arrivals down).
    """
    result = PhaseResult("start")
    starts: list[float] = []
    papers: list[float] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2

    async def one(member: Member, at: float) -> None:
        await asyncio.sleep(max(0.0, at - loop.time()))
        form = urllib.parse.urlencode({"csrf_token": member.form_token}).encode()
        headers = [("Cookie", member.cookie), ("Content-Type", "application/x-www-form-urlencoded")]
        port = member.port
        try:
            raw = build_request("POST", f"/exams/{exam_id}/start", port, headers, form)
            response = await pools.request(port, raw, 120)
            location = response.headers.get("location", "")
            found = re.search(r"/exams/attempts/(\d+)$", location)
            if not classify(result, response, response.status == 302 and found is not None, count=False):
                return
            started = loop.time()
            starts.append(started - at)
            member.take_cookies(response)
            path = urllib.parse.urlsplit(location).path
            page = await pools.request(port, build_request("GET", path, port, [("Cookie", member.cookie)]), 120)
        except (OSError, TimeoutError) as error:
            result.record_failure("transport_errors", repr(error))
            return
        state, meta = STATE.search(page.body), META.search(page.body)
        if not classify(result, page, page.status == 200 and state is not None and meta is not None):
            return
        done = loop.time()
        result.handled_by[port] = result.handled_by.get(port, 0) + 1
        papers.append(done - started)
        result.latencies.append(done - at)
        assert state is not None and meta is not None and found is not None
        data = json.loads(state.group(1))
        member.attempt_id = int(found.group(1))
        member.page_token = meta.group(1).decode()
        member.questions = [
            {"position": q["position"], "type": q["type"], "options": q["options"], "blanks": q["blanks"]}
            for q in data["questions"]
        ]
        result.extra.setdefault("page_bytes", len(page.body))

    step = spread / max(1, len(members))
    await asyncio.gather(*(one(member, t0 + i * step) for i, member in enumerate(members)))
    result.seconds = loop.time() - t0
    for name, values in (("post_start", starts), ("get_paper", papers)):
        ordered = sorted(values)
        result.extra[f"{name}_p50_ms"] = round(percentile(ordered, 50) * 1000, 1)
        result.extra[f"{name}_p99_ms"] = round(percentile(ordered, 99) * 1000, 1)
    return result


class Saver:
    """Builds one save for a member and records its outcome in the phase result and the ledger."""

    def __init__(self, pools: Pools, port: int | None, ledger: Ledger, rng: random.Random) -> None:
        """`port`: the server every save goes to; None: each member's own worker."""
        self.pools, self.port, self.ledger, self.rng = pools, port, ledger, rng

    async def save(self, member: Member, result: PhaseResult, since: float, record: bool = True) -> None:
        loop = asyncio.get_running_loop()
        question = self.rng.choice(member.questions)
        member.saves += 1
        response_value = answer_for(question, member.saves, self.rng)
        body = json.dumps({"position": question["position"], "response": response_value}, ensure_ascii=False).encode()
        headers = [("Cookie", member.cookie), ("X-CSRFToken", member.page_token), ("Content-Type", "application/json")]
        port = self.port or member.port
        raw = build_request("POST", f"/exams/attempts/{member.attempt_id}/answers", port, headers, body)
        key = (member.attempt_id or 0, question["position"])
        try:
            response = await self.pools.request(port, raw, 30)
        except (OSError, TimeoutError) as error:
            self.ledger.maybe(key, response_value)
            if record:
                result.record_failure("transport_errors", repr(error))
            return
        ok = response.status == 200 and b'"ok":true' in response.body
        if ok:
            self.ledger.ack(key, response_value)
            result.handled_by[port] = result.handled_by.get(port, 0) + 1
        elif response.status >= 500 or b"database is locked" in response.body:
            self.ledger.maybe(key, response_value)
        done = loop.time()
        if record and done <= result.record_until:
            if classify(result, response, ok):
                result.latencies.append(done - since)
        elif ok:
            result.handled += 1


async def open_loop(saver: Saver, members: list[Member], rate: float, seconds: float) -> PhaseResult:
    """Saves sent at fixed times (rate per second) whatever the responses; latency from the scheduled time.

    Members take turns (each has at most one save in flight, as a page does); when the server falls so far
    behind that every member is waiting, a save waits for a member, and that wait is part of its latency.
    """
    result = PhaseResult("open_loop")
    loop = asyncio.get_running_loop()
    free: asyncio.Queue[Member] = asyncio.Queue()
    for member in members:
        free.put_nowait(member)
    waited = 0

    async def one(at: float) -> None:
        nonlocal waited
        waited += free.empty()
        member = await free.get()
        try:
            await saver.save(member, result, at)
        finally:
            free.put_nowait(member)

    total = int(rate * seconds)
    t0 = loop.time() + 0.1
    tasks = []
    for n in range(total):
        at = t0 + n / rate
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(at)))
    await asyncio.gather(*tasks)
    result.seconds = seconds
    done = loop.time() - t0
    result.extra.update(rate=rate, scheduled=total, achieved_per_second=round(result.ok / done, 1))
    result.extra.update(waited_for_a_member=waited)
    return result


async def closed_loop(saver: Saver, members: list[Member], clients: int, seconds: float, warmup: float) -> PhaseResult:
    """`clients` workers, each saving for its own share of members as fast as responses come back."""
    result = PhaseResult("closed_loop")
    loop = asyncio.get_running_loop()
    clients = min(clients, len(members))
    measure_from = loop.time() + warmup
    until = result.record_until = measure_from + seconds

    async def worker(mine: list[Member]) -> None:
        n = 0
        while loop.time() < until:
            member = mine[n % len(mine)]
            n += 1
            sent = loop.time()
            await saver.save(member, result, sent, record=sent >= measure_from)

    await asyncio.gather(*(worker(members[c::clients]) for c in range(clients)))
    result.seconds = seconds
    result.extra.update(clients=clients)
    return result


#: Seconds each server's CPU is read with nothing sent, before the save phases (its background rate).
IDLE_SECONDS = 3.0


async def background_rates(server: Any, seconds: float) -> list[float]:
    """Each process's CPU per second with no request in flight: the app's timer loops (contest ticks, the
    attempt sweeper) cost CPU by the second, not by the save, and on a loaded machine a phase lasts longer."""
    workers = server_list(server)
    before = [worker.cpu() for worker in workers]
    await asyncio.sleep(seconds)
    return [(worker.cpu() - cpu) / seconds for worker, cpu in zip(workers, before, strict=True)]


async def save_phases(
    name: str, server: Any, members: list[Member], ledger: Ledger, cfg: argparse.Namespace, port: int | None
) -> dict[str, PhaseResult]:
    """Open loop at the fixed rate, then the closed-loop saturation, against one server (`port`), or against
    a group of workers (`port` None: each member saves on its own worker)."""
    pool = Pools(cfg.connections)
    saver = Saver(pool, port, ledger, random.Random(f"{cfg.seed}-{name}"))
    results: dict[str, PhaseResult] = {}
    log(f"{name}: warm-up and open loop at {cfg.rate:g} saves/s for {cfg.open_seconds:g} s")
    await closed_loop(saver, members, cfg.clients, 0.0, cfg.warmup)  # warm-up, not recorded
    idle = await background_rates(server, IDLE_SECONDS)
    with Meter(server, cfg.postgres, cfg.redis_url) as meter:
        results["open_loop"] = await open_loop(saver, members, cfg.rate, cfg.open_seconds)
    meter.fill(results["open_loop"], idle)
    log(f"{name}: closed loop, {cfg.clients} clients for {cfg.closed_seconds:g} s")
    with Meter(server, cfg.postgres, cfg.redis_url) as meter:
        results["closed_loop"] = await closed_loop(saver, members, cfg.clients, cfg.closed_seconds, 0.0)
    meter.fill(results["closed_loop"], idle)
    pool.close()
    return results


# ---- verification ---------------------------------------------------------------------------------------


def verify_app(setup: Setup, ledger: Ledger) -> dict[str, Any]:
    """Every acknowledged answer is the stored one (after the app's shown-key -> authoring-key mapping)."""
    from sqlalchemy import func, select

    from quizengine.engine.questions import Question as EngineQuestion
    from quizengine.engine.questions import get_type
    from quizengine.engine.selection import PaperItem
    from quizengine.extensions import db
    from quizengine.models import Attempt, AttemptItem, QuestionRevision

    def expected(content: dict[str, Any], order: list[str], shown: Any) -> Any:
        question = EngineQuestion.from_content("q", content)
        original = PaperItem("q", 0, option_order=tuple(order)).to_original(shown)
        return get_type(question.type).storable(question, original)

    with setup.app.app_context():
        session = db.session()
        rows = session.execute(
            select(
                AttemptItem.attempt_id,
                AttemptItem.position,
                AttemptItem.option_order,
                AttemptItem.response,
                QuestionRevision.content,
            )
            .join(QuestionRevision, QuestionRevision.id == AttemptItem.revision_id)
            .join(Attempt, Attempt.id == AttemptItem.attempt_id)
            .where(Attempt.exam_id == setup.exam_id)
        ).all()
        attempts = session.scalar(select(func.count(Attempt.id)).where(Attempt.exam_id == setup.exam_id))
        db.session.remove()
        db.engine.dispose()
    stored = {(row.attempt_id, row.position): row for row in rows}
    return _compare(
        ledger,
        lambda key: stored[key].response if key in stored else KeyError,
        lambda key, shown: expected(stored[key].content, stored[key].option_order, shown),
        attempts=attempts,
        items=len(rows),
    )


def verify_baseline(url: str, ledger: Ledger) -> dict[str, Any]:
    from sqlalchemy import MetaData, select

    from quizengine.extensions import make_engine

    engine = make_engine(url)
    table = baseline_table(MetaData())
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.attempt_id, table.c.position, table.c.response)).all()
    engine.dispose()
    stored = {(row.attempt_id, row.position): row.response for row in rows}
    return _compare(ledger, lambda key: stored.get(key, KeyError), lambda _key, shown: shown, items=len(rows))


def _compare(
    ledger: Ledger, stored: Callable[[Any], Any], expect: Callable[[Any, Any], Any], **extra: Any
) -> dict[str, Any]:
    lost, explained, examples = 0, 0, []
    for key, shown in ledger.acked.items():
        value = stored(key)
        if value is not KeyError and value == expect(key, shown):
            continue
        if value is not KeyError and any(value == expect(key, maybe) for maybe in ledger.unknown.get(key, ())):
            explained += 1  # a later save failed without an answer, but had been applied
            continue
        lost += 1
        if len(examples) < 5:
            examples.append({"key": key, "acknowledged": shown, "stored": None if value is KeyError else value})
    return {
        "checked": len(ledger.acked),
        "lost": lost,
        "later_unacknowledged_applied": explained,
        **extra,
        "examples": examples,
    }


# ---- the run --------------------------------------------------------------------------------------------


def create_pg_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(cfg: argparse.Namespace) -> dict[str, Any]:
    """Set up, drive the app, drive the baseline, verify; return every figure."""
    work = Path(tempfile.mkdtemp(prefix="quizengine-bench-"))
    instance = work / "instance"
    pg_names: list[str] = []
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "database": "postgresql" if cfg.postgres else "sqlite",
        "workers": cfg.workers,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "loadavg_before": os.getloadavg()},
        "settings": {
            key: getattr(cfg, key)
            for key in ("members", "spread", "login_sample", "rate", "open_seconds", "clients", "closed_seconds")
        },
    }
    try:
        if cfg.postgres:
            base = f"quizengine_bench_{uuid.uuid4().hex[:8]}"
            pg_names += [base, f"{base}_baseline"]
            app_url, baseline_url = (create_pg_database(cfg.pg_admin_url, name) for name in pg_names)
        else:
            app_url = f"sqlite:///{instance / 'quizengine.sqlite3'}"
            baseline_url = f"sqlite:///{work / 'baseline.sqlite3'}"
        log(f"setup: migrate, load banks, {cfg.members} members, exam ({report['database']}, {work})")
        setup = prepare(app_url, instance, cfg.members, cfg.paper_mode)
        report["setup_seconds"] = round(setup.seconds, 1)
        members = setup.members

        server = start_app(instance, app_url, work, cfg, report)
        try:
            phases = asyncio.run(drive_app(server, setup, cfg))
        finally:
            server.stop()
            report["app_exceptions"] = {
                line: count for worker in server_list(server) for line, count in worker.exceptions().items()
            }
        report["app"] = {name: result.summary() for name, result in phases["results"].items()}
        ledger: Ledger = phases["ledger"]
        log("verify: acknowledged answers against the app's database")
        report["app"]["verify"] = verify_app(setup, ledger)

        ready = [member for member in members if member.attempt_id is not None]
        prepare_baseline(baseline_url, ready)
        baseline = start_baseline_server(baseline_url, free_port(), work)
        baseline_ledger = Ledger()
        try:
            baseline.wait_ready()
            results = asyncio.run(save_phases("baseline", baseline, ready, baseline_ledger, cfg, baseline.port))
        finally:
            baseline.stop()
            report["baseline_exceptions"] = baseline.exceptions()
        report["baseline"] = {name: result.summary() for name, result in results.items()}
        report["baseline"]["verify"] = verify_baseline(baseline_url, baseline_ledger)
    finally:
        report["machine"]["loadavg_after"] = os.getloadavg()
        for name in pg_names:
            drop_pg_database(cfg.pg_admin_url, name)
        if cfg.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report


def server_list(server: Any) -> list[Server]:
    """The processes of the app: one server, or a group of workers."""
    return list(getattr(server, "servers", [server]))


def start_app(instance: Path, url: str, work: Path, cfg: argparse.Namespace, report: dict[str, Any]) -> Any:
    """One ``run.py`` (first-run setup included, as an operator starts it) or, with ``--workers N``, N
    ``run.py --no-setup`` workers with Redis as the message queue, started by the fan-out benchmark's code."""
    started = time.monotonic()
    if cfg.workers == 1:
        server = start_app_server(instance, url, free_port(), work)
        server.wait_ready()
    else:
        from benchmarks.fanout_workers import WorkerGroup, start_workers

        ports = [free_port() for _ in range(cfg.workers)]
        server = WorkerGroup(start_workers(instance, url, ports, work, redis_url=cfg.redis_url))
    report["app_start_seconds"] = round(time.monotonic() - started, 1)
    return server


async def drive_app(server: Any, setup: Setup, cfg: argparse.Namespace) -> dict[str, Any]:
    """Logins, the start spike and the save phases on the app: member i on worker i mod N; with N > 1 the
    save phases once more on worker 1 alone (its own members saving at its share of the rate and of the
    clients, the other worker idle), for its CPU per save alone in the same run: CPU per request falls as
    requests per wake-up rise, so the comparison holds the load per worker equal."""
    members = setup.members
    workers = server_list(server)
    for index, member in enumerate(members):
        member.port = workers[index % len(workers)].port
    results: dict[str, PhaseResult] = {}
    pools = Pools(cfg.connections)
    sample = members[: cfg.login_sample]
    if sample:
        log(f"app: {len(sample)} real logins (Argon2 at production cost), measured apart")
        with Meter(server, cfg.postgres, cfg.redis_url) as meter:
            results["login"] = await login_sample(pools, sample, concurrency=4)
        meter.fill(results["login"])
    log(f"app: start spike, {len(members)} members over {cfg.spread:g} s on {len(workers)} worker(s)")
    with Meter(server, cfg.postgres, cfg.redis_url) as meter:
        results["start"] = await start_spike(pools, setup.exam_id, members, cfg.spread)
    meter.fill(results["start"])
    pools.close()
    ready = [member for member in members if member.attempt_id is not None]
    if len(ready) < len(members):
        log(f"app: only {len(ready)} of {len(members)} members got their paper")
    if not ready:
        raise RuntimeError(f"no member got a paper: {results['start'].examples}")
    ledger = Ledger()
    results.update(await save_phases("app", server, ready, ledger, cfg, None if len(workers) > 1 else workers[0].port))
    if len(workers) > 1:  # its own members at its share of the load: per save, only the other worker differs
        own = [member for member in ready if member.port == workers[0].port]
        share = argparse.Namespace(**{**vars(cfg), "rate": cfg.rate / len(workers)})
        share.clients = max(1, cfg.clients // len(workers))
        alone = await save_phases("app, worker 1 alone", workers[0], own, ledger, share, workers[0].port)
        results.update({f"{phase}_one_worker": result for phase, result in alone.items()})
    return {"results": results, "ledger": ledger}


# ---- report -----------------------------------------------------------------------------------------------


ROWS = [  # (label, phase, figure) of the app/baseline table
    ("2. closed-loop saves/s", "closed_loop", "per_second"),
    ("   closed-loop p50 ms", "closed_loop", "p50_ms"),
    ("   closed-loop p99 ms", "closed_loop", "p99_ms"),
    ("3. open-loop achieved saves/s", "open_loop", "achieved_per_second"),
    ("   open-loop p50 ms", "open_loop", "p50_ms"),
    ("   open-loop p99 ms", "open_loop", "p99_ms"),
    ("   open-loop max ms", "open_loop", "max_ms"),
    ("   server CPU ms/save (closed)", "closed_loop", "server_cpu_ms_per_ok"),
    ("   net of background (closed)", "closed_loop", "net_cpu_ms_per_ok"),
    ("   background CPU % (idle)", "closed_loop", "background_cpu_pct"),
    ("   saves per server CPU-second", "closed_loop", "per_server_core_second"),
    ("   server CPU % (closed)", "closed_loop", "server_cpu_pct"),
    ("   server CPU % (open)", "open_loop", "server_cpu_pct"),
    ("   client CPU % (closed)", "closed_loop", "client_cpu_pct"),
    ("   other processes CPU % (closed)", "closed_loop", "other_cpu_pct"),
    ("   other processes CPU % (open)", "open_loop", "other_cpu_pct"),
    ("   hypervisor steal % (closed)", "closed_loop", "steal_pct"),
]
SAVE_PHASES = ("open_loop", "closed_loop")


def evaluate(report: dict[str, Any]) -> dict[str, bool]:
    """The issue's targets, met or not."""
    app, base = report["app"], report["baseline"]
    throughput = app["closed_loop"]["per_second"]
    server_errors = sum(figures["server_errors"] for figures in app.values() if "server_errors" in figures)
    if report["workers"] > 1:  # N workers against one baseline process: throughput says nothing per worker
        return {
            "every member got the paper (0 failed starts)": app["start"]["requests_ok"]
            == report["settings"]["members"],
            "0 5xx (every phase)": server_errors == 0,
            "0 lost acknowledged answers": app["verify"]["lost"] == 0,
        }
    return {
        f"throughput >= {TARGETS['throughput_ratio']} x baseline": (
            throughput >= TARGETS["throughput_ratio"] * base["closed_loop"]["per_second"]
        ),
        f"throughput >= {TARGETS['throughput_min']:g} saves/s": throughput >= TARGETS["throughput_min"],
        f"open-loop p99 <= {TARGETS['open_loop_p99_ms']:g} ms at {report['settings']['rate']:g} saves/s": (
            app["open_loop"]["p99_ms"] <= TARGETS["open_loop_p99_ms"]
        ),
        "0 lock errors (5xx or 'database is locked', every phase)": server_errors == 0,
        "0 lost acknowledged answers": app["verify"]["lost"] == 0,
    }


def print_report(report: dict[str, Any]) -> None:
    """Every figure, the app/baseline table, warnings about a disturbed machine, and the targets."""
    app, base, machine = report["app"], report["baseline"], report["machine"]
    print(
        f"\nExam autosave benchmark: {report['database']}, {report['date']}, {machine['cpus']} CPUs, "
        f"Python {machine['python']}, load average {machine['loadavg_before'][0]:.2f} before, "
        f"{machine['loadavg_after'][0]:.2f} after"
    )
    print(f"settings: {report['settings']}")
    print(f"setup {report['setup_seconds']} s, app server ready in {report['app_start_seconds']} s")
    if "login" in app:
        login = app["login"]
        print(
            f"\nlogins (real, Argon2 at production cost): {login['requests_ok']} ok, {login['per_second']}/s, "
            f"p50 {login['p50_ms']} ms, max {login['max_ms']} ms, server CPU {login['server_cpu_ms_per_ok']} ms "
            f"per login, failures {login['server_errors'] + login['refused'] + login['transport_errors']}"
        )
    start = app["start"]
    print(
        f"\n1. start spike, POST start + GET paper from the scheduled time: {start['requests_ok']} ok, "
        f"p50 {start['p50_ms']} / p95 {start['p95_ms']} / p99 {start['p99_ms']} / max {start['max_ms']} ms\n"
        f"   POST start p50 {start['post_start_p50_ms']} p99 {start['post_start_p99_ms']} ms; "
        f"GET paper p50 {start['get_paper_p50_ms']} p99 {start['get_paper_p99_ms']} ms; "
        f"server CPU {start['server_cpu_ms_per_ok']} ms per member ({start['server_cpu_pct']}% busy); "
        f"5xx {start['server_errors']}, refused {start['refused']}, transport {start['transport_errors']}"
    )
    rows = ROWS + (
        [("   PostgreSQL CPU % (closed)", "closed_loop", "postgres_cpu_pct")]
        if "postgres" in report["database"]
        else []
    )
    print(f"\n{'figure':34} {'app':>10} {'baseline':>10} {'app/baseline':>13}")
    for label, phase, key in rows:
        a, b = app[phase].get(key, math.nan), base[phase].get(key, math.nan)
        print(f"{label:34} {a:>10} {b:>10} {a / b if b else math.nan:>13.2f}")
    for name, part in (("app", app), ("baseline", base)):
        failures = {kind: sum(part[phase][kind] for phase in SAVE_PHASES) for kind in ("server_errors", "refused")}
        failures["transport"] = sum(part[phase]["transport_errors"] for phase in SAVE_PHASES)
        verify = part["verify"]
        print(
            f"4./5. {name}: 5xx or 'database is locked' {failures['server_errors']}, refused {failures['refused']}, "
            f"transport {failures['transport']}; {verify['checked']} acknowledged (attempt, position) checked, "
            f"lost {verify['lost']} {verify['examples'] if verify['lost'] else ''}"
        )
    disturbed = [
        f"{name} {phase} ({figures['other_cpu_pct']}% of a core)"
        for name, part in (("app", app), ("baseline", base))
        for phase, figures in part.items()
        if figures.get("other_cpu_pct", 0) > 20
    ]
    if disturbed:
        print("\nWARNING: other processes on this machine used CPU during " + ", ".join(disturbed))
    for name in ("app", "baseline"):
        for line, count in report.get(f"{name}_exceptions", {}).items():
            print(f"{name} server log: {count} x {line}")
    if report["workers"] > 1:
        print_workers(report)
    print("\ntargets:")
    for label, met in report["targets"].items():
        print(f"  {'MET   ' if met else 'MISSED'} {label}")
    for name, part in (("app", app), ("baseline", base)):
        for phase, figures in part.items():
            if figures.get("examples"):
                print(f"  {name} {phase} failure examples: {figures['examples']}")


def print_workers(report: dict[str, Any]) -> None:
    """Each worker's CPU per request in the multi-worker phases, against worker 1 alone in the same run."""
    app = report["app"]
    print(f"\nper worker ({report['workers']} workers; Redis as the message queue)")
    print(f"{'phase':34} {'worker':>7} {'requests':>9} {'CPU s':>8} {'ms each':>8} {'net':>7} {'vs alone (net)':>15}")
    for phase, alone in (
        ("start", None),
        ("open_loop", "open_loop_one_worker"),
        ("closed_loop", "closed_loop_one_worker"),
    ):
        one = app[alone]["per_worker"][0] if alone else {}
        for number, row in enumerate(app[phase]["per_worker"], start=1):
            gross = row["cpu_ms_per_ok"] / one["cpu_ms_per_ok"] if one else math.nan
            net = row.get("net_cpu_ms_per_ok", math.nan) / one["net_cpu_ms_per_ok"] if one else math.nan
            print(
                f"{phase:34} {number:>7} {row['handled']:>9} {row['cpu_s']:>8.2f} {row['cpu_ms_per_ok']:>8.3f} "
                f"{row.get('net_cpu_ms_per_ok', math.nan):>7.3f} {f'{gross:.2f} ({net:.2f})':>15}"
            )
        if one:
            print(
                f"{alone:34} {1:>7} {one['handled']:>9} {one['cpu_s']:>8.2f} {one['cpu_ms_per_ok']:>8.3f} "
                f"{one['net_cpu_ms_per_ok']:>7.3f}"
            )
    for phase in ("start", "open_loop", "closed_loop", "closed_loop_one_worker"):
        print(
            f"{phase}: Redis CPU {app[phase].get('redis_cpu_s', math.nan)} s, "
            f"PostgreSQL {app[phase].get('postgres_cpu_pct', math.nan)} % of a core, "
            f"other processes {app[phase]['other_cpu_pct']} % of a core"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, help="simulated members (default 1000; 2000 with --workers)")
    parser.add_argument("--spread", type=float, help="seconds over which members start (default 10; 30 with --workers)")
    parser.add_argument("--login-sample", type=int, default=20, help="members who log in for real (default 20)")
    parser.add_argument("--rate", type=float, default=300.0, help="open-loop saves per second (default 300)")
    parser.add_argument("--open-seconds", type=float, default=15.0, help="open-loop duration (default 15)")
    parser.add_argument("--clients", type=int, default=64, help="closed-loop concurrent clients (default 64)")
    parser.add_argument("--closed-seconds", type=float, default=15.0, help="closed-loop duration (default 15)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unrecorded saving before each server's phases")
    parser.add_argument("--connections", type=int, default=256, help="client connection limit per server")
    parser.add_argument("--postgres", action="store_true", help="run on a throw-away PostgreSQL database")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help=f"where to create it (default {PG_ADMIN_URL})")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="app worker processes (run.py --no-setup each, Redis as the message queue; N > 1 needs --postgres)",
    )
    parser.add_argument("--redis-url", default=REDIS_URL, help=f"Redis for --workers (default {REDIS_URL})")
    parser.add_argument("--quick", action="store_true", help="200 members over 2 s, 5 s phases, 5 real logins")
    parser.add_argument(
        "--paper-mode",
        choices=("uniform", "random"),
        default="uniform",
        help="统一试卷 (drawn once, default) or 随机组卷 (each member's own balanced draw)",
    )
    parser.add_argument("--seed", default="exam-autosave", help="seed of the answers' random choices")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, server logs)")
    cfg = parser.parse_args(argv)
    if cfg.workers < 1 or (cfg.workers > 1 and not cfg.postgres):
        parser.error("--workers N > 1 runs the multi-worker deployment: it needs --postgres (and Redis)")
    many = cfg.workers > 1
    cfg.members = cfg.members or (2000 if many else 1000)
    cfg.spread = cfg.spread if cfg.spread is not None else (30.0 if many else 10.0)
    if not many:
        cfg.redis_url = None
    if cfg.quick:
        cfg.members, cfg.spread, cfg.login_sample = 200, 2.0, 5
        cfg.open_seconds, cfg.closed_seconds, cfg.warmup = 5.0, 5.0, 1.0
    cfg.login_sample = min(cfg.login_sample, cfg.members)
    return cfg


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    started = time.monotonic()
    report = run(cfg)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    report["targets"] = evaluate(report)
    print_report(report)
    print(f"\ntotal {report['total_seconds']} s")
    if cfg.json:
        cfg.json.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
