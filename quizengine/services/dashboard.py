"""The branch dashboard (支部学习看板): every member's standing this period, rates, exams, trend, weak chapters.

Built on services.standards (the 验收标准 evaluation) and the `member_days` summaries, so its cost grows with
members and periods, not with answers. Access: the branch's organizer, an admin, or an inspector assigned to
it (read-only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.learning import PointsPolicy
from quizengine.engine.periods import Period, recent_periods
from quizengine.engine.standard import Status, met_rate, participation_rate
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import Attempt, AttemptStatus, Bank, BankCategory, Branch, Exam, ExamBranch, MemberDay, User

from .access import can_read_branch, require
from .standard_facts import period_bounds
from .standards import (
    Standing,
    branch_standings,
    closed_outcomes,
    current_period,
    standard_for_branch,
)
from .summaries import local_day

#: Score bands of the distribution, as a share of the paper's total (the last band includes 100 %).
BANDS = ((0, 60, "60%以下"), (60, 70, "60–69%"), (70, 80, "70–79%"), (80, 90, "80–89%"), (90, 101, "90%以上"))
#: A chapter needs this many answers in the window before the dashboard calls it weak.
MIN_CHAPTER_ANSWERS = 20


@dataclass(frozen=True)
class ExamSummary:
    """One exam of the period for this branch: how many of the branch's members submitted, average, bands."""

    exam: Exam
    submitted: int
    audience: int
    average: float | None
    bands: list[tuple[str, int]]


@dataclass(frozen=True)
class ChapterAccuracy:
    """A chapter's accuracy over the branch's answers in the window, with its sample size."""

    bank_id: int
    key: str
    title: str
    answered: int
    correct: int

    @property
    def accuracy(self) -> float:
        """Share of correct answers."""
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class TrendPoint:
    """One past period: participation and 达标率 (None when nobody was evaluated)."""

    period: Period
    participation: float | None
    met: float | None


@dataclass(frozen=True)
class Dashboard:
    """Everything the branch dashboard shows."""

    branch: Branch
    period: Period
    standings: list[Standing]
    exams: list[ExamSummary]
    chapters: list[ChapterAccuracy]
    trend: list[TrendPoint] = field(default_factory=list)

    def count(self, status: Status) -> int:
        """Members with this status."""
        return sum(1 for row in self.standings if row.evaluation.status is status)

    @property
    def evaluated(self) -> int:
        """Members held to the standard this period (not exempt)."""
        return sum(1 for row in self.standings if row.evaluation.status is not Status.EXEMPT)

    @property
    def participation(self) -> float | None:
        """Share of evaluated members who studied at all this period."""
        return participation_rate(row.evaluation for row in self.standings)

    @property
    def met_rate(self) -> float | None:
        """达标率 of this period so far."""
        return met_rate(row.evaluation for row in self.standings)

    @property
    def lagging(self) -> list[Standing]:
        """Members not yet meeting the standard (未开始 first, then 未达标), for the reminder."""
        rows = [row for row in self.standings if row.evaluation.status in (Status.NOT_STARTED, Status.NOT_MET)]
        return sorted(rows, key=lambda row: row.evaluation.status is not Status.NOT_STARTED)


def branch_dashboard(
    session: Session,
    viewer: User,
    branch_id: int,
    period: Period | None = None,
    *,
    clock: Clock | None = None,
    policy: PointsPolicy | None = None,
    trend_periods: int = 12,
) -> Dashboard:
    """The dashboard of one branch for `period` (default: the current one), with the trend of the periods before."""
    require(can_read_branch(viewer, branch_id), "只能查看本支部的学习看板")
    branch = session.get(Branch, branch_id)
    require(branch is not None, "没有找到该支部")
    assert branch is not None
    clock = clock or SystemClock()
    standard = standard_for_branch(session, branch_id)
    period = period or current_period(standard, clock)
    standings = branch_standings(session, viewer, branch_id, period, clock=clock, policy=policy)
    members = [row.member for row in standings]
    periods = recent_periods(period.kind, period.start, trend_periods)
    # Closed periods whose results are all stored cost one query for the whole trend (status and "studied"
    # only); the others are evaluated, which stores them for next time.
    today = local_day(clock.now())
    stored = closed_outcomes(session, [m.id for m in members], [p for p in periods if p.is_closed(today)])
    trend = []
    for past in periods:
        if past == period:
            evaluations = [row.evaluation for row in standings]
        elif len(stored.get(past.key, {})) == len(members):
            evaluations = list(stored[past.key].values())
        else:
            evaluations = [row.evaluation for row in branch_standings(session, viewer, branch_id, past, clock=clock)]
        trend.append(TrendPoint(past, participation_rate(evaluations), met_rate(evaluations)))
    return Dashboard(
        branch,
        period,
        standings,
        _exams(session, branch_id, period, members),
        weakest_chapters(session, [m.id for m in members], period),
        trend,
    )


def _exams(session: Session, branch_id: int, period: Period, members: list[User]) -> list[ExamSummary]:
    start, end = period_bounds(period)
    exams = session.scalars(
        select(Exam)
        .join(ExamBranch, ExamBranch.exam_id == Exam.id)
        .where(ExamBranch.branch_id == branch_id, Exam.status == "published", Exam.closes_at >= start)
        .where(Exam.closes_at < end)
        .order_by(Exam.closes_at)
    ).all()
    audience = [m for m in members if m.active]
    ids = [m.id for m in audience]
    result = []
    for exam in exams:
        best: dict[int, float] = {}
        for user_id, score, max_score in session.execute(
            select(Attempt.user_id, Attempt.score, Attempt.max_score).where(
                Attempt.exam_id == exam.id, Attempt.user_id.in_(ids), Attempt.status == AttemptStatus.FINISHED
            )
        ):
            share = 100 * score / max_score if max_score else 0.0
            best[user_id] = max(best.get(user_id, 0.0), share)
        bands = [(label, sum(1 for v in best.values() if low <= v < high)) for low, high, label in BANDS]
        average = round(sum(best.values()) / len(best), 1) if best else None
        result.append(ExamSummary(exam, len(best), len(audience), average, bands))
    return result


def weakest_chapters(
    session: Session, member_ids: list[int], period: Period, *, limit: int = 5, minimum: int = MIN_CHAPTER_ANSWERS
) -> list[ChapterAccuracy]:
    """The chapters the members answer worst in the period (self-test answers, at least `minimum` of them)."""
    rows = session.execute(
        select(
            MemberDay.bank_id,
            MemberDay.category,
            func.sum(MemberDay.answered),
            func.sum(MemberDay.correct),
        )
        .where(
            MemberDay.user_id.in_(member_ids),
            MemberDay.exam_id == 0,
            MemberDay.bank_id != 0,
            MemberDay.day >= period.start,
            MemberDay.day < period.end,
        )
        .group_by(MemberDay.bank_id, MemberDay.category)
    ).all()
    titles = {
        (bank_id, key): f"{bank_title} · {title}"
        for bank_id, key, title, bank_title in session.execute(
            select(BankCategory.bank_id, BankCategory.key, BankCategory.title, Bank.title).join(
                Bank, Bank.id == BankCategory.bank_id
            )
        )
    }
    chapters = [
        ChapterAccuracy(bank_id, key, titles.get((bank_id, key), "未分章节"), int(answered), int(correct))
        for bank_id, key, answered, correct in rows
        if answered >= minimum
    ]
    return sorted(chapters, key=lambda chapter: (chapter.accuracy, -chapter.answered))[:limit]


def reminder_text(dashboard: Dashboard, link: str, extra: Sequence[str] = ()) -> str:
    """A message for the branch's chat group: who has not met the standard yet, what is missing, the
    unfinished 支部布置的练习 (`extra`, from services.assignments.reminder_lines), where to go."""
    lagging = dashboard.lagging
    if not lagging and not extra:
        return ""
    lines = [f"【{dashboard.branch.name}学习提醒】"]
    if lagging:
        lines[0] += f"{dashboard.period.label}的学习要求还有以下同志未完成："
        lines.extend(f"· {row.member.name}：{row.evaluation.reason or row.evaluation.label}" for row in lagging)
    else:
        lines[0] += "以下支部布置的练习还有同志未完成："
    lines.extend(extra)
    lines.append(f"请抓紧登录完成学习：{link}")
    return "\n".join(lines)
