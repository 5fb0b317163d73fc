"""Per-member-per-day summaries: kept on write by practice and exams, equal to a rebuild, backfilled by 0007."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from alembic import command
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.questions import Verdict
from quizengine.engine.timing import FakeClock
from quizengine.extensions import db
from quizengine.models import Attempt, Bank, MemberDay, Question, Role
from quizengine.modes.self_test import PracticeKind
from quizengine.services import exam_admin, exam_saves, exam_taking, practice, summaries
from quizengine.services.attempt_items import paper_item
from quizengine.services.records import get_learning_record
from quizengine.services.schema import alembic_config

from .test_exams import _bank as exam_bank
from .test_exams import _spec, scheduled

# 15:50 UTC is 23:50 in Shanghai: ten minutes later it is the next local day.
LATE = datetime(2026, 11, 30, 15, 50, tzinfo=UTC)


def _rows(session: Session) -> list[tuple]:
    session.expire_all()
    return sorted(
        session.execute(
            select(
                MemberDay.user_id,
                MemberDay.day,
                MemberDay.bank_id,
                MemberDay.category,
                MemberDay.attempt_id,
                MemberDay.exam_id,
                MemberDay.answered,
                MemberDay.correct,
                MemberDay.sessions,
            )
        ).all()
    )


def _banks(session: Session) -> tuple[int, ...]:
    return tuple(session.scalars(select(Bank.id)))


def _any(item, key: str = "A"):  # type: ignore[no-untyped-def]
    """Some valid answer of the item's type (option `key` for choices)."""
    kind = item.revision.content["type"]
    shown = paper_item(item).shown_key(key) if kind in ("single", "multiple") else None
    blanks = ["一年"] * len(item.revision.content.get("answer") or [[]]) if kind == "fill" else None
    return {"single": shown, "multiple": [shown], "judge": True, "fill": blanks, "short": "要点"}[kind]


def _practise(session: Session, member, clock: FakeClock, count: int, answer=_any) -> Attempt:  # type: ignore[no-untyped-def]
    request = practice.PracticeRequest(PracticeKind.RANDOM, _banks(session), count=count)
    # A fixed draw: an unseeded one sometimes put a short answer (pending, so not counted) after midnight.
    attempt = practice.start_practice(session, member, request, clock=clock, rng=random.Random(count))
    for item in attempt.items:
        practice.answer_item(session, member, attempt.id, item.position, answer(item), clock=clock)
        clock.advance(minutes=3)
    return attempt


def _seed(session: Session, runner: FlaskCliRunner, make_user, tmp_path) -> tuple:  # type: ignore[no-untyped-def]
    """Self-test across a local midnight, an unfinished session, and an exam graded, voided and short-graded."""
    assert runner.invoke(args=["banks", "load", str(exam_bank(tmp_path))]).exit_code == 0
    organizer = make_user(Role.ORGANIZER, username="org")
    member, other = make_user(username="m1"), make_user(username="m2")
    clock = FakeClock(LATE)
    _practise(session, member, clock, 5)  # 23:50 → 00:05: answers on two local days, session on the second
    _practise(session, other, clock, 5, answer=lambda item: _any(item, "B"))
    open_attempt = practice.start_practice(
        session, member, practice.PracticeRequest(PracticeKind.RANDOM, _banks(session), count=5), clock=clock
    )
    practice.answer_item(session, member, open_attempt.id, 0, _any(open_attempt.items[0]), clock=clock)  # left open
    exam = scheduled(session, organizer, _spec(session, clock))
    for who in (member, other):
        attempt = exam_taking.start_exam(session, who, exam.id, clock=clock)
        for item in attempt.items:
            exam_saves.save_answer(session, who.id, attempt.id, item.position, _any(item), clock=clock)
        exam_taking.submit_exam(session, who, attempt.id, clock=clock)
    return organizer, member, other, exam, clock


def test_incremental_summaries_equal_a_rebuild(session: Session, runner: FlaskCliRunner, make_user, tmp_path) -> None:  # type: ignore[no-untyped-def]
    organizer, member, _other, exam, _clock = _seed(session, runner, make_user, tmp_path)
    rows = _rows(session)
    days = {row[1] for row in rows if row[0] == member.id and row[4] == 0 and row[2]}
    assert days == {date(2026, 11, 30), date(2026, 12, 1)}  # local days, not UTC days
    pending = [row for row in rows if row[5] == exam.id and row[2]]
    assert pending and sum(row[6] for row in pending) < 2 * 11  # pending short answers are not counted yet
    assert summaries.rebuild(session) == len(rows)
    assert _rows(session) == rows
    # Grading a short answer, a void and a regrade each replace the attempt's rows.
    short = next(
        item
        for item in session.scalars(select(Attempt).where(Attempt.exam_id == exam.id, Attempt.user_id == member.id))
        .one()
        .items
        if item.verdict == Verdict.PENDING
    )
    exam_admin.grade_short_answer(session, organizer, short.id, 10, "")
    voided = session.scalar(select(Question.id).where(Question.external_id == "e-j0"))
    exam_admin.void_question(session, organizer, exam.id, voided, "removed", "题干有歧义")
    exam_admin.regrade_exam(session, organizer, exam.id, dry_run=False)
    after = _rows(session)
    assert after != rows
    summaries.rebuild(session)
    assert _rows(session) == after


def test_record_reads_the_summaries_and_the_cli_rebuilds_them(
    app: Flask, session: Session, runner: FlaskCliRunner, make_user, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _, member, _, _, clock = _seed(session, runner, make_user, tmp_path)
    clock.advance(days=1)  # the exam has closed: its answers count
    before = get_learning_record(session, member, member, clock=clock)
    assert before.answered > 6 and before.points > 0
    session.execute(MemberDay.__table__.delete())
    session.commit()
    assert get_learning_record(session, member, member, clock=clock).answered == 0  # the page reads summaries
    result = runner.invoke(args=["records", "rebuild-summaries"])
    assert result.exit_code == 0 and "已重建" in result.output
    after = get_learning_record(session, member, member, clock=clock)
    assert (after.answered, after.correct, after.points, after.days) == (
        before.answered,
        before.correct,
        before.points,
        before.days,
    )


def test_migration_backfills_the_summaries_from_existing_attempts(
    app: Flask, session: Session, runner: FlaskCliRunner, make_user, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _seed(session, runner, make_user, tmp_path)
    expected = _rows(session)
    session.close()
    db.session.remove()
    url = app.config["DATABASE_URL"]
    command.downgrade(alembic_config(url), "0007_inspectors")
    command.upgrade(alembic_config(url), "head")
    assert _rows(session) == expected and expected


def test_only_finished_sessions_with_answers_count(session: Session, runner, make_user, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["banks", "load", str(exam_bank(tmp_path))]).exit_code == 0
    member = make_user()
    clock = FakeClock(LATE)
    empty = practice.start_practice(
        session, member, practice.PracticeRequest(PracticeKind.RANDOM, _banks(session), count=5), clock=clock
    )
    practice.finish_attempt(session, member, empty.id, clock=clock)
    practice.finish_attempt(session, member, empty.id, clock=clock)
    assert _rows(session) == []
    clock.advance(hours=1)
    attempt = practice.start_practice(
        session, member, practice.PracticeRequest(PracticeKind.RANDOM, _banks(session), count=5), clock=clock
    )
    practice.answer_item(session, member, attempt.id, 0, _any(attempt.items[0]), clock=clock)
    practice.finish_attempt(session, member, attempt.id, clock=clock)
    practice.finish_attempt(session, member, attempt.id, clock=clock)  # twice: counted once
    sessions = [row for row in _rows(session) if row[2] == 0]
    assert [(row[1], row[8]) for row in sessions] == [(date(2026, 12, 1), 1)]
