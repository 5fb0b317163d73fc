"""A demo organization (`quizengine demo`, `run.py --demo`): a realistic committee in an empty database.

A newcomer should see full dashboards at once: branches with party groups, 正式/预备 members with Chinese
names, months of self-test activity ending today (some members idle, some diligent, some chapters harder
than others so the dashboards have weakest chapters), one scheduled exam a month with results, and one
finished contest. Everything is deterministic for a seed and a day (passwords excepted: random per run).

It writes in bulk (thousands of members, millions of answers for `benchmarks/oversight.py`) and keeps the
`member_days` summaries right by computing them from the very rows it inserts, exactly as
`summaries.rebuild` would (the period totals then from them; tests/test_demo.py checks the two agree). The
contest is played through the contest service (`contest_commands.apply_command`), so its results are stored by
the same code as a live one.

It refuses a database that already holds members or branches: demo data never mixes with real data.
"""

from __future__ import annotations

import json
import math
import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import JSON, Table, func, insert, select
from sqlalchemy.orm import Session

from quizengine.banks.contest_plan import plan_from_mapping
from quizengine.engine.errors import QuizError
from quizengine.engine.timing import Clock, FakeClock, SystemClock
from quizengine.models import (
    Attempt,
    AttemptItem,
    AuditEntry,
    Bank,
    Branch,
    Committee,
    Contest,
    Exam,
    ExamBranch,
    InspectorBranch,
    MemberDay,
    MemberStatus,
    PartyGroup,
    Question,
    QuestionProgress,
    QuestionRevision,
    Role,
    User,
)
from quizengine.modes.contest import Command, ContestError, Phase
from quizengine.modes.contest import Role as ContestRole

from . import period_totals
from .accounts import DEFAULT_COMMITTEE
from .passwords import hash_password
from .summaries import ZONE, Key

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华红玉兰志文辉春梅海燕"
    "晓东云峰建国庆林斌宇浩鹏婷雪琳欣怡佳慧颖晨阳凯德荣永亮宏波瑞"
)
DIGITS = "零一二三四五六七八九"

#: Member profiles: (share of members, self-test sessions a month, accuracy, chance of taking the month's exam).
PROFILES = {
    "idle": (0.12, (0, 0), 0.55, 0.10),
    "light": (0.25, (1, 3), 0.62, 0.60),
    "regular": (0.38, (3, 6), 0.72, 0.90),
    "diligent": (0.25, (6, 11), 0.82, 1.00),
}
GRADABLE = ("single", "multiple", "judge")
SESSION_QUESTIONS = 10
#: Chapters a month's study plan concentrates on (most answers of the month fall in them).
FOCUS_CHAPTERS, FOCUS_SHARE = 4, 0.8
EXAM_QUESTIONS, EXAM_POINTS = 20, 5.0
INSERT_CHUNK = 20_000


class DemoError(QuizError):
    """The demo cannot be written (a database with members, no question banks); nothing was changed."""

    code = "demo_refused"


@dataclass(frozen=True)
class DemoSize:
    """How big a committee to make; `scale` multiplies the questions per session (the benchmark's 4×)."""

    branches: int = 3
    members: int = 12
    months: int = 3
    seed: int = 2026
    scale: int = 1
    #: Per-question history (wrong-answer book, spacing) of self-test answers; the benchmark may skip it.
    progress: bool = True


@dataclass
class DemoReport:
    """What was written, and the accounts to try (all share one password, shown once)."""

    branches: int = 0
    members: int = 0
    answers: int = 0
    sessions: int = 0
    exams: int = 0
    exam_attempts: int = 0
    contest_id: int | None = None
    password: str = ""
    organizers: list[tuple[str, str, str]] = field(default_factory=list)  # (branch, username, name)
    inspector: str = ""
    members_to_try: list[tuple[str, str, str]] = field(default_factory=list)  # (username, name, profile)


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一 (1–99, for 第…党支部)."""
    if not 0 < n < 100:
        raise ValueError("chinese_number covers 1–99")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else f"{DIGITS[tens]}十")
    return head + (DIGITS[ones] if ones else "")


def chinese_name(rng: random.Random) -> str:
    """A plausible Chinese name: a common surname and one or two given-name characters."""
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def refusal(session: Session) -> str | None:
    """Why the demo may not be written here (a Chinese sentence), or None for an empty database."""
    members = session.scalar(select(func.count()).select_from(User).where(User.role != Role.ADMIN)) or 0
    branches = session.scalar(select(func.count()).select_from(Branch)) or 0
    if members or branches:
        return (
            f"数据库中已有 {members} 个党员、组织员或督导账号、{branches} 个支部，演示数据只能写入空库，"
            "以免与真实数据混在一起；未做任何修改。"
        )
    if not session.scalar(select(func.count()).select_from(Question).where(Question.retired.is_(False))):
        return "数据库中还没有题库，请先导入 question_banks/（quizengine setup）；未做任何修改。"
    return None


@dataclass(frozen=True)
class _Question:
    id: int
    revision_id: int
    bank_id: int
    category: str
    type: str
    answer: Any
    options: tuple[str, ...]
    external_id: str
    content_hash: str


@dataclass
class _Member:
    user: User
    profile: str
    skill: float


class _Writer:
    """Collects rows and the summaries they imply; writes them in chunks."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.days: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # exam id, answered, correct, sessions
        self.progress: dict[tuple[int, int], list[Any]] = {}

    def attempts(self, rows: list[dict[str, Any]]) -> list[int]:
        return list(self.session.scalars(insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True), rows))

    def items(self, rows: list[dict[str, Any]]) -> None:
        self.bulk(AttemptItem.__table__, rows)

    def bulk(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert many rows: PostgreSQL's COPY (the multi-row INSERT is ten times slower there), else executemany."""
        if not rows:
            return
        if self.session.get_bind().dialect.name != "postgresql":
            for start in range(0, len(rows), INSERT_CHUNK):
                self.session.execute(table.insert(), rows[start : start + INSERT_CHUNK])
            return
        names = list(rows[0])
        as_json = {name for name in names if isinstance(table.c[name].type, JSON)}
        cursor = self.session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_copy_value(row[name], name in as_json) for name in names])

    def count(self, key: Key, exam_id: int, correct: bool) -> None:
        row = self.days[key]
        row[0], row[1], row[2] = exam_id, row[1] + 1, row[2] + correct

    def count_session(self, key: Key, exam_id: int) -> None:
        row = self.days[key]
        row[0], row[3] = exam_id, row[3] + 1

    def remember(self, user_id: int, question_id: int, at: datetime, correct: bool) -> None:
        """Self-test history of one question (answers arrive in time order per member)."""
        entry = self.progress.setdefault((user_id, question_id), [0, 0, 0, 0, at])  # answered, correct, box, streak
        entry[0] += 1
        entry[1] += correct
        entry[2] = min(entry[2] + 1, 5) if correct else 0
        entry[3] = 0 if correct else entry[3] + 1
        entry[4] = at

    def flush_summaries(self) -> int:
        rows = [
            {
                "user_id": user_id,
                "day": day,
                "bank_id": bank_id,
                "category": category,
                "attempt_id": attempt_id,
                "exam_id": exam_id,
                "answered": answered,
                "correct": correct,
                "sessions": sessions,
            }
            for (user_id, day, bank_id, category, attempt_id), (
                exam_id,
                answered,
                correct,
                sessions,
            ) in self.days.items()
        ]
        self.bulk(MemberDay.__table__, rows)
        self.days.clear()
        return len(rows)

    def flush_progress(self) -> None:
        rows = [
            {
                "user_id": user_id,
                "question_id": question_id,
                "box": box,
                "due_at": last + timedelta(days=2**box),
                "last_answered_at": last,
                "times_answered": answered,
                "times_correct": correct,
                "in_wrong_book": streak > 0,
                "wrong_streak": streak,
            }
            for (user_id, question_id), (answered, correct, box, streak, last) in self.progress.items()
        ]
        self.bulk(QuestionProgress.__table__, rows)
        self.progress.clear()


def _copy_value(value: Any, as_json: bool) -> Any:
    """A value as COPY wants it: JSON columns as JSON text, aware times as naive UTC (as `UTCDateTime` stores)."""
    if as_json:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    """A local (Asia/Shanghai) time as aware UTC."""
    return datetime.combine(day, time(hour, minute), ZONE).astimezone(UTC)


def _months(today: date, count: int) -> list[date]:
    """First days of the last `count` months, oldest first, ending with today's month."""
    firsts, year, month = [], today.year, today.month
    for _ in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _month_end(first: date) -> date:
    """The first day of the next month."""
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _response(question: _Question, correct: bool, rng: random.Random) -> Any:
    """A stored response that grades as `correct` (judge: bool, single: a key, multiple: sorted keys)."""
    if question.type == "judge":
        return question.answer if correct else not question.answer
    if question.type == "single":
        return question.answer if correct else rng.choice([key for key in question.options if key != question.answer])
    right = sorted(question.answer)
    if correct:
        return right
    wrong = [key for key in question.options if key not in right]
    return sorted(right[:-1] + wrong[:1]) if wrong and rng.random() < 0.5 else right[:-1] or sorted(question.options)


def _pool(session: Session) -> tuple[list[_Question], dict[int, str]]:
    """Gradable current questions and bank titles."""
    rows = session.execute(
        select(Question, QuestionRevision)
        .join(
            QuestionRevision,
            (QuestionRevision.question_id == Question.id) & (QuestionRevision.number == Question.current_revision),
        )
        .where(Question.retired.is_(False), Question.type.in_(GRADABLE))
        .order_by(Question.id)
    ).all()
    pool = [
        _Question(
            question.id,
            revision.id,
            question.bank_id,
            question.category or "",
            question.type,
            revision.content.get("answer"),
            tuple(sorted((revision.content.get("options") or {}).keys())),
            question.external_id,
            revision.content_hash,
        )
        for question, revision in rows
    ]
    banks = dict(session.execute(select(Bank.id, Bank.title)).all())
    return pool, banks


def seed_demo(
    session: Session, size: DemoSize, *, clock: Clock | None = None, progress: Callable[[str], None] | None = None
) -> DemoReport:
    """Write the demo committee and commit; DemoError (nothing written) on a non-empty database."""
    reason = refusal(session)
    if reason:
        raise DemoError(reason)
    if not (0 < size.branches < 100 and 0 < size.members <= 500 and 0 < size.months <= 36 and 0 < size.scale <= 10):
        raise DemoError("规模超出范围：支部 1–99 个，每支部党员 1–500 名，月数 1–36，倍数 1–10；未做任何修改。")
    say = progress or (lambda _text: None)
    clock = clock or SystemClock()
    now = clock.now()
    today = now.astimezone(ZONE).date()
    rng = random.Random(size.seed)
    pool, bank_titles = _pool(session)
    by_chapter: dict[tuple[int, str], list[_Question]] = defaultdict(list)
    for question in pool:
        by_chapter[(question.bank_id, question.category)].append(question)
    chapters = sorted(by_chapter)
    #: Some chapters are harder than others, for everyone: the dashboards' weakest chapters.
    difficulty = {chapter: rng.choice((-0.28, -0.18, -0.08, 0.0, 0.0, 0.05, 0.08)) for chapter in chapters}
    months = _months(today, size.months)
    focus = {first: rng.sample(chapters, min(FOCUS_CHAPTERS, len(chapters))) for first in months}
    report = DemoReport(password=secrets.token_urlsafe(9))
    writer = _Writer(session)

    committee = session.scalar(select(Committee).order_by(Committee.id)) or Committee(name=DEFAULT_COMMITTEE)
    session.add(committee)
    admin = session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    password_hash = hash_password(report.password)
    start_of_window = datetime.combine(months[0], time(), ZONE).astimezone(UTC)
    branches, members = [], []
    for b in range(1, size.branches + 1):
        branch = Branch(name=f"第{chinese_number(b)}党支部", committee=committee)
        groups = [
            PartyGroup(name=f"第{chinese_number(g)}党小组", branch=branch) for g in range(1, 2 + size.members // 12 + 1)
        ]
        session.add_all([branch, *groups])
        branches.append(branch)
        for m in range(1, size.members + 1):
            organizer = m == 1
            profile = "diligent" if organizer else rng.choices(list(PROFILES), [p[0] for p in PROFILES.values()])[0]
            joined = start_of_window - timedelta(days=rng.randint(30, 3000))
            if not organizer and rng.random() < 0.04:  # a few joined this month: pro-rated
                joined = datetime.combine(date(today.year, today.month, 1), time(9), ZONE).astimezone(UTC)
            user = User(
                username=f"zb{b:02d}" if organizer else f"dy{b:02d}{m:03d}",
                name=chinese_name(rng),
                password_hash=password_hash,
                role=Role.ORGANIZER if organizer else Role.MEMBER,
                title="支部书记" if organizer else None,
                branch=branch,
                party_group=groups[(m - 1) % len(groups)],
                member_status=MemberStatus.PROBATIONARY if not organizer and rng.random() < 0.1 else MemberStatus.FULL,
                active=True,
                must_change_password=False,
                created_at=min(joined, now),
            )
            skill = min(0.95, max(0.35, rng.gauss(PROFILES[profile][2], 0.06)))
            members.append(_Member(user, profile, skill))
    inspector = User(
        username="dudao", name=chinese_name(rng), password_hash=password_hash, role=Role.INSPECTOR, created_at=now
    )
    session.add_all([m.user for m in members] + [inspector])
    session.flush()
    session.add_all(InspectorBranch(user_id=inspector.id, branch_id=branch.id) for branch in branches[:2])
    report.branches, report.members, report.inspector = len(branches), len(members), inspector.username
    report.organizers = [
        (m.user.branch.name, m.user.username, m.user.name) for m in members if m.user.role == Role.ORGANIZER
    ]
    say(f"已建立 {len(branches)} 个支部、{len(members)} 名党员")

    per_session = SESSION_QUESTIONS * size.scale
    for index in range(0, len(members), 100):
        for member in members[index : index + 100]:
            _self_test(
                writer,
                member,
                months,
                focus,
                by_chapter,
                chapters,
                difficulty,
                bank_titles,
                per_session,
                now,
                today,
                rng,
                report,
                size.progress,
            )
        writer.flush_summaries()
        if size.progress:
            writer.flush_progress()
        done = min(index + 100, len(members))
        if done == len(members) or done % max(100, len(members) // 500 * 100) == 0:  # about every 20 %
            say(f"自测记录：{done}/{len(members)} 名党员，{report.answers:,} 道作答")
    _exams(writer, members, branches, months, pool, difficulty, admin, now, today, rng, report)
    writer.flush_summaries()
    period_totals.rebuild(session)  # the day and month totals from the summaries just written, as a rebuild would
    session.add(
        AuditEntry(
            actor_id=admin.id if admin else None,
            action="demo.create",
            subject="演示数据",
            detail={"seed": size.seed, "branches": size.branches, "members": size.members, "months": size.months},
        )
    )
    session.commit()
    report.contest_id = _contest(session, members, by_chapter, now, rng)
    sample = [m for m in members if m.user.branch_id == branches[0].id and m.user.role == Role.MEMBER]
    for profile in ("diligent", "light", "idle"):
        found = next((m for m in sample if m.profile == profile), None)
        if found:
            report.members_to_try.append((found.user.username, found.user.name, profile))
    return report


def _self_test(
    writer: _Writer,
    member: _Member,
    months: list[date],
    focus: dict[date, list[tuple[int, str]]],
    by_chapter: dict[tuple[int, str], list[_Question]],
    chapters: list[tuple[int, str]],
    difficulty: dict[tuple[int, str], float],
    bank_titles: dict[int, str],
    per_session: int,
    now: datetime,
    today: date,
    rng: random.Random,
    report: DemoReport,
    keep_progress: bool,
) -> None:
    """The member's self-test sessions month by month, inserted as finished attempts with graded items."""
    low, high = PROFILES[member.profile][1]
    joined = member.user.created_at.astimezone(ZONE).date()
    sessions: list[tuple[datetime, list[_Question]]] = []
    for first in months:
        end = min(_month_end(first), today + timedelta(days=1))
        start = max(first, joined)
        if start >= end:
            continue
        count = rng.randint(low, high)
        if end > today:  # the current month: the share of it gone by, at least 40 % (members start early)
            elapsed = (today - first).days + 1
            count = math.ceil(count * max(elapsed / (_month_end(first) - first).days, 0.4))
        span = (end - start).days
        for _ in range(count):
            day = start + timedelta(days=rng.randrange(span))
            moment = _local(day, rng.randint(7, 21), rng.randrange(60)) + timedelta(seconds=rng.randrange(60))
            if moment + timedelta(seconds=40 * per_session) > now:
                continue
            picked = []
            for _ in range(per_session):
                chapter = rng.choice(focus[first]) if rng.random() < FOCUS_SHARE else rng.choice(chapters)
                picked.append(rng.choice(by_chapter[chapter]))
            sessions.append((moment, picked))
    if not sessions:
        return
    sessions.sort(key=lambda entry: entry[0])
    user_id = member.user.id
    rows, answers = [], []
    for started, picked in sessions:
        banks = sorted({q.bank_id for q in picked})
        kind = rng.choice(("custom", "random", "smart"))
        title = {"custom": "自选练习", "random": "随机练习", "smart": "智能练习"}[kind]
        if kind == "custom" and len(banks) == 1:
            title = f"自选练习 · {bank_titles[banks[0]]}"
        graded, at = [], started
        for question in picked:
            at += timedelta(seconds=rng.randint(12, 40))
            correct = rng.random() < min(
                0.98, max(0.05, member.skill + difficulty[(question.bank_id, question.category)])
            )
            graded.append((question, at, correct))
        right = sum(correct for _, _, correct in graded)
        rows.append(
            {
                "user_id": user_id,
                "mode": "self_test",
                "kind": kind,
                "title": title,
                "settings": {
                    "bank_ids": banks,
                    "chapters": [],
                    "types": [],
                    "count": len(picked),
                    "start": 0,
                    "wrapped": False,
                },
                "status": "finished",
                "started_at": started,
                "finished_at": at + timedelta(seconds=5),
                "question_count": len(picked),
                "answered_count": len(picked),
                "correct_count": right,
                "score": float(right),
                "max_score": float(len(picked)),
                "number": 1,
                "pending_count": 0,
                "tab_switches": 0,
            }
        )
        answers.append(graded)
    ids = writer.attempts(rows)
    items = []
    for attempt_id, row, graded in zip(ids, rows, answers, strict=True):
        day = row["started_at"].astimezone(ZONE).date()
        writer.count_session((user_id, row["finished_at"].astimezone(ZONE).date(), 0, "", 0), 0)
        for position, (question, at, correct) in enumerate(graded):
            items.append(
                {
                    "attempt_id": attempt_id,
                    "position": position,
                    "question_id": question.id,
                    "revision_id": question.revision_id,
                    "option_order": list(question.options),
                    "points": 1.0,
                    "response": _response(question, correct, rng),
                    "verdict": "correct" if correct else "wrong",
                    "credit": 1.0 if correct else 0.0,
                    "score": 1.0 if correct else 0.0,
                    "answered_at": at,
                }
            )
            writer.count((user_id, day, question.bank_id, question.category, 0), 0, correct)
            if keep_progress:
                writer.remember(user_id, question.id, at, correct)
    writer.items(items)
    report.sessions += len(rows)
    report.answers += len(items)


def _exams(
    writer: _Writer,
    members: list[_Member],
    branches: list[Branch],
    months: list[date],
    pool: list[_Question],
    difficulty: dict[tuple[int, str], float],
    admin: User | None,
    now: datetime,
    today: date,
    rng: random.Random,
    report: DemoReport,
) -> None:
    """One exam a month for every branch (a uniform 100-point paper), taken by most members."""
    session = writer.session
    for first in months:
        current = _month_end(first) > today
        opens = _local(first, 9) if current else _local(first.replace(day=20), 9)
        closes = _local(_month_end(first) - timedelta(days=1), 22) if current else _local(first.replace(day=27), 22)
        if opens >= now:
            continue
        paper = rng.sample(pool, min(EXAM_QUESTIONS, len(pool)))
        exam = Exam(
            title=f"{first.year}年{first.month}月学习测试",
            created_by=admin.id if admin else None,
            opens_at=opens,
            closes_at=closes,
            duration_minutes=30,
            blueprint={
                "sections": [{"count": len(paper), "points": EXAM_POINTS, "types": list(GRADABLE), "title": "综合"}]
            },
            pass_mark=60.0,
            review_policy="after_close",
            results_released=not current,
            paper_mode="uniform",
            status="published",
            published_at=opens - timedelta(days=3),
            created_at=opens - timedelta(days=3),
            paper=[
                {"q": q.id, "r": q.revision_id, "id": q.external_id, "h": q.content_hash, "p": EXAM_POINTS, "s": 0}
                for q in paper
            ],
        )
        session.add(exam)
        session.flush()
        session.add_all(ExamBranch(exam_id=exam.id, branch_id=branch.id) for branch in branches)
        report.exams += 1
        last_start = min(closes, now) - timedelta(minutes=30)
        window = (last_start - opens).total_seconds()
        rows, answers = [], []
        for member in members:
            if member.user.created_at > opens or window <= 0 or rng.random() >= PROFILES[member.profile][3]:
                continue
            started = opens + timedelta(seconds=rng.uniform(0, window))
            graded, at = [], started
            for question in paper:
                at += timedelta(seconds=rng.randint(20, 70))
                chance = member.skill + 0.05 + difficulty[(question.bank_id, question.category)]
                graded.append((question, at, rng.random() < min(0.98, max(0.05, chance))))
            right = sum(correct for _, _, correct in graded)
            rows.append(
                {
                    "user_id": member.user.id,
                    "mode": "exam",
                    "kind": "exam",
                    "title": exam.title,
                    "settings": {},
                    "status": "finished",
                    "started_at": started,
                    "deadline_at": started + timedelta(minutes=30),
                    "finished_at": at + timedelta(seconds=10),
                    "question_count": len(paper),
                    "answered_count": len(paper),
                    "correct_count": right,
                    "score": right * EXAM_POINTS,
                    "max_score": len(paper) * EXAM_POINTS,
                    "exam_id": exam.id,
                    "number": 1,
                    "pending_count": 0,
                    "tab_switches": 0,
                }
            )
            answers.append(graded)
        if not rows:
            continue
        ids = writer.attempts(rows)
        items = []
        for attempt_id, row, graded in zip(ids, rows, answers, strict=True):
            user_id = row["user_id"]
            writer.count_session((user_id, row["finished_at"].astimezone(ZONE).date(), 0, "", attempt_id), exam.id)
            for position, (question, at, correct) in enumerate(graded):
                items.append(
                    {
                        "attempt_id": attempt_id,
                        "position": position,
                        "question_id": question.id,
                        "revision_id": question.revision_id,
                        "option_order": list(question.options),
                        "points": EXAM_POINTS,
                        "response": _response(question, correct, rng),
                        "verdict": "correct" if correct else "wrong",
                        "credit": 1.0 if correct else 0.0,
                        "score": EXAM_POINTS if correct else 0.0,
                        "answered_at": at,
                    }
                )
                key = (user_id, at.astimezone(ZONE).date(), question.bank_id, question.category, attempt_id)
                writer.count(key, exam.id, correct)
        writer.items(items)
        report.exam_attempts += len(rows)


def _contest(
    session: Session, members: list[_Member], by_chapter: dict, now: datetime, rng: random.Random
) -> int | None:
    """One finished knowledge contest of the first branch, about ten days ago, played through the contest
    service: its organizer hosts, four teams answer 必答题 and 抢答题, its members joined as players."""
    from .contest_commands import apply_command, load_contest
    from .contest_join import join
    from .contest_setup import create_contest

    branch_id = members[0].user.branch_id
    organizer = next(m.user for m in members if m.user.branch_id == branch_id and m.user.role == Role.ORGANIZER)
    banks = session.scalars(select(Bank.slug).order_by(Bank.slug)).all()
    plan = plan_from_mapping(
        {
            "title": "支部党建知识竞赛",
            "teams": [{"name": f"第{chinese_number(n)}组"} for n in range(1, 5)],
            "base_score": 100,
            "tie_break": "time",
            "rounds": [
                {
                    "kind": "compulsory",
                    "title": "第一轮 必答题",
                    "source": {"banks": list(banks), "types": ["single", "judge"], "count": 8},
                    "points": 10,
                    "judged_by": "device",
                },
                {
                    "kind": "buzzer",
                    "title": "第二轮 抢答题",
                    "source": {"banks": list(banks), "types": ["single", "judge"], "count": 6},
                    "points": 10,
                    "penalty": 10,
                    "judged_by": "device",
                },
            ],
        }
    )
    day = (now - timedelta(days=10)).astimezone(ZONE).date()
    clock = FakeClock(_local(day, 15))
    contest = create_contest(session, organizer, plan, rng=rng, clock=clock)
    players = [m for m in members if m.user.branch_id == branch_id and m.profile != "idle"]
    for index, member in enumerate(players):
        data = {"role": "player", "contest": contest.id, "pin": contest.pin, "team": f"t{index % 4 + 1}"}
        join(session, data, member.user, connection="demo", address="demo")
    skill = {f"t{n}": rng.uniform(0.55, 0.9) for n in range(1, 5)}
    _, machine = load_contest(session, contest.id)
    for _ in range(400):
        state = machine.state
        if state.phase is Phase.FINISHED:
            break
        clock.advance(seconds=rng.randint(4, 15))
        name, team, args = _next_move(state, machine, skill, rng)
        command = Command(name, ContestRole.TEAM if team else ContestRole.HOST, state.version, team=team, args=args)
        try:
            machine = apply_command(session, contest.id, command, actor="演示", clock=clock).machine
        except ContestError:  # a move the rules refuse: the host ends the contest as it stands
            break
    if machine.state.phase is not Phase.FINISHED:
        apply_command(session, contest.id, Command("end", ContestRole.HOST, machine.state.version), clock=clock)
    return session.scalar(select(Contest.id).where(Contest.id == contest.id))


def _next_move(state: Any, machine: Any, skill: dict[str, float], rng: random.Random) -> tuple[str, str | None, dict]:
    """The host's (or a team's) next command in a contest played by the demo."""
    phase = state.phase
    if phase is Phase.LOBBY:
        return "start", None, {}
    if phase in (Phase.ROUND_INTRO, Phase.REVEALED, Phase.SCOREBOARD):
        return "next", None, {}
    if phase in (Phase.READING, Phase.BUZZ_ARMED):
        return "open", None, {}
    if phase is Phase.BUZZ_OPEN:
        buzzed = set(state.locked_out) | {buzz["team"] for buzz in state.buzzes}
        free = [team for team in sorted(skill) if team not in buzzed]
        return ("buzz", rng.choice(free), {"question": state.question}) if free else ("void", None, {})
    if phase in (Phase.ANSWERING, Phase.BUZZ_WON) and state.team_on_turn:
        team = state.team_on_turn
        question = machine.questions[state.question]
        right = rng.random() < skill[team]
        return "answer", team, {"question": state.question, "response": _contest_response(question, right)}
    if phase in (Phase.LOCKED, Phase.ANSWERING):
        return "reveal", None, {}
    return "end", None, {}


def _contest_response(question: Any, right: bool) -> Any:
    """A team's response to an engine question (single or judge)."""
    if isinstance(question.answer, bool):
        return question.answer if right else not question.answer
    return question.answer if right else next(key for key in question.option_keys if key != question.answer)
