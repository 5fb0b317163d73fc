"""Command line for backups: `quizengine backup [-o FILE]` and `quizengine restore FILE [--force]`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from quizengine.services.backup import BackupError, backup_database, default_backup_path, restore_database


@click.command("backup", help="在应用继续运行时备份数据库（SQLite 备份接口或 pg_dump）。")
@with_appcontext
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="备份文件（默认 instance/backups/ 下按时间命名）",
)
def backup_command(output: Path | None) -> None:
    """Copy the database while the app keeps serving (SQLite backup API, or pg_dump)."""
    url = current_app.config["DATABASE_URL"]
    now = datetime.now(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
    target = output or default_backup_path(url, Path(current_app.config["INSTANCE_PATH"]) / "backups", now)
    try:
        backup_database(url, target)
    except BackupError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"已备份到 {target}（{target.stat().st_size / 1_048_576:.1f} MB）")


@click.command("restore", help="用备份替换数据库（先停止应用）；目标已有数据时须加 --force。")
@with_appcontext
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="目标数据库已有数据时也覆盖")
def restore_command(source: Path, force: bool) -> None:
    """Replace the database with a backup (stop the app first); refuses to overwrite data without --force."""
    try:
        restore_database(current_app.config["DATABASE_URL"], source, force=force)
    except BackupError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"已从 {source} 恢复数据库。")
