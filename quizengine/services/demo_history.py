"""The demo's history, written in bulk: each member's self-test sessions month by month (more in the chapters
a month's plan concentrates on), and one exam a month for every branch, taken by most members."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

from quizengine.models import Branch, Exam, ExamBranch, User

from .demo_rows import (
    GRADABLE,
    PROFILES,
    DemoMember,
    DemoQuestion,
    DemoReport,
    RowWriter,
    item_row,
    local_time,
    month_end,
)
from .summaries import ZONE

#: The share of a month's answers that fall in its focus chapters.
FOCUS_SHARE = 0.8
EXAM_QUESTIONS, EXAM_POINTS = 20, 5.0


def self_test_history(
    writer: RowWriter,
    member: DemoMember,
    months: list[date],
    focus: dict[date, list[tuple[int, str]]],
    by_chapter: dict[tuple[int, str], list[DemoQuestion]],
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
    sessions: list[tuple[datetime, list[DemoQuestion]]] = []
    for first in months:
        end = min(month_end(first), today + timedelta(days=1))
        start = max(first, joined)
        if start >= end:
            continue
        count = rng.randint(low, high)
        if end > today:  # the current month: the share of it gone by, at least 40 % (members start early)
            elapsed = (today - first).days + 1
            count = math.ceil(count * max(elapsed / (month_end(first) - first).days, 0.4))
        span = (end - start).days
        for _ in range(count):
            day = start + timedelta(days=rng.randrange(span))
            moment = local_time(day, rng.randint(7, 21), rng.randrange(60)) + timedelta(seconds=rng.randrange(60))
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
            items.append(item_row(attempt_id, position, question, at, correct, 1.0, rng))
            writer.count((user_id, day, question.bank_id, question.category, 0), 0, correct)
            if keep_progress:
                writer.remember(user_id, question.id, at, correct)
    writer.items(items)
    report.sessions += len(rows)
    report.answers += len(items)


def monthly_exams(
    writer: RowWriter,
    members: list[DemoMember],
    branches: list[Branch],
    months: list[date],
    pool: list[DemoQuestion],
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
        current = month_end(first) > today
        opens = local_time(first, 9) if current else local_time(first.replace(day=20), 9)
        closes = (
            local_time(month_end(first) - timedelta(days=1), 22) if current else local_time(first.replace(day=27), 22)
        )
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
                items.append(item_row(attempt_id, position, question, at, correct, EXAM_POINTS, rng))
                key = (user_id, at.astimezone(ZONE).date(), question.bank_id, question.category, attempt_id)
                writer.count(key, exam.id, correct)
        writer.items(items)
        report.exam_attempts += len(rows)
