"""Reports of the oversight pages: Excel workbooks of the branch dashboard and of the committee overview, and the
monthly routine that writes them all to a folder (`quizengine report`).

Every workbook is built from what the pages show (`dashboard.branch_dashboard`, `overview.committee_overview`,
with their access rules), so a report says what the page says and its cost grows with members and periods,
not with answers. Cells go through `services.spreadsheet` (text stays text). The printable A4 reports are the
pages' print views (templates/dashboard/print_*.html).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.errors import QuizError
from quizengine.engine.learning import PointsPolicy
from quizengine.engine.periods import Period
from quizengine.engine.standard import STATUS_LABELS, Status
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import MemberStatus, PartyGroup, Role, User

from .dashboard import BANDS, Dashboard, TrendPoint, branch_dashboard
from .overview import BranchFigures, Overview, committee_overview
from .spreadsheet import safe_file_name, workbook_bytes
from .standards import Standing, current_period, standard_for_branch

#: Sheet header of the overview's branch table (the Excel export and the page show the same columns).
OVERVIEW_HEADER = [
    "支部",
    "考核周期",
    "参加考核人数",
    "达标",
    "未达标",
    "未开始",
    "参学率（%）",
    "达标率（%）",
    "考试平均得分率（%）",
    "达标率较上期（百分点）",
    "落后原因",
]


class ReportError(QuizError):
    """The reports cannot be written (the folder cannot be written); the message says why, in Chinese."""

    code = "report_error"


def percent(value: float | None) -> float | None:
    """A share as a percentage with one decimal (None stays None: nobody evaluated)."""
    return None if value is None else round(100 * value, 1)


def _trend_rows(trend: list[TrendPoint]) -> Iterator[list[object]]:
    for point in trend:
        yield [point.period.label, percent(point.participation), percent(point.met)]


def rule_labels(standings: list[Standing]) -> list[str]:
    """The rules evaluated for anyone in the list, in order (a rule may bind only 正式 or only 预备党员)."""
    labels: list[str] = []
    for row in standings:
        for rule in row.evaluation.rules:
            if rule.label not in labels:
                labels.append(rule.label)
    return labels


def branch_workbook(session: Session, board: Dashboard) -> bytes:
    """The branch dashboard as Excel: member × rule (status and progress), summary, exams and trend."""
    labels = rule_labels(board.standings)
    groups = dict(
        session.execute(select(PartyGroup.id, PartyGroup.name).where(PartyGroup.branch_id == board.branch.id)).all()
    )

    def member_row(row: Standing) -> list[object]:
        evaluation, member = row.evaluation, row.member
        rules = {rule.label: rule for rule in evaluation.rules}
        cells = [
            f"{'达到' if rules[label].met else '未达到'}：{rules[label].progress}" if label in rules else "不适用"
            for label in labels
        ]
        category = "预备党员" if member.member_status == MemberStatus.PROBATIONARY else "正式党员"
        group = groups.get(member.party_group_id, "")
        return [member.name, group, category, evaluation.label, *cells, evaluation.reason]

    summary: list[list[object]] = [
        ["支部", board.branch.name],
        ["考核周期", board.period.label],
        ["参加考核人数", board.evaluated],
        *([STATUS_LABELS[s], board.count(s)] for s in (Status.MET, Status.NOT_MET, Status.NOT_STARTED, Status.EXEMPT)),
        ["参学率（%）", percent(board.participation)],
        ["达标率（%）", percent(board.met_rate)],
    ]
    exams = [[s.exam.title, s.submitted, s.audience, s.average, *(n for _, n in s.bands)] for s in board.exams]
    return workbook_bytes(
        [
            ("考核情况", ["姓名", "党小组", "类别", "状态", *labels, "情况"], (member_row(r) for r in board.standings)),
            ("概况", ["项目", "数值"], summary),
            ("考试", ["考试", "已交卷人数", "应考人数", "平均得分率（%）", *(b[2] for b in BANDS)], exams),
            ("近期趋势", ["周期", "参学率（%）", "达标率（%）"], _trend_rows(board.trend)),
        ]
    )


def overview_row(row: BranchFigures) -> list[object]:
    """One branch (or the total) as a row of `OVERVIEW_HEADER`."""
    return [
        row.name,
        row.period.label,
        row.evaluated,
        row.count(Status.MET),
        row.count(Status.NOT_MET),
        row.count(Status.NOT_STARTED),
        percent(row.participation),
        percent(row.met_rate),
        row.exam_average,
        percent(row.change),
        "；".join(row.lagging),
    ]


def overview_workbook(board: Overview) -> bytes:
    """The committee overview as Excel: the branches side by side with the total, and the trend per branch."""
    rows = [overview_row(row) for row in board.branches]
    if board.total:
        rows.append(overview_row(board.total))
    trend_header = ["周期", "参学率（%）", "达标率（%）", *(f"{row.name}达标率（%）" for row in board.branches)]
    trend = [
        [point.period.label, percent(point.participation), percent(point.met)]
        + [percent(row.trend[index].met) if index < len(row.trend) else None for row in board.branches]
        for index, point in enumerate(board.trend)
    ]
    return workbook_bytes([("各支部对比", OVERVIEW_HEADER, rows), ("近期趋势", trend_header, trend)])


def branch_file_name(name: str, period: Period) -> str:
    """ "第一党支部-学习考核-2026年12月.xlsx"."""
    return f"{safe_file_name(name, '支部')}-学习考核-{period.label}.xlsx"


def overview_file_name(period: Period) -> str:
    """ "党委-各支部学习考核对比-2026年12月.xlsx"."""
    return f"党委-各支部学习考核对比-{period.label}.xlsx"


def default_period(session: Session, clock: Clock | None = None) -> Period:
    """The period holding today (Asia/Shanghai) of the committee standard's kind: the current month by default."""
    return current_period(standard_for_branch(session, None), clock)


def write_reports(
    session: Session,
    period: Period,
    out: Path,
    *,
    clock: Clock | None = None,
    policy: PointsPolicy | None = None,
) -> list[Path]:
    """Write the committee's workbook and one per branch into `out` (created if missing), as the committee.

    Every workbook is built in memory and the folder checked before anything is written; each file is written
    under a temporary name and renamed, so a reader never sees half a workbook."""
    clock = clock or SystemClock()
    committee = User(role=Role.ADMIN, name="党委")  # the command line acts as the committee; never stored
    board = committee_overview(session, committee, period, clock=clock, policy=policy)
    files = {overview_file_name(period): overview_workbook(board)}
    for row in board.branches:
        assert row.branch is not None
        dashboard = branch_dashboard(session, committee, row.branch.id, row.period, clock=clock, policy=policy)
        files[branch_file_name(row.branch.name, period)] = branch_workbook(session, dashboard)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out):
            pass
    except OSError as error:
        raise ReportError(f"无法写入目录 {out}：{_os_reason(error)}") from error
    written = []
    for name, data in files.items():
        target = out / name
        partial = target.with_name(f".{name}.part")
        try:
            partial.write_bytes(data)
            os.replace(partial, target)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise ReportError(f"无法写入文件 {target}：{_os_reason(error)}") from error
        written.append(target)
    return written


def _os_reason(error: OSError) -> str:
    if isinstance(error, PermissionError):
        return "没有写入权限"
    if isinstance(error, FileExistsError | NotADirectoryError):
        return "同名的文件已存在，不是目录"
    return error.strerror or "写入失败"
