"""Backups while an exam is saving: every acknowledged save is in the copy; restore refuses to overwrite data."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from quizengine.models import AttemptItem, User
from quizengine.services import backup, exam_taking

from .conftest import csrf_token, login
from .test_exams import _now, _spec, scheduled, setting  # noqa: F401  (setting is a fixture)

SAVERS = 3


def _short_answer_saver(app: Flask, username: str, attempt_id: int, position: int, acks: list[tuple[float, int]]):  # type: ignore[no-untyped-def]
    """A member's phone autosaving its short answer as fast as the server acknowledges: save-1, save-2, …"""
    stop = threading.Event()

    def run() -> None:
        client = app.test_client()
        login(client, username)
        token = csrf_token(client, "/exams/")
        url = f"/exams/attempts/{attempt_id}/answers"
        number = 0
        while not stop.is_set():
            number += 1
            saved = client.post(
                url, json={"position": position, "response": f"save-{number}"}, headers={"X-CSRFToken": token}
            )
            assert saved.status_code == 200, saved.get_data(as_text=True)
            acks.append((time.monotonic(), number))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return stop, thread


def _restored_answers(url: str) -> dict[int, str]:
    engine = create_engine(url)
    try:
        with Session(engine) as restored:
            rows = restored.execute(
                select(AttemptItem.attempt_id, AttemptItem.response).where(AttemptItem.response.is_not(None))
            )
            return {attempt_id: response for attempt_id, response in rows}
    finally:
        engine.dispose()


def _on(app: Flask, url: str, runner: FlaskCliRunner, args: list[str]):  # type: ignore[no-untyped-def]
    """Run a command with the app pointed at another database (as `DATABASE_URL=… quizengine …` would)."""
    shared = app.config["DATABASE_URL"]
    app.config["DATABASE_URL"] = url
    try:
        return runner.invoke(args=args)
    finally:
        app.config["DATABASE_URL"] = shared


def test_a_backup_taken_mid_exam_holds_every_acknowledged_save(  # type: ignore[no-untyped-def]
    app: Flask,
    runner: FlaskCliRunner,
    session: Session,
    setting,  # noqa: F811
    tmp_path: Path,
    fresh_database_url: Callable[[], str],
) -> None:
    organizer, members = setting
    exam = scheduled(session, organizer, _spec(session, _now()))
    attempts = [exam_taking.start_exam(session, member, exam.id) for member in members[:SAVERS]]
    acks: dict[int, list[tuple[float, int]]] = {attempt.id: [] for attempt in attempts}
    savers = []
    for member, attempt in zip(members, attempts, strict=False):
        short = next(item for item in attempt.items if item.revision.content["type"] == "short")
        savers.append(_short_answer_saver(app, member.username, attempt.id, short.position, acks[attempt.id]))
    while min(len(saved) for saved in acks.values()) < 20:  # saves are flowing
        time.sleep(0.01)

    started = time.monotonic()
    target = tmp_path / "mid-exam.backup"
    made = runner.invoke(args=["backup", "-o", str(target)])
    finished = time.monotonic()
    time.sleep(0.2)
    for stop, thread in savers:
        stop.set()
        thread.join(timeout=30)
    assert made.exit_code == 0, made.output
    assert f"已备份到 {target}" in made.output

    fresh = fresh_database_url()
    restored = _on(app, fresh, runner, ["restore", str(target)])
    assert restored.exit_code == 0, restored.output
    answers = _restored_answers(fresh)
    for attempt_id, saved in acks.items():
        acknowledged = max(number for at, number in saved if at < started)
        in_backup = int(answers[attempt_id].removeprefix("save-"))
        assert in_backup >= acknowledged, "a save acknowledged before the backup began is missing"
        assert any(started <= at <= finished for at, _ in saved) or saved[-1][0] > finished  # saves kept flowing
    assert _usernames(fresh) == set(session.scalars(select(User.username)))


def test_restore_refuses_to_overwrite_data_without_force(  # type: ignore[no-untyped-def]
    app: Flask, runner: FlaskCliRunner, session: Session, make_user, tmp_path: Path, fresh_database_url
) -> None:
    make_user(username="before")
    target = tmp_path / "one.backup"
    assert runner.invoke(args=["backup", "-o", str(target)]).exit_code == 0
    again = runner.invoke(args=["backup", "-o", str(target)])
    assert again.exit_code == 1 and "已存在，请换一个文件名" in again.output

    fresh = fresh_database_url()
    assert _on(app, fresh, runner, ["restore", str(target)]).exit_code == 0
    engine = create_engine(fresh)
    with Session(engine) as other:
        other.add(User(username="after", name="之后", password_hash="x"))
        other.commit()
    engine.dispose()
    refused = _on(app, fresh, runner, ["restore", str(target)])
    assert (
        refused.exit_code == 1 and "目标数据库已有数据，未做任何修改" in refused.output and "--force" in refused.output
    )
    assert {"before", "after"} <= _usernames(fresh)
    forced = _on(app, fresh, runner, ["restore", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "before" in _usernames(fresh) and "after" not in _usernames(fresh)


def _usernames(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with Session(engine) as check:
            return set(check.scalars(select(User.username)))
    finally:
        engine.dispose()


def test_a_file_that_is_not_a_backup_changes_nothing(runner: FlaskCliRunner, tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_text("not a backup", encoding="utf-8")
    refused = runner.invoke(args=["restore", str(junk), "--force"])
    assert refused.exit_code == 1 and "不是" in refused.output and "未做任何修改" in refused.output
    missing = runner.invoke(args=["restore", str(tmp_path / "nothing"), "--force"])
    assert missing.exit_code == 1 and "不存在" in missing.output


def test_without_pg_dump_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(backup.shutil, "which", lambda _name: None)
    with pytest.raises(backup.BackupError, match=r"未找到 pg_dump：请先安装 PostgreSQL 客户端（.*postgresql-client）"):
        backup.backup_database("postgresql+psycopg://quiz@127.0.0.1/quizengine", tmp_path / "x.pgdump")
    assert not list(tmp_path.iterdir())


def test_the_default_backup_file_is_named_by_time_under_instance(runner: FlaskCliRunner, app: Flask) -> None:
    made = runner.invoke(args=["backup"])
    assert made.exit_code == 0, made.output
    files = list((Path(app.config["INSTANCE_PATH"]) / "backups").iterdir())
    assert len(files) == 1 and files[0].name.startswith("quizengine-") and str(files[0]) in made.output
