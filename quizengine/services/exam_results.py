"""What an organizer sees after (or during) an exam: who is missing, scores, ranking, item analysis, export."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.analysis import ItemStatistics, histogram, item_statistics
from quizengine.engine.scoring import RankEntry, rank
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import Attempt, AttemptStatus, Branch, Exam, User, VoidedQuestion
from quizengine.modes.timed_exam import STATUS_LABELS, MemberStatus, passed

from .access import member_read_clause, require
from .exam_access import can_read_exam, get_exam
from .exam_grading import finalize_expired
from .exam_papers import RANDOM, UNIFORM
from .spreadsheet import safe_file_name, workbook_bytes


@dataclass(frozen=True)
class MemberRow:
    """One member of the audience and their standing in the exam."""

    member: User
    status: MemberStatus
    attempt: Attempt | None  # the best finished attempt, else the open one
    place: int | None
    passed: bool | None

    @property
    def status_label(self) -> str:
        """未参加 / 答题中 / 已交卷."""
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class ItemRow:
    """One question of the exam with its statistics."""

    question_id: int
    external_id: str
    stem: str
    points: float
    stats: ItemStatistics
    voided: str | None


@dataclass(frozen=True)
class ExamOverview:
    """Everything on the organizer's exam dashboard."""

    exam: Exam
    members: list[MemberRow]
    distribution: list[tuple[float, float, int]]
    items: list[ItemRow]
    pending_grading: int
    #: How places are decided, as the page and the export say it.
    ranking_rule: str = ""

    def count(self, status: MemberStatus) -> int:
        """How many members are in `status` (a MemberStatus or its value, as the template passes it)."""
        return sum(1 for row in self.members if row.status == status)

    @property
    def average(self) -> float | None:
        """Mean score over submitted members."""
        scores = [row.attempt.score for row in self.members if row.status is MemberStatus.SUBMITTED and row.attempt]
        return sum(scores) / len(scores) if scores else None

    @property
    def pass_rate(self) -> float | None:
        """Share of submitted members who passed."""
        done = [row for row in self.members if row.status is MemberStatus.SUBMITTED]
        return sum(1 for row in done if row.passed) / len(done) if done else None


def _audience(session: Session, exam: Exam, viewer: User) -> list[User]:
    """The exam's audience that `viewer` may act on (their own branch; admin: all), by branch and name."""
    branch_ids = [branch.id for branch in exam.branches]
    return list(
        session.scalars(
            select(User)
            .where(
                User.branch_id.in_(branch_ids),
                User.active.is_(True),
                User.role.in_(("member", "organizer")),
                member_read_clause(viewer),
            )
            .join(Branch, Branch.id == User.branch_id)
            .order_by(Branch.name, User.name)
        )
    )


def exam_overview(session: Session, viewer: User, exam_id: int, *, clock: Clock | None = None) -> ExamOverview:
    """Build the dashboard: 一个不落 status of every audience member, ranking, distribution, item analysis.

    Only members in the viewer's scope appear (an organizer sees their own branch of a joint exam; an admin
    everyone); ranking, distribution and item analysis are computed over those rows, so nothing about
    another branch's members leaks through them.
    """
    exam = get_exam(session, exam_id)
    require(can_read_exam(viewer, exam), "只能查看本支部的考试")
    finalize_expired(session, clock=clock or SystemClock())  # nobody stays "答题中" past the deadline
    attempts = session.scalars(
        select(Attempt)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.exam_id == exam.id, member_read_clause(viewer))
    ).all()
    by_member: dict[int, list[Attempt]] = {}
    for attempt in attempts:
        by_member.setdefault(attempt.user_id, []).append(attempt)
    best: dict[int, Attempt] = {}
    for member_id, own in by_member.items():
        finished = [a for a in own if a.status == AttemptStatus.FINISHED]
        if finished:
            best[member_id] = max(finished, key=lambda a: (a.score, -a.id))
    places = {
        int(ranked.entry.key): ranked.place
        for ranked in rank(
            RankEntry(str(member_id), _ranking_value(exam, attempt), _seconds(attempt.started_at, attempt.finished_at))
            for member_id, attempt in best.items()
        )
    }
    rows = []
    for member in _audience(session, exam, viewer):
        own = by_member.get(member.id, [])
        if member.id in best:
            attempt = best[member.id]
            rows.append(
                MemberRow(
                    member, MemberStatus.SUBMITTED, attempt, places[member.id], passed(attempt.score, exam.pass_mark)
                )
            )
        elif own:
            rows.append(MemberRow(member, MemberStatus.IN_PROGRESS, own[-1], None, None))
        else:
            rows.append(MemberRow(member, MemberStatus.NOT_STARTED, None, None, None))
    finished = list(best.values())
    maximum = max((attempt.max_score for attempt in finished), default=0.0)
    return ExamOverview(
        exam=exam,
        members=rows,
        distribution=histogram([attempt.score for attempt in finished], maximum),
        items=_item_rows(session, exam, finished),
        pending_grading=sum(attempt.pending_count for attempt in finished),
        ranking_rule=RANKING_RULES[exam.paper_mode],
    )


#: Like with like. 统一试卷: everyone answered the same questions, so the score ranks. 随机组卷: papers are
#: balanced but may still differ in total points (a question's own points, a voided question), so the
#: share of one's own paper's maximum ranks. Equal values: the faster member first (engine.scoring.rank).
RANKING_RULES = {
    UNIFORM: "按得分排名（统一试卷，人人同题），同分用时少者在前",
    RANDOM: "按得分率（得分 ÷ 本人试卷满分）排名：随机组卷每人试卷不同，同分率用时少者在前",
}


def _ranking_value(exam: Exam, attempt: Attempt) -> float:
    """What ranks an attempt: its score (统一试卷) or its share of its own paper's maximum (随机组卷), in %."""
    if exam.paper_mode == UNIFORM:
        return attempt.score
    return round(100 * attempt.score / attempt.max_score, 2) if attempt.max_score else 0.0


def _seconds(start: datetime, end: datetime | None) -> float:
    return (end - start).total_seconds() if end else 0.0


def _item_rows(session: Session, exam: Exam, finished: list[Attempt]) -> list[ItemRow]:
    voided = dict(
        session.execute(
            select(VoidedQuestion.question_id, VoidedQuestion.mode).where(VoidedQuestion.exam_id == exam.id)
        ).all()
    )
    marks: dict[int, list[tuple[float, float]]] = {}
    info: dict[int, tuple[str, str, float]] = {}
    common = Counter(attempt.max_score for attempt in finished).most_common(1)
    for attempt in finished:
        # Totals on one scale: in 随机组卷 a paper of another maximum is scaled to the most common one.
        scale = common[0][0] / attempt.max_score if exam.paper_mode == RANDOM and attempt.max_score else 1.0
        for item in attempt.items:
            marks.setdefault(item.question_id, []).append((item.score, attempt.score * scale))
            info.setdefault(item.question_id, (item.question.external_id, item.revision.content["stem"], item.points))
    rows = []
    for question_id, pairs in marks.items():
        external_id, stem, points = info[question_id]
        stats = item_statistics([m for m, _ in pairs], [t for _, t in pairs], points)
        rows.append(ItemRow(question_id, external_id, stem, points, stats, voided.get(question_id)))
    return sorted(rows, key=lambda row: (row.stats.facility is None, row.stats.facility or 0.0))


def export_workbook(overview: ExamOverview, zone: ZoneInfo) -> bytes:
    """Excel: results of every member in scope, and the item statistics; names and stems written as text."""

    def result_row(row: MemberRow) -> list[object]:
        attempt = row.attempt
        finished = attempt.finished_at if attempt and attempt.finished_at else None
        return [
            row.member.branch.name if row.member.branch else "",
            row.member.name,
            row.member.username,
            row.status_label,
            attempt.score if attempt and row.status is MemberStatus.SUBMITTED else None,
            attempt.max_score if attempt else None,
            {True: "及格", False: "不及格", None: ""}[row.passed],
            row.place,
            finished.astimezone(zone).strftime("%Y-%m-%d %H:%M") if finished else "",
            attempt.tab_switches if attempt else 0,
            attempt.pending_count if attempt else 0,
        ]

    def item_row(row: ItemRow) -> list[object]:
        return [
            row.external_id,
            row.stem,
            row.points,
            row.stats.responses,
            None if row.stats.facility is None else round(row.stats.facility, 3),
            None if row.stats.discrimination is None else round(row.stats.discrimination, 3),
            {"full_credit": "全部给分", "removed": "不计入总分"}.get(row.voided or "", ""),
        ]

    return workbook_bytes(
        [
            (
                "成绩",
                [
                    "支部",
                    "姓名",
                    "用户名",
                    "状态",
                    "得分",
                    "满分",
                    "是否及格",
                    "名次",
                    "交卷时间",
                    "切屏次数",
                    "待评阅",
                ],
                (result_row(row) for row in overview.members),
            ),
            (
                "题目分析",
                ["题号", "题干", "分值", "作答人数", "难度系数（得分率）", "区分度", "作废"],
                (item_row(row) for row in overview.items),
            ),
        ]
    )


def export_filename(exam: Exam, zone: ZoneInfo) -> str:
    """A Chinese file name with the exam's title and date, e.g. "11月月度测试-成绩-2026-11-28.xlsx"."""
    title = safe_file_name(exam.title, "考试")
    return f"{title}-成绩-{exam.opens_at.astimezone(zone):%Y-%m-%d}.xlsx"
