"""Setting an exam up: schedule it as a draft, preview and redraw its paper, publish it.

A new exam is a draft that members do not see. A 统一试卷 is drawn at once so the organizer can preview
it and redraw it; publishing freezes it. A 随机组卷 is checked to be drawable within its difficulty
tolerance (`engine.selection.select_balanced_paper`), and the preview shows one sample draw.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from quizengine.engine.questions import MultiplePolicy
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import AuditEntry, Branch, Exam, User
from quizengine.modes.timed_exam import ReviewPolicy

from .access import can_manage_branch, require
from .exam_access import ExamError, get_exam, owns_exam
from .exam_papers import RANDOM, UNIFORM, blueprint_from_json, draw_uniform, sample_paper, tolerance_of


@dataclass(frozen=True)
class ExamSpec:
    """What an organizer fills in to schedule an exam.

    `blueprint` may carry "difficulty_tolerance" (随机组卷: the ± band of every paper's total difficulty).
    """

    title: str
    branch_ids: tuple[int, ...]
    opens_at: datetime
    closes_at: datetime
    duration_minutes: int
    blueprint: dict[str, Any]
    shuffle_questions: bool = True
    shuffle_options: bool = True
    pass_mark: float = 60.0
    attempts_allowed: int = 1
    review_policy: ReviewPolicy = ReviewPolicy.AFTER_CLOSE
    multiple_policy: MultiplePolicy = MultiplePolicy.ALL_OR_NOTHING
    grace_seconds: int = 30
    paper_mode: str = UNIFORM


def _check_spec(session: Session, actor: User, spec: ExamSpec) -> None:
    if not spec.title.strip():
        raise ExamError("请填写考试名称")
    if not spec.branch_ids:
        raise ExamError("请选择参加考试的支部")
    for branch_id in spec.branch_ids:
        require(
            session.get(Branch, branch_id) is not None and can_manage_branch(actor, branch_id), "只能为本支部安排考试"
        )
    if spec.closes_at <= spec.opens_at:
        raise ExamError("结束时间必须晚于开始时间")
    if not 1 <= spec.duration_minutes <= 600:
        raise ExamError("考试时长应在 1 到 600 分钟之间")
    if spec.attempts_allowed < 1:
        raise ExamError("允许作答次数至少为 1")
    if not 0 <= spec.grace_seconds <= 600:
        raise ExamError("宽限时间应在 0 到 600 秒之间")
    if spec.paper_mode not in (UNIFORM, RANDOM):
        raise ExamError("组卷方式只能是“统一试卷”或“随机组卷”")
    blueprint = blueprint_from_json(spec.blueprint, spec.shuffle_questions, spec.shuffle_options)
    if not blueprint.sections and not blueprint.fixed_ids:
        raise ExamError("请至少设置一个组卷规则")
    if any(section.count < 1 or section.points <= 0 for section in blueprint.sections):
        raise ExamError("每个组卷规则的题数和分值都必须大于 0")
    if spec.paper_mode == RANDOM and blueprint.sections:
        if any(len(section.types) != 1 for section in blueprint.sections):
            raise ExamError("随机组卷的每个组卷规则都要选定一种题型，这样每份试卷各题型的题数相同")
        tolerance = tolerance_of(spec.blueprint)
        if tolerance is None or not 0 <= tolerance <= 20:
            raise ExamError("随机组卷的难度容差应在 0 到 20 之间")
    paper = sample_paper(session, spec.blueprint, spec.paper_mode, random.Random(0), spec.branch_ids)  # or refused
    if not 0 <= spec.pass_mark <= paper.total_points:
        raise ExamError(f"及格分应在 0 到总分 {paper.total_points:g} 之间")


def create_exam(session: Session, actor: User, spec: ExamSpec, *, rng: random.Random | None = None) -> Exam:
    """Schedule an exam as a draft after checking every setting; a 统一试卷 is drawn now for the preview. Audited."""
    _check_spec(session, actor, spec)
    exam = Exam(
        title=spec.title.strip(),
        created_by=actor.id,
        opens_at=spec.opens_at,
        closes_at=spec.closes_at,
        duration_minutes=spec.duration_minutes,
        blueprint=spec.blueprint,
        shuffle_questions=spec.shuffle_questions,
        shuffle_options=spec.shuffle_options,
        pass_mark=spec.pass_mark,
        attempts_allowed=spec.attempts_allowed,
        review_policy=spec.review_policy,
        multiple_policy=spec.multiple_policy,
        grace_seconds=spec.grace_seconds,
        paper_mode=spec.paper_mode,
        status="draft",
        branches=[session.get(Branch, branch_id) for branch_id in spec.branch_ids],
    )
    if exam.paper_mode == UNIFORM:
        exam.paper = draw_uniform(session, exam, rng or random.Random())
    session.add(exam)
    session.flush()
    session.add(AuditEntry(actor_id=actor.id, action="exams.create", subject=exam.title, detail={"exam_id": exam.id}))
    session.commit()
    return exam


def _draft(session: Session, actor: User, exam_id: int) -> Exam:
    exam = get_exam(session, exam_id)
    require(owns_exam(actor, exam), "这场考试有其他支部参加，只有管理员或各参考支部的组织员才能执行")
    if exam.status != "draft":
        raise ExamError("考试已发布，试卷不能再更改")
    return exam


def redraw_paper(session: Session, actor: User, exam_id: int, *, rng: random.Random | None = None) -> Exam:
    """Draw the 统一试卷 of a draft exam again (the organizer did not like the preview). Audited."""
    exam = _draft(session, actor, exam_id)
    if exam.paper_mode != UNIFORM:
        raise ExamError("随机组卷的考试每人单独抽题，没有统一试卷可以重抽")
    exam.paper = draw_uniform(session, exam, rng or random.Random())
    session.add(AuditEntry(actor_id=actor.id, action="exams.redraw", subject=exam.title, detail={"exam_id": exam.id}))
    session.commit()
    return exam


def publish_exam(session: Session, actor: User, exam_id: int, *, clock: Clock | None = None) -> Exam:
    """Publish a draft: members see it and, for a 统一试卷, the previewed paper is the paper. Audited."""
    exam = _draft(session, actor, exam_id)
    exam.status, exam.published_at = "published", (clock or SystemClock()).now()
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action="exams.publish",
            subject=exam.title,
            detail={"exam_id": exam.id, "paper_mode": exam.paper_mode},
        )
    )
    session.commit()
    return exam
