"""Reports: the branch and overview workbooks (cells checked), the download routes, and `quizengine report`."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from quizengine.engine.periods import Period
from quizengine.engine.timing import FakeClock
from quizengine.services import dashboard, overview, reports

from .conftest import login
from .test_overview import NOW, committee  # noqa: F401 - the fixture
from .test_standards_service import branch  # noqa: F401 - the fixture


def _sheets(data: bytes) -> dict[str, list[list[object]]]:
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def test_the_branch_workbook_has_member_by_rule_with_status_and_progress(session: Session, committee) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    organizer, *_ = committee
    board = dashboard.branch_dashboard(session, organizer, organizer.branch_id, clock=FakeClock(NOW))
    sheets = _sheets(reports.branch_workbook(session, board))
    assert list(sheets) == ["考核情况", "概况", "考试", "近期趋势"]
    header, *rows = sheets["考核情况"]
    assert header == ["姓名", "党小组", "类别", "状态", "自测", "考试", "情况"]
    by_name = {row[0]: row for row in rows}
    assert by_name["甲"][2:6] == ["正式党员", "未达标", "达到：自测 4/4 次", "未达到：11月月度测试 0 分（及格 10）"]
    assert by_name["乙"][2:4] == ["预备党员", "未开始"] and by_name["乙"][4] == "未达到：自测 0/4 次"
    assert dict((row[0], row[1]) for row in sheets["概况"][1:])["达标率（%）"] == 0
    [exam] = sheets["考试"][1:]
    assert exam[1:4] == [1, 3, 0] and exam[4] == 1  # one submitted, in the lowest band
    assert len(sheets["近期趋势"]) == 13 and sheets["近期趋势"][-1][0] == "2026年12月"


def test_the_overview_workbook_has_every_branch_and_the_total(session: Session, committee) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    *_, admin, _inspector = committee
    board = overview.committee_overview(session, admin, clock=FakeClock(NOW))
    sheets = _sheets(reports.overview_workbook(board))
    header, first, second, total = sheets["各支部对比"]
    assert header == reports.OVERVIEW_HEADER
    assert first[:9] == ["第一党支部", "2026年12月", 3, 0, 1, 2, 33.3, 0, 0]
    assert first[10].startswith("参学率 33.3%")
    assert second[:8] == ["第二党支部", "2026年12月", 2, 2, 0, 0, 100, 100] and second[10] is None
    assert total[:8] == ["合计", "2026年12月", 5, 2, 1, 2, 60, 40]
    trend_header, *trend = sheets["近期趋势"]
    assert trend_header[3:] == ["第一党支部达标率（%）", "第二党支部达标率（%）"]
    assert trend[-1] == ["2026年12月", 60, 40, 0, 100]


def test_the_downloads_by_role_with_chinese_file_names(client: FlaskClient, session: Session, committee) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    organizer, _busy, second, _admin, _inspector = committee
    login(client, "org")
    response = client.get(f"/dashboard/branch/{organizer.branch_id}/report.xlsx?period=2026-12")
    disposition = unquote(response.headers["Content-Disposition"])
    assert response.status_code == 200 and "filename*=UTF-8''第一党支部-学习考核-2026年12月.xlsx" in disposition
    assert "考核情况" in _sheets(response.data)
    assert client.get(f"/dashboard/branch/{second[0].branch_id}/report.xlsx").status_code == 404
    assert client.get("/dashboard/overview/report.xlsx").status_code == 404
    bad = client.get(f"/dashboard/branch/{organizer.branch_id}/report.xlsx?period=2026-13")
    assert bad.status_code == 400 and "无法识别的考核周期" in bad.get_data(as_text=True)
    client.post("/logout")
    login(client, "ducha")
    response = client.get("/dashboard/overview/report.xlsx?period=2026-12")
    assert "党委-各支部学习考核对比-2026年12月.xlsx" in unquote(response.headers["Content-Disposition"])
    rows = _sheets(response.data)["各支部对比"]
    assert [row[0] for row in rows[1:]] == ["第二党支部", "合计"]  # the inspector's branches only
    page = client.get("/dashboard/overview/print?period=2026-12").get_data(as_text=True)
    assert "党委学习考核报告" in page and "第一党支部" not in page
    assert client.get(f"/dashboard/branch/{second[0].branch_id}/print").status_code == 200
    assert client.get(f"/dashboard/branch/{organizer.branch_id}/print").status_code == 404


def test_the_report_command_writes_one_workbook_per_branch_and_the_committee(
    app: Flask,
    runner: FlaskCliRunner,
    committee,  # noqa: F811
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    out = tmp_path / "月报"
    result = runner.invoke(args=["report", "--period", "2026-12", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == [
        "党委-各支部学习考核对比-2026年12月.xlsx",
        "第一党支部-学习考核-2026年12月.xlsx",
        "第二党支部-学习考核-2026年12月.xlsx",
    ]
    assert "已写入 3 个文件" in result.output
    rows = _sheets((out / "第二党支部-学习考核-2026年12月.xlsx").read_bytes())["考核情况"]
    assert [row[0] for row in rows[1:]] == ["丁", "丙"]  # by name, as the dashboard


def test_the_report_command_refuses_a_bad_period_or_folder_and_writes_nothing(
    runner: FlaskCliRunner,
    committee,  # noqa: F811
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(args=["report", "--period", "2026-13", "--out", str(out)])
    assert result.exit_code == 1 and "无法识别的考核周期：2026-13" in result.output and not out.exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(args=["report", "--out", str(blocker / "sub")])
    assert result.exit_code == 1 and "无法写入目录" in result.output
    assert "Error" not in result.output and "Traceback" not in result.output


def test_the_default_period_is_the_committee_standard_s_current_one(session: Session) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 00:30 on 1 December in Shanghai
    assert reports.default_period(session, clock) == Period.parse("2026-12")
