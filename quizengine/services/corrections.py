"""纠错: members report problems with questions they were asked; organizers resolve the reports.

A report names the revision the member saw (an attempt item's, or a contest's pinned revision) and where
they saw it. A member may have one open report per question; the organizer queue is per branch (the
reporter's branch when reporting; admins see all). A report is resolved once: fixed in a revision later than
the one reported (a bank edit made that revision), or rejected with a reason the reporter reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from quizengine.engine.errors import QuizError
from quizengine.engine.questions import OPTION_KEYS
from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    AuditEntry,
    Contest,
    ContestAnswer,
    ContestPlayer,
    ContestResult,
    Question,
    QuestionReport,
    QuestionRevision,
    ReportStatus,
    User,
)

from .access import can_manage_branch, is_admin, is_organizer, require
from .contest_commands import can_host
from .exam_access import review_is_visible

#: Why a member reports a question (key -> what the form and the queue show).
REASONS: dict[str, str] = {
    "answer": "答案有误",
    "stem": "题干有误或有歧义",
    "options": "选项有误",
    "explanation": "解析或出处有误",
    "outdated": "内容已过时",
    "other": "其他问题",
}
#: Longest description or resolution note a client may send.
TEXT_MAX = 500
SOURCE_LABELS = {"practice": "自测练习", "exam": "在线考试", "contest": "知识竞赛"}
STATUS_LABELS = {ReportStatus.OPEN: "待处理", ReportStatus.FIXED: "已更正", ReportStatus.REJECTED: "未采纳"}


@dataclass(frozen=True)
class ReportTarget:
    """A question as the member saw it: the revision, where, and the options in the member's order."""

    question: Question
    revision: QuestionRevision
    engine: EngineQuestion
    source: str
    source_id: int
    options: list[tuple[str, str]]


def engine_of(revision: QuestionRevision) -> EngineQuestion:
    """A stored revision as an engine question."""
    return EngineQuestion.from_content(revision.question.external_id, revision.content)


def authored_options(question: EngineQuestion) -> list[tuple[str, str]]:
    """(key, text) pairs in authoring order: how a question looks before any shuffle (queue, print, bank pages)."""
    return [(option.key, option.text) for option in question.options]


def answer_label(question: EngineQuestion) -> str:
    """The correct answer in authoring keys, as organizers read it: B, ABD, 对/错, the accepted blanks, the text."""
    if question.type == "single":
        return str(question.answer)
    if question.type == "multiple":
        return "".join(question.answer)
    if question.type == "judge":
        return "对" if question.answer else "错"
    if question.type == "fill":
        return "；".join("/".join(accepted) for accepted in question.answer)
    return str(question.answer)


def target_for_item(session: Session, user: User, item_id: int, *, clock: Clock | None = None) -> ReportTarget:
    """An item of the member's own attempt, once its answer is shown (practice feedback, exam review)."""
    item = session.get(AttemptItem, item_id)
    require(item is not None and item.attempt.user_id == user.id, "没有找到这道题")
    assert item is not None
    attempt: Attempt = item.attempt
    if attempt.mode == "exam":
        exam = attempt.exam
        now = (clock or SystemClock()).now()
        shown = attempt.status == AttemptStatus.FINISHED and exam is not None and review_is_visible(exam, now)
        source = "exam"
    else:
        finished = attempt.status == AttemptStatus.FINISHED
        shown = finished if attempt.kind == "mock" else item.answered_at is not None
        source = "practice"
    if not shown:
        raise QuizError("这道题的答案公布后才能纠错")
    engine = engine_of(item.revision)
    texts = dict(authored_options(engine))
    options = [(OPTION_KEYS[index], texts[key]) for index, key in enumerate(item.option_order)] or authored_options(
        engine
    )
    return ReportTarget(item.question, item.revision, engine, source, attempt.id, options)


def _took_part(session: Session, user: User, contest: Contest) -> bool:
    for model in (ContestResult, ContestPlayer):
        found = session.scalar(
            select(func.count()).select_from(model).where(model.contest_id == contest.id, model.user_id == user.id)
        )
        if found:
            return True
    return False


def contest_for_reports(session: Session, user: User, contest_id: int) -> Contest:
    """A contest the user took part in (or may host); its questions are open to 纠错 once it has finished."""
    contest = session.get(Contest, contest_id)
    require(contest is not None and (can_host(user, contest) or _took_part(session, user, contest)), "没有找到这场竞赛")
    assert contest is not None
    return contest


def contest_questions(session: Session, contest: Contest) -> list[ReportTarget]:
    """The questions answered in a finished contest, in the order asked, with their pinned revisions."""
    if contest.finished_at is None:
        raise QuizError("比赛结束后才能对本场题目纠错")
    asked = session.execute(
        select(ContestAnswer.question_id, func.min(ContestAnswer.question_seq))
        .where(ContestAnswer.contest_id == contest.id)
        .group_by(ContestAnswer.question_id)
        .order_by(func.min(ContestAnswer.question_seq))
    ).all()
    revision_ids = [contest.revisions[external] for external, _ in asked if external in contest.revisions]
    revisions = {
        revision.id: revision
        for revision in session.scalars(
            select(QuestionRevision)
            .options(joinedload(QuestionRevision.question))
            .where(QuestionRevision.id.in_(revision_ids))
        )
    }
    targets = []
    for revision_id in revision_ids:
        revision = revisions[revision_id]
        engine = engine_of(revision)
        targets.append(
            ReportTarget(revision.question, revision, engine, "contest", contest.id, authored_options(engine))
        )
    return targets


def target_for_contest(session: Session, user: User, contest_id: int, question_id: int) -> ReportTarget:
    """One question of a finished contest the user took part in."""
    contest = contest_for_reports(session, user, contest_id)
    for target in contest_questions(session, contest):
        if target.question.id == question_id:
            return target
    raise QuizError("本场竞赛没有这道题")


def open_report(session: Session, user: User, question_id: int) -> QuestionReport | None:
    """The member's open report on a question, if any (one at a time)."""
    return session.scalar(
        select(QuestionReport).where(QuestionReport.user_id == user.id, QuestionReport.open_question_id == question_id)
    )


def submit_report(
    session: Session, user: User, target: ReportTarget, reason: str, text: str, *, clock: Clock | None = None
) -> QuestionReport:
    """Save a report and audit it; refused (nothing saved) for an unknown reason, a missing description for
    其他问题, or a second open report on the same question."""
    if reason not in REASONS:
        raise QuizError("请选择问题类型")
    text = text.strip()
    if len(text) > TEXT_MAX:
        raise QuizError(f"问题说明最多 {TEXT_MAX} 字")
    if reason == "other" and not text:
        raise QuizError("选择“其他问题”时请写明问题")
    duplicate = "你已报告过这道题，组织员处理后才能再次报告"
    if open_report(session, user, target.question.id) is not None:
        raise QuizError(duplicate)
    now = (clock or SystemClock()).now()
    report = QuestionReport(
        question_id=target.question.id,
        revision_id=target.revision.id,
        user_id=user.id,
        branch_id=user.branch_id,
        reason=reason,
        text=text,
        source=target.source,
        source_id=target.source_id,
        status=ReportStatus.OPEN,
        open_question_id=target.question.id,
        created_at=now,
    )
    session.add(report)
    try:
        session.flush()
    except IntegrityError:  # the same member's second tab won the race
        session.rollback()
        raise QuizError(duplicate) from None
    session.add(
        AuditEntry(
            at=now,
            actor_id=user.id,
            action="corrections.report",
            subject=target.question.external_id,
            detail={"report": report.id, "revision": target.revision.number, "reason": reason, "source": target.source},
        )
    )
    session.commit()
    return report


def my_reports(session: Session, user: User) -> list[QuestionReport]:
    """The member's reports, newest first, with the question and the outcome."""
    return list(
        session.scalars(
            select(QuestionReport)
            .options(joinedload(QuestionReport.question), joinedload(QuestionReport.revision))
            .where(QuestionReport.user_id == user.id)
            .order_by(QuestionReport.created_at.desc(), QuestionReport.id.desc())
        )
    )


@dataclass(frozen=True)
class QueueEntry:
    """One question of the queue: its reported revision (as members see it), current revision, and reports."""

    question: Question
    revision: QuestionRevision
    engine: EngineQuestion
    reports: list[QuestionReport]


def can_review(user: User) -> bool:
    """Organizers and admins see a 纠错 queue (an organizer: their branch's reports)."""
    return is_organizer(user)


def queue(session: Session, user: User, status: str = ReportStatus.OPEN) -> list[QueueEntry]:
    """Reports in the user's scope with the given status, grouped by question and reported revision."""
    require(can_review(user))
    query = (
        select(QuestionReport)
        .options(
            joinedload(QuestionReport.question),
            joinedload(QuestionReport.revision),
            joinedload(QuestionReport.user),
        )
        .where(QuestionReport.status == status)
        .order_by(QuestionReport.created_at, QuestionReport.id)
    )
    if not is_admin(user):
        query = query.where(QuestionReport.branch_id == user.branch_id)
    grouped: dict[int, list[QuestionReport]] = {}
    for report in session.scalars(query):
        grouped.setdefault(report.revision_id, []).append(report)
    return [
        QueueEntry(reports[0].question, reports[0].revision, engine_of(reports[0].revision), reports)
        for reports in grouped.values()
    ]


def resolve(
    session: Session,
    actor: User,
    report_id: int,
    outcome: str,
    *,
    revision: int | None = None,
    note: str = "",
    clock: Clock | None = None,
) -> QuestionReport:
    """Resolve an open report: fixed in a revision after the reported one, or rejected with a reason."""
    report = session.get(QuestionReport, report_id)
    require(report is not None and can_review(actor) and can_manage_branch(actor, report.branch_id))
    assert report is not None
    if report.status != ReportStatus.OPEN:
        raise QuizError("这条纠错已经处理过了")
    note = note.strip()
    if len(note) > TEXT_MAX:
        raise QuizError(f"处理说明最多 {TEXT_MAX} 字")
    detail: dict[str, Any] = {"report": report.id, "outcome": outcome}
    if outcome == ReportStatus.FIXED:
        reported = report.revision.number
        current = report.question.current_revision
        if revision is None or not reported < revision <= current:
            if current <= reported:
                raise QuizError(f"这道题还没有第 {reported} 版之后的修订：请先修改题库，再标记为已更正")
            raise QuizError(f"请填写更正后的版本号（{reported + 1} 到 {current} 之间）")
        report.fixed_revision = revision
        detail["revision"] = revision
    elif outcome == ReportStatus.REJECTED:
        if not note:
            raise QuizError("不采纳时请写明原因")
    else:
        raise QuizError("请选择处理结果")
    now = (clock or SystemClock()).now()
    report.status, report.open_question_id = outcome, None
    report.resolution, report.resolved_at, report.resolved_by = note, now, actor.id
    session.add(
        AuditEntry(
            at=now, actor_id=actor.id, action="corrections.resolve", subject=report.question.external_id, detail=detail
        )
    )
    session.commit()
    return report


def my_finished_contests(session: Session, user: User, limit: int = 10) -> list[Contest]:
    """The latest finished contests the member took part in (their questions are open to 纠错)."""
    joined = (
        select(ContestResult.contest_id)
        .where(ContestResult.user_id == user.id)
        .union(select(ContestPlayer.contest_id).where(ContestPlayer.user_id == user.id))
    )
    return list(
        session.scalars(
            select(Contest)
            .where(Contest.id.in_(joined), Contest.finished_at.is_not(None))
            .order_by(Contest.finished_at.desc())
            .limit(limit)
        )
    )
