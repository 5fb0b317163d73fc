"""What every benchmark script shares: progress logging, percentiles, CPU accounting from /proc, and the
server child processes they start and stop (each with its output in a log file)."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def log(message: str) -> None:
    """Progress on stderr (figures go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending sequence (nan when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def process_cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU time of one process (and of its exited children, if asked), from /proc; 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU time the whole machine spent busy, and stolen by the hypervisor, from /proc/stat (all cores)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq) / tick, steal / tick


class Server:
    """A server child process (pinned to one CPU when ``cpu`` is given) with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        port: int,
        marker: str,
        logs: Path,
        cpu: int | None = None,
    ) -> None:
        self.name, self.port, self.marker = name, port, marker
        self.log_path = logs / f"{name}-{port}.log"
        self._log = self.log_path.open("w", encoding="utf-8")
        pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
        self.process = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, preexec_fn=pin
        )

    def wait_ready(self, timeout: float = 120) -> float:
        """Wait for the marker in the log and an open port; return the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            if self.marker in self.log_path.read_text(encoding="utf-8", errors="replace"):
                with socket.socket() as probe:
                    if probe.connect_ex((HOST, self.port)) == 0:
                        return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start in {timeout:.0f} s:\n{self.tail()}")

    def cpu(self) -> float:
        """The server's CPU time so far (seconds)."""
        return process_cpu_seconds(self.process.pid)

    def exceptions(self) -> dict[str, int]:
        """The last line of every traceback in the log (exception type and message), counted."""
        counts: dict[str, int] = {}
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines):
            if line.startswith("Traceback"):
                end = number + 1
                while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                    end += 1
                if end < len(lines):
                    key = lines[end][:200]
                    counts[key] = counts.get(key, 0) + 1
        return counts

    def tail(self, lines: int = 30) -> str:
        """The last lines of the server's output (for error messages)."""
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate (then kill) the process and close its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
