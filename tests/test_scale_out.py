"""Several workers: the supervisor (labelled logs, restarts, SIGTERM), the shipped nginx and systemd files,
the refusal to scale out on SQLite, and the health probe that tells which worker answered."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from quizengine import supervisor
from quizengine.deployment import nginx_config
from quizengine.supervisor import Supervisor, scale_out_problems, worker_ports

from .browser import ROOT

CHATTY_WORKER = "import sys, time; print('listening', sys.argv[1], flush=True); time.sleep(60)"
CRASHING_WORKER = "import sys; print('crashing', sys.argv[1], flush=True); sys.exit(3)"


def _wait(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_workers_get_consecutive_ports_and_bad_numbers_are_refused() -> None:
    assert worker_ports(3, 5001) == [5001, 5002, 5003]
    with pytest.raises(ValueError, match="至少为 1"):
        worker_ports(0, 5001)
    with pytest.raises(ValueError, match="起始端口 65535 无效"):
        worker_ports(2, 65535)


def test_scaling_out_needs_postgresql_and_a_message_queue() -> None:
    assert scale_out_problems(1, "sqlite:///x.sqlite3", None) == []
    problems = scale_out_problems(2, "sqlite:///x.sqlite3", None)
    assert len(problems) == 2 and "PostgreSQL" in problems[0] and "SOCKETIO_MESSAGE_QUEUE" in problems[1]
    assert scale_out_problems(2, "postgresql+psycopg://quiz@db/quiz", "redis://127.0.0.1:6379/0") == []


def test_the_supervisor_labels_each_line_and_restarts_a_crashed_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "FIRST_RESTART_DELAY", 0.05)
    output = io.StringIO()
    scripts = {1: CHATTY_WORKER, 2: CRASHING_WORKER}
    team = Supervisor(
        lambda index, port: [sys.executable, "-c", scripts[index], str(port)], [7001, 7002], output=output
    )
    team.start()
    try:
        _wait(lambda: team.workers[1].restarts >= 2 or (team.check() and False))
        _wait(lambda: "[worker 1] listening 7001" in output.getvalue())
        assert team.workers[0].restarts == 0 and team.workers[0].process.poll() is None
    finally:
        team.stop()
    log = output.getvalue()
    assert "[worker 2] crashing 7002" in log
    assert re.search(r"\[supervisor\] 工作进程 2（端口 7002）已退出（状态 3），[\d.]+ 秒后重启", log)
    assert "[supervisor] 工作进程 2 已重启（第 1 次）" in log
    assert all(worker.process.poll() is not None for worker in team.workers)
    assert log.rstrip().endswith("[supervisor] 全部工作进程已停止")


def test_the_restart_delay_grows_while_a_worker_keeps_crashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "FIRST_RESTART_DELAY", 0.01)
    team = Supervisor(
        lambda index, port: [sys.executable, "-c", CRASHING_WORKER, str(port)], [7001], output=io.StringIO()
    )
    team.start()
    try:
        _wait(lambda: team.workers[0].restarts >= 3 or (team.check() and False))
    finally:
        team.stop()
    assert team.workers[0].crashes_in_a_row >= 3


def test_sigterm_stops_every_worker_and_the_supervisor_exits_cleanly(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    worker = (
        f"import os, time; open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n'); print('up', flush=True); "
        "time.sleep(60)"
    )
    program = (
        "import sys; from quizengine.supervisor import Supervisor; "
        f"sys.exit(Supervisor(lambda i, p: [sys.executable, '-c', {worker!r}], [7001, 7002]).run())"
    )
    process = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    _wait(lambda: pids.exists() and len(pids.read_text().split()) == 2)
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 0, out
    for pid in map(int, pids.read_text().split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert "[worker 1] up" in out and "[worker 2] up" in out and "全部工作进程已停止" in out


def _unit_numbers() -> tuple[int, int]:
    unit = (ROOT / "deploy" / "systemd" / "quizengine.service").read_text(encoding="utf-8")
    command = re.search(r"^ExecStart=.*$", unit, re.MULTILINE).group(0)
    return int(re.search(r"--workers (\d+)", command).group(1)), int(re.search(r"--base-port (\d+)", command).group(1))


def test_the_shipped_nginx_file_is_what_the_systemd_unit_s_workers_need() -> None:
    workers, base_port = _unit_numbers()
    shipped = (ROOT / "deploy" / "nginx" / "quizengine.conf").read_text(encoding="utf-8")
    assert shipped == nginx_config(workers, base_port, server_name="quiz.example.org", listen="80"), (
        "regenerate: python run.py --workers N --base-port P --nginx-config --server-name quiz.example.org"
    )
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", shipped) == [str(port) for port in worker_ports(workers, base_port)]


def nginx_main_config(site: str, prefix: Path) -> str:
    """A whole nginx.conf around a site snippet, running in the foreground with everything under `prefix`."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n"
        f"events {{ worker_connections 1024; }}\nhttp {{\n    access_log off;\n{temp}\n{site}\n}}\n"
    )


@pytest.mark.skipif(shutil.which("nginx") is None, reason="needs Debian's nginx (apt-get install nginx)")
def test_nginx_accepts_the_shipped_file(tmp_path: Path) -> None:
    site = (
        (ROOT / "deploy" / "nginx" / "quizengine.conf")
        .read_text(encoding="utf-8")
        .replace("listen 80;", "listen 18080;")
    )
    (tmp_path / "nginx.conf").write_text(nginx_main_config(site, tmp_path), encoding="utf-8")
    checked = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr


def test_run_py_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "QUIZENGINE_INSTANCE": str(tmp_path / "instance")}
    env.pop("DATABASE_URL", None)
    env.pop("SOCKETIO_MESSAGE_QUEUE", None)
    started = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--workers", "2"], capture_output=True, text=True, env=env, timeout=60
    )
    assert started.returncode == 1
    assert "无法以多个工作进程启动" in started.stderr and "PostgreSQL" in started.stderr
    assert not (tmp_path / "instance" / "quizengine.sqlite3").exists()  # no setup ran: nothing was written


def test_run_py_prints_the_nginx_config_for_its_workers() -> None:
    shown = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--workers", "3", "--base-port", "6001", "--nginx-config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0 and shown.stdout == nginx_config(3, 6001)


def test_the_health_probe_names_the_worker_and_checks_the_database(client: FlaskClient) -> None:
    client.application.config["WORKER"] = 2
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok", "worker": 2}
