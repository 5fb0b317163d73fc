"""The member's learning record (我的学习档案): totals, mastery by bank and chapter, activity over time.

Counts come from the per-member-per-day summaries (`member_days`, services.summaries), so the page costs
days × chapters, not answers. Points and streak are recomputed from those days every time
(engine.learning), never stored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from quizengine.engine.learning import PointsPolicy, current_streak, day_points, merge_days, total_points
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import (
    Attempt,
    AttemptStatus,
    Bank,
    BankCategory,
    Contest,
    ContestResult,
    MemberDay,
    User,
)

from .access import can_view_member, require
from .exam_access import review_is_visible, visible_exam_ids
from .summaries import visible_rows
from .wrong_book import wrong_book_question_ids


@dataclass(frozen=True)
class ExamLine:
    """One submitted exam on the record; its score shows only once the exam's review policy allows."""

    attempt: Attempt
    visible: bool


@dataclass(frozen=True)
class Mastery:
    """Accuracy over the answers given in one bank or chapter."""

    key: str
    title: str
    answered: int
    correct: int

    @property
    def accuracy(self) -> float:
        """Share of correct answers (0 when nothing was answered)."""
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class DayPoint:
    """One local day: answers given, correct answers, points earned, sessions finished."""

    day: date
    answered: int
    correct: int
    points: int
    sessions: int = 0

    @property
    def accuracy(self) -> float:
        """Share of correct answers that day."""
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class LearningRecord:
    """Everything the record page shows for one member."""

    member: User
    answered: int
    correct: int
    points: int
    streak: int
    wrong_book: int
    banks: list[Mastery]
    chapters: list[Mastery]
    recent: list[Attempt]
    days: list[DayPoint]
    #: The local calendar day the record was computed on (charts end there, whatever the device's clock says).
    today: date
    #: Submitted exam attempts (newest first) and finished contests the member played in.
    exams: list[ExamLine] = field(default_factory=list)
    contests: list[ContestResult] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of correct answers over all graded answers."""
        return self.correct / self.answered if self.answered else 0.0


def get_learning_record(
    session: Session,
    viewer: User,
    member: User,
    *,
    policy: PointsPolicy | None = None,
    zone: ZoneInfo | None = None,
    clock: Clock | None = None,
) -> LearningRecord:
    """Build the record of `member` as `viewer` may see it (themselves, their organizer, an admin).

    Answers of an exam count (days, banks, chapters, points) only once its results are published to
    members (`exams.visible_exam_ids`): the record must not tell right from wrong before the review does.
    """
    require(can_view_member(viewer, member), "没有权限查看该党员的学习档案")
    policy, zone, clock = policy or PointsPolicy(), zone or ZoneInfo("Asia/Shanghai"), clock or SystemClock()
    now = clock.now()
    mine = (MemberDay.user_id == member.id, visible_rows(visible_exam_ids(now)))
    # Two groupings in SQL (days; banks and chapters) rather than every day × chapter row into Python: the
    # rows read grow with the days and chapters the member studied, not with their product.
    per_day: dict[date, tuple[int, int]] = {}
    sessions: dict[date, int] = {}
    for day, answered, correct, finished in session.execute(
        select(MemberDay.day, func.sum(MemberDay.answered), func.sum(MemberDay.correct), func.sum(MemberDay.sessions))
        .where(*mine)
        .group_by(MemberDay.day)
    ):
        if finished:
            sessions[day] = int(finished)
        if answered:
            per_day[day] = (int(answered), int(correct))
    per_bank: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_chapter: dict[tuple[int, str], list[int]] = {}
    for bank_id, category, answered, correct in session.execute(
        select(MemberDay.bank_id, MemberDay.category, func.sum(MemberDay.answered), func.sum(MemberDay.correct))
        .where(*mine, MemberDay.answered > 0)
        .group_by(MemberDay.bank_id, MemberDay.category)
    ):
        per_chapter[(bank_id, category)] = [int(answered), int(correct)]
        per_bank[bank_id][0] += int(answered)
        per_bank[bank_id][1] += int(correct)
    activity = merge_days(per_day, sessions)
    days = [DayPoint(a.day, a.answered, a.correct, day_points(a, policy), a.sessions) for a in activity]
    today = now.astimezone(zone).date()
    return LearningRecord(
        member=member,
        answered=sum(a for a, _ in per_day.values()),
        correct=sum(c for _, c in per_day.values()),
        points=total_points(activity, policy),
        streak=current_streak([a.day for a in activity if a.answered or a.sessions], today),
        wrong_book=_wrong_book_size(session, member),
        banks=_bank_mastery(session, per_bank),
        chapters=_chapter_mastery(session, per_chapter),
        recent=_recent_attempts(session, member),
        days=days,
        today=today,
        exams=[
            ExamLine(attempt, attempt.exam is not None and review_is_visible(attempt.exam, now))
            for attempt in session.scalars(
                select(Attempt)
                .options(joinedload(Attempt.exam))  # one query, not one per exam line
                .where(Attempt.user_id == member.id, Attempt.mode == "exam", Attempt.status == AttemptStatus.FINISHED)
                .order_by(Attempt.finished_at.desc())
                .limit(12)
            )
        ],
        contests=list(
            session.scalars(
                select(ContestResult)
                .options(joinedload(ContestResult.contest).load_only(Contest.title))  # not the contest's state
                .where(ContestResult.user_id == member.id)
                .order_by(ContestResult.id.desc())
                .limit(12)
            )
        ),
    )


def _wrong_book_size(session: Session, member: User) -> int:
    return session.scalar(select(func.count()).select_from(wrong_book_question_ids(member).subquery())) or 0


def _bank_mastery(session: Session, per_bank: dict[int, list[int]]) -> list[Mastery]:
    titles = dict(session.execute(select(Bank.id, Bank.title).where(Bank.id.in_(per_bank))).all())
    return sorted(
        (Mastery(str(bank_id), titles.get(bank_id, "?"), a, c) for bank_id, (a, c) in per_bank.items()),
        key=lambda mastery: mastery.title,
    )


def _chapter_mastery(session: Session, per_chapter: dict[tuple[int, str], list[int]]) -> list[Mastery]:
    """Chapters in bank title order, then in the document's order; answers without a chapter come last."""
    rows = session.execute(
        select(BankCategory.bank_id, BankCategory.key, BankCategory.title, BankCategory.position, Bank.title)
        .join(Bank, Bank.id == BankCategory.bank_id)
        .where(BankCategory.bank_id.in_({bank_id for bank_id, _ in per_chapter}))
    ).all()
    places = {(bank_id, key): (bank_title, position, title) for bank_id, key, title, position, bank_title in rows}
    ordered = []
    for key, (answered, correct) in per_chapter.items():
        bank_title, position, title = places.get(key, ("", 10_000, "未分章节"))
        label = f"{bank_title} · {title}" if bank_title else title
        ordered.append(((bank_title or "\uffff", position), Mastery(f"{key[0]}:{key[1]}", label, answered, correct)))
    return [mastery for _, mastery in sorted(ordered, key=lambda pair: pair[0])]


def _recent_attempts(session: Session, member: User) -> list[Attempt]:
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.user_id == member.id, Attempt.mode == "self_test")
            .order_by(Attempt.started_at.desc())
            .limit(10)
        )
    )
