"""检查督导 and 通报: for the committee, each branch's study days over a week or a month of a study plan —
held or missed, attendance rate, topic practice completion, 小问答 average — ranked, with the best results.

A study day is due once its date in the plan has passed; a due day without a record is a missed one, and a
branch with a missed day is highlighted. Everything is read in a fixed number of queries whatever the number of
branches (members, study days with attendance, 小问答 players and their points, topic practice grouped).
Admins see every branch, inspectors their assigned branches; nobody writes here.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.errors import QuizError
from quizengine.engine.study_plan import StudyPlan, Topic, monday_of
from quizengine.models import Branch, ContestPlayer, User

from .access import is_admin, is_inspector, readable_branch_ids, require
from .spreadsheet import safe_file_name, workbook_bytes
from .study_days import attendance, branch_members, study_days
from .study_plans import topic_practice

#: How many members the bulletin names for their topic practice.
BEST_MEMBERS = 10


class StudyCheckError(QuizError):
    """A period that cannot be checked (bad value, nothing of the plan in it)."""

    code = "study_check_error"


@dataclass(frozen=True)
class CheckPeriod:
    """A week (from a Monday) or a calendar month; `end` is exclusive."""

    kind: str  # "week" | "month"
    start: date
    end: date

    @property
    def key(self) -> str:
        return self.start.isoformat() if self.kind == "week" else f"{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        last = self.end - timedelta(days=1)
        return f"{self.start.month}月{self.start.day}日—{last.month}月{last.day}日"

    @staticmethod
    def parse(value: str | None, today: date) -> CheckPeriod:
        """`2026-12` (a month), `2026-12-07` (the week of that day) or nothing (this month)."""
        text = (value or "").strip()
        try:
            if not text:
                return CheckPeriod.month_of(today)
            if len(text) == 7:
                year, month = (int(part) for part in text.split("-"))
                return CheckPeriod.month_of(date(year, month, 1))
            monday = monday_of(date.fromisoformat(text))
            return CheckPeriod("week", monday, monday + timedelta(weeks=1))
        except ValueError:
            raise StudyCheckError("周期格式不正确：月份写 2026-12，某一周写那一周里的日期如 2026-12-07") from None

    @staticmethod
    def month_of(day: date) -> CheckPeriod:
        first = day.replace(day=1)
        return CheckPeriod("month", first, first + timedelta(days=calendar.monthrange(day.year, day.month)[1]))

    def previous(self) -> CheckPeriod:
        if self.kind == "week":
            return CheckPeriod("week", self.start - timedelta(weeks=1), self.start)
        return CheckPeriod.month_of(self.start - timedelta(days=1))

    def next(self) -> CheckPeriod:
        return (
            CheckPeriod("week", self.end, self.end + timedelta(weeks=1))
            if self.kind == "week"
            else (CheckPeriod.month_of(self.end))
        )


@dataclass(frozen=True)
class TopicCheck:
    """One branch's study day of one topic."""

    topic: Topic
    due: bool
    held: bool
    held_on: date | None
    present: int
    practised: int
    quiz_average: float | None


@dataclass(frozen=True)
class BranchCheck:
    """One branch over the period."""

    branch: Branch
    members: int
    topics: list[TopicCheck]

    @property
    def due(self) -> list[TopicCheck]:
        return [row for row in self.topics if row.due or row.held]

    @property
    def held(self) -> int:
        return sum(1 for row in self.topics if row.held)

    @property
    def missed(self) -> list[TopicCheck]:
        return [row for row in self.topics if row.due and not row.held]

    @property
    def attendance_rate(self) -> float | None:
        rows = [row for row in self.topics if row.held]
        return sum(row.present for row in rows) / (len(rows) * self.members) if rows and self.members else None

    @property
    def practice_rate(self) -> float | None:
        rows = self.topics
        return sum(row.practised for row in rows) / (len(rows) * self.members) if rows and self.members else None

    @property
    def quiz_average(self) -> float | None:
        scores = [row.quiz_average for row in self.topics if row.quiz_average is not None]
        return round(sum(scores) / len(scores), 1) if scores else None

    def rank_key(self) -> tuple[float, ...]:
        """Held study days, then attendance, practice completion, 小问答 average (higher first)."""
        return (
            -self.held,
            -(self.attendance_rate or 0.0),
            -(self.practice_rate or 0.0),
            -(self.quiz_average or 0.0),
        )


@dataclass(frozen=True)
class BestMember:
    member: User
    branch: Branch
    sessions: int
    answered: int
    correct: int


@dataclass(frozen=True)
class StudyCheck:
    """The committee's check of one plan over one period."""

    plan: StudyPlan
    period: CheckPeriod
    topics: list[Topic]
    branches: list[BranchCheck]
    best: list[BestMember] = field(default_factory=list)
    scope_all: bool = True

    @property
    def missing(self) -> list[BranchCheck]:
        return [row for row in self.branches if row.missed]


def may_check(viewer: User) -> bool:
    """检查督导 is the committee's: admins and inspectors."""
    return is_admin(viewer) or is_inspector(viewer)


def study_check(session: Session, viewer: User, plan: StudyPlan, period: CheckPeriod, today: date) -> StudyCheck:
    """Every readable branch's study days of `plan`'s topics whose weeks overlap `period` and have started."""
    require(may_check(viewer), "只有党委和督导可以查看学习日检查")
    topics = [t for t in plan.topics if t.start < period.end and t.end > period.start and t.start <= today]
    readable = readable_branch_ids(viewer)
    query = select(Branch).order_by(Branch.name, Branch.id)
    if readable is not None:
        query = query.where(Branch.id.in_(sorted(readable)))
    branches = list(session.scalars(query))
    ids = [branch.id for branch in branches]
    members = branch_members(session, ids)
    days = study_days(session, ids, plan) if ids else {}
    present = attendance(session, list(days.values()))
    quiz = _quiz_points(session, [day.contest_id for day in days.values() if day.contest_id is not None])
    everyone = [member.id for group in members.values() for member in group]
    practice = topic_practice(session, everyone, plan, topics)
    checks = []
    for branch in branches:
        group = members[branch.id]
        member_ids = {member.id for member in group}
        rows = []
        for topic in topics:
            day = days.get((branch.id, topic.key))
            here = present.get(day.id, set()) & member_ids if day else set()
            held = bool(here) or (day is not None and day.contest_id is not None)
            scores = [quiz[day.contest_id][m] for m in here if day and m in quiz.get(day.contest_id, {})]
            rows.append(
                TopicCheck(
                    topic,
                    due=plan.study_day.in_week(topic.start) < today,
                    held=held,
                    held_on=day.held_on if day and held else None,
                    present=len(here),
                    practised=sum(1 for m in member_ids if (m, topic.key) in practice),
                    quiz_average=round(sum(scores) / len(scores), 1) if scores else None,
                )
            )
        checks.append(BranchCheck(branch, len(group), rows))
    checks.sort(key=lambda row: (*row.rank_key(), row.branch.name))
    return StudyCheck(plan, period, topics, checks, _best(members, branches, practice), readable is None)


def _quiz_points(session: Session, contest_ids: Sequence[int]) -> dict[int, dict[int, float]]:
    """Each 小问答's points per member."""
    found: dict[int, dict[int, float]] = defaultdict(dict)
    if contest_ids:
        rows = session.execute(
            select(ContestPlayer.contest_id, ContestPlayer.user_id, ContestPlayer.points).where(
                ContestPlayer.contest_id.in_(list(contest_ids)), ContestPlayer.user_id.is_not(None)
            )
        )
        for contest_id, user_id, points in rows:
            found[contest_id][user_id] = float(points or 0)
    return found


def _best(members: dict[int, list[User]], branches: list[Branch], practice: dict) -> list[BestMember]:
    """The members with the most correct topic-practice answers in the period (ties: fewer answered)."""
    by_id = {branch.id: branch for branch in branches}
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (user_id, _), progress in practice.items():
        total = totals[user_id]
        total[0] += progress.sessions
        total[1] += progress.answered
        total[2] += progress.correct
    people = {member.id: member for group in members.values() for member in group}
    ranked = sorted(
        (uid for uid in totals if uid in people and totals[uid][2]),
        key=lambda uid: (-totals[uid][2], totals[uid][1], people[uid].name),
    )
    return [
        BestMember(people[uid], by_id[people[uid].branch_id], *totals[uid])  # type: ignore[index]
        for uid in ranked[:BEST_MEMBERS]
    ]


CHECK_HEADER = [
    "名次",
    "支部",
    "人数",
    "应开展学习日",
    "已开展",
    "未开展的专题",
    "出勤率（%）",
    "专题练习完成率（%）",
    "小问答平均分",
]


def _percent(value: float | None) -> float | None:
    return round(100 * value, 1) if value is not None else None


def check_workbook(check: StudyCheck) -> bytes:
    """The check as Excel: branches ranked, then every branch × topic, then the best members."""
    ranked = [
        [
            place,
            row.branch.name,
            row.members,
            len(row.due),
            row.held,
            "、".join(t.topic.title for t in row.missed),
            _percent(row.attendance_rate),
            _percent(row.practice_rate),
            row.quiz_average,
        ]
        for place, row in enumerate(check.branches, start=1)
    ]
    detail_header = ["支部", "专题", "学习周", "学习日", "出勤人数", "人数", "完成专题练习人数", "小问答平均分"]
    detail = [
        [
            row.branch.name,
            t.topic.title,
            f"{t.topic.start}—{t.topic.last_day}",
            t.held_on.isoformat() if t.held_on else ("未开展" if t.due else "未到"),
            t.present,
            row.members,
            t.practised,
            t.quiz_average,
        ]
        for row in check.branches
        for t in row.topics
    ]
    best_header = ["党员", "支部", "专题练习次数", "答题数", "答对数"]
    best = [[b.member.name, b.branch.name, b.sessions, b.answered, b.correct] for b in check.best]
    return workbook_bytes(
        [
            ("支部排名", CHECK_HEADER, ranked),
            ("各专题学习日", detail_header, detail),
            ("表现突出的党员", best_header, best),
        ]
    )


def check_file_name(check: StudyCheck) -> str:
    return safe_file_name(f"学习日检查通报-{check.period.label}", "学习日检查通报") + ".xlsx"
