"""`quizengine banks import/export/template`: question banks to and from Excel, CSV, Word text, GIFT, Aiken, XML.

The conversion itself is `quizengine.banks.importing`; these commands read and write files and print every
problem as `FILE:ROW: 原因`. An imported bank is written only when it has no problem (or with --skip-bad),
and only after the YAML has passed the same check as `banks check`.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from quizengine.banks.importing import (
    EXPORT_FORMATS,
    FORMATS,
    ImportRefused,
    ImportResult,
    bank_from_loaded,
    bank_to_yaml,
    blank_template_xlsx,
    export_bank,
    import_bank,
)
from quizengine.banks.importing.common import MAX_FILE_BYTES, TYPE_LABELS
from quizengine.banks.loader import Bank, BankLoadError, bank_files, load_banks
from quizengine.banks.safe_yaml import MAX_FILE_BYTES as MAX_BANK_BYTES


def _summary(bank: dict) -> str:  # type: ignore[type-arg]
    counts = Counter(question["type"] for question in bank["questions"])
    detail = "，".join(f"{label}{counts[name]}" for name, label in TYPE_LABELS.items() if counts[name])
    return f"题库 {bank['bank']}（{bank['title']}）共 {len(bank['questions'])} 题（{detail}）"


def _print_result(result: ImportResult) -> None:
    for warning in result.warnings:
        click.echo(f"{warning.location}: 提示：{warning.message}", err=True)
    for problem in result.problems:
        click.echo(str(problem), err=True)


def _write_checked(text: str, out: Path) -> None:
    """Write the YAML next to `out`, check it as `banks check` does, then move it into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".yaml", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        load_banks([temporary])
        os.replace(temporary, out)
    finally:
        Path(temporary).unlink(missing_ok=True)


@click.command("import", help="把 Excel/CSV/Word 文本/GIFT/Aiken/Moodle XML 题库转换为 YAML 题库文件。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", *FORMATS]), default="auto", help="文件格式，默认自动识别。")
@click.option("--bank", "slug", help="题库标识（小写字母、数字和连字符），默认取自文件名。")
@click.option("--title", help="题库名称，默认取自文件名。")
@click.option(
    "-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="输出文件，默认 <题库标识>.yaml。"
)
@click.option("--skip-bad", is_flag=True, help="跳过有问题的题目，只写入无误的题目（逐条列出跳过的题目和原因）。")
@click.option("--dry-run", is_flag=True, help="只检查并报告，不写文件。")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖。")
def banks_import(
    file: Path,
    fmt: str,
    slug: str | None,
    title: str | None,
    out: Path | None,
    skip_bad: bool,
    dry_run: bool,
    force: bool,
) -> None:
    """Convert a file into a YAML v1 bank; exit 0 when it was written (or would be, with --dry-run)."""
    if file.stat().st_size > MAX_FILE_BYTES:
        raise click.ClickException(f"{file}: 文件过大（上限 {MAX_FILE_BYTES // (1024 * 1024)} MB）")
    try:
        result = import_bank(file.read_bytes(), str(file), fmt=fmt, slug=slug, title=title)
    except ImportRefused as error:
        click.echo(f"{file}: {error}", err=True)
        raise SystemExit(1) from None
    _print_result(result)
    bank = result.bank
    if result.problems and not skip_bad:
        click.echo(
            f"共 {len(result.problems)} 个错误，未写入任何文件（改正后重试，或加 --skip-bad 只写入无误的题目）。",
            err=True,
        )
        raise SystemExit(1)
    if not bank["questions"]:
        click.echo("没有可以导入的题目，未写入任何文件。", err=True)
        raise SystemExit(1)
    skipped = f"；跳过 {len(result.problems)} 道有问题的题目（见上）" if result.problems else ""
    target = out or Path(f"{bank['bank']}.yaml")
    if dry_run:
        click.echo(f"检查完成（未写文件）：{_summary(bank)}{skipped}")
        return
    if target.exists() and not force:
        click.echo(f"{target} 已存在，未覆盖（加 --force 覆盖，或用 -o 指定其他文件）。", err=True)
        raise SystemExit(1)
    text = bank_to_yaml(bank)
    if len(text.encode("utf-8")) > MAX_BANK_BYTES:
        click.echo(
            f"转换结果超过题库文件 {MAX_BANK_BYTES // (1024 * 1024)} MB 的上限，请把题目分成几个文件导入。", err=True
        )
        raise SystemExit(1)
    try:
        _write_checked(text, target)
    except BankLoadError as error:  # a bug in the converter: say so rather than write a bad bank
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo("转换结果未通过题库检查，未写入任何文件（请报告此问题）。", err=True)
        raise SystemExit(1) from None
    click.echo(f"已写入 {target}：{_summary(bank)}{skipped}")


def _find_bank(slug: str, folder: Path) -> Bank:
    """The bank `slug` among the YAML files of `folder` (a broken other file does not stop the export)."""
    for path in bank_files([folder]):
        try:
            banks = load_banks([path])
        except BankLoadError:
            continue
        if banks[0].slug == slug:
            return banks[0]
    raise click.ClickException(f"在 {folder} 中没有找到题库“{slug}”（先用 quizengine banks check 检查题库文件）")


@click.command("export", help="把题库导出为 Excel（即导入模板）、YAML 或 GIFT 文件。")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True, help="导出格式。")
@click.option(
    "-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="输出文件。"
)
@click.option(
    "--from",
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="题库目录，默认 question_banks/。",
)
@with_appcontext
def banks_export(slug: str, fmt: str, out: Path, folder: Path | None) -> None:
    """Export a bank of the bank folder; the .xlsx is the import template, so it imports back unchanged."""
    bank = _find_bank(slug, folder or Path(current_app.config["BANKS_PATH"]))
    out.write_bytes(export_bank(bank_from_loaded(bank), fmt))
    click.echo(f"已导出 {out}：题库 {bank.slug}（{bank.title}）共 {len(bank.questions)} 题")


@click.command("template", help="生成空白的 Excel 导入模板（含填写说明和题型下拉列表）。")
@click.option(
    "-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("题库导入模板.xlsx"),
    show_default=True, help="输出文件。",
)  # fmt: skip
def banks_template(out: Path) -> None:
    """Write the blank import template."""
    out.write_bytes(blank_template_xlsx())
    click.echo(f"已生成导入模板 {out}")


COMMANDS = (banks_import, banks_export, banks_template)
