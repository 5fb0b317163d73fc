"""Live-contest fan-out over Socket.IO against real server processes, with two same-run baselines (issue #6).

N participants (200, 1,000 and 2,000 by default) connect to one contest on a real server process and
join it (the *connect storm*); a host client then shows questions, round after round, and every
participant records when each question reaches it; at the end every participant answers at once (the
*burst*) and waits for its ack. Each server is driven by the same lean client (benchmarks/lean_sio.py:
raw Engine.IO 4 / Socket.IO 5 frames over ``websockets``, a few µs per message) and compared with:

* **S** — a bare Flask-SocketIO server, gevent, monkey-patched, ``quizengine.server.serve`` as run.py; one room
  broadcast per host command, an ack per answer (benchmarks/baseline_servers.py);
* **R** — the floor: an asyncio ``websockets`` server fanning out with ``websockets.broadcast``;

and, with ``--targets app,...`` (the default), quizengine itself: ``run.py --port P`` on a prepared instance
with one 全员答题 contest (:class:`AppTarget`: ``next`` timed, then ``open`` and ``reveal`` per round).

Figures, per server and per N:

* time to last client: host command sent -> the last participant has the question (median and worst round);
* per-client latency p50/p95 over all (participant, round) pairs; missing = question never received;
* connect storm: all N connect and join (at most ``--connect-concurrency`` handshakes in flight), seconds,
  and the server's CPU per join (handshake included), also net of what the idle server spends meanwhile;
* messages per question: Socket.IO packets every client (host included) received per round, pings excluded;
* burst: every participant sends its answer at the same instant; ack p50/p95/p99, lost (no ack), and for
  servers with a database the answers stored against the answers acked; the server's CPU per answer;
* CPU: server CPU per round; client CPU share (near 100 % means the clients, not the server, set the pace);
  CPU that other processes took meanwhile (the figures of a run where that is high are flagged).

    .venv/bin/python benchmarks/contest_fanout.py                       # 200, 1000, 2000 clients
    .venv/bin/python benchmarks/contest_fanout.py --quick               # 200 clients, 10 rounds
    .venv/bin/python benchmarks/contest_fanout.py --clients 1000 --rounds 30 --targets S,R --json out.json
    .venv/bin/python benchmarks/contest_fanout.py --wait-quiet 120      # on a shared machine
    .venv/bin/python benchmarks/contest_fanout.py --workers 1,2         # PostgreSQL + Redis (fanout_workers.py)
    QUIZENGINE_BENCH_PROFILE_APP=/tmp/p .venv/bin/python benchmarks/contest_fanout.py --targets app  # profiles

Processes: the server is pinned to CPU 0, the driver (host client) and the client processes to the other
CPUs, so the server has a core of its own. Receive stamps are the kernel's (SO_TIMESTAMPNS, when the
bytes reached the client's socket), so a client process that is busy reading other sockets does not
inflate a latency; every stamp is ``time.time_ns`` (CLOCK_REALTIME, the kernel stamps' clock), the same
in every process. Everything listens and connects on 127.0.0.1 only; every wait is bounded; every
process started here is stopped here.

Plugging in a server (the adapter API): subclass :class:`Target` and add it to :data:`TARGET_FACTORIES`.

* ``start(work, port, cpu) -> Server`` starts the process (use :func:`start_process`; it pins and logs);
* ``prepare(work, clients, rounds)`` creates what the run needs (contest, members) — called before ``start``;
* ``host_spec()`` / ``participant_spec(i)`` return a :class:`ClientSpec`: Socket.IO auth, handshake headers
  (e.g. a session cookie) and the events to call, with ack, after connecting (joining);
* ``host_event(event, args)`` sees everything the host receives (e.g. to follow a state version);
  ``begin(host)`` runs after the storm (e.g. start the contest);
* ``show(host, k)`` sends the host command of round k (the harness stamps the time just before);
  ``after_show(host, k, quiet)`` runs once every participant has it (open, reveal...; counted in messages;
  ``await quiet()`` waits until the participants received nothing for ``--quiet-ms``);
* ``round_of(event, args) -> int | None`` tells which round a server event shows (None: not a question);
* ``joined_ok(ack)`` checks each join step's ack;
* ``open_burst(host, k, quiet)``, ``answer(i, k) -> (event, args)``, ``answer_ok(ack_args)`` define the burst;
* ``verify(acked, k) -> dict | None`` checks the database afterwards (``{"stored": n, "acked": m}``);
* ``stop()`` releases anything ``prepare`` kept.

``participant_spec``, ``round_of``, ``answer`` and ``answer_ok`` run in forked client processes: they must
not use anything that does not survive ``fork`` (an open database connection, a thread).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline_servers import READY_MARKER  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    HOST,
    Server,
    free_port,
    log,
    machine_cpu_seconds,
    percentile,
    process_cpu_seconds,
)
from benchmarks.lean_sio import USER_AGENT, LeanClient, SocketIOError, now_ns, socketio_url  # noqa: E402

#: Targets for our app (checked only when the app is measured). Ratios are app / baseline.
GOALS = {
    "ttl_vs_S": 1.3,  # time to last client <= 1.3 x S at 1,000 and 2,000
    "ttl_vs_R": 2.0,  # ... and <= 2 x R (issue #15; 3 x in issue #6)
    "ttl_ms_small": 50.0,  # ... and <= 50 ms at 200 clients
    "burst_p99_vs_S": 1.5,  # burst ack p99 <= 1.5 x S
}
MS = 1e6  # ns per ms
#: Seconds the server's idle CPU is read for before the storm (its timer loops; subtracted for the net figure).
IDLE_SECONDS = 3.0
#: ``PREFIX``: the app's connect storm and answer burst are profiled into ``PREFIX-app-N.1.prof`` and ``.2.prof``.
PROFILE_APP_ENV = "QUIZENGINE_BENCH_PROFILE_APP"
BENCH_BRANCH = "基准测试党支部"
#: The lean client's User-Agent; the app's sessions are minted with it (Flask-Login ties a session to it).
LEAN_UA = USER_AGENT


def raise_file_limit() -> None:
    """Let this process (and its children) open as many sockets as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ---- server processes ----------------------------------------------------------------------------------


def wait_for_quiet_machine(limit: float, busy_pct: float = 10.0) -> float:
    """Wait (at most ``limit`` s) until the machine is nearly idle for 2 s; return the busy % last seen."""
    deadline = time.monotonic() + limit
    while True:
        busy0, _ = machine_cpu_seconds()
        time.sleep(2.0)
        busy = 100 * (machine_cpu_seconds()[0] - busy0) / 2.0
        if busy <= busy_pct or time.monotonic() >= deadline:
            return busy
        log(f"the machine is busy ({busy:.0f} % of a core by other processes): waiting")


def start_process(
    name: str, argv: list[str], port: int, work: Path, cpu: int | None, env: dict[str, str] | None = None,
    marker: str = READY_MARKER,
) -> Server:  # fmt: skip
    """Start a server process (pinned to ``cpu``), wait until it accepts connections, return it."""
    server = Server(name, argv, {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, port, marker, work, cpu)
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


# ---- what a target is -------------------------------------------------------------------------------------


#: ``await quiet()``: wait until no participant has received anything for a moment (bounded).
Quiet = Callable[[], Awaitable[None]]


@dataclass
class ClientSpec:
    """How one client connects: Socket.IO auth, extra handshake headers, events called with ack once connected."""

    index: int
    auth: dict[str, Any] | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    join: list[tuple[str, list[Any]]] = field(default_factory=list)
    #: The Engine.IO URL this client connects to (None: the server's; with several workers, its worker's).
    url: str | None = None


class Target:
    """A server under test. The defaults speak the baselines' protocol (benchmarks/baseline_servers.py)."""

    #: Short name in the tables ("app", "S", "R").
    name = "?"
    #: One line saying what it is.
    label = ""
    #: The Socket.IO namespace every client connects to.
    namespace = "/contest"
    #: Engine.IO endpoint path.
    path = "/socket.io/"

    def prepare(self, work: Path, clients: int, rounds: int) -> None:
        """Create what a run of ``clients`` participants and ``rounds`` questions needs (the burst's included).

        ``work`` is the run's temporary folder (shared by every target and N; deleted at the end)."""

    def start(self, work: Path, port: int, cpu: int | None) -> Server:
        raise NotImplementedError

    def host_spec(self) -> ClientSpec:
        return ClientSpec(-1, {"role": "host"})

    def joined_ok(self, ack: list[Any]) -> bool:
        """Whether the ack of a join step says the client is in."""
        return bool(ack) and isinstance(ack[0], dict) and ack[0].get("ok") is True

    def host_event(self, event: str, args: list[Any]) -> None:
        """Every server event the host receives (e.g. to follow the state version)."""

    async def begin(self, host: LeanClient) -> None:
        """After the connect storm, before the first round (e.g. start the contest)."""

    def participant_spec(self, index: int) -> ClientSpec:
        return ClientSpec(index, {"member": index}, join=[("join", [{"contest": 1}])])

    async def show(self, host: LeanClient, round_no: int) -> None:
        """Send the host command that shows question ``round_no`` (returns once it is sent or acked)."""
        await host.call("show", {"round": round_no, "text": f"第 {round_no + 1} 题：基准测试题干"}, timeout=30)

    async def after_show(self, host: LeanClient, round_no: int, quiet: Quiet) -> None:
        """Run after every participant has the question (reveal, scores...). Counted in messages per question.

        ``await quiet()`` returns once the participants have received nothing for a moment: call it after a
        command whose broadcast should be delivered before the next one.
        """

    def round_of(self, event: str, args: list[Any]) -> int | None:
        """The round a server event shows, or None when the event is not a question."""
        if event == "question" and args and isinstance(args[0], dict):
            return args[0].get("round")
        return None

    async def open_burst(self, host: LeanClient, round_no: int, quiet: Quiet) -> None:
        """Make question ``round_no`` open for answers before the burst."""

    def answer(self, index: int, round_no: int) -> tuple[str, list[Any]]:
        """The event and arguments participant ``index`` sends in the burst."""
        return "answer", [{"round": round_no, "choice": "ABCD"[index % 4]}]

    def answer_ok(self, ack: list[Any]) -> bool:
        """Whether an ack says the answer was accepted."""
        return bool(ack) and isinstance(ack[0], dict) and ack[0].get("ok") is True

    def verify(self, acked: list[int], round_no: int) -> dict[str, Any] | None:
        """Check stored answers against the acked participants (None: this target keeps nothing)."""
        return None

    def stop(self) -> None:
        """Release what prepare kept."""

    def meters(self) -> dict[str, float]:
        """Counters read when the measured rounds start and end (e.g. each worker's CPU); the report has the
        difference."""
        return {}


class SocketIOBaseline(Target):
    name = "S"
    label = "bare Flask-SocketIO, gevent, quizengine.server.serve (as run.py)"

    def start(self, work: Path, port: int, cpu: int | None) -> Server:
        argv = [sys.executable, str(ROOT / "benchmarks" / "baseline_servers.py"), "socketio", "--port", str(port)]
        return start_process("S", argv, port, work, cpu)


class FastSocketIOBaseline(Target):
    name = "F"
    label = "S + quizengine.realtime.fast_broadcast (the frame built once, written to idle clients)"

    def start(self, work: Path, port: int, cpu: int | None) -> Server:
        argv = [sys.executable, str(ROOT / "benchmarks" / "baseline_servers.py"), "socketio-fast", "--port", str(port)]
        return start_process("F", argv, port, work, cpu)


class RawBaseline(Target):
    name = "R"
    label = "raw asyncio websockets + websockets.broadcast (the floor)"

    def start(self, work: Path, port: int, cpu: int | None) -> Server:
        argv = [sys.executable, str(ROOT / "benchmarks" / "baseline_servers.py"), "raw", "--port", str(port)]
        return start_process("R", argv, port, work, cpu)


class AppTarget(Target):
    """quizengine itself: ``run.py --port P`` on a prepared instance, one 全员答题 contest (docs/socket-protocol.md).

    Prepared through the app's own services (like benchmarks/exam_autosave.py): migrate and load the shipped
    banks, an organizer (the host) and N members, and a contest whose one round is 全员答题 with one single
    choice question per round plus one for the burst (read and answer timers of 30 s, so the app's timers
    run but never fire inside a round). Logins are Flask-Login sessions signed with the instance's secret
    key in a request context of their own, i.e. the cookie a real login sets, sent on the WebSocket
    handshake. One instance (database) serves every N of a run; each run gets a contest of its own.

    A round is the host's ``next`` (timed: the players' ``state`` with ``question_shown``), then ``open``
    and ``reveal``, each delivered before the next: three room broadcasts per question, as in a contest.
    Players join as ``{contest, pin, role: "player", team}`` over four teams; the burst is every player's
    ``submit_answer`` to the opened question, checked against ``contest_answers`` afterwards.
    """

    name = "app"
    label = "quizengine run.py (gevent), one 全员答题 contest"
    #: More environment for run.py.
    extra_env: dict[str, str] = {}  # noqa: RUF012
    #: Prepared instances by work folder: migrating and loading the banks happens once per run.
    _instances: dict[Path, dict[str, Any]] = {}  # noqa: RUF012

    def __init__(self) -> None:
        self.version = 0
        self.contest_id = 0
        self.pin = ""
        self.question_ids: list[str] = []
        self.user_ids: list[int] = []
        self.cookies: list[str] = []
        self.host_cookie = ""
        self.instance: Path | None = None
        #: None: the instance's SQLite file; a PostgreSQL URL with ``--workers`` (benchmarks/fanout_workers.py).
        self.database_url: str | None = None

    def prepare(self, work: Path, clients: int, rounds: int) -> None:
        """Set up the instance (once per work folder), members up to ``clients``, and a new contest."""
        from flask import session as flask_session
        from flask_login import login_user
        from sqlalchemy import insert, select

        from quizengine import create_app
        from quizengine.extensions import db
        from quizengine.models import MemberStatus, Role, User
        from quizengine.modes.contest import ContestPlan, QuestionSource, RoundKind, RoundSpec
        from quizengine.services.accounts import create_user, get_or_create_branch
        from quizengine.services.contest_setup import create_contest
        from quizengine.services.setup import first_run

        self.instance = work / "app-instance"
        known = self._instances.get(work)
        database = {"DATABASE_URL": self.database_url} if self.database_url else {}
        app = create_app({"INSTANCE_PATH": self.instance, "BANKS_PATH": ROOT / "question_banks", **database})
        with app.app_context():
            session = db.session()
            if known is None:
                log("app: first-run setup (migrate, load the shipped banks)")
                first_run(app.config)
                host, _ = create_user(
                    session, username="bench-host", name="基准主持人", role=Role.ORGANIZER,
                    password="bench-Password-2026", branch_name=BENCH_BRANCH,
                )  # fmt: skip
                known = self._instances[work] = {"host_id": host.id, "members": 0}
            host = session.get(User, known["host_id"])
            if known["members"] < clients:
                branch_id = get_or_create_branch(session, BENCH_BRANCH).id
                now = datetime.now(UTC)
                common = {
                    "password_hash": host.password_hash, "role": Role.MEMBER, "branch_id": branch_id,
                    "member_status": MemberStatus.FULL, "active": True, "must_change_password": False,
                    "created_at": now,
                }  # fmt: skip
                rows = [
                    {"username": f"fanout{n:05d}", "name": f"党员{n:05d}", **common}
                    for n in range(known["members"], clients)
                ]
                session.execute(insert(User), rows)
                session.commit()
                known["members"] = clients
            plan = ContestPlan(
                title=f"基准测试 {clients} 人全员答题",
                rounds=(
                    RoundSpec(
                        RoundKind.EVERYONE, "全员答题", QuestionSource(types=("single",), count=rounds),
                        read_seconds=30, answer_seconds=30,
                    ),
                ),
            )  # fmt: skip
            contest = create_contest(session, host, plan)
            self.contest_id, self.pin = contest.id, contest.pin
            self.question_ids = list(contest.state["rounds"][0])
            users = session.scalars(
                select(User).where(User.username.like("fanout%")).order_by(User.id).limit(clients)
            ).all()
            self.user_ids = [user.id for user in users]
            db.session.remove()
            db.engine.dispose()  # the server owns the database from here on
        serializer = app.session_interface.get_signing_serializer(app)
        cookie_name = app.config["SESSION_COOKIE_NAME"]

        def cookie_for(user: Any) -> str:
            with app.test_request_context("/", environ_base={"REMOTE_ADDR": HOST}, headers={"User-Agent": LEAN_UA}):
                login_user(user)
                return f"{cookie_name}={serializer.dumps(dict(flask_session))}"

        with app.app_context():
            self.host_cookie = cookie_for(db.session.get(User, known["host_id"]))
            self.cookies = [cookie_for(user) for user in users]
            db.session.remove()
            db.engine.dispose()

    def start(self, work: Path, port: int, cpu: int | None) -> Server:
        assert self.instance is not None
        env = {"QUIZENGINE_INSTANCE": str(self.instance), "QUIZENGINE_BANKS": str(ROOT / "question_banks")}
        env |= self.extra_env
        argv = [sys.executable, str(ROOT / "run.py"), "--port", str(port)]
        if os.environ.get(PROFILE_APP_ENV):  # the storm and the burst under cProfile (benchmarks/profiled_run.py)
            prefix = f"{os.environ[PROFILE_APP_ENV]}-{self.name}-{len(self.user_ids)}"
            argv[1:1] = [str(ROOT / "benchmarks" / "profiled_run.py"), prefix]
        return start_process("app", argv, port, work, cpu, env, marker="quizengine 已启动")

    def host_spec(self) -> ClientSpec:
        headers = [("Cookie", self.host_cookie), ("User-Agent", LEAN_UA)]
        return ClientSpec(-1, None, headers, [("join", [{"contest": self.contest_id, "role": "host"}])])

    def participant_spec(self, index: int) -> ClientSpec:
        headers = [("Cookie", self.cookies[index]), ("User-Agent", LEAN_UA)]
        join = {"contest": self.contest_id, "pin": self.pin, "role": "player", "team": f"t{index % 4 + 1}"}
        return ClientSpec(index, None, headers, [("join", [join])])

    def host_event(self, event: str, args: list[Any]) -> None:
        body = args[0] if args and isinstance(args[0], dict) else {}
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        version = view.get("version", body.get("version"))
        if isinstance(version, int):
            self.version = max(self.version, version)

    async def command(self, host: LeanClient, name: str, **args: Any) -> None:
        """A host command at the version the host has seen; a stale version is retried a few times."""
        for _ in range(5):
            ack = await host.call("command", {"name": name, "version": self.version, "args": args}, timeout=60)
            reply = ack[0] if ack and isinstance(ack[0], dict) else {}
            if reply.get("ok"):
                self.version = max(self.version, int(reply["version"]))
                return
            if reply.get("code") != "stale_version":
                raise RuntimeError(f"host command {name} refused: {reply}")
            await asyncio.sleep(0.05)
        raise RuntimeError(f"host command {name}: version still stale")

    async def begin(self, host: LeanClient) -> None:
        await self.command(host, "start")

    async def show(self, host: LeanClient, round_no: int) -> None:
        await self.command(host, "next")

    async def after_show(self, host: LeanClient, round_no: int, quiet: Quiet) -> None:
        await self.command(host, "open")
        await quiet()
        await self.command(host, "reveal")

    def round_of(self, event: str, args: list[Any]) -> int | None:
        if event != "state" or not args or not isinstance(args[0], dict):
            return None
        body = args[0]
        if "question_shown" not in (body.get("events") or ()):
            return None
        question = (body.get("view") or {}).get("question") or {}
        seq = question.get("seq")
        return seq - 1 if isinstance(seq, int) else None

    async def open_burst(self, host: LeanClient, round_no: int, quiet: Quiet) -> None:
        await self.command(host, "next")
        await quiet()
        await self.command(host, "open")

    def answer(self, index: int, round_no: int) -> tuple[str, list[Any]]:
        return "submit_answer", [{"question": self.question_ids[round_no], "response": "A"}]

    def verify(self, acked: list[int], round_no: int) -> dict[str, Any] | None:
        """Answers stored for the burst question against the participants whose answer was acked ok."""
        from sqlalchemy import create_engine, select

        from quizengine.models import ContestAnswer

        assert self.instance is not None
        engine = create_engine(self.database_url or f"sqlite:///{self.instance / 'quizengine.sqlite3'}")
        try:
            with engine.connect() as connection:
                stored = set(
                    connection.scalars(
                        select(ContestAnswer.user_id).where(
                            ContestAnswer.contest_id == self.contest_id,
                            ContestAnswer.question_seq == round_no + 1,
                            ContestAnswer.participant.like("player:%"),
                        )
                    )
                )
        finally:
            engine.dispose()
        acked_users = {self.user_ids[index] for index in acked}
        return {
            "acked": len(acked_users),
            "stored": len(stored),
            "acked_not_stored": len(acked_users - stored),
            "stored_not_acked": len(stored - acked_users),
        }


class AppWithoutFastBroadcast(AppTarget):
    """The app with the framework's own broadcast path (QUIZENGINE_FAST_BROADCAST=0): the A/B of issue #15."""

    name = "app0"
    label = "quizengine run.py without realtime/fast_broadcast.py"
    extra_env = {"QUIZENGINE_FAST_BROADCAST": "0"}  # noqa: RUF012


#: name -> factory of the servers this benchmark can drive.
TARGET_FACTORIES: dict[str, Callable[[], Target]] = {
    "app": AppTarget,
    "S": SocketIOBaseline,
    "R": RawBaseline,
    "F": FastSocketIOBaseline,
    "app0": AppWithoutFastBroadcast,
}


# ---- client processes ------------------------------------------------------------------------------------


class Worker:
    """Many participants in one process and one event loop, driven through a pipe by the driver.

    Commands: ("connect", concurrency, timeout) -> ("connected", [(index, t_start, t_done|None, error)]);
    ("received",) -> ("received", total packets); ("burst", at_ns, round, timeout) ->
    ("burst", [(index, t_send, t_ack|None, ok)]); ("collect",) -> ("events", records); ("close",) -> ("closed",).
    Unasked: ("round", k) once every connected participant of this process has question k.
    """

    def __init__(self, conn: Connection, target: Target, url: str, specs: list[ClientSpec]) -> None:
        self.conn, self.target, self.url, self.specs = conn, target, url, specs
        self.clients: list[LeanClient] = []
        #: (participant, t_ns, event, round or None) for every server event received
        self.records: list[tuple[int, int, str, int | None]] = []
        self.seen: dict[int, set[int]] = {}
        self.expected = 0
        self.last_rx = 0

    def on_event(self, client: LeanClient, stamp: int, event: str, args: list[Any]) -> None:
        self.last_rx = max(self.last_rx, stamp)
        round_no = self.target.round_of(event, args)
        self.records.append((client.index, stamp, event, round_no))
        if round_no is not None:
            seen = self.seen.setdefault(round_no, set())
            if client.index not in seen:
                seen.add(client.index)
                if len(seen) == self.expected:
                    self.conn.send(("round", round_no))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

        def readable() -> None:
            while self.conn.poll():
                try:
                    inbox.put_nowait(self.conn.recv())
                except EOFError:
                    inbox.put_nowait(("close",))
                    loop.remove_reader(self.conn.fileno())
                    return

        loop.add_reader(self.conn.fileno(), readable)
        while True:
            command = await inbox.get()
            kind = command[0]
            if kind == "connect":
                self.conn.send(("connected", await self.connect_all(*command[1:])))
            elif kind == "quiet":
                self.conn.send(("quiet", await self.quiet(*command[1:])))
            elif kind == "received":
                self.conn.send(("received", sum(client.received for client in self.clients)))
            elif kind == "burst":
                self.conn.send(("burst", await self.burst(*command[1:])))
            elif kind == "collect":
                self.conn.send(("events", self.records))
                self.records = []
            elif kind == "close":
                for client in self.clients:
                    with contextlib.suppress(Exception):
                        client.close()
                await asyncio.sleep(0.2)
                self.conn.send(("closed",))
                return

    async def quiet(self, quiet_ms: float, timeout: float) -> float:
        """Wait at least ``quiet_ms``, and until nothing arrived for ``quiet_ms``; return the seconds waited."""
        started = now_ns()
        quiet_ns, deadline = int(quiet_ms * MS), started + int(timeout * 1e9)
        while True:
            now = now_ns()
            if now >= deadline or (now - started >= quiet_ns and now - self.last_rx >= quiet_ns):
                return (now - started) / 1e9
            await asyncio.sleep(quiet_ms / 4000)

    async def connect_all(
        self, concurrency: int, timeout: float, give_up_ns: int
    ) -> list[tuple[int, int, int | None, str]]:
        """Connect and join every participant, ``concurrency`` at a time; none starts after ``give_up_ns``."""
        gate = asyncio.Semaphore(concurrency)
        results: list[tuple[int, int, int | None, str]] = []

        async def one(spec: ClientSpec) -> None:
            async with gate:
                started = now_ns()
                if started > give_up_ns:
                    results.append((spec.index, started, None, "not started: the storm's time limit passed"))
                    return
                url = spec.url or self.url
                client = LeanClient(url, self.target.namespace, spec.auth, spec.headers, self.on_event, spec.index)
                try:
                    await client.connect(timeout)
                    for event, args in spec.join:
                        ack = await client.call(event, *args, timeout=timeout)
                        if not self.target.joined_ok(ack):
                            raise SocketIOError(f"{event} refused: {json.dumps(ack, ensure_ascii=False)[:150]}")
                except (OSError, TimeoutError, SocketIOError) as exc:
                    client.close()
                    results.append((spec.index, started, None, f"{type(exc).__name__}: {exc}"[:200]))
                    return
                self.clients.append(client)
                results.append((spec.index, started, now_ns(), ""))

        await asyncio.gather(*(one(spec) for spec in self.specs))
        self.expected = len(self.clients)
        return results

    async def burst(self, at_ns: int, round_no: int, timeout: float) -> list[tuple[int, int, int | None, bool]]:
        answers = [self.target.answer(client.index, round_no) for client in self.clients]
        await asyncio.sleep(max(0.0, (at_ns - now_ns()) / 1e9))
        sent = []
        for client, (event, args) in zip(self.clients, answers, strict=True):
            try:
                sent.append((client, *client.emit_with_ack(event, *args)))
            except SocketIOError:
                continue
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(future for _c, _t, future in sent), return_exceptions=True)
        results = []
        for client, t_send, future in sent:
            if future.done() and not future.cancelled() and future.exception() is None:
                t_ack, ack = future.result()
                results.append((client.index, t_send, t_ack, self.target.answer_ok(ack)))
            else:
                results.append((client.index, t_send, None, False))
        return results


def worker_main(conn: Connection, target: Target, url: str, specs: list[ClientSpec], cpus: set[int] | None) -> None:
    """Entry of a forked client process."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    raise_file_limit()
    asyncio.run(Worker(conn, target, url, specs).run())


class WorkerHandle:
    """The driver's end of one client process."""

    def __init__(self, process: multiprocessing.Process, conn: Connection, size: int) -> None:
        self.process, self.conn, self.size = process, conn, size
        self.inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

    def listen(self, loop: asyncio.AbstractEventLoop) -> None:
        def readable() -> None:
            while self.conn.poll():
                try:
                    self.inbox.put_nowait(self.conn.recv())
                except EOFError:
                    loop.remove_reader(self.conn.fileno())
                    self.inbox.put_nowait(("dead",))
                    return

        loop.add_reader(self.conn.fileno(), readable)

    async def expect(self, kind: str, timeout: float, match: Callable[[tuple[Any, ...]], bool] | None = None) -> Any:
        """The next message of ``kind`` (stale round notices are dropped on the way)."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.inbox.get()
                if message[0] == "dead":
                    raise RuntimeError("a client process died")
                if message[0] == kind and (match is None or match(message)):
                    return message

    async def ask(self, command: tuple[Any, ...], reply: str, timeout: float) -> Any:
        self.conn.send(command)
        message = await self.expect(reply, timeout)
        return message[1] if len(message) > 1 else None

    def cpu(self) -> float:
        return process_cpu_seconds(self.process.pid or 0)


# ---- one run: one target, one N -------------------------------------------------------------------------


@dataclass
class RunConfig:
    clients: int
    rounds: int
    warmup: int
    settle: float
    quiet_ms: float
    round_timeout: float
    connect_concurrency: int
    connect_timeout: float
    storm_timeout: float
    burst_timeout: float
    procs: int
    server_cpu: int | None
    client_cpus: set[int] | None


def profile_mark(server: Server, signum: int) -> None:
    """Switch the app's profile on (SIGUSR1) or off (SIGUSR2) when it runs under benchmarks/profiled_run.py."""
    if os.environ.get(PROFILE_APP_ENV) and server.name == "app":
        os.kill(server.process.pid, signum)


def client_cpu_total(handles: list[WorkerHandle]) -> float:
    return time.process_time() + sum(handle.cpu() for handle in handles)


async def drive(target: Target, server: Server, handles: list[WorkerHandle], cfg: RunConfig) -> dict[str, Any]:
    """Connect storm, rounds, burst, collect: every raw figure of one run."""
    loop = asyncio.get_running_loop()
    for handle in handles:
        handle.listen(loop)
    url = socketio_url(HOST, server.port, target.path)
    host_records: list[tuple[int, int, str, int | None]] = []
    spec = target.host_spec()

    def on_host_event(_client: LeanClient, stamp: int, event: str, args: list[Any]) -> None:
        host_records.append((-1, stamp, event, target.round_of(event, args)))
        target.host_event(event, args)

    host = LeanClient(url, target.namespace, spec.auth, spec.headers, on_host_event, -1)
    await host.connect(cfg.connect_timeout)
    for event, args in spec.join:
        ack = await host.call(event, *args, timeout=cfg.connect_timeout)
        if not target.joined_ok(ack):
            raise RuntimeError(f"the host's {event} was refused: {json.dumps(ack, ensure_ascii=False)[:300]}")
        target.host_event(f"ack:{event}", ack)

    async def quiet() -> None:
        await asyncio.gather(*(h.ask(("quiet", cfg.quiet_ms, 30), "quiet", 60) for h in handles))

    out: dict[str, Any] = {}

    # the server's CPU with only the host connected (timer loops, pings): subtracted from the storm's
    idle0, t_idle = server.cpu(), now_ns()
    await asyncio.sleep(IDLE_SECONDS)
    idle_rate = (server.cpu() - idle0) / ((now_ns() - t_idle) / 1e9)

    # connect storm
    profile_mark(server, signal.SIGUSR1)
    cpu0, t_storm = server.cpu(), now_ns()
    per_proc = max(1, cfg.connect_concurrency // len(handles))
    give_up = t_storm + int(cfg.storm_timeout * 1e9)
    replies = await asyncio.gather(
        *(
            h.ask(
                ("connect", per_proc, cfg.connect_timeout, give_up),
                "connected",
                cfg.storm_timeout + 2 * cfg.connect_timeout + 30,
            )
            for h in handles
        )
    )
    joined = [r for reply in replies for r in reply]
    done = [t for _i, _s, t, _e in joined if t is not None]
    errors = [e for _i, _s, t, e in joined if t is None]
    connected = len(done)
    out["storm"] = {
        "connected": connected,
        "failed": len(errors),
        "errors": errors[:5],
        "seconds": (max(done) - t_storm) / 1e9 if done else math.nan,
        "join_p50_ms": percentile(sorted((t - s) / MS for _i, s, t, _e in joined if t is not None), 50),
        "join_p99_ms": percentile(sorted((t - s) / MS for _i, s, t, _e in joined if t is not None), 99),
        "server_cpu_s": server.cpu() - cpu0,
        "idle_cpu_pct": 100 * idle_rate,
    }
    out["storm"]["server_cpu_net_s"] = out["storm"]["server_cpu_s"] - idle_rate * (now_ns() - t_storm) / 1e9
    profile_mark(server, signal.SIGUSR2)
    await asyncio.sleep(cfg.settle)
    await target.begin(host)
    await quiet()

    # rounds: warm-up rounds first (not measured)
    active = [h for h in handles if any(t is not None for _i, _s, t, _e in replies[handles.index(h)])]
    t0s: list[int] = []
    received_at: list[int] = []
    cpu_marks: list[tuple[float, ...]] = []
    by_process: list[list[int]] = []  # packets each client process (and last, the host) had received, at the marks
    meters: list[dict[str, float]] = []
    total_rounds = cfg.warmup + cfg.rounds
    timeouts = 0
    for k in range(total_rounds):
        if k == cfg.warmup:
            counts = await asyncio.gather(*(h.ask(("received",), "received", 30) for h in handles))
            received_at.append(sum(counts) + host.received)
            by_process.append([*counts, host.received])
            meters.append(target.meters())
            cpu_marks.append((server.cpu(), client_cpu_total(handles), now_ns(), *machine_cpu_seconds()))
        t0 = now_ns()
        await target.show(host, k)
        t0s.append(t0)
        try:
            await asyncio.gather(*(h.expect("round", cfg.round_timeout, lambda m, k=k: m[1] == k) for h in active))
        except TimeoutError:
            timeouts += 1
        await target.after_show(host, k, quiet)
        await quiet()
        await asyncio.sleep(cfg.settle)
    counts = await asyncio.gather(*(h.ask(("received",), "received", 30) for h in handles))
    received_at.append(sum(counts) + host.received)
    by_process.append([*counts, host.received])
    meters.append(target.meters())
    cpu_marks.append((server.cpu(), client_cpu_total(handles), now_ns(), *machine_cpu_seconds()))
    (s0, c0, w0, b0, st0), (s1, c1, w1, b1, st1) = cpu_marks
    wall = (w1 - w0) / 1e9
    out["rounds_cpu"] = {
        "server_ms_per_round": 1000 * (s1 - s0) / cfg.rounds,
        "client_cpu_pct": 100 * (c1 - c0) / wall,
        "server_cpu_pct": 100 * (s1 - s0) / wall,
        "wall_s": wall,
        # what processes outside this benchmark took (% of one core): high means the figures are not clean
        "other_cpu_pct": 100 * max(0.0, (b1 - b0) - (s1 - s0) - (c1 - c0)) / wall,
        "steal_pct": 100 * (st1 - st0) / wall,
    }
    out["round_timeouts"] = timeouts
    # per client process (participants i with i % processes == p; the host last) and per meter: the rounds' share
    out["rounds_received_by_process"] = [after - before for before, after in zip(*by_process, strict=True)]
    out["rounds_meters"] = {key: meters[1][key] - value for key, value in meters[0].items()}
    out["messages_per_question"] = (received_at[1] - received_at[0]) / cfg.rounds
    t_rounds_end = now_ns()

    # burst: every participant answers the same question at the same instant
    burst_round = total_rounds
    await target.open_burst(host, burst_round, quiet)
    await quiet()
    await asyncio.sleep(cfg.settle)
    before = sum(await asyncio.gather(*(h.ask(("received",), "received", 30) for h in handles))) + host.received
    profile_mark(server, signal.SIGUSR1)
    cpu0, at_ns = server.cpu(), now_ns() + 300 * 1_000_000
    replies = await asyncio.gather(
        *(h.ask(("burst", at_ns, burst_round, cfg.burst_timeout), "burst", cfg.burst_timeout + 30) for h in handles)
    )
    await quiet()
    after = sum(await asyncio.gather(*(h.ask(("received",), "received", 30) for h in handles))) + host.received
    answers = [r for reply in replies for r in reply]
    acks = sorted((t_ack - t_send) / MS for _i, t_send, t_ack, _ok in answers if t_ack is not None)
    acked_ok = [i for i, _s, t_ack, ok in answers if t_ack is not None and ok]
    last_ack = max((t_ack for _i, _s, t_ack, _ok in answers if t_ack is not None), default=at_ns)
    out["burst"] = {
        "sent": len(answers),
        "acked": len(acks),
        "accepted": len(acked_ok),
        "lost": len(answers) - len(acks),
        "p50_ms": percentile(acks, 50),
        "p95_ms": percentile(acks, 95),
        "p99_ms": percentile(acks, 99),
        "max_ms": acks[-1] if acks else math.nan,
        "all_acked_ms": (last_ack - at_ns) / MS,
        "other_messages": (after - before) - len(acks),  # room-wide traffic caused by the answers
        "server_cpu_s": server.cpu() - cpu0,
    }
    profile_mark(server, signal.SIGUSR2)

    # collect
    records = list(host_records)
    for reply in await asyncio.gather(*(h.ask(("collect",), "events", 60) for h in handles)):
        records.extend(reply)
    host.close()
    out["rounds"] = round_figures(records, t0s, cfg, connected, t_rounds_end)
    out["burst"]["verify"] = target.verify(acked_ok, burst_round)
    return out


def round_figures(
    records: list[tuple[int, int, str, int | None]], t0s: list[int], cfg: RunConfig, connected: int, t_end: int
) -> dict[str, Any]:
    """Per-round time to last client, pooled per-client latency, missing questions, events per round."""
    first: dict[tuple[int, int], int] = {}
    events: Counter[str] = Counter()
    t_start = t0s[cfg.warmup] if len(t0s) > cfg.warmup else t_end
    for index, stamp, event, round_no in records:
        if t_start <= stamp < t_end:
            events[event] += 1
        if round_no is None or index < 0 or not cfg.warmup <= round_no < len(t0s):
            continue
        key = (index, round_no)
        if key not in first or stamp < first[key]:
            first[key] = stamp
    latencies: list[float] = []
    last: list[float] = []
    missing = 0
    for k in range(cfg.warmup, len(t0s)):
        got = [stamp for (_index, round_no), stamp in first.items() if round_no == k]
        missing += connected - len(got)
        lat = [(stamp - t0s[k]) / MS for stamp in got]
        latencies.extend(lat)
        last.append(max(lat) if lat else math.nan)
    latencies.sort()
    return {
        "ttl_median_ms": statistics.median(last) if last else math.nan,
        "ttl_worst_ms": max(last) if last else math.nan,
        "ttl_best_ms": min(last) if last else math.nan,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "missing": missing,
        "ttl_ms_by_round": [round(value, 2) for value in last],
        "events_per_round": {name: round(count / cfg.rounds, 1) for name, count in sorted(events.items())},
    }


def run_one(target: Target, cfg: RunConfig, work: Path) -> dict[str, Any]:
    """Prepare, start the server, fork the client processes, drive, stop everything."""
    started = time.monotonic()
    target.prepare(work, cfg.clients, cfg.warmup + cfg.rounds + 1)
    prepared = time.monotonic()
    server = target.start(work, free_port(), cfg.server_cpu)
    ready = time.monotonic()
    handles: list[WorkerHandle] = []
    try:
        url = socketio_url(HOST, server.port, target.path)
        specs = [target.participant_spec(i) for i in range(cfg.clients)]
        procs = max(1, min(cfg.procs, cfg.clients))
        context = multiprocessing.get_context("fork")
        for p in range(procs):
            mine = specs[p::procs]
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=worker_main, args=(child_end, target, url, mine, cfg.client_cpus), daemon=True
            )
            process.start()
            child_end.close()
            handles.append(WorkerHandle(process, parent_end, len(mine)))
        result = asyncio.run(drive(target, server, handles, cfg))
    finally:
        if handles:
            asyncio.run(close_workers(handles))
        for handle in handles:
            handle.process.join(timeout=5)
            if handle.process.is_alive():
                handle.process.terminate()
                handle.process.join(timeout=5)
            handle.conn.close()
        server.stop()
        target.stop()
    result["seconds"] = time.monotonic() - started
    result["prepare_seconds"], result["start_seconds"] = prepared - started, ready - prepared
    return result


async def close_workers(handles: list[WorkerHandle]) -> None:
    loop = asyncio.get_running_loop()
    for handle in handles:
        handle.inbox = asyncio.Queue()
        handle.listen(loop)
    with contextlib.suppress(TimeoutError, RuntimeError, OSError):
        await asyncio.gather(*(handle.ask(("close",), "closed", 15) for handle in handles))


# ---- the whole benchmark -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu: int | None = None
    client_cpus: set[int] | None = None
    if args.pin and len(cpus) >= 2:
        server_cpu, client_cpus = cpus[0], set(cpus[1:])
        os.sched_setaffinity(0, client_cpus)  # the driver (host client) shares the clients' CPUs
    raise_file_limit()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "loadavg_before": os.getloadavg()},
        "settings": {
            "clients": args.clients, "rounds": args.rounds, "warmup": args.warmup, "settle": args.settle,
            "connect_concurrency": args.connect_concurrency, "targets": args.targets,
            "server_cpu": server_cpu, "client_cpus": sorted(client_cpus) if client_cpus else None,
        },
        "results": {},
    }  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="quizengine-fanout-"))
    plan: list[tuple[int, str, Callable[[], Target], int]] = [
        (n, name, TARGET_FACTORIES[name], args.procs or max(1, math.ceil(n / args.clients_per_proc)))
        for n in args.clients
        for name in args.targets
    ]
    if args.workers:  # issue #15: N workers on PostgreSQL (+ Redis), --clients-per-worker players on each
        from benchmarks import fanout_workers

        per = args.clients_per_worker
        plan = [
            (n * per, f"app-w{n}", fanout_workers.workers_target(n, args.redis_url, args.pg_admin_url),
             n * max(1, math.ceil(per / args.clients_per_proc)))  # a multiple of n: a process per worker's share
            for n in args.workers
        ]  # fmt: skip
    try:
        for n, name, factory, procs in plan:
            cfg = RunConfig(
                clients=n, rounds=args.rounds, warmup=args.warmup, settle=args.settle, quiet_ms=args.quiet_ms,
                round_timeout=args.round_timeout, connect_concurrency=args.connect_concurrency,
                connect_timeout=30.0, storm_timeout=args.storm_timeout, burst_timeout=30.0, procs=procs,
                server_cpu=server_cpu, client_cpus=client_cpus,
            )  # fmt: skip
            if args.wait_quiet:
                busy = wait_for_quiet_machine(args.wait_quiet)
                if busy > 10:
                    log(f"still busy ({busy:.0f} % of a core) after {args.wait_quiet:g} s: measuring anyway")
            log(f"{name}: {n} clients in {procs} process(es), {args.rounds} rounds")
            target = factory()
            try:
                result = run_one(target, cfg, work)
            except Exception as exc:  # one server failing must not hide the others' figures
                log(f"{name}: FAILED at {n} clients: {type(exc).__name__}: {exc}")
                report["results"].setdefault(str(n), {})[name] = {"error": f"{type(exc).__name__}: {exc}"[:600]}
                continue
            if args.workers:
                from benchmarks import fanout_workers

                result["per_worker"] = fanout_workers.per_worker(result, target)
            report["results"].setdefault(str(n), {})[name] = result
            log(
                f"{name}: storm {result['storm']['seconds']:.2f} s, time to last "
                f"{result['rounds']['ttl_median_ms']:.1f} ms median, burst p99 {result['burst']['p99_ms']:.1f} ms"
            )
    finally:
        report["machine"]["loadavg_after"] = os.getloadavg()
        if args.workers:
            from benchmarks import fanout_workers

            fanout_workers.drop_databases(args.pg_admin_url)
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report


#: (label, getter, is a count) of each line of the table.
ROWS: list[tuple[str, Callable[[dict[str, Any]], float], bool]] = [
    ("time to last client, median (ms)", lambda r: r["rounds"]["ttl_median_ms"], False),
    ("time to last client, worst (ms)", lambda r: r["rounds"]["ttl_worst_ms"], False),
    ("per-client latency p50 (ms)", lambda r: r["rounds"]["p50_ms"], False),
    ("per-client latency p95 (ms)", lambda r: r["rounds"]["p95_ms"], False),
    ("missing questions", lambda r: r["rounds"]["missing"], True),
    ("messages per question", lambda r: r["messages_per_question"], False),
    ("connect storm, all joined (s)", lambda r: r["storm"]["seconds"], False),
    ("connect failures", lambda r: r["storm"]["failed"], True),
    ("server CPU per join (ms)", lambda r: 1000 * r["storm"]["server_cpu_s"] / max(1, r["storm"]["connected"]), False),
    (
        "  net of the idle server (ms)",
        lambda r: 1000 * r["storm"]["server_cpu_net_s"] / max(1, r["storm"]["connected"]),
        False,
    ),
    ("server CPU idle (% of a core)", lambda r: r["storm"]["idle_cpu_pct"], False),
    ("burst ack p50 (ms)", lambda r: r["burst"]["p50_ms"], False),
    ("burst ack p99 (ms)", lambda r: r["burst"]["p99_ms"], False),
    ("burst, all acked (ms)", lambda r: r["burst"]["all_acked_ms"], False),
    ("burst answers lost", lambda r: r["burst"]["lost"], True),
    ("burst, other messages", lambda r: r["burst"]["other_messages"], True),
    ("server CPU per answer (µs)", lambda r: 1e6 * r["burst"]["server_cpu_s"] / max(1, r["burst"]["acked"]), False),
    ("server CPU per round (ms)", lambda r: r["rounds_cpu"]["server_ms_per_round"], False),
    ("client CPU during rounds (%)", lambda r: r["rounds_cpu"]["client_cpu_pct"], False),
    ("other CPU on the machine (%)", lambda r: r["rounds_cpu"]["other_cpu_pct"], False),
]


def fmt(value: float, count: bool = False) -> str:
    if math.isnan(value):
        return "-"
    if count or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"


def ratio(a: float, b: float) -> str:
    if not b or math.isnan(a) or math.isnan(b):
        return "-"
    return f"{a / b:.2f}"


def print_report(report: dict[str, Any]) -> None:
    noisy = [
        f"{name} at {n}"
        for n, by_target in report["results"].items()
        for name, result in by_target.items()
        if "rounds_cpu" in result and max(result["rounds_cpu"]["other_cpu_pct"], result["rounds_cpu"]["steal_pct"]) > 10
    ]
    if noisy:
        print(f"\nWARNING: other processes took CPU during {', '.join(noisy)}: those figures are not clean; run again.")
    for n, all_targets in report["results"].items():
        by_target = {name: result for name, result in all_targets.items() if "error" not in result}
        for name, result in all_targets.items():
            if "error" in result:
                print(f"\n{name} at {n} clients FAILED: {result['error']}")
        if not by_target:
            continue
        names = list(by_target)
        subjects = [name for name in names if name not in ("S", "R")]
        subject = "app" if "app" in subjects else next(iter(subjects), None)
        pairs = [(name, base) for name in subjects for base in ("S", "R") if base in by_target]
        if "S" in by_target and "R" in by_target:
            pairs.append(("S", "R"))
        header = f"{'figure (' + n + ' clients)':34}" + "".join(f"{name:>10}" for name in names)
        header += "".join(f"{a + '/' + b:>9}" for a, b in pairs)
        print(f"\n{header}")
        for label, get, count in ROWS:
            values = {name: float(get(by_target[name])) for name in names}
            line = f"{label:34}" + "".join(f"{fmt(values[name], count):>10}" for name in names)
            line += "".join(f"{ratio(values[a], values[b]):>9}" for a, b in pairs)
            print(line)
        for name in names:
            result = by_target[name]
            extras = [f"events/round {result['rounds']['events_per_round']}"]
            if result["storm"]["errors"]:
                extras.append(f"connect errors e.g. {result['storm']['errors'][:2]}")
            if result["rounds_cpu"]["other_cpu_pct"] > 10 or result["rounds_cpu"]["steal_pct"] > 10:
                extras.append("WARNING: other processes or the hypervisor took CPU during the rounds")
            if result["round_timeouts"]:
                extras.append(f"{result['round_timeouts']} round(s) timed out")
            if result["burst"]["verify"] is not None:
                extras.append(f"DB check {result['burst']['verify']}")
            if result["burst"]["accepted"] != result["burst"]["acked"]:
                extras.append(f"{result['burst']['acked'] - result['burst']['accepted']} answers acked as refused")
            print(f"  {name}: " + "; ".join(extras))
        if subject:
            print_goals(int(n), by_target, subject)


def print_goals(n: int, by_target: dict[str, Any], subject: str) -> None:
    app = by_target[subject]
    checks: dict[str, bool] = {}
    ttl = app["rounds"]["ttl_median_ms"]
    if n <= 200:
        checks[f"time to last client <= {GOALS['ttl_ms_small']:g} ms"] = ttl <= GOALS["ttl_ms_small"]
    else:
        if "S" in by_target:
            base = by_target["S"]["rounds"]["ttl_median_ms"]
            checks[f"time to last client <= {GOALS['ttl_vs_S']} x S"] = ttl <= GOALS["ttl_vs_S"] * base
        if "R" in by_target:
            base = by_target["R"]["rounds"]["ttl_median_ms"]
            checks[f"time to last client <= {GOALS['ttl_vs_R']:g} x R"] = ttl <= GOALS["ttl_vs_R"] * base
    checks[f"all {n} connected and joined (connect storm)"] = app["storm"]["failed"] == 0
    checks[f"messages per question <= 3N + 10 = {3 * n + 10}"] = app["messages_per_question"] <= 3 * n + 10
    checks["0 missing questions"] = app["rounds"]["missing"] == 0
    if "S" in by_target:
        base = by_target["S"]["burst"]["p99_ms"]
        checks[f"burst ack p99 <= {GOALS['burst_p99_vs_S']} x S"] = (
            app["burst"]["p99_ms"] <= GOALS["burst_p99_vs_S"] * base
        )
    verify = app["burst"]["verify"] or {}
    checks["0 answers lost (every answer acked and accepted, every accepted one stored)"] = (
        app["burst"]["lost"] == 0
        and app["burst"]["accepted"] == app["burst"]["sent"]
        and verify.get("acked_not_stored", 0) == 0
    )
    print(f"  goals for {subject} at {n}:")
    for label, met in checks.items():
        print(f"    {'MET   ' if met else 'MISSED'} {label}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="200,1000,2000", help="participant counts, comma-separated")
    known = ", ".join(TARGET_FACTORIES)
    parser.add_argument("--targets", default="app,S,R", help=f"servers to measure, in order ({known})")
    parser.add_argument("--rounds", type=int, default=20, help="measured rounds (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured rounds first (default 2)")
    parser.add_argument("--settle", type=float, default=0.1, help="pause after each round, seconds")
    parser.add_argument("--quiet-ms", type=float, default=50.0, help="a round's traffic is over after this silence")
    parser.add_argument("--round-timeout", type=float, default=5.0, help="longest wait for a round, seconds")
    parser.add_argument("--connect-concurrency", type=int, default=100, help="handshakes in flight (all processes)")
    parser.add_argument(
        "--storm-timeout", type=float, help="no connection starts after this, seconds (60; 600 with --workers)"
    )
    parser.add_argument("--procs", type=int, default=0, help="client processes (default: 1 per --clients-per-proc)")
    parser.add_argument("--clients-per-proc", type=int, default=1000, help="participants per client process")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each run, wait up to this many seconds for an idle machine",
    )
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin server and clients to CPUs")
    parser.add_argument("--quick", action="store_true", help="200 clients (per worker), 10 rounds, short pauses")
    parser.add_argument(
        "--workers", default="", help="e.g. 1,2: the app as N run.py workers on PostgreSQL (+ Redis for N > 1)"
    )
    parser.add_argument("--clients-per-worker", type=int, default=2000, help="players per worker with --workers")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="message queue with --workers")
    parser.add_argument(
        "--pg-admin-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="creates (and drops) a throw-away database with --workers",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (server logs)")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.rounds, args.warmup, args.settle = "200", 10, 1, 0.05
        args.clients_per_worker = 200
    args.workers = [int(n) for n in str(args.workers).split(",") if n.strip()]
    if args.storm_timeout is None:  # joins on PostgreSQL, thousands per worker, on a shared machine: be patient
        args.storm_timeout = 600.0 if args.workers else 60.0
    if any(n < 1 for n in args.workers):
        parser.error("--workers: each number of workers must be at least 1")
    args.clients = [int(n) for n in str(args.clients).split(",") if n.strip()]
    args.targets = [name.strip() for name in args.targets.split(",") if name.strip()]
    unknown = [name for name in args.targets if name not in TARGET_FACTORIES]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; known: {', '.join(TARGET_FACTORIES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    report = run(args)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    print_report(report)
    if args.workers:
        from benchmarks import fanout_workers

        fanout_workers.print_workers_report(report)
    print(f"\ntotal {report['total_seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
