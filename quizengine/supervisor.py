"""Run N worker processes behind one command: labelled logs, restart on crash, stop all on SIGTERM.

One gevent process uses one core. ``run.py --workers N`` starts N of them on consecutive ports behind nginx
(deploy/nginx/quizengine.conf); this module keeps them running. It is plain stdlib (subprocess, threads,
signals), so it works unchanged whether gevent has patched the process or not.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit

#: Seconds before restarting a crashed worker: doubles per crash in a row, up to the cap; a worker that stayed
#: up for STABLE_SECONDS starts again from the first delay.
FIRST_RESTART_DELAY = 0.5
MAX_RESTART_DELAY = 30.0
STABLE_SECONDS = 60.0
#: How long a worker may take to exit after SIGTERM before it is killed.
STOP_GRACE_SECONDS = 10.0


def worker_ports(workers: int, base_port: int) -> list[int]:
    """The ports of N workers: consecutive from the base (nginx's upstream lists the same ones)."""
    if workers < 1:
        raise ValueError("工作进程数至少为 1")
    if not 1 <= base_port <= 65535 - workers + 1:
        raise ValueError(f"起始端口 {base_port} 无效：{workers} 个工作进程的端口须都在 1–65535 之内")
    return [base_port + index for index in range(workers)]


def scale_out_problems(workers: int, database_url: str, message_queue: str | None) -> list[str]:
    """Why N workers cannot share the state with these settings (empty: they can).

    Every worker must see every answer (one PostgreSQL database) and every broadcast (one message queue):
    SQLite cannot be written by several processes at a contest's pace, and without a queue a broadcast
    reaches only the clients of the worker that sent it.
    """
    if workers <= 1:
        return []
    problems = []
    if urlsplit(database_url).scheme.split("+")[0] not in {"postgresql", "postgres"}:
        problems.append("多个工作进程须共用 PostgreSQL 数据库：请设置 DATABASE_URL=postgresql+psycopg://…")
    if not message_queue:
        problems.append("多个工作进程须通过消息队列互通广播：请设置 SOCKETIO_MESSAGE_QUEUE=redis://…")
    return problems


@dataclass
class Worker:
    """One supervised process and its restart bookkeeping."""

    index: int
    port: int
    process: subprocess.Popen[str] | None = None
    started_at: float = 0.0
    crashes_in_a_row: int = 0
    restart_at: float | None = None
    restarts: int = 0
    reader: threading.Thread | None = field(default=None, repr=False)


class Supervisor:
    """Start, watch and stop the workers; every output line is prefixed with its worker's label."""

    def __init__(
        self,
        command: Callable[[int, int], Sequence[str]],
        ports: Sequence[int],
        *,
        env: Callable[[int], dict[str, str]] | None = None,
        output: IO[str] | None = None,
    ) -> None:
        self._command = command
        self._env = env
        self._output = output or sys.stdout
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.workers = [Worker(index + 1, port) for index, port in enumerate(ports)]

    def say(self, label: str, line: str) -> None:
        """One labelled line on the shared log stream (whole lines only, never interleaved)."""
        with self._lock:
            self._output.write(f"[{label}] {line.rstrip()}\n")
            self._output.flush()

    def _start(self, worker: Worker) -> None:
        worker.process = subprocess.Popen(
            list(self._command(worker.index, worker.port)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self._env(worker.index) if self._env else None,
        )
        worker.started_at = time.monotonic()
        worker.restart_at = None
        worker.reader = threading.Thread(target=self._pump, args=(worker, worker.process), daemon=True)
        worker.reader.start()

    def _pump(self, worker: Worker, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        with process.stdout:  # closed when the worker's output ends, so restarts leave no pipe behind
            for line in process.stdout:
                self.say(f"worker {worker.index}", line)

    def start(self) -> None:
        """Start every worker."""
        for worker in self.workers:
            self._start(worker)
        ports = "、".join(str(worker.port) for worker in self.workers)
        self.say("supervisor", f"已启动 {len(self.workers)} 个工作进程，端口 {ports}")

    def check(self) -> None:
        """Restart workers that died (after their back-off delay); called every few tenths of a second."""
        if self._stopping.is_set():
            return
        now = time.monotonic()
        for worker in self.workers:
            process = worker.process
            if process is None:
                continue
            if worker.restart_at is None and process.poll() is not None:
                uptime = now - worker.started_at
                worker.crashes_in_a_row = 1 if uptime >= STABLE_SECONDS else worker.crashes_in_a_row + 1
                delay = min(MAX_RESTART_DELAY, FIRST_RESTART_DELAY * 2 ** (worker.crashes_in_a_row - 1))
                worker.restart_at = now + delay
                self.say(
                    "supervisor",
                    f"工作进程 {worker.index}（端口 {worker.port}）已退出（状态 {process.returncode}），"
                    f"{delay:g} 秒后重启",
                )
            elif worker.restart_at is not None and now >= worker.restart_at:
                worker.restarts += 1
                self._start(worker)
                self.say("supervisor", f"工作进程 {worker.index} 已重启（第 {worker.restarts} 次）")

    def stop(self) -> None:
        """Ask every worker to stop (SIGTERM), kill those still running after the grace period."""
        self._stopping.set()
        running = [worker.process for worker in self.workers if worker.process and worker.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for worker in self.workers:
            if worker.reader is not None:
                worker.reader.join(timeout=2)
        self.say("supervisor", "全部工作进程已停止")

    def request_stop(self, *_: object) -> None:
        """Signal handler: the main loop stops the workers and returns."""
        self._stopping.set()

    def run(self, poll_seconds: float = 0.2) -> int:
        """Start, keep the workers up until SIGTERM/SIGINT, then stop them all; the exit status is 0."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        self.start()
        while not self._stopping.wait(poll_seconds):
            self.check()
        self.stop()
        return 0
