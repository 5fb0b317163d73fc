"""Command line: `quizengine …` (also `flask --app quizengine …`). Commands call services only."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from flask import Flask, current_app

from quizengine.banks.loader import Bank, BankLoadError
from quizengine.cli_zh import ChineseFlaskGroup, chinese_usage, install_click_chinese
from quizengine.engine.errors import QuizError
from quizengine.engine.questions import QUESTION_TYPES
from quizengine.extensions import db
from quizengine.models import ORGANIZER_TITLES, ROLE_LABELS, MemberStatus, Role
from quizengine.services.accounts import AccountError, create_user, reset_password, set_role
from quizengine.services.bank_owner import set_owner
from quizengine.services.banks import check_banks, sync_banks
from quizengine.services.schema import current_revision, head_revision, upgrade_database
from quizengine.services.setup import FirstRunReport, first_run

db_cli = click.Group("db", help="数据库结构（Alembic 迁移）。")
banks_cli = click.Group("banks", help="题库：检查与导入 YAML，Excel/GIFT 等格式的转换与导出。")
users_cli = click.Group("users", help="账号管理：创建、重置密码、设置角色。")
exams_cli = click.Group("exams", help="在线考试。")


@db_cli.command("upgrade", help="把数据库结构升级到最新版本（或指定的 REVISION）。")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations (default: up to the newest)."""
    upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo(f"数据库已升级到 {current_revision(db.engine)}")


@db_cli.command("current", help="显示数据库当前的版本和最新版本。")
def db_current() -> None:
    """Show the database's revision and the newest one."""
    click.echo(f"当前版本：{current_revision(db.engine) or '（空库）'}；最新版本：{head_revision()}")


def _fail_on_problems(error: BankLoadError) -> None:
    for problem in error.problems:
        click.echo(str(problem), err=True)
    click.echo(f"共 {len(error.problems)} 个错误，未做任何修改。", err=True)
    raise SystemExit(1)


def _stats_table(banks: list[Bank]) -> str:
    types = list(QUESTION_TYPES)
    header = ["题库", *[QUESTION_TYPES[name].label for name in types], "合计", "难度1-5"]
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    total: Counter[str] = Counter()
    levels_total: Counter[int] = Counter()
    for bank in banks:
        counts = Counter(question.type for question in bank.questions)
        levels = Counter(question.difficulty for question in bank.questions)
        total.update(counts)
        levels_total.update(levels)
        spread = "/".join(str(levels[level]) for level in range(1, 6))
        lines.append(" | ".join([bank.slug, *[str(counts[name]) for name in types], str(len(bank.questions)), spread]))
    all_count = sum(total.values())
    spread = "/".join(str(levels_total[level]) for level in range(1, 6))
    lines.append(" | ".join(["合计", *[str(total[name]) for name in types], str(all_count), spread]))
    if all_count:
        share = "，".join(f"{QUESTION_TYPES[name].label} {100 * total[name] / all_count:.0f}%" for name in types)
        lines.append(f"题型占比：{share}")
    return "\n".join(lines)


@banks_cli.command("check", help="检查题库文件；有错误时逐条列出（文件:行）并以状态码 1 退出。")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="每题必须有解析和出处（随附题库的要求）。")
@click.option("--stats", is_flag=True, help="输出按题型和难度统计的表格（Markdown）。")
def banks_check(paths: tuple[Path, ...], strict: bool, stats: bool) -> None:
    """Validate bank files; exit 1 and list every problem as file:line if any is wrong."""
    try:
        banks = check_banks(paths, strict=strict)
    except BankLoadError as error:
        _fail_on_problems(error)
        return
    if stats:
        click.echo(_stats_table(banks))
        return
    for bank in banks:
        counts = Counter(question.type for question in bank.questions)
        detail = "，".join(f"{QUESTION_TYPES[name].label}{counts[name]}" for name in QUESTION_TYPES if counts[name])
        click.echo(f"{bank.path}: {bank.slug} 共{len(bank.questions)}题（{detail}）")
    click.echo(f"检查通过：{len(banks)} 个题库，{sum(len(bank.questions) for bank in banks)} 题。")


@banks_cli.command("load", help="检查并导入题库到数据库：全部无误才写入。")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="每题必须有解析和出处。")
def banks_load(paths: tuple[Path, ...], strict: bool) -> None:
    """Validate and load banks into the database, all or nothing."""
    try:
        banks = check_banks(paths, strict=strict)
        total = sum(len(bank.questions) for bank in banks)
        with click.progressbar(length=total, label="导入题库") as bar:
            report = sync_banks(db.session(), banks, progress=bar.update)
    except BankLoadError as error:
        _fail_on_problems(error)
        return
    click.echo(
        f"新增 {report.created}，更新 {report.updated}，停用 {report.retired}，"
        f"恢复 {report.restored}，未变 {report.unchanged}"
    )


@banks_cli.command("owner", help="设置题库归属：--branch 支部名称（本支部自有），或 --shared（党委共享）。")
@click.argument("slug")
@click.option("--branch", "branch_name", help="归属的支部名称")
@click.option("--shared", is_flag=True, help="改为党委共享题库")
def banks_owner(slug: str, branch_name: str | None, shared: bool) -> None:
    """Set which branch owns a bank (kept in the database only: after rebuilding it from the files, set it again)."""
    if shared == (branch_name is not None):
        raise click.UsageError("请指定 --branch 支部名称 或 --shared 之一")
    try:
        bank = set_owner(db.session(), slug, None if shared else branch_name)
    except QuizError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"题库 {bank.slug}（{bank.title}）现为{branch_name + '自有' if branch_name else '党委共享'}题库")


@users_cli.command("create", help="创建账号（USERNAME 为登录用户名）。")
@click.argument("username")
@click.option("--name", required=True, help="姓名")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.MEMBER.value,
    help="角色：member 党员，organizer 支部组织员，admin 管理员，inspector 督导（--branch 为督导的支部）",
)
@click.option("--branch", "branch_name", help="所在支部名称（不存在则创建）")
@click.option("--phone", help="手机号（可用于登录）")
@click.option("--probationary", is_flag=True, help="预备党员")
@click.option("--password", help="初始密码；不填则生成一次性密码，首次登录须修改")
def users_create(
    username: str,
    name: str,
    role: str,
    branch_name: str | None,
    phone: str | None,
    probationary: bool,
    password: str | None,
) -> None:
    """Create an account."""
    try:
        user, generated = create_user(
            db.session(),
            username=username,
            name=name,
            role=Role(role),
            password=password,
            branch_name=branch_name,
            phone=phone,
            member_status=MemberStatus.PROBATIONARY if probationary else MemberStatus.FULL,
        )
    except AccountError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"已创建账号 {user.username}（{user.name}）")
    if generated:
        click.echo(f"一次性密码：{generated}（只显示这一次，首次登录须修改）")


@users_cli.command(
    "reset-password", help="重置密码：生成一次性密码（首次登录须修改），其他登录全部失效，清除登录限制。"
)
@click.argument("username")
def users_reset_password(username: str) -> None:
    """Reset a password: one-time password, every other login ends, the login limiter forgets the account."""
    try:
        user, password = reset_password(db.session(), username)
    except AccountError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"已重置 {user.username}（{user.name}）的密码，原有登录已全部失效")
    click.echo(f"一次性密码：{password}（只显示这一次，登录后须修改）")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role")
@click.option("--branch", "branch_name", help="所在支部名称（须已存在）；支部组织员和党员必填；督导为新增的督导支部")
@click.option("--title", type=click.Choice(ORGANIZER_TITLES), help="支部组织员的职务：支部书记或组织委员")
def users_set_role(username: str, role: str, branch_name: str | None, title: str | None) -> None:
    """设置角色：admin（党委管理员）、organizer（支部组织员）、member（党员）、inspector（督导）。"""
    try:
        user = set_role(db.session(), username, role, branch_name, title)
    except AccountError as error:
        raise click.ClickException(error.message) from None
    branches = [user.branch] if user.branch else user.inspected_branches
    branch = f"，支部：{'、'.join(item.name for item in branches)}" if branches else ""
    post = f"（{user.title}）" if user.title else ""
    click.echo(f"{user.username}（{user.name}）的角色已设为{ROLE_LABELS[Role(user.role)]}{post}{branch}")


@exams_cli.command("sweep", help="为已过截止时间（含宽限）的考试作答自动交卷（run.py 每 15 秒执行一次）。")
def exams_sweep() -> None:
    """Finalize every exam attempt whose deadline and grace have passed (run.py does this every 15 s)."""
    from quizengine.services.exam_grading import finalize_expired

    click.echo(f"已自动交卷 {finalize_expired(db.session())} 份试卷")


@click.command("setup", help="首次运行：升级数据库、导入 question_banks/ 题库、创建第一个管理员。")
def setup_command() -> None:
    """First-run setup: migrate, load question_banks/, create the first admin."""
    print_first_run(first_run(current_app.config))


def print_first_run(report: FirstRunReport) -> None:
    """Print what first run did (shared by `quizengine setup` and run.py)."""
    banks = report.banks
    if banks is not None:
        click.echo(f"题库：新增 {banks.created}，更新 {banks.updated}，停用 {banks.retired}，未变 {banks.unchanged}")
    password = report.admin_password
    if password:
        click.echo("=" * 60)
        click.echo(f"已创建管理员账号 admin，一次性密码：{password}")
        click.echo("（只显示这一次，首次登录后须修改密码）")
        click.echo("=" * 60)


def register_commands(app: Flask) -> None:
    """Attach the command groups to the app (so `flask --app quizengine` sees them too)."""
    from quizengine.cli_backup import backup_command, restore_command
    from quizengine.cli_banks_io import COMMANDS as BANK_FILE_COMMANDS
    from quizengine.cli_contests import contests_cli
    from quizengine.cli_demo import demo_command
    from quizengine.cli_plans import plans_cli
    from quizengine.cli_records import records_cli
    from quizengine.cli_reports import report_command

    for bank_command in BANK_FILE_COMMANDS:
        banks_cli.add_command(bank_command)
    for command in (
        db_cli,
        banks_cli,
        users_cli,
        exams_cli,
        contests_cli,
        plans_cli,
        records_cli,
        setup_command,
        backup_command,
        restore_command,
        demo_command,
        report_command,
    ):
        app.cli.add_command(command)
    install_click_chinese()  # `flask --app quizengine …` reaches these commands without ChineseFlaskGroup
    chinese_usage(app.cli)


def _create_app() -> Flask:
    from quizengine import create_app

    return create_app()


main = ChineseFlaskGroup(name="quizengine", create_app=_create_app, add_version_option=False, help="quizengine 命令行")
