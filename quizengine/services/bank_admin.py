"""题库管理: which banks a user sees and may change, the bank list with its counts, and exports from the database.

A bank is the committee's (shared, `owner_branch_id` NULL: the shipped banks and what an admin uploads) or a
branch's own (uploaded by its organizer). Everyone sees the shared banks; a branch's own bank is seen and used
only by that branch (its members, organizer and inspectors) and admins. Admins change every bank, an
organizer only their branch's own; inspectors and members change none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from quizengine.banks.importing import bank_from_loaded
from quizengine.banks.loader import Bank as LoadedBank
from quizengine.banks.loader import Category
from quizengine.engine.errors import QuizError
from quizengine.models import Bank, Question, Role, User

from .access import inspected_branch_ids, is_admin, is_reader, require
from .questions import live_questions_query, load_live


def visible_branch_ids(user: User) -> set[int] | None:
    """The branches whose own banks `user` sees (None: every branch's, for admins)."""
    if is_admin(user):
        return None
    if user.role == Role.INSPECTOR:
        return inspected_branch_ids(user)
    return {user.branch_id} if user.branch_id is not None else set()


def bank_visible_clause(user: User) -> ColumnElement[bool]:
    """`can_see_bank` as a WHERE clause over `Bank`: the shared banks plus the user's branches' own."""
    branches = visible_branch_ids(user)
    if branches is None:
        return true()
    if not branches:
        return Bank.owner_branch_id.is_(None)
    return or_(Bank.owner_branch_id.is_(None), Bank.owner_branch_id.in_(sorted(branches)))


def can_see_bank(user: User, bank: Bank) -> bool:
    """A shared bank, or one owned by a branch the user belongs to (or inspects); admins see all."""
    branches = visible_branch_ids(user)
    return bank.owner_branch_id is None or branches is None or bank.owner_branch_id in branches


def visible_banks(session: Session, user: User) -> list[Bank]:
    """The banks `user` may pick (exam forms), by title."""
    return list(session.scalars(select(Bank).where(bank_visible_clause(user)).order_by(Bank.title)))


def visible_bank_ids(session: Session, user: User) -> list[int]:
    """Ids of the banks `user` may see and use (practice, exam forms, contest plans, search)."""
    return list(session.scalars(select(Bank.id).where(bank_visible_clause(user)).order_by(Bank.id)))


def bank_ids_for_branches(session: Session, branch_ids: Iterable[int]) -> list[int]:
    """Banks an exam for these branches draws from: the shared ones, and a branch's own when it is the only
    branch (an exam for several branches must not show one branch's questions to the others)."""
    branches = set(branch_ids)
    clause = Bank.owner_branch_id.is_(None)
    if len(branches) == 1:
        clause = or_(clause, Bank.owner_branch_id == next(iter(branches)))
    return list(session.scalars(select(Bank.id).where(clause).order_by(Bank.id)))


class BankNotUsable(QuizError):
    """A draw names a branch's own bank it may not use (the message names the bank)."""

    code = "bank_not_usable"


def drawable_bank_ids(
    session: Session,
    named: Sequence[Sequence[str]],
    usable: Collection[int],
    unnamed: Collection[int] | None = None,
) -> list[int]:
    """The banks a draw takes questions from — the one rule for exams, printed papers, contests and study plans.

    `named` holds each section's bank slugs (a topic's readings, a round's source). Every named bank must be in
    `usable`: naming another branch's own bank is refused with its slug (instead of drawing nothing and
    failing later with "题目不存在"). When any section names none (全部题库), the draw also takes every bank of
    `unnamed` (default `usable`), so that section is not held to the banks the other sections name. Unknown
    slugs are left to the draw's own "not enough questions" message.
    """
    slugs = {slug for banks in named for slug in banks}
    rows = session.execute(select(Bank.id, Bank.slug).where(Bank.slug.in_(sorted(slugs)))).all() if slugs else []
    refused = sorted(slug for bank_id, slug in rows if bank_id not in usable)
    if refused:
        raise BankNotUsable(f"题库“{'、'.join(refused)}”是其他支部自己的题库，只有该支部能用它出题")
    ids = {bank_id for bank_id, _ in rows}
    if not named or any(not banks for banks in named):
        ids.update(usable if unnamed is None else unnamed)
    return sorted(ids)


def can_manage_banks(user: User) -> bool:
    """Who opens 题库管理 at all: admins, organizers (and inspectors, read-only)."""
    return is_reader(user)


def can_edit_bank(user: User, bank: Bank) -> bool:
    """Admins change every bank; an organizer only their own branch's; nobody else any."""
    if is_admin(user):
        return True
    return user.role == Role.ORGANIZER and bank.owner_branch_id is not None and bank.owner_branch_id == user.branch_id


def readable_bank(session: Session, user: User, bank_id: int) -> Bank:
    """A bank the user may see in 题库管理 (NotAllowed otherwise, also for an unknown id)."""
    bank = session.get(Bank, bank_id)
    require(bank is not None and can_manage_banks(user) and can_see_bank(user, bank), "没有找到这个题库")
    assert bank is not None
    return bank


@dataclass(frozen=True)
class BankSummary:
    """A bank as the list shows it: live counts by type and by chapter, owner and whether the user may edit."""

    bank: Bank
    count: int
    by_type: dict[str, int]
    chapters: list[tuple[str, str, int]]
    editable: bool
    updated_at: datetime


def bank_summaries(session: Session, user: User) -> list[BankSummary]:
    """Every bank the user sees (branches' own first, then the shared ones), with live counts: three queries."""
    banks = list(
        session.scalars(
            select(Bank)
            .where(bank_visible_clause(user))
            .order_by(Bank.owner_branch_id.is_(None), Bank.owner_branch_id, Bank.title)
        )
    )
    ids = [bank.id for bank in banks]
    live = Question.retired.is_(False)
    by_type: dict[int, Counter[str]] = {bank_id: Counter() for bank_id in ids}
    for bank_id, kind, count in session.execute(
        select(Question.bank_id, Question.type, func.count())
        .where(live, Question.bank_id.in_(ids))
        .group_by(Question.bank_id, Question.type)
    ):
        by_type[bank_id][kind] = count
    per_chapter: Counter[tuple[int, str | None]] = Counter()
    for bank_id, key, count in session.execute(
        select(Question.bank_id, Question.category, func.count())
        .where(live, Question.bank_id.in_(ids))
        .group_by(Question.bank_id, Question.category)
    ):
        per_chapter[(bank_id, key)] = count
    summaries = []
    for bank in banks:
        chapters = [(c.key, c.title, per_chapter[(bank.id, c.key)]) for c in bank.categories]
        if per_chapter[(bank.id, None)]:
            chapters.append(("", "未分章节", per_chapter[(bank.id, None)]))
        types = dict(by_type[bank.id])
        summaries.append(
            BankSummary(bank, sum(types.values()), types, chapters, can_edit_bank(user, bank), bank.updated_at)
        )
    return summaries


def loaded_bank(session: Session, bank: Bank) -> LoadedBank:
    """A bank's live questions (current revisions, in file order) as the loader's Bank, for export and merge."""
    questions = tuple(live.question for live in load_live(session, live_questions_query([bank.id])))
    categories = tuple(Category(category.key, category.title) for category in bank.categories)
    return LoadedBank(bank.slug, bank.title, bank.source, bank.path, categories, questions)


def bank_mapping(session: Session, bank: Bank) -> dict[str, object]:
    """The bank as a YAML v1 mapping (what export writes and an upload merges into)."""
    return bank_from_loaded(loaded_bank(session, bank))
