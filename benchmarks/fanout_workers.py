"""``contest_fanout.py --workers 1,2``: the contest fan-out on the multi-worker deployment (issue #15, item 3).

For each N, quizengine runs as N ``run.py --no-setup`` worker processes on one PostgreSQL database (a
throw-away one per run) and, for N > 1, with Redis as Flask-SocketIO's message queue on a channel of its
own — as ``run.py --workers N`` behind nginx runs them, without the proxy: the benchmark connects each
participant straight to its worker (participant i to worker i mod N), the host to worker 1. Every room
broadcast then goes host command -> worker 1 -> Redis -> every worker -> its players.

Per worker it reports the CPU the worker spent during the measured rounds and the packets its clients
received in them, so **CPU per delivered message** compares a worker fed through Redis with one process
alone (N = 1: no message queue); Redis's own CPU comes from ``INFO cpu`` (``used_cpu_sys`` +
``used_cpu_user``) read at the same two instants. On a 2-core machine the wall-clock figures of N workers
cannot show a speed-up; the CPU accounting can.

    .venv/bin/python benchmarks/contest_fanout.py --workers 1,2 --quick          # 200 players per worker
    .venv/bin/python benchmarks/contest_fanout.py --workers 1,2                  # 2,000 per worker
"""

from __future__ import annotations

import asyncio
import math
import sys
import uuid
from pathlib import Path
from typing import Any

from benchmarks.harness import HOST, ROOT, Server, free_port, log
from benchmarks.lean_sio import socketio_url

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
#: Goal (issue #15): CPU per delivered message on a worker fed through Redis <= 1.2 x one process alone.
CPU_PER_MESSAGE_VS_ONE = 1.2

#: Seconds each worker's CPU is read with the players connected and nothing broadcast (its background rate).
IDLE_SECONDS = 3.0

#: Databases created by this process, by work folder: (name, URL), dropped by :func:`drop_databases`.
_databases: dict[Path, tuple[str, str]] = {}


def create_database(admin_url: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database: (name, URL)."""
    from sqlalchemy import create_engine, make_url, text

    name = f"quizengine_fanout_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_databases(admin_url: str) -> None:
    """Drop every database this process created."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name, _url in _databases.values():
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    _databases.clear()


def redis_cpu_seconds(url: str) -> float:
    """Redis's own CPU time so far (``INFO cpu``: used_cpu_sys + used_cpu_user)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("cpu")
    finally:
        client.close()
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


class WorkerGroup:
    """N worker processes standing in for one server in the harness: port and CPU of the whole group."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self.port = servers[0].port  # the host's worker

    def cpu(self) -> float:
        return sum(server.cpu() for server in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_workers(
    instance: Path,
    database_url: str,
    ports: list[int],
    work: Path,
    cpu: int | None = None,
    redis_url: str | None = None,
    channel: str | None = None,
) -> list[Server]:
    """One ``run.py --no-setup`` worker per port on one database, each ready (Redis as the message queue when
    given), as ``run.py --workers N`` starts them behind nginx; stops the ones started if one fails."""
    from benchmarks.contest_fanout import start_process

    env = {
        "QUIZENGINE_INSTANCE": str(instance),
        "QUIZENGINE_BANKS": str(ROOT / "question_banks"),
        "DATABASE_URL": database_url,
    }
    if redis_url is not None:
        env |= {"SOCKETIO_MESSAGE_QUEUE": redis_url, "SOCKETIO_CHANNEL": channel or f"bench-{uuid.uuid4().hex[:8]}"}
    servers: list[Server] = []
    try:
        for index, port in enumerate(ports, start=1):
            argv = [sys.executable, str(ROOT / "run.py"), "--no-setup", "--host", HOST, "--port", str(port)]
            worker_env = env | ({"QUIZENGINE_WORKER": str(index)} if len(ports) > 1 else {})
            servers.append(
                start_process(f"app-w{index}", argv, port, work, cpu, worker_env, marker="quizengine 已启动")
            )
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def workers_target(workers: int, redis_url: str, pg_admin_url: str) -> Any:
    """The app target on ``workers`` processes (a class built here: contest_fanout imports this module)."""
    from benchmarks.contest_fanout import AppTarget, ClientSpec

    class WorkersAppTarget(AppTarget):
        name = f"app-w{workers}"
        label = f"quizengine, {workers} run.py worker(s) on PostgreSQL" + (" + Redis" if workers > 1 else "")

        def __init__(self) -> None:
            super().__init__()
            self.ports: list[int] = []
            self.group: WorkerGroup | None = None
            self.channel = f"fanout-bench-{uuid.uuid4().hex[:8]}"
            self.workers = workers
            #: CPU each worker spends per second with its players connected and no broadcast (timer loops, pings)
            self.idle_rates: list[float] = []

        def prepare(self, work: Path, clients: int, rounds: int) -> None:
            """One PostgreSQL database and instance folder per run, shared by every N (a new contest each)."""
            mine = work / "workers"
            mine.mkdir(exist_ok=True)
            if mine not in _databases:
                _databases[mine] = create_database(pg_admin_url)
            self.database_url = _databases[mine][1]
            super().prepare(mine, clients, rounds)

        def start(self, work: Path, port: int, cpu: int | None) -> WorkerGroup:  # type: ignore[override]
            assert self.instance is not None and self.database_url is not None
            self.ports = [port] + [free_port() for _ in range(workers - 1)]
            servers = start_workers(
                self.instance,
                self.database_url,
                self.ports,
                work,
                cpu,
                redis_url if workers > 1 else None,
                self.channel,
            )
            self.group = WorkerGroup(servers)
            return self.group

        async def open_burst(self, host: Any, round_no: int, quiet: Any) -> None:
            """After the measured rounds (quiet by now), read each worker's background CPU rate for
            IDLE_SECONDS, then open the burst's question. (Read right after the connect storm instead, the
            rate still held the storm's tail — roster pushes of thousands of players.)"""
            assert self.group is not None
            before = [server.cpu() for server in self.group.servers]
            await asyncio.sleep(IDLE_SECONDS)
            after = [server.cpu() for server in self.group.servers]
            self.idle_rates = [(b - a) / IDLE_SECONDS for a, b in zip(before, after, strict=True)]
            await super().open_burst(host, round_no, quiet)

        def participant_spec(self, index: int) -> ClientSpec:
            spec = super().participant_spec(index)
            spec.url = socketio_url(HOST, self.ports[index % workers], self.path)
            return spec

        def meters(self) -> dict[str, float]:
            assert self.group is not None
            values = {f"worker{i}_cpu_s": server.cpu() for i, server in enumerate(self.group.servers, start=1)}
            if workers > 1:
                values["redis_cpu_s"] = redis_cpu_seconds(redis_url)
            return values

    return WorkersAppTarget


def per_worker(result: dict[str, Any], target: Any) -> list[dict[str, float]]:
    """Each worker's CPU in the measured rounds, the packets its clients received and CPU per packet (µs):
    gross, and net of the worker's background rate (the contest timer loops polling the database 10 times a
    second, pings; read with nothing broadcast right after the rounds) over the rounds' wall time. The
    background does not grow with the players but with the seconds, and on a loaded machine rounds last
    longer, so the gross figure moves with the machine's load.

    Client process p holds participants p, p + P, ... (P processes, a multiple of N), all on worker p mod N;
    the host, on worker 1, is counted there."""
    workers = target.workers
    *received, host_packets = result["rounds_received_by_process"]
    meters, wall = result["rounds_meters"], result["rounds_cpu"]["wall_s"]
    rows = []
    for w in range(workers):
        packets = sum(count for p, count in enumerate(received) if p % workers == w) + (host_packets if w == 0 else 0)
        cpu = meters[f"worker{w + 1}_cpu_s"]
        idle = target.idle_rates[w] if w < len(target.idle_rates) else 0.0
        net = max(0.0, cpu - idle * wall)
        rows.append(
            {
                "cpu_s": cpu, "packets": packets, "idle_cpu_pct": 100 * idle, "wall_s": wall,
                "us_per_packet": 1e6 * cpu / packets if packets else math.nan,
                "net_us_per_packet": 1e6 * net / packets if packets else math.nan,
            }
        )  # fmt: skip
    return rows


def print_workers_report(report: dict[str, Any]) -> None:
    """One column per N: the time to the last client, each worker's CPU per delivered packet, Redis's CPU."""
    runs = [
        (int(name.removeprefix("app-w")), int(clients), result)
        for clients, by_target in report["results"].items()
        for name, result in by_target.items()
        if name.startswith("app-w") and "error" not in result
    ]
    if not runs:
        return
    print("\nworkers (players)                    " + "".join(f"{f'{n} ({c:,})':>16}" for n, c, _r in runs))
    rows: list[tuple[str, list[str]]] = [
        ("time to last client, median (ms)", [f"{r['rounds']['ttl_median_ms']:.1f}" for _n, _c, r in runs]),
        ("time to last client, worst (ms)", [f"{r['rounds']['ttl_worst_ms']:.1f}" for _n, _c, r in runs]),
        ("missing questions", [f"{r['rounds']['missing']}" for _n, _c, r in runs]),
        ("messages per question", [f"{r['messages_per_question']:,.0f}" for _n, _c, r in runs]),
        ("burst answers lost", [f"{r['burst']['lost']}" for _n, _c, r in runs]),
        ("connect storm (s)", [f"{r['storm']['seconds']:.2f}" for _n, _c, r in runs]),
    ]
    figures = {id(r): r["per_worker"] for _n, _c, r in runs}
    most = max(n for n, _c, _r in runs)
    for w in range(most):
        rows.append(
            (
                f"worker {w + 1}: CPU per packet (µs)",
                [f"{figures[id(r)][w]['us_per_packet']:.1f}" if w < n else "-" for n, _c, r in runs],
            )
        )
        rows.append(
            (
                f"worker {w + 1}: net of background (µs)",
                [f"{figures[id(r)][w]['net_us_per_packet']:.1f}" if w < n else "-" for n, _c, r in runs],
            )
        )
        rows.append(
            (
                f"worker {w + 1}: background CPU (%)",
                [f"{figures[id(r)][w]['idle_cpu_pct']:.1f}" if w < n else "-" for n, _c, r in runs],
            )
        )
        rows.append(
            (
                f"worker {w + 1}: CPU / packets in rounds",
                [f"{figures[id(r)][w]['cpu_s']:.2f} s / {figures[id(r)][w]['packets']:,.0f}" if w < n else "-"
                 for n, _c, r in runs],
            )
        )  # fmt: skip
    rows.append(("rounds' wall time (s)", [f"{r['rounds_cpu']['wall_s']:.1f}" for _n, _c, r in runs]))
    rows.append(
        ("Redis CPU in rounds (s)", [f"{r['rounds_meters'].get('redis_cpu_s', 0.0):.2f}" for _n, _c, r in runs])
    )
    rows.append(("other CPU on the machine (%)", [f"{r['rounds_cpu']['other_cpu_pct']:.0f}" for _n, _c, r in runs]))
    for label, cells in rows:
        print(f"{label:37}" + "".join(f"{cell:>16}" for cell in cells))
    one = next((figures[id(r)][0] for n, _c, r in runs if n == 1), None)
    for n, _c, r in runs:
        if n > 1 and one:
            for w, row in enumerate(figures[id(r)]):
                for key, what in (("us_per_packet", "CPU per packet"), ("net_us_per_packet", "net of background")):
                    ratio = row[key] / one[key] if one[key] else math.nan
                    met = "MET   " if ratio <= CPU_PER_MESSAGE_VS_ONE else "MISSED"
                    print(f"  {met} {n} workers, worker {w + 1}: {what} {ratio:.2f} x one process "
                          f"(goal <= {CPU_PER_MESSAGE_VS_ONE})")  # fmt: skip
    log("per-worker figures in the JSON report: results.<players>.app-wN.per_worker")
