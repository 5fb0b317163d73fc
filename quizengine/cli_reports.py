"""`quizengine report`: the monthly routine — the committee's workbook and one per branch, written to a folder."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from quizengine.engine.errors import StandardError
from quizengine.engine.periods import Period
from quizengine.extensions import db


@click.command("report", help="导出考核报表：党委各支部对比一份、每个支部一份 Excel，写入 --out 目录。")
@click.option("--period", "period_key", default=None, help="考核周期，如 2026-12（默认：本月，按北京时间）。")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="写入的目录（不存在时自动创建）。")
@with_appcontext
def report_command(period_key: str | None, out: Path) -> None:
    """Write the reports of a period (default: the current one of the committee standard, Asia/Shanghai)."""
    from quizengine.services.motivation import points_policy
    from quizengine.services.reports import ReportError, default_period, write_reports

    session = db.session()
    try:
        period = Period.parse(period_key) if period_key is not None else default_period(session)
        written = write_reports(session, period, out, policy=points_policy(current_app.config))
    except (StandardError, ReportError) as error:
        click.echo(error.message, err=True)
        raise SystemExit(1) from error
    for path in written:
        click.echo(str(path))
    click.echo(f"已写入 {len(written)} 个文件（{period.label}）")
