"""kill -9 during an exam: every answer the server acknowledged is in the database after the crash.

A real server process (run.py), a member saving one answer after another through the autosave endpoint as
the exam page does, and a SIGKILL in the middle of the stream. The database is then read directly.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import pytest
import requests

from .browser import start_server, stop_server
from .test_contest_restart import _login

pytestmark = pytest.mark.slow
PASSWORD = "exam-pass-2026"
QUESTIONS = 60


def _banks(tmp_path: Path) -> Path:
    banks = tmp_path / "banks"
    banks.mkdir()
    extra = "explanation: 解析, reference: 党章"
    lines = ["bank: crash", "title: 崩溃测试题库", "questions:"]
    lines += [f"  - {{id: k-{n}, type: short, stem: 简答第{n}问, answer: 要点, {extra}}}" for n in range(QUESTIONS)]
    (banks / "crash.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return banks


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _schedule_exam(url: str, http: requests.Session) -> int:
    page = http.get(f"{url}/exams/new", timeout=10).text
    branch = re.search(r'name="branch" value="(\d+)"', page).group(1)
    now = datetime.now(ZoneInfo("Asia/Shanghai"))  # the form's times are in the display time zone
    form = {
        "csrf_token": _token(page),
        "title": "崩溃测试",
        "branch": branch,
        "opens_at": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "60",
        "s0_type": "short",
        "s0_count": str(QUESTIONS),
        "s0_points": "1",
        "pass_mark": "1",
        "review_policy": "after_close",
        "multiple_policy": "all_or_nothing",
    }
    response = http.post(f"{url}/exams/new", data=form, timeout=10, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    exam_id = int(re.search(r"/exams/(\d+)/manage", response.headers["Location"]).group(1))
    published = http.post(f"{url}/exams/{exam_id}/publish", data={"csrf_token": _token(page)}, timeout=10)
    assert "考试已发布" in published.text  # a new exam is a draft until the organizer publishes it
    return exam_id


def test_every_acknowledged_save_survives_a_kill_9(tmp_path: Path) -> None:
    instance, banks = tmp_path / "instance", _banks(tmp_path)
    process, server = start_server(instance, banks)
    acknowledged: dict[int, str] = {}
    refusals: list[str] = []
    try:
        for username, role in (("org", "organizer"), ("member", "member")):
            server.cli(
                "users", "create", username, "--name", username, "--role", role, "--branch", "第一党支部",
                "--password", PASSWORD,
            )  # fmt: skip
        exam_id = _schedule_exam(server.url, _login(server.url, "org", PASSWORD))
        member = _login(server.url, "member", PASSWORD)
        page = member.get(f"{server.url}/exams/", timeout=10).text
        started = member.post(
            f"{server.url}/exams/{exam_id}/start", data={"csrf_token": _token(page)}, timeout=10, allow_redirects=False
        )
        assert "/exams/attempts/" in started.headers["Location"], started.headers["Location"]
        attempt_url = urljoin(server.url, started.headers["Location"])
        token = _token(member.get(attempt_url, timeout=10).text)

        def save_all() -> None:
            for position in range(QUESTIONS):
                text = f"第{position}题的回答"
                try:
                    saved = member.post(
                        f"{attempt_url}/answers",
                        json={"position": position, "response": text},
                        headers={"X-CSRFToken": token},
                        timeout=5,
                    )
                except requests.RequestException:
                    return  # the server is gone: this one was never acknowledged
                if saved.status_code == 200 and saved.json()["ok"]:
                    acknowledged[position] = text
                else:
                    refusals.append(f"{saved.status_code} {saved.text[:200]}")

        saver = threading.Thread(target=save_all)
        saver.start()
        while len(acknowledged) < QUESTIONS // 3 and saver.is_alive():
            time.sleep(0.005)
    finally:
        stop_server(process, kill=True)  # SIGKILL mid-stream: no shutdown, no flush
    saver.join(timeout=30)
    assert QUESTIONS // 3 <= len(acknowledged) < QUESTIONS, f"the crash should land mid-stream ({refusals[:3]})"
    with sqlite3.connect(instance / "quizengine.sqlite3") as database:
        stored = dict(database.execute("SELECT position, response FROM attempt_items WHERE response IS NOT NULL"))
    for position, text in acknowledged.items():
        assert position in stored and json.loads(stored[position]) == text, f"acknowledged save {position} lost"
