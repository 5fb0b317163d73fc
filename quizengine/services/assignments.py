"""支部布置的练习: an organizer sets a targeted practice (N questions of some chapters of one bank) for the
branch, members see it on their home and record pages until they have done it, the organizer sees who has.

Done means: the member finished a self-test session started from the assignment with every question answered.
The session is an ordinary self-test attempt (`services.practice`), so it counts in the learning record and the
验收标准 like any other. Every write checks access (services.access) and is audited; a bad form changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from quizengine.engine.errors import QuizError
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import (
    Attempt,
    AttemptStatus,
    AuditEntry,
    Bank,
    BankCategory,
    Branch,
    PracticeAssignee,
    PracticeAssignment,
    Question,
    Role,
    User,
)
from quizengine.modes.self_test import PracticeKind

from . import practice
from .access import can_manage_branch, can_read_branch, require
from .summaries import local_day

#: How many questions an assignment may ask for.
MIN_COUNT, MAX_COUNT = 1, 50
MAX_TITLE = 100


class AssignmentError(QuizError):
    """An assignment cannot be set, started or closed as asked (the message says why, in Chinese)."""

    code = "assignment_error"


@dataclass(frozen=True)
class AssigneeState:
    """One member of an assignment: done or not, and the finished session that did it."""

    member: User
    attempt: Attempt | None

    @property
    def done(self) -> bool:
        """Finished a session from the assignment with every question answered."""
        attempt = self.attempt
        return (
            attempt is not None
            and attempt.status == AttemptStatus.FINISHED
            and attempt.question_count > 0
            and attempt.answered_count >= attempt.question_count
        )


@dataclass(frozen=True)
class AssignmentProgress:
    """An assignment with its chapters' titles and each member's state (by name)."""

    assignment: PracticeAssignment
    chapter_titles: list[str]
    rows: list[AssigneeState]

    @property
    def done(self) -> list[AssigneeState]:
        """Members who have done it."""
        return [row for row in self.rows if row.done]

    @property
    def pending(self) -> list[AssigneeState]:
        """Members who have not (yet)."""
        return [row for row in self.rows if not row.done]

    @property
    def is_open(self) -> bool:
        """Still shown to members (not closed by the organizer)."""
        return self.assignment.closed_at is None


def due_label(due_on: date | None) -> str:
    """截止 12月20日, or an empty string without a due date."""
    return f"截止{due_on.month}月{due_on.day}日" if due_on else ""


def _audit(session: Session, actor: User, action: str, assignment: PracticeAssignment, **detail: object) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action=action,
            subject=assignment.title,
            detail={"assignment_id": assignment.id, "branch_id": assignment.branch_id, **detail},
        )
    )


def _chapters(session: Session, values: Iterable[str], branch_id: int) -> tuple[Bank, list[BankCategory]]:
    """The chosen "bank_id:key" chapters, all of one bank the branch sees (shared, or its own)."""
    pairs = []
    for value in values:
        bank_id, _, key = value.partition(":")
        if not bank_id.isdigit() or not key:
            raise AssignmentError(f"没有找到章节“{value[:50]}”")
        pairs.append((int(bank_id), key))
    if not pairs:
        raise AssignmentError("请至少选择一个章节")
    if len({bank_id for bank_id, _ in pairs}) > 1:
        raise AssignmentError("所选章节须属于同一题库")
    bank = session.get(Bank, pairs[0][0])
    if bank is not None and bank.owner_branch_id is not None and bank.owner_branch_id != branch_id:
        bank = None  # another branch's own bank: as if it did not exist
    known = {category.key: category for category in bank.categories} if bank else {}
    missing = [key for _, key in pairs if key not in known]
    if bank is None or missing:
        raise AssignmentError(f"没有找到章节“{(missing or [pairs[0][1]])[0][:50]}”")
    return bank, [known[key] for key in dict.fromkeys(key for _, key in pairs)]


def _count(value: str | int) -> int:
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not MIN_COUNT <= int(text) <= MAX_COUNT:
        raise AssignmentError(f"题量须为 {MIN_COUNT}–{MAX_COUNT} 之间的整数")
    return int(text)


def _due(value: str | date | None, today: date) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        due = value
    else:
        try:
            due = date.fromisoformat(value.strip())
        except ValueError:
            raise AssignmentError("截止日期格式不正确，请选择一个日期") from None
    if due < today:
        raise AssignmentError("截止日期不能早于今天")
    return due


def _assignees(session: Session, branch_id: int, member_ids: Sequence[str | int] | None) -> list[User]:
    """Every active account of the branch (members and its organizers), or the chosen ones of them."""
    branch_members = session.scalars(
        select(User).where(
            User.branch_id == branch_id, User.active.is_(True), User.role.in_([Role.MEMBER, Role.ORGANIZER])
        )
    ).all()
    if member_ids is None:
        if not branch_members:
            raise AssignmentError("本支部还没有可布置的党员")
        return list(branch_members)
    by_id = {member.id: member for member in branch_members}
    chosen = []
    for value in member_ids:
        text = str(value).strip()
        if not text.isdigit() or int(text) not in by_id:
            raise AssignmentError("所选党员不属于本支部或已停用")
        chosen.append(by_id[int(text)])
    if not chosen:
        raise AssignmentError("请至少选择一名党员")
    return list(dict.fromkeys(chosen))


def create_assignment(
    session: Session,
    actor: User,
    branch_id: int,
    *,
    title: str,
    chapters: Sequence[str],
    count: str | int,
    due_on: str | date | None = None,
    member_ids: Sequence[str | int] | None = None,
    clock: Clock | None = None,
) -> PracticeAssignment:
    """Set a practice for the branch (its organizer or an admin): `chapters` are "bank_id:key" of one bank,
    `member_ids` None means every active member. Everything is checked before anything is written."""
    require(can_manage_branch(actor, branch_id), "只能为本支部布置练习")
    require(session.get(Branch, branch_id) is not None, "没有找到该支部")
    title = title.strip()
    if not title:
        raise AssignmentError("请填写练习名称")
    if len(title) > MAX_TITLE:
        raise AssignmentError(f"练习名称最多 {MAX_TITLE} 个字")
    bank, categories = _chapters(session, chapters, branch_id)
    number = _count(count)
    available = session.scalar(
        select(func.count(Question.id)).where(
            Question.bank_id == bank.id,
            Question.retired.is_(False),
            Question.category.in_([category.key for category in categories]),
        )
    )
    if not available:
        raise AssignmentError("所选章节没有题目")
    if number > available:
        raise AssignmentError(f"所选章节只有 {available} 道题，题量不能超过 {available}")
    due = _due(due_on, today(clock))
    members = _assignees(session, branch_id, member_ids)
    assignment = PracticeAssignment(
        branch_id=branch_id,
        title=title,
        bank_id=bank.id,
        chapters=[category.key for category in categories],
        count=number,
        due_on=due,
        created_by=actor.id,
        assignees=[PracticeAssignee(user_id=member.id) for member in members],
    )
    session.add(assignment)
    session.flush()
    _audit(
        session,
        actor,
        "assignments.create",
        assignment,
        bank=bank.title,
        chapters=assignment.chapters,
        count=number,
        due_on=due.isoformat() if due else None,
        members=[member.username for member in members],
    )
    session.commit()
    return assignment


def _progress(session: Session, assignments: Sequence[PracticeAssignment]) -> list[AssignmentProgress]:
    titles = {
        (bank_id, key): title
        for bank_id, key, title in session.execute(
            select(BankCategory.bank_id, BankCategory.key, BankCategory.title).where(
                BankCategory.bank_id.in_({assignment.bank_id for assignment in assignments})
            )
        )
    }
    return [
        AssignmentProgress(
            assignment,
            [titles.get((assignment.bank_id, key), key) for key in assignment.chapters],
            sorted(
                (AssigneeState(row.user, row.attempt) for row in assignment.assignees),
                key=lambda state: state.member.name,
            ),
        )
        for assignment in assignments
    ]


def _with_rows(query: Select[tuple[PracticeAssignment]]) -> Select[tuple[PracticeAssignment]]:
    return query.options(
        selectinload(PracticeAssignment.bank),
        selectinload(PracticeAssignment.assignees).selectinload(PracticeAssignee.user),
        selectinload(PracticeAssignment.assignees).selectinload(PracticeAssignee.attempt),
    )


def branch_assignments(
    session: Session, viewer: User, branch_id: int, *, open_only: bool = False
) -> list[AssignmentProgress]:
    """The branch's assignments, open ones first, newest first (its organizer, an admin, its inspectors)."""
    require(can_read_branch(viewer, branch_id), "只能查看本支部布置的练习")
    query = select(PracticeAssignment).where(PracticeAssignment.branch_id == branch_id)
    if open_only:
        query = query.where(PracticeAssignment.closed_at.is_(None))
    rows = session.scalars(_with_rows(query).order_by(PracticeAssignment.id.desc())).all()
    return sorted(_progress(session, rows), key=lambda progress: not progress.is_open)


def assignment_progress(session: Session, viewer: User, assignment_id: int) -> AssignmentProgress:
    """One assignment with who has done it (the readers of its branch)."""
    assignment = session.get(PracticeAssignment, assignment_id)
    require(assignment is not None and can_read_branch(viewer, assignment.branch_id), "没有找到该练习")
    assert assignment is not None
    return _progress(session, [assignment])[0]


@dataclass(frozen=True)
class MemberAssignment:
    """An open assignment as one member sees it."""

    progress: AssignmentProgress
    state: AssigneeState


def member_assignments(session: Session, member: User, *, pending_only: bool = False) -> list[MemberAssignment]:
    """The open assignments set for `member` (the caller checked the viewer may see the member)."""
    query = (
        select(PracticeAssignment)
        .join(PracticeAssignee, PracticeAssignee.assignment_id == PracticeAssignment.id)
        .where(PracticeAssignee.user_id == member.id, PracticeAssignment.closed_at.is_(None))
    )
    assignments = session.scalars(_with_rows(query).order_by(PracticeAssignment.id.desc())).all()
    result = []
    for progress in _progress(session, assignments):
        state = next(row for row in progress.rows if row.member.id == member.id)
        if not (pending_only and state.done):
            result.append(MemberAssignment(progress, state))
    return result


def start_assignment(
    session: Session, member: User, assignment_id: int, *, clock: Clock | None = None, rng: random.Random | None = None
) -> Attempt:
    """Start (or resume) the member's session of the assignment: its count of questions of its chapters."""
    row = session.get(PracticeAssignee, (assignment_id, member.id))
    require(row is not None, "没有找到该练习")
    assert row is not None
    assignment = row.assignment
    if assignment.closed_at is not None:
        raise AssignmentError("该练习已被支部结束")
    if AssigneeState(member, row.attempt).done:
        raise AssignmentError("你已完成该练习")
    if row.attempt is not None and row.attempt.status == AttemptStatus.OPEN:
        return row.attempt
    request = practice.PracticeRequest(
        PracticeKind.RANDOM,
        (assignment.bank_id,),
        tuple((assignment.bank_id, key) for key in assignment.chapters),
        count=assignment.count,
        assignment_id=assignment.id,
        title=f"支部布置 · {assignment.title}",
    )
    attempt = practice.start_practice(session, member, request, clock=clock, rng=rng)
    row.attempt = attempt
    session.commit()
    return attempt


def close_assignment(session: Session, actor: User, assignment_id: int, *, clock: Clock | None = None) -> None:
    """End an assignment (its organizer or an admin): members no longer see it; who did it stays recorded."""
    assignment = session.get(PracticeAssignment, assignment_id)
    require(assignment is not None and can_manage_branch(actor, assignment.branch_id), "没有找到该练习")
    assert assignment is not None
    if assignment.closed_at is not None:
        raise AssignmentError("该练习已经结束")
    progress = _progress(session, [assignment])[0]
    assignment.closed_at = (clock or SystemClock()).now()
    _audit(session, actor, "assignments.close", assignment, done=len(progress.done), members=len(progress.rows))
    session.commit()


def reminder_lines(assignments: Iterable[AssignmentProgress]) -> list[str]:
    """One line per open assignment someone has not done yet, for the branch's chat-group reminder."""
    lines = []
    for progress in assignments:
        if progress.is_open and progress.pending:
            due = due_label(progress.assignment.due_on)
            names = "、".join(row.member.name for row in progress.pending)
            lines.append(f"· 支部布置的练习“{progress.assignment.title}”{f'（{due}）' if due else ''}未完成：{names}")
    return lines


def today(clock: Clock | None = None) -> date:
    """Today in Asia/Shanghai (the form's earliest due date)."""
    return local_day((clock or SystemClock()).now())
