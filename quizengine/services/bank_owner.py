"""Who owns a bank — the committee (shared) or one branch (its own) — and changing it without breaking an exam
that is still to come."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from quizengine.engine.errors import QuizError
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import AuditEntry, Bank, Branch, Exam

from .exam_papers import RANDOM, exam_blueprint


def set_owner(
    session: Session, slug: str, branch_name: str | None, *, actor_id: int | None = None, clock: Clock | None = None
) -> Bank:
    """Make a bank a branch's own (`branch_name`) or the committee's (None); audited. QuizError when either is
    unknown (the bank files keep no owner: a database rebuilt from them needs this), or when an exam still to
    come could no longer draw from the bank (`exams_held_by`): nothing changes then."""
    bank = session.scalar(select(Bank).where(Bank.slug == slug).execution_options(populate_existing=True))
    if bank is None:
        raise QuizError(f"没有题库“{slug}”")
    branch_id = None
    if branch_name is not None:
        branch_id = session.scalar(select(Branch.id).where(Branch.name == branch_name))
        if branch_id is None:
            raise QuizError(f"没有支部“{branch_name}”")
        held = exams_held_by(session, bank, branch_id, (clock or SystemClock()).now())
        if held:
            raise QuizError(
                f"题库“{slug}”正用于尚未结束的随机组卷考试{'、'.join(f'《{title}》' for title in held)}："
                f"改为{branch_name}自有后，这些考试中其他支部的党员将无法抽题。请在考试结束后再改，或先修改考试的出题范围"
            )
    bank.owner_branch_id = branch_id
    session.add(AuditEntry(actor_id=actor_id, action="banks.owner", subject=slug, detail={"branch_id": branch_id}))
    session.commit()
    return bank


def exams_held_by(session: Session, bank: Bank, owner_branch_id: int, now: datetime) -> list[str]:
    """Titles of the exams not yet closed that a change of `bank` to `owner_branch_id`'s own would break: a
    随机组卷 draws each member's paper at the start, and a section naming a branch's own bank is refused in an
    exam that is not for that branch alone (`bank_admin.bank_ids_for_branches`). A 统一试卷 was drawn when it
    was made and is not held back; a section of 全部题库 simply draws without the bank."""
    exams = session.scalars(
        select(Exam)
        .where(Exam.paper_mode == RANDOM, Exam.closes_at > now)
        .options(selectinload(Exam.branches))
        .order_by(Exam.opens_at, Exam.id)
    )
    return [
        exam.title
        for exam in exams
        if {branch.id for branch in exam.branches} != {owner_branch_id}
        and any(bank.slug in section.banks for section in exam_blueprint(exam).sections)
    ]
