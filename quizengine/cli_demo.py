"""`quizengine demo`: fill an empty database with a demo committee (services.demo)."""

from __future__ import annotations

import time

import click

from quizengine.extensions import db
from quizengine.services.demo import DemoError, DemoReport, DemoSize, seed_demo

PROFILE_LABELS = {"diligent": "学习积极", "light": "偶尔学习", "idle": "尚未学习"}


@click.command("demo", help="在空数据库中生成演示党委：支部、党小组、党员、数月自测、每月考试和一场竞赛。")
@click.option("--branches", type=click.IntRange(1, 99), default=3, show_default=True, help="支部数")
@click.option("--members", type=click.IntRange(1, 500), default=12, show_default=True, help="每个支部的党员数")
@click.option(
    "--months", type=click.IntRange(1, 36), default=3, show_default=True, help="自测和考试覆盖的月数（截至今天）"
)
@click.option("--seed", type=int, default=2026, show_default=True, help="随机种子：相同种子在同一天生成相同数据")
def demo_command(branches: int, members: int, months: int, seed: int) -> None:
    """Write the demo committee, or refuse (exit 1, nothing written) on a database that has members."""
    started = time.perf_counter()
    try:
        report = seed_demo(
            db.session(), DemoSize(branches, members, months, seed), progress=lambda text: click.echo(text)
        )
    except DemoError as error:
        db.session.rollback()
        click.echo(f"未生成演示数据：{error.message}", err=True)
        raise SystemExit(1) from None
    print_demo_report(report, time.perf_counter() - started)


def print_demo_report(report: DemoReport, seconds: float) -> None:
    """Say what was written and which accounts to try (shared by `quizengine demo` and `run.py --demo`)."""
    click.echo(
        f"演示数据已生成（{seconds:.1f} 秒）：{report.branches} 个支部，{report.members} 名党员，"
        f"{report.sessions:,} 次自测共 {report.answers:,} 道作答，"
        f"{report.exams} 场考试（{report.exam_attempts} 份答卷），"
        f"{'1 场已结束的知识竞赛' if report.contest_id else '没有竞赛'}。"
    )
    click.echo("=" * 60)
    click.echo(f"演示账号的密码都是：{report.password}（只显示这一次）")
    for branch, username, name in report.organizers[:3]:
        click.echo(f"  支部书记 {username}（{name}，{branch}）：看本支部的学习看板")
    if len(report.organizers) > 3:
        click.echo(
            f"  …… 共 {len(report.organizers)} 名支部书记，用户名 {report.organizers[0][1]}–{report.organizers[-1][1]}"
        )
    click.echo(f"  督导 {report.inspector}：只读查看前两个支部")
    for username, name, profile in report.members_to_try:
        click.echo(f"  党员 {username}（{name}，{PROFILE_LABELS[profile]}）")
    click.echo("  管理员 admin：首次启动时显示的一次性密码")
    click.echo("=" * 60)
