"""Oversight read paths on seeded data (issue #12 item 8, data path): member record, branch standings, dashboard.

In-process (server time, no HTTP), like the issue's own figures for the old record. Seeds a throw-away SQLite
database (or PostgreSQL with --postgres) with bulk inserts: one synthetic bank (10 chapters × 20 questions),
one branch of --members members with --answers self-test answers each over the last 12 months, and one heavy
member per level in --levels; then builds the `member_days` summaries with `summaries.rebuild` and measures,
each p50/p95 over --repeat calls, next to a bare SQL aggregate of the same figures in the same run:

- the member record (`records.get_learning_record`) at each level, and the old way (every answer read into
  Python: the query the record used before the summaries) for comparison;
- one branch's standings for the current month (`standards.branch_standings`);
- the branch dashboard (`dashboard.branch_dashboard`, 12-month trend; closed months come from stored results).

    .venv/bin/python benchmarks/oversight.py                       # 100 members × 1,000 answers, levels 1k/10k/100k
    .venv/bin/python benchmarks/oversight.py --answers 4000        # the same branch at 4× the answers
    .venv/bin/python benchmarks/oversight.py --postgres            # on a throw-away PostgreSQL database
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, make_url, select, text
from sqlalchemy.orm import Session

from quizengine.extensions import make_engine
from quizengine.models import (
    Attempt,
    AttemptItem,
    Bank,
    BankCategory,
    Branch,
    Committee,
    MemberDay,
    Question,
    QuestionRevision,
    Role,
    User,
)
from quizengine.services import dashboard, standards, summaries
from quizengine.services.records import get_learning_record
from quizengine.services.schema import upgrade_database

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHAPTERS, PER_CHAPTER, PER_SESSION = 10, 20, 10


def seed(session: Session, members: int, answers: int, levels: list[int], rng: random.Random) -> tuple[int, dict]:
    """Bulk-insert a branch and its activity; return the branch id and {level: heavy member id}."""
    now = datetime.now(UTC)
    committee = Committee(name="基准党委")
    branch = Branch(name="基准支部", committee=committee)
    admin = User(username="admin", name="管理员", password_hash="x", role=Role.ADMIN)
    session.add_all([committee, branch, admin])
    bank = Bank(slug="bench", title="基准题库")
    session.add(bank)
    session.flush()
    session.execute(
        insert(BankCategory),
        [{"bank_id": bank.id, "key": f"c{c}", "title": f"第{c + 1}章", "position": c} for c in range(CHAPTERS)],
    )
    questions = []
    for n in range(CHAPTERS * PER_CHAPTER):
        question = Question(external_id=f"b-{n}", bank_id=bank.id, type="judge", category=f"c{n // PER_CHAPTER}")
        session.add(question)
        questions.append(question)
    session.flush()
    revisions = [QuestionRevision(question_id=q.id, number=1, content_hash="h", content={}) for q in questions]
    session.add_all(revisions)
    session.flush()
    pairs = [(q.id, r.id) for q, r in zip(questions, revisions, strict=True)]
    users = [
        User(
            username=f"m{n}",
            name=f"党员{n}",
            password_hash="x",
            branch_id=branch.id,
            created_at=now - timedelta(days=400),
        )
        for n in range(members + len(levels))
    ]
    session.add_all(users)
    session.flush()
    heavy = {level: users[members + index].id for index, level in enumerate(levels)}
    for user in users[:members]:
        _activity(session, user.id, answers, pairs, now, rng)
    for level, user_id in heavy.items():
        _activity(session, user_id, level, pairs, now, rng)
    session.commit()
    return branch.id, heavy


def _activity(session: Session, user_id: int, answers: int, pairs: list, now: datetime, rng: random.Random) -> None:
    """`answers` judge answers in finished sessions of PER_SESSION, spread over the last 365 days."""
    sessions = max(1, answers // PER_SESSION)
    starts = sorted(now - timedelta(days=rng.uniform(0, 365)) for _ in range(sessions))
    attempt_rows = [
        {
            "user_id": user_id,
            "mode": "self_test",
            "kind": "random",
            "title": "随机练习",
            "settings": {},
            "status": "finished",
            "started_at": start,
            "finished_at": start + timedelta(minutes=5),
            "question_count": PER_SESSION,
            "answered_count": PER_SESSION,
            "correct_count": 0,
            "score": 0.0,
            "max_score": float(PER_SESSION),
            "number": 1,
            "pending_count": 0,
            "tab_switches": 0,
        }
        for start in starts
    ]
    ids = session.scalars(insert(Attempt).returning(Attempt.id), attempt_rows).all()
    items = []
    for attempt_id, start in zip(ids, starts, strict=True):
        for position, (question_id, revision_id) in enumerate(rng.sample(pairs, PER_SESSION)):
            right = rng.random() < 0.75
            items.append(
                {
                    "attempt_id": attempt_id,
                    "position": position,
                    "question_id": question_id,
                    "revision_id": revision_id,
                    "option_order": [],
                    "points": 1.0,
                    "response": True,
                    "verdict": "correct" if right else "wrong",
                    "credit": 1.0 if right else 0.0,
                    "score": 1.0 if right else 0.0,
                    "answered_at": start + timedelta(seconds=20 * position),
                }
            )
    for begin in range(0, len(items), 20_000):
        session.execute(insert(AttemptItem), items[begin : begin + 20_000])


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """p50 and p95 of `repeat` calls, in ms."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(1000 * (time.perf_counter() - started))
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def old_record(session: Session, user_id: int) -> int:
    """The record's previous read: every graded answer of the member into Python, grouped there."""
    rows = session.execute(
        select(AttemptItem.answered_at, AttemptItem.verdict, Question.bank_id, Question.category)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(Question, Question.id == AttemptItem.question_id)
        .where(Attempt.user_id == user_id, AttemptItem.answered_at.is_not(None))
    ).all()
    days: dict = {}
    for answered_at, verdict, bank_id, category in rows:
        day = summaries.local_day(answered_at)
        days[(day, bank_id, category)] = days.get((day, bank_id, category), 0) + (verdict == "correct")
    return len(days)


def bare_member(session: Session, user_id: int) -> object:
    """Bare SQL aggregate of the record's figures from the summaries: per day, answers and correct."""
    return session.execute(
        select(MemberDay.day, func.sum(MemberDay.answered), func.sum(MemberDay.correct))
        .where(MemberDay.user_id == user_id)
        .group_by(MemberDay.day)
    ).all()


def bare_branch(session: Session, branch_id: int, start: object, end: object) -> object:
    """Bare SQL aggregate of the standings' figures: per member, sessions and answers in the month."""
    return session.execute(
        select(MemberDay.user_id, func.sum(MemberDay.sessions), func.sum(MemberDay.answered), func.count())
        .join(User, User.id == MemberDay.user_id)
        .where(User.branch_id == branch_id, MemberDay.day >= start, MemberDay.day < end)
        .group_by(MemberDay.user_id)
    ).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--answers", type=int, default=1000, help="self-test answers per member of the branch")
    parser.add_argument("--levels", default="1000,10000,100000", help="answers of the heavy members (record)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",") if level]
    folder = tempfile.mkdtemp(prefix="oversight-bench-")
    if args.postgres:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}"
    try:
        upgrade_database(url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            started = time.perf_counter()
            branch_id, heavy = seed(session, args.members, args.answers, levels, random.Random(args.seed))
            seeded = time.perf_counter() - started
            total = session.scalar(select(func.count()).select_from(AttemptItem))
            started = time.perf_counter()
            rows = summaries.rebuild(session)
            rebuilt = time.perf_counter() - started
            print(
                f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; {total:,} answers seeded in {seeded:.1f} s"
            )
            print(f"summaries rebuilt: {rows:,} rows in {rebuilt:.1f} s\n")
            admin_user = session.scalar(select(User).where(User.role == Role.ADMIN))
            print(f"{'read':44} {'p50 ms':>8} {'p95 ms':>8} {'bare p50':>9} {'ratio':>7}")
            for level, user_id in heavy.items():
                member = session.get(User, user_id)
                p50, p95 = timed(lambda m=member: get_learning_record(session, m, m), args.repeat)
                b50, _ = timed(lambda u=user_id: bare_member(session, u), args.repeat)
                label = f"member record, {level:,} answers"
                print(f"{label:44} {p50:8.1f} {p95:8.1f} {b50:9.2f} {p50 / b50:7.1f}")
                o50, o95 = timed(lambda u=user_id: old_record(session, u), max(3, args.repeat // 5))
                print(f"{'  old way (every answer into Python)':44} {o50:8.1f} {o95:8.1f}")
            period = standards.current_period(standards.standard_for_branch(session, branch_id))
            start, end = period.start, period.end
            b50, _ = timed(lambda: bare_branch(session, branch_id, start, end), args.repeat)
            label = f"branch standings, {args.members + len(levels)} members"
            p50, p95 = timed(lambda: standards.branch_standings(session, admin_user, branch_id), args.repeat)
            print(f"{label:44} {p50:8.1f} {p95:8.1f} {b50:9.2f} {p50 / b50:7.1f}")
            first, _ = timed(lambda: dashboard.branch_dashboard(session, admin_user, branch_id), 1)
            p50, p95 = timed(lambda: dashboard.branch_dashboard(session, admin_user, branch_id), args.repeat)
            print(f"{'branch dashboard (12-month trend)':44} {p50:8.1f} {p95:8.1f} {b50:9.2f} {p50 / b50:7.1f}")
            print(f"{'  first read (stores 11 closed months)':44} {first:8.1f}")
        engine.dispose()
    finally:
        if args.postgres:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
