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

from quizengine.services.addresses import lan_addresses

from .conftest import DATA

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(instance: Path, banks: Path, port: int, *flags: str) -> subprocess.Popen[str]:
    env = {**os.environ, "QUIZENGINE_INSTANCE": str(instance), "QUIZENGINE_BANKS": str(banks), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--port", str(port), *flags],
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
        if "按 Ctrl+C 停止服务" in line:
            while time.monotonic() < deadline:  # the line is printed just before the server binds
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        return "".join(output)
                time.sleep(0.05)
        if process.poll() is not None:
            break
    raise AssertionError("server did not start:\n" + "".join(output))


@contextmanager
def _serving(instance: Path, banks: Path, port: int, *flags: str) -> Iterator[str]:
    """Run the server until the block ends (also when an assertion fails); yield its start-up output."""
    with _start(instance, banks, port, *flags) as process:
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


def _connects(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, port)) == 0


@pytest.mark.skipif(not lan_addresses(), reason="this machine has no LAN address")
def test_serves_the_room_by_default_and_prints_every_address_with_a_qr_code(tmp_path: Path) -> None:
    port, lan = _free_port(), lan_addresses()
    with _serving(tmp_path / "instance", tmp_path / "banks", port) as output:
        for address in lan:
            assert f"局域网：http://{address}:{port}/" in output
        assert f"本机：http://127.0.0.1:{port}/" in output
        assert f"手机扫码打开 http://{lan[0]}:{port}/" in output
        assert "▄▄▄▄▄" in output  # the QR code, drawn with half blocks
        assert _connects(lan[0], port), "bound to every interface: a phone on the LAN reaches it"
        assert "测试题库" not in _get(f"http://{lan[0]}:{port}/login")


@pytest.mark.skipif(not lan_addresses(), reason="this machine has no LAN address")
def test_host_127_0_0_1_keeps_it_on_this_machine_and_says_so(tmp_path: Path) -> None:
    port = _free_port()
    with _serving(tmp_path / "instance", tmp_path / "banks", port, "--host", "127.0.0.1") as output:
        assert f"本机：http://127.0.0.1:{port}/" in output and "局域网：" not in output
        assert "只允许本机访问（--host 127.0.0.1），手机无法加入" in output
        assert "手机扫码" not in output
        assert not _connects(lan_addresses()[0], port)


def test_public_url_is_the_main_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://quiz.example.org/")
    port = _free_port()
    with _serving(tmp_path / "instance", tmp_path / "banks", port) as output:
        assert "对外地址：https://quiz.example.org/" in output
        assert "手机扫码打开 https://quiz.example.org/" in output


def test_a_bad_public_url_stops_with_a_chinese_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "quiz.example.org")
    (tmp_path / "banks").mkdir()
    with _start(tmp_path / "instance", tmp_path / "banks", _free_port()) as process:
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "配置有误：PUBLIC_URL 应是 http:// 或 https:// 开头的网址" in output and "Traceback" not in output
