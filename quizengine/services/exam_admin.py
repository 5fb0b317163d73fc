"""What organizers do to an exam after members sit it: grade 简答, regrade, void a question, 补考, release.

Scope (services.access): per-member actions (grade a paper, 补考) need the member in the actor's scope
(`in_member_scope`); exam-wide actions (regrade, void, release) change every branch's papers, so on an
exam set for several branches they need the whole audience in scope (`owns_exam`: admin, or the
organizer of every branch of the exam).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.questions import Verdict
from quizengine.engine.scoring import round_points
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    AuditEntry,
    Exam,
    ExamOverride,
    Question,
    QuestionRevision,
    User,
    VoidedQuestion,
)

from .access import in_member_scope, require
from .exam_access import ExamError, get_exam, owns_exam
from .exam_grading import grade_attempt, voided_questions


def grade_short_answer(
    session: Session, grader: User, item_id: int, score: float, comment: str, *, clock: Clock | None = None
) -> AttemptItem:
    """An organizer grades a 简答 answer (0..points); the attempt is final when nothing is pending. Audited."""
    item = session.get(AttemptItem, item_id)
    require(item is not None and item.attempt.exam is not None, "没有找到这道题")
    assert item is not None
    require(in_member_scope(grader, item.attempt.user), "只能评阅本支部党员的试卷")
    if item.attempt.status != AttemptStatus.FINISHED:
        raise ExamError("试卷尚未提交，不能评阅")
    if not 0 <= score <= item.points:
        raise ExamError(f"得分应在 0 到 {item.points:g} 之间")
    item.score = round_points(score)
    item.credit = item.score / item.points if item.points else 0.0
    item.verdict = Verdict.CORRECT if item.score == item.points else Verdict.PARTIAL if item.score else Verdict.WRONG
    item.graded_by, item.graded_at, item.comment = grader.id, (clock or SystemClock()).now(), comment.strip() or None
    grade_attempt(session, item.attempt, voided_questions(session, item.attempt.exam_id))
    session.add(
        AuditEntry(
            actor_id=grader.id,
            action="exams.grade_short",
            subject=f"attempt {item.attempt_id} item {item.position + 1}",
            detail={"score": item.score, "comment": item.comment},
        )
    )
    session.commit()
    return item


@dataclass(frozen=True)
class ScoreChange:
    """How a regrade or a void changes one attempt's score."""

    attempt_id: int
    member: str
    before: float
    after: float


def _finished_attempts(session: Session, exam: Exam) -> list[Attempt]:
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.exam_id == exam.id, Attempt.status == AttemptStatus.FINISHED)
            .order_by(Attempt.id)
        )
    )


def regrade_exam(session: Session, actor: User, exam_id: int, *, dry_run: bool = True) -> list[ScoreChange]:
    """Re-mark submitted attempts against each question's current revision (after a key fix).

    Only revisions with the same option keys as the one asked are used (the member's choices keep their
    meaning). With `dry_run` nothing is written: the organizer sees the score changes first. Audited.
    """
    exam = get_exam(session, exam_id)
    require(owns_exam(actor, exam), "这场考试有其他支部参加，只有管理员或各参考支部的组织员才能执行")
    current = {
        question_id: revision
        for question_id, revision in session.execute(
            select(Question.id, QuestionRevision)
            .join(QuestionRevision, QuestionRevision.question_id == Question.id)
            .where(QuestionRevision.number == Question.current_revision)
        ).all()
    }
    voided = voided_questions(session, exam.id)
    changes = []
    for attempt in _finished_attempts(session, exam):
        before = attempt.score
        for item in attempt.items:
            latest = current.get(item.question_id)
            if latest is not None and latest.id != item.revision_id:
                same_keys = set(latest.content.get("options", {})) == set(item.revision.content.get("options", {}))
                if same_keys and latest.content["type"] == item.revision.content["type"]:
                    item.revision_id, item.revision = latest.id, latest
        grade_attempt(session, attempt, voided)
        if attempt.score != before:
            changes.append(ScoreChange(attempt.id, attempt.user.name, before, attempt.score))
    if dry_run:
        session.rollback()
        return changes
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action="exams.regrade",
            subject=exam.title,
            detail={"exam_id": exam.id, "changes": [change.__dict__ for change in changes]},
        )
    )
    session.commit()
    return changes


def void_question(
    session: Session, actor: User, exam_id: int, question_id: int, mode: str, reason: str
) -> list[ScoreChange]:
    """Void a question in an exam: full credit for everyone, or removed from the total. Audited."""
    exam = get_exam(session, exam_id)
    require(owns_exam(actor, exam), "这场考试有其他支部参加，只有管理员或各参考支部的组织员才能执行")
    if mode not in ("full_credit", "removed"):
        raise ExamError("作废方式只能是“全部给分”或“不计入总分”")
    if not reason.strip():
        raise ExamError("请填写作废原因")
    if session.scalar(
        select(VoidedQuestion.id).where(VoidedQuestion.exam_id == exam.id, VoidedQuestion.question_id == question_id)
    ):
        raise ExamError("这道题已经作废")
    session.add(VoidedQuestion(exam_id=exam.id, question_id=question_id, mode=mode, reason=reason.strip()))
    session.flush()
    voided = voided_questions(session, exam.id)
    changes = []
    for attempt in _finished_attempts(session, exam):
        before = attempt.score
        grade_attempt(session, attempt, voided)
        if attempt.score != before:
            changes.append(ScoreChange(attempt.id, attempt.user.name, before, attempt.score))
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action="exams.void_question",
            subject=exam.title,
            detail={"exam_id": exam.id, "question_id": question_id, "mode": mode, "reason": reason.strip()},
        )
    )
    session.commit()
    return changes


def set_override(
    session: Session,
    actor: User,
    exam_id: int,
    member_id: int,
    *,
    opens_at: datetime | None,
    closes_at: datetime | None,
    duration_minutes: int | None,
    extra_attempts: int,
) -> ExamOverride:
    """Give one member a 补考: their own window, duration or extra attempts. Audited."""
    exam = get_exam(session, exam_id)
    member = session.get(User, member_id)
    require(
        member is not None and in_member_scope(actor, member) and member.branch_id in {b.id for b in exam.branches},
        "只能为本支部党员安排补考",
    )
    assert member is not None
    if opens_at and closes_at and closes_at <= opens_at:
        raise ExamError("补考结束时间必须晚于开始时间")
    if duration_minutes is not None and not 1 <= duration_minutes <= 600:
        raise ExamError("考试时长应在 1 到 600 分钟之间")
    if extra_attempts < 0:
        raise ExamError("增加的作答次数不能为负数")
    override = session.scalar(
        select(ExamOverride).where(ExamOverride.exam_id == exam.id, ExamOverride.user_id == member.id)
    )
    override = override or ExamOverride(exam_id=exam.id, user_id=member.id)
    override.opens_at, override.closes_at = opens_at, closes_at
    override.duration_minutes, override.extra_attempts = duration_minutes, extra_attempts
    session.add(override)
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action="exams.override",
            subject=f"{exam.title} · {member.name}",
            detail={
                "exam_id": exam.id,
                "member_id": member.id,
                "extra_attempts": extra_attempts,
                "duration": duration_minutes,
            },
        )
    )
    session.commit()
    return override


def release_results(session: Session, actor: User, exam_id: int) -> None:
    """Show results and answers to members now (for the manual review policy). Audited."""
    exam = get_exam(session, exam_id)
    require(owns_exam(actor, exam), "这场考试有其他支部参加，只有管理员或各参考支部的组织员才能执行")
    exam.results_released = True
    session.add(AuditEntry(actor_id=actor.id, action="exams.release", subject=exam.title, detail={"exam_id": exam.id}))
    session.commit()
