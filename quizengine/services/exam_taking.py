"""Taking a timed exam: start (the paper is made once), tab switches, submit.

The server clock decides. Every answer is written as it is given (exam_saves); a reload or another device
resumes the same attempt. Finalizing and grading are in exam_grading; who may take which exam is in exam_access.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Exam,
    ExamBranch,
    User,
)

from .access import require
from .exam_access import ExamError, member_attempts, window_for
from .exam_grading import finalize, finalize_if_expired
from .exam_papers import member_paper


def start_exam(
    session: Session, member: User, exam_id: int, *, clock: Clock | None = None, rng: random.Random | None = None
) -> Attempt:
    """Return the member's open attempt, or create their paper once: questions, revisions, option order, deadline."""
    clock, rng = clock or SystemClock(), rng or random.Random()
    found = session.execute(  # the exam and whether the member's branch is in its audience, in one query
        select(Exam, ExamBranch.branch_id)
        .outerjoin(ExamBranch, and_(ExamBranch.exam_id == Exam.id, ExamBranch.branch_id == member.branch_id))
        .where(Exam.id == exam_id)
    ).first()
    if found is None:
        raise ExamError("没有找到这场考试")
    exam = found.Exam
    require(member.branch_id is not None and found.branch_id is not None, "您不在这场考试的参考范围内")
    if exam.status != "published":
        raise ExamError("考试尚未发布")
    now = clock.now()
    attempts = member_attempts(session, exam, member)
    for attempt in attempts:
        finalize_if_expired(session, attempt, exam, now)
    open_attempt = next((a for a in attempts if a.status == AttemptStatus.OPEN), None)
    if open_attempt is not None:
        return open_attempt
    window = window_for(session, exam, member)
    if now < window.opens_at:
        raise ExamError("考试尚未开始")
    if not window.is_open(now):
        raise ExamError("考试已结束")
    if len(attempts) >= window.attempts:
        raise ExamError("您已完成这场考试，没有剩余作答次数")
    paper, rows = member_paper(session, exam, rng)
    attempt = Attempt(
        user_id=member.id,
        mode="exam",
        kind="exam",
        title=exam.title,
        exam_id=exam.id,
        number=len(attempts) + 1,
        started_at=now,
        deadline_at=window.deadline(now, timedelta(seconds=exam.grace_seconds)).at,
        question_count=len(paper.items),
        max_score=paper.total_points,
    )
    session.add(attempt)
    try:
        session.flush()
        # The items as one executemany of a short INSERT: the ORM's multi-row INSERT … RETURNING is a
        # statement too long for psycopg to cache, re-parsed for every member who starts.
        session.execute(
            insert(AttemptItem.__table__),
            [
                {
                    "attempt_id": attempt.id,
                    "position": position,
                    "question_id": rows[item.question_id][0],
                    "revision_id": rows[item.question_id][1],
                    "option_order": list(item.option_order),
                    "points": item.points,
                }
                for position, item in enumerate(paper.items)
            ],
        )
        session.commit()
    except IntegrityError:  # the same member started twice at once (two devices): keep the first paper
        session.rollback()
        return next(a for a in member_attempts(session, exam, member) if a.status == AttemptStatus.OPEN)
    return attempt


def get_exam_attempt(session: Session, member: User, attempt_id: int, *, clock: Clock | None = None) -> Attempt:
    """The member's own exam attempt (finalized first if its time is up)."""
    attempt = session.get(Attempt, attempt_id, options=[joinedload(Attempt.exam)])
    require(attempt is not None and attempt.user_id == member.id and attempt.mode == "exam", "没有找到这份试卷")
    assert attempt is not None and attempt.exam is not None
    finalize_if_expired(session, attempt, attempt.exam, (clock or SystemClock()).now())
    return attempt


def record_tab_switch(session: Session, member: User, attempt_id: int) -> None:
    """Count a tab switch on an open attempt (shown to the organizer; never fails anyone)."""
    session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.user_id == member.id, Attempt.status == AttemptStatus.OPEN)
        .values(tab_switches=Attempt.tab_switches + 1)
    )
    session.commit()


def submit_exam(session: Session, member: User, attempt_id: int, *, clock: Clock | None = None) -> Attempt:
    """Hand in the attempt and grade it; submitting twice scores once."""
    clock = clock or SystemClock()
    attempt = get_exam_attempt(session, member, attempt_id, clock=clock)
    if attempt.status == AttemptStatus.OPEN:
        finalize(session, attempt, clock.now())
    return attempt
