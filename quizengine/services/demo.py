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

import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.errors import QuizError
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import (
    AuditEntry,
    Branch,
    Committee,
    InspectorBranch,
    MemberStatus,
    PartyGroup,
    Question,
    Role,
    User,
)

from . import period_totals
from .accounts import DEFAULT_COMMITTEE
from .demo_contest import finished_contest
from .demo_history import monthly_exams, self_test_history
from .demo_rows import (
    PROFILES,
    DemoMember,
    DemoQuestion,
    DemoReport,
    RowWriter,
    chinese_number,
    month_starts,
    question_pool,
)
from .passwords import hash_password
from .summaries import ZONE

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华红玉兰志文辉春梅海燕"
    "晓东云峰建国庆林斌宇浩鹏婷雪琳欣怡佳慧颖晨阳凯德荣永亮宏波瑞"
)

SESSION_QUESTIONS = 10
#: Chapters a month's study plan concentrates on (most answers of the month fall in them).
FOCUS_CHAPTERS = 4


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
    pool, bank_titles = question_pool(session)
    by_chapter: dict[tuple[int, str], list[DemoQuestion]] = defaultdict(list)
    for question in pool:
        by_chapter[(question.bank_id, question.category)].append(question)
    chapters = sorted(by_chapter)
    #: Some chapters are harder than others, for everyone: the dashboards' weakest chapters.
    difficulty = {chapter: rng.choice((-0.28, -0.18, -0.08, 0.0, 0.0, 0.05, 0.08)) for chapter in chapters}
    months = month_starts(today, size.months)
    focus = {first: rng.sample(chapters, min(FOCUS_CHAPTERS, len(chapters))) for first in months}
    report = DemoReport(password=secrets.token_urlsafe(9))
    writer = RowWriter(session)

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
            members.append(DemoMember(user, profile, skill))
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
            self_test_history(
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
    monthly_exams(writer, members, branches, months, pool, difficulty, admin, now, today, rng, report)
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
    report.contest_id = finished_contest(session, members, by_chapter, now, rng)
    sample = [m for m in members if m.user.branch_id == branches[0].id and m.user.role == Role.MEMBER]
    for profile in ("diligent", "light", "idle"):
        found = next((m for m in sample if m.profile == profile), None)
        if found:
            report.members_to_try.append((found.user.username, found.user.name, profile))
    return report
