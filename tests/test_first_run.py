"""First run as a user does it: `python run.py` on a fresh instance serves HTTP and Socket.IO (gevent)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import DATA

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(instance: Path, banks: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "QUIZENGINE_INSTANCE": str(instance), "QUIZENGINE_BANKS": str(banks), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _wait_until_serving(process: subprocess.Popen[str], port: int) -> str:
    output = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        output.append(line)
        if "quizengine 已启动" in line:
            while time.monotonic() < deadline:  # the line is printed just before the server binds
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        return "".join(output)
                time.sleep(0.05)
        if process.poll() is not None:
            break
    raise AssertionError("server did not start:\n" + "".join(output))


@contextmanager
def _serving(instance: Path, banks: Path, port: int) -> Iterator[str]:
    """Run the server until the block ends (also when an assertion fails); yield its start-up output."""
    with _start(instance, banks, port) as process:
        try:
            yield _wait_until_serving(process, port)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def test_fresh_start_migrates_loads_banks_creates_admin_and_serves(tmp_path: Path) -> None:
    instance, banks = tmp_path / "instance", tmp_path / "banks"
    banks.mkdir()
    shutil.copy(DATA / "sample_bank.yaml", banks)
    port = _free_port()
    with _serving(instance, banks, port) as output:
        assert "题库：新增 5" in output
        assert "已创建管理员账号 admin，一次性密码：" in output
        assert (instance / "quizengine.sqlite3").exists() and (instance / "secret_key").exists()
        assert oct((instance / "secret_key").stat().st_mode & 0o777) == "0o600"
        assert "测试题库" in _get(f"http://127.0.0.1:{port}/")
        handshake = _get(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling")
        assert handshake.startswith("0{") and '"upgrades":["websocket"]' in handshake

    with _serving(instance, banks, port) as output:
        assert "未变 5" in output and "一次性密码" not in output  # no second admin, no changes
