"""Command line for study plans: `quizengine plans check [PATH…]` (registered by cli.py)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from quizengine.banks.loader import BankLoadError
from quizengine.banks.study_plan import PLANS_DIR, LoadedStudyPlan, check_study_plans
from quizengine.config import PROJECT_ROOT
from quizengine.services.banks import check_banks

plans_cli = click.Group("plans", help="学习计划：检查 YAML 计划。")


def _banks_dir() -> Path:
    """The configured banks folder (question_banks/ by default)."""
    return Path(current_app.config["BANKS_PATH"]) if current_app else PROJECT_ROOT / "question_banks"


def _summary(loaded: LoadedStudyPlan) -> str:
    plan = loaded.plan
    return (
        f"{loaded.path}: {plan.title}（{plan.start} 起，{len(plan.topics)} 个专题，至 {plan.topics[-1].last_day}；"
        f"学习日{plan.study_day.label()}）"
    )


@plans_cli.command("check", help="检查学习计划并核对题库；有错误时逐条列出（文件:行）并以状态码 1 退出。")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--banks",
    "banks_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="题库目录（默认：配置的题库目录，即 question_banks/）；不写 PATH 时检查其中的 plans/。",
)
def plans_check(paths: tuple[Path, ...], banks_path: Path | None) -> None:
    """Validate study plans and check them against the banks; exit 1 listing every problem as file:line."""
    banks_dir = banks_path or _banks_dir()
    try:
        banks = check_banks([banks_dir])
    except BankLoadError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo(f"题库有 {len(error.problems)} 个错误，无法检查学习计划。", err=True)
        raise SystemExit(1) from None
    plans, problems = check_study_plans(list(paths) or [banks_dir / PLANS_DIR], banks)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo(f"共 {len(problems)} 个问题。", err=True)
        raise SystemExit(1)
    for loaded in plans:
        click.echo(_summary(loaded))
    click.echo(f"检查通过：{len(plans)} 个学习计划（对照 {len(banks)} 个题库）。")
