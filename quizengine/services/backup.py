"""Backups taken while the app serves, and restoring one into an empty database.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page inside one read transaction,
so the copy is one consistent state even while exams save (WAL: readers never block the writers). Copying
the file instead could catch a half-written page or leave the WAL's last commits behind.

PostgreSQL: ``pg_dump`` in its custom format (one snapshot, compressed), restored with ``pg_restore`` in one
transaction. Both are PostgreSQL's own client tools; without them the operator gets a message saying
which package to install.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, make_url, select, table

#: What every SQLite database file starts with; a PostgreSQL custom-format dump starts with PGDMP.
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_MAGIC = b"PGDMP"
_MISSING_TOOL = (
    "未找到 {tool}：请先安装 PostgreSQL 客户端（Debian/Ubuntu：sudo apt install postgresql-client），再重试。"
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do (Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份或恢复。")
    return Path(database)


def default_backup_path(url: str, folder: Path, now: datetime) -> Path:
    """Where a backup goes when no file is named: backups/quizengine-<time>.sqlite3 (or .pgdump)."""
    suffix = "sqlite3" if _is_sqlite(url) else "pgdump"
    return folder / f"quizengine-{now:%Y%m%d-%H%M%S}.{suffix}"


def backup_database(url: str, target: Path) -> Path:
    """Write a consistent copy of the database at ``url`` to ``target`` (written whole, or not at all)."""
    if target.exists():
        raise BackupError(f"{target} 已存在，请换一个文件名。")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if _is_sqlite(url):
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(partial), "--dbname"], url)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"数据库文件 {source} 不存在。")
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)  # every page in one step: one consistent state


def has_data(url: str) -> bool:
    """True when any table other than the migration marker holds a row (restoring would overwrite it)."""
    if _is_sqlite(url) and not _sqlite_path(url).exists():
        return False
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = [name for name in inspect(connection).get_table_names() if name != "alembic_version"]
            return any(connection.scalar(select(func.count()).select_from(table(name))) for name in names)
    finally:
        engine.dispose()


def restore_database(url: str, source: Path, *, force: bool = False) -> None:
    """Replace the database at ``url`` with the backup ``source``; refuse to overwrite data unless forced.

    Stop the app first: a restore under running workers would mix their writes with the backup's state.
    """
    if not source.is_file():
        raise BackupError(f"备份文件 {source} 不存在。")
    head = _head(source)
    sqlite = _is_sqlite(url)
    expected, kind = (_SQLITE_MAGIC, "SQLite") if sqlite else (_PG_MAGIC, "PostgreSQL（pg_dump 自定义格式）")
    if not head.startswith(expected):
        raise BackupError(f"{source} 不是 {kind} 的备份文件，未做任何修改。")
    if not force and has_data(url):
        raise BackupError("目标数据库已有数据，未做任何修改。确认要用备份覆盖它，请加 --force。")
    if sqlite:
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup,
            closing(sqlite3.connect(target)) as live,
        ):
            backup.backup(live)  # replaces every page of the live file, under its own lock
    else:
        _run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", str(source), "--dbname"], url
        )


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(16)


def _run(command: list[str], url: str) -> None:
    """Run a PostgreSQL client tool on ``url`` (the password goes in the environment, not on the command line)."""
    if shutil.which(command[0]) is None:
        raise BackupError(_MISSING_TOOL.format(tool=command[0]))
    parsed = make_url(url)
    env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run([*command, dsn], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} 失败（退出码 {done.returncode}）：{done.stderr.strip()[-800:]}")
