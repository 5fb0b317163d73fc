"""Export → import gives the same questions for every shipped bank; the blank template; the CLI commands."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from flask.testing import FlaskCliRunner

from quizengine.banks.importing import (
    bank_from_loaded,
    bank_to_yaml,
    blank_template_xlsx,
    export_bank,
    import_bank,
)
from quizengine.banks.loader import Bank, bank_files, load_banks

from .bank_files import HEADER, load_result, xlsx_bytes

BANKS = Path(__file__).resolve().parent.parent / "question_banks"
SHIPPED = bank_files([BANKS])


def _same_bank(back: Bank, bank: Bank) -> None:
    assert (back.slug, back.title, back.source) == (bank.slug, bank.title, bank.source)
    assert back.categories == bank.categories
    assert back.questions == bank.questions  # every field of every question, in order


@pytest.mark.parametrize("path", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_every_shipped_bank_survives_xlsx_export_and_import(path: Path, tmp_path: Path) -> None:
    [bank] = load_banks([path], strict=True)
    workbook = export_bank(bank_from_loaded(bank), "xlsx")
    result = import_bank(workbook, f"{bank.slug}.xlsx")
    assert result.ok and not result.warnings, (result.problems, result.warnings)
    _same_bank(load_result(result, tmp_path), bank)


@pytest.mark.parametrize("path", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_every_shipped_bank_survives_yaml_export(path: Path, tmp_path: Path) -> None:
    [bank] = load_banks([path], strict=True)
    out = tmp_path / "again.yaml"
    out.write_bytes(export_bank(bank_from_loaded(bank), "yaml"))
    _same_bank(load_banks([out], strict=True)[0], bank)


def test_exported_cells_are_never_formulas() -> None:
    bank = {
        "bank": "x",
        "title": "=危险标题",
        "questions": [
            {"id": "x-1", "type": "single", "stem": "=1+1", "options": {"A": "@a", "B": "-b"}, "answer": "A"}
        ],
    }
    sheet = openpyxl.load_workbook(io.BytesIO(export_bank(bank, "xlsx")))["题目"]
    assert [cell.data_type for cell in sheet[2][:4]] == ["s", "s", "s", "s"]
    assert import_bank(export_bank(bank, "xlsx"), "x.xlsx").bank["questions"][0]["stem"] == "=1+1"


def test_blank_template_has_instructions_and_a_type_drop_down(tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(blank_template_xlsx()))
    assert workbook.sheetnames == ["题目", "章节", "题库信息", "填写说明"]
    sheet = workbook["题目"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["题型", "题干", "选项A"] and "答案" in header and sheet.max_row == 1
    [validation] = sheet.data_validations.dataValidation
    assert validation.formula1 == '"单选题,多选题,判断题,填空题,简答题"'
    assert "A2" in validation.sqref
    assert any("答案" in str(row[0].value) for row in workbook["填写说明"].iter_rows())
    # A secretary fills two rows into the template: they import.
    sheet.append(["单选题", "题一", "甲", "乙"] + [None] * 6 + ["A"])
    sheet.append(["判断题", "题二"] + [None] * 8 + ["√"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_bank(buffer.getvalue(), "我的题库.xlsx", slug="wode")
    assert result.ok and len(result.bank["questions"]) == 2
    assert load_result(result, tmp_path).slug == "wode"


def test_bank_to_yaml_reads_back_as_written(tmp_path: Path) -> None:
    rows = [HEADER, ["简答题", "第一行\n第二行", "", "", "", "", "参考：\n  缩进的行\n", ""]]
    result = import_bank(xlsx_bytes(*rows), "多行.xlsx", slug="ml", title="yes")
    text = bank_to_yaml(result.bank)
    assert "stem: |-\n    第一行\n    第二行" in text
    bank = load_result(result, tmp_path)
    assert bank.title == "yes" and bank.questions[0].answer == "参考：\n  缩进的行"


# --- CLI ---------------------------------------------------------------------------------------------------


def _workbook(tmp_path: Path, *rows: list[object]) -> Path:
    path = tmp_path / "支部题库.xlsx"
    path.write_bytes(xlsx_bytes(HEADER, *rows))
    return path


GOOD = ["单选题", "年满多少岁可以申请入党？", "十六岁", "十八岁", "", "", "B", ""]
BAD = ["单选题", "答案不在选项中", "甲", "乙", "", "", "E", ""]


def test_cli_import_writes_a_checked_bank(runner: FlaskCliRunner, tmp_path: Path) -> None:
    source = _workbook(tmp_path, GOOD)
    out = tmp_path / "zhibu.yaml"
    result = runner.invoke(args=["banks", "import", str(source), "--bank", "zhibu", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"已写入 {out}：题库 zhibu（支部题库）共 1 题（单选题1）" in result.output
    assert runner.invoke(args=["banks", "check", str(out)]).exit_code == 0


def test_cli_import_with_problems_writes_nothing(runner: FlaskCliRunner, tmp_path: Path) -> None:
    source = _workbook(tmp_path, GOOD, BAD)
    out = tmp_path / "zhibu.yaml"
    result = runner.invoke(args=["banks", "import", str(source), "-o", str(out)])
    assert result.exit_code == 1
    assert f"{source}:3: 答案 E 不在选项中（只有 A–B）" in result.output
    assert "共 1 个错误，未写入任何文件" in result.output
    assert not out.exists()
    dry = runner.invoke(args=["banks", "import", str(source), "-o", str(out), "--skip-bad", "--dry-run"])
    assert dry.exit_code == 0 and "检查完成（未写文件）" in dry.output and not out.exists()
    skipped = runner.invoke(args=["banks", "import", str(source), "-o", str(out), "--skip-bad"])
    assert skipped.exit_code == 0 and "跳过 1 道有问题的题目" in skipped.output
    assert len(load_banks([out])[0].questions) == 1
    again = runner.invoke(args=["banks", "import", str(source), "-o", str(out), "--skip-bad"])
    assert again.exit_code == 1 and "已存在，未覆盖" in again.output


def test_cli_import_refused_file(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    result = runner.invoke(args=["banks", "import", str(path)])
    assert result.exit_code == 1 and f"{path}: 不支持旧版 Excel 文件（.xls）" in result.output


def test_cli_export_and_template(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "dz.xlsx"
    result = runner.invoke(
        args=["banks", "export", "dangzhang-2022", "--format", "xlsx", "-o", str(out), "--from", str(BANKS)]
    )
    assert result.exit_code == 0, result.output
    assert "已导出" in result.output
    back = tmp_path / "dz.yaml"
    imported = runner.invoke(args=["banks", "import", str(out), "-o", str(back)])
    assert imported.exit_code == 0, imported.output
    assert load_banks([back])[0].questions == load_banks([BANKS / "dangzhang-2022.yaml"])[0].questions
    missing = runner.invoke(args=["banks", "export", "no-such-bank", "--format", "yaml", "-o", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "没有找到题库“no-such-bank”" in missing.output
    template = tmp_path / "模板.xlsx"
    assert runner.invoke(args=["banks", "template", "-o", str(template)]).exit_code == 0
    assert openpyxl.load_workbook(template).sheetnames[0] == "题目"


def test_cli_format_and_title_options_and_a_gift_export(runner: FlaskCliRunner, tmp_path: Path) -> None:
    pasted = tmp_path / "粘贴.csv"  # named .csv, but the text of a Word document: --format says which
    pasted.write_text("1. 党的最高领导机关是（  ）。\nA. 全国代表大会\nB. 中央委员会\n答案：A\n", encoding="utf-8")
    out = tmp_path / "paste.yaml"
    as_csv = runner.invoke(args=["banks", "import", str(pasted), "-o", str(out)])
    assert as_csv.exit_code == 1 and not out.exists()
    as_text = ["banks", "import", str(pasted), "--format", "text", "--bank", "paste", "--title", "支部题库"]
    result = runner.invoke(args=[*as_text, "-o", str(out)])
    assert result.exit_code == 0, result.output
    [bank] = load_banks([out])
    assert (bank.slug, bank.title, bank.questions[0].answer) == ("paste", "支部题库", "A")

    gift = tmp_path / "dz.gift"
    exported = ["banks", "export", "dangzhang-2022", "--format", "gift", "-o", str(gift), "--from", str(BANKS)]
    assert runner.invoke(args=exported).exit_code == 0
    back = tmp_path / "dz-gift.yaml"
    imported = runner.invoke(args=["banks", "import", str(gift), "--format", "gift", "--bank", "dz", "-o", str(back)])
    assert imported.exit_code == 0, imported.output
    assert len(load_banks([back])[0].questions) > 100
    bad = runner.invoke(args=["banks", "import", str(gift), "--format", "docx"])
    assert bad.exit_code == 2 and "取值无效" in bad.output and "moodlexml" in bad.output  # in Chinese, with the choices
