"""Sync validated banks into the database: new -> created, changed -> new revision, gone -> retired."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.banks.loader import Bank as LoadedBank
from quizengine.banks.loader import BankLoadError, BankProblem, load_banks
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import AuditEntry, Bank, BankCategory, Question, QuestionRevision, User

from .bank_admin import bank_visible_clause


@dataclass(frozen=True)
class SyncReport:
    """What a sync did, question by question."""

    created: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    restored: int = 0


def check_banks(paths: Iterable[str | Path], *, strict: bool = False) -> list[LoadedBank]:
    """Validate bank files without touching the database (raises BankLoadError)."""
    return load_banks(paths, strict=strict)


def _foreign_owner_problems(session: Session, banks: list[LoadedBank]) -> list[BankProblem]:
    """Ids already used by a live question of a bank that is not part of this load."""
    slugs = {bank.slug for bank in banks}
    wanted = {question.id: bank for bank in banks for question in bank.questions}
    problems = []
    rows = session.execute(
        select(Question.external_id, Bank.slug)
        .join(Bank, Question.bank_id == Bank.id)
        .where(Question.retired.is_(False), Bank.slug.not_in(slugs))
    )
    for external_id, owner in rows:
        if external_id in wanted:
            bank = wanted[external_id]
            line = bank.question_lines.get(external_id, 1)
            problems.append(BankProblem(bank.path, line, external_id, f"题目 id 已被题库“{owner}”使用"))
    return problems


def _sync_bank_row(
    session: Session, loaded: LoadedBank, now_bank: Bank | None, clock: Clock, owner_branch_id: int | None
) -> Bank:
    bank = now_bank or Bank(slug=loaded.slug, owner_branch_id=owner_branch_id)
    bank.title, bank.source, bank.path, bank.updated_at = loaded.title, loaded.source, loaded.path, clock.now()
    existing = {category.key: category for category in bank.categories}
    bank.categories = [
        _category(existing.get(category.id), category.id, category.title, position)
        for position, category in enumerate(loaded.categories)
    ]
    session.add(bank)
    return bank


def _category(row: BankCategory | None, key: str, title: str, position: int) -> BankCategory:
    row = row or BankCategory(key=key)
    row.title, row.position = title, position
    return row


def sync_banks(
    session: Session,
    banks: list[LoadedBank],
    *,
    clock: Clock | None = None,
    actor_id: int | None = None,
    progress: Callable[[int], None] | None = None,
    owner_branch_id: int | None = None,
) -> SyncReport:
    """Write validated banks in one transaction and commit; retire questions gone from their bank.

    Only banks in `banks` are touched: loading one file never retires another bank's questions.
    A question id still owned by a bank outside this load is refused (BankLoadError), nothing written.
    A bank this load creates belongs to `owner_branch_id` (an organizer's upload; None: the committee's);
    an existing bank keeps its owner.
    """
    clock = clock or SystemClock()
    problems = _foreign_owner_problems(session, banks)
    if problems:
        raise BankLoadError(problems)
    counts = {"created": 0, "updated": 0, "retired": 0, "unchanged": 0, "restored": 0}
    bank_rows = {row.slug: row for row in session.scalars(select(Bank).where(Bank.slug.in_([b.slug for b in banks])))}
    ids = [question.id for bank in banks for question in bank.questions]
    existing = {row.external_id: row for row in session.scalars(select(Question).where(Question.external_id.in_(ids)))}
    hashes = dict(
        session.execute(
            select(Question.external_id, QuestionRevision.content_hash)
            .join(QuestionRevision, QuestionRevision.question_id == Question.id)
            .where(Question.external_id.in_(ids), QuestionRevision.number == Question.current_revision)
        ).all()
    )
    now = clock.now()
    for loaded in banks:
        bank = _sync_bank_row(session, loaded, bank_rows.get(loaded.slug), clock, owner_branch_id)
        session.flush()
        for position, question in enumerate(loaded.questions):
            row = existing.get(question.id)
            content_hash = question.content_hash
            if row is None:
                row = Question(external_id=question.id, bank_id=bank.id, current_revision=1, created_at=now)
                row.revisions.append(QuestionRevision(number=1, content_hash=content_hash, content=question.content()))
                counts["created"] += 1
            elif hashes.get(question.id) != content_hash:
                row.current_revision += 1
                row.revisions.append(
                    QuestionRevision(number=row.current_revision, content_hash=content_hash, content=question.content())
                )
                counts["updated"] += 1
            elif row.retired or row.bank_id != bank.id:
                counts["restored" if row.retired else "updated"] += 1
            else:
                counts["unchanged"] += 1
            row.bank_id, row.retired, row.retired_at = bank.id, False, None
            row.type, row.category, row.difficulty = question.type, question.category, question.difficulty
            row.position = position
            session.add(row)
            if progress:
                progress(1)
        present = {question.id for question in loaded.questions}
        gone = session.scalars(
            select(Question).where(
                Question.bank_id == bank.id, Question.retired.is_(False), Question.external_id.not_in(present)
            )
        )
        for row in gone:
            row.retired, row.retired_at = True, now
            counts["retired"] += 1
    report = SyncReport(**counts)
    session.add(
        AuditEntry(
            at=now,
            actor_id=actor_id,
            action="banks.load",
            subject="、".join(bank.slug for bank in banks),
            detail={**report.__dict__, "banks": [bank.slug for bank in banks]},
        )
    )
    session.commit()
    return report


def list_banks_with_counts(session: Session, user: User | None = None) -> list[tuple[Bank, int]]:
    """Banks `user` sees (anonymous: the shared ones) with the number of live (not retired) questions, by title."""
    live = func.count(Question.id).filter(Question.retired.is_(False))
    visible = bank_visible_clause(user) if user is not None else Bank.owner_branch_id.is_(None)
    rows = session.execute(
        select(Bank, live)
        .outerjoin(Question, Question.bank_id == Bank.id)
        .where(visible)
        .group_by(Bank.id)
        .order_by(Bank.title)
    )
    return [(bank, count) for bank, count in rows]


@dataclass(frozen=True)
class PracticeBank:
    """A bank as the practice menu shows it: live question count and chapters with their counts."""

    id: int
    title: str
    count: int
    chapters: list[tuple[str, str, int]]


def list_banks_for_practice(session: Session, user: User) -> list[PracticeBank]:
    """Banks `user` sees with live questions, each with its chapters (key, title, live count) in document order."""
    counts = dict(
        session.execute(
            select(Question.bank_id, func.count(Question.id))
            .where(Question.retired.is_(False))
            .group_by(Question.bank_id)
        ).all()
    )
    per_chapter = {
        (bank_id, key): count
        for bank_id, key, count in session.execute(
            select(Question.bank_id, Question.category, func.count(Question.id))
            .where(Question.retired.is_(False))
            .group_by(Question.bank_id, Question.category)
        )
    }
    result = []
    for bank in session.scalars(select(Bank).where(bank_visible_clause(user)).order_by(Bank.title)):
        if counts.get(bank.id):
            chapters = [
                (category.key, category.title, per_chapter.get((bank.id, category.key), 0))
                for category in bank.categories
                if per_chapter.get((bank.id, category.key))
            ]
            result.append(PracticeBank(bank.id, bank.title, counts[bank.id], chapters))
    return result
