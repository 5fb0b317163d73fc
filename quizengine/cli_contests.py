"""Command line for contest plans: `quizengine contests check [PATH…]` (registered by cli.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from flask import current_app

from quizengine.banks.contest_plan import CONTESTS_DIR, LoadedPlan, check_plans
from quizengine.banks.loader import BankLoadError
from quizengine.config import PROJECT_ROOT
from quizengine.modes.contest import round_type
from quizengine.services.banks import check_banks

contests_cli = click.Group("contests", help="知识竞赛方案：检查 YAML 模板。")


def _banks_dir() -> Path:
    """The configured banks folder (question_banks/ by default)."""
    if current_app:
        return Path(current_app.config["BANKS_PATH"])
    return PROJECT_ROOT / "question_banks"


def _summary(loaded: LoadedPlan) -> str:
    plan = loaded.plan
    counts: Counter[str] = Counter()
    for spec in plan.rounds:
        counts[round_type(spec.kind).label] += spec.source.count
    rounds = "、".join(f"{label}{count}题" for label, count in counts.items())
    teams = f"{len(plan.teams)}队，" if plan.teams else ""
    tie_questions = plan.tie_break_questions
    tie_break = f"；加赛备题{tie_questions.count}题" if tie_questions is not None else ""
    return f"{loaded.path}: {plan.title}（{teams}{len(plan.rounds)}轮：{rounds}{tie_break}）"


@contests_cli.command("check", help="检查竞赛方案并核对题库；有错误时逐条列出（文件:行）并以状态码 1 退出。")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--banks",
    "banks_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="题库目录（默认：配置的题库目录，即 question_banks/）；不写 PATH 时检查其中的 contests/。",
)
def contests_check(paths: tuple[Path, ...], banks_path: Path | None) -> None:
    """Validate contest plans and check them against the banks; exit 1 listing every problem as file:line."""
    banks_dir = banks_path or _banks_dir()
    targets = list(paths) or [banks_dir / CONTESTS_DIR]
    try:
        banks = check_banks([banks_dir])
    except BankLoadError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo(f"题库有 {len(error.problems)} 个错误，无法检查竞赛方案。", err=True)
        raise SystemExit(1) from None
    plans, problems = check_plans(targets, banks)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo(f"共 {len(problems)} 个问题。", err=True)
        raise SystemExit(1)
    for loaded in plans:
        click.echo(_summary(loaded))
    click.echo(f"检查通过：{len(plans)} 个竞赛方案（对照 {len(banks)} 个题库）。")
