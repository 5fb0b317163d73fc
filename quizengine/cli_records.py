"""`quizengine records …`: maintenance of the learning records' summaries."""

from __future__ import annotations

import click

from quizengine.extensions import db

records_cli = click.Group("records", help="学习档案：维护按日汇总。")


@records_cli.command(
    "rebuild-summaries",
    help="按全部作答记录重新计算每名党员每天的答题汇总及按日、按月的考核合计（升级或恢复备份后核对用）。",
)
def rebuild_summaries() -> None:
    """Recompute `member_days` from every attempt, and the period totals from them (`member_activity`,
    `member_months`): all are kept on write; this is the check and the fix."""
    from quizengine.services.summaries import rebuild

    click.echo(f"已重建学习汇总：{rebuild(db.session())} 行")
