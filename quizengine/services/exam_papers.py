"""Exam papers: blueprints, the pool they draw from, and the two paper modes.

统一试卷 ("uniform"): one paper is drawn while the exam is a draft; the organizer previews it and may redraw
it; publishing freezes it (question, revision and points) in `Exam.paper`. A member's start then only
reorders it (`engine.selection.personalize`): no pool, no usage counts, one cached parse per question.

随机组卷 ("random"): every member's own draw, balanced by `engine.selection.select_balanced_paper` so every
paper has the same count per section (one type per section) and a total difficulty within the exam's
tolerance of the target. Exams from before paper modes (no tolerance stored) draw least-used-first.
"""

from __future__ import annotations

import random
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.questions import get_type
from quizengine.engine.selection import (
    Blueprint,
    Paper,
    PoolEntry,
    Section,
    difficulty_target,
    personalize,
    select_balanced_paper,
    select_paper,
)
from quizengine.models import Attempt, AttemptItem, Bank, Exam, QuestionRevision

from .bank_admin import bank_ids_for_branches, drawable_bank_ids
from .questions import LiveRevision, RevisionRef, engine_questions, load_live_revisions

UNIFORM, RANDOM = "uniform", "random"
PAPER_MODE_LABELS = {UNIFORM: "统一试卷", RANDOM: "随机组卷"}
#: The default ± band of a 随机组卷 paper's total difficulty (levels 1–5 summed over the paper).
DEFAULT_TOLERANCE = 1.0


def blueprint_from_json(data: dict[str, Any], shuffle_questions: bool, shuffle_options: bool) -> Blueprint:
    """The stored blueprint as an engine Blueprint (bank filters are bank slugs)."""
    if data.get("fixed_ids"):
        return Blueprint(
            fixed_ids=tuple(data["fixed_ids"]),
            fixed_points=float(data.get("fixed_points", 1)),
            shuffle_questions=shuffle_questions,
            shuffle_options=shuffle_options,
        )
    sections = tuple(
        Section(
            count=int(section["count"]),
            points=float(section.get("points", 1)),
            banks=tuple(section.get("banks", ())),
            categories=tuple(section.get("categories", ())),
            types=tuple(section.get("types", ())),
            difficulties=tuple(int(level) for level in section.get("difficulties", ())),
            tags=tuple(section.get("tags", ())),
            title=section.get("title", ""),
        )
        for section in data.get("sections", ())
    )
    return Blueprint(sections=sections, shuffle_questions=shuffle_questions, shuffle_options=shuffle_options)


def exam_blueprint(exam: Exam) -> Blueprint:
    """The exam's stored blueprint with its shuffling choices."""
    return blueprint_from_json(exam.blueprint, exam.shuffle_questions, exam.shuffle_options)


class _UsageCounts:
    """How often each question was asked in exams, kept per process and brought up to date incrementally.

    Counting over every attempt item on each start grew with every start; instead the new rows (by id) are
    added to the counts, and everything is recounted now and then, so rows another process committed out
    of id order (PostgreSQL) are picked up too. Least-used-first is a preference, never a rule.
    """

    RECOUNT_SECONDS = 60.0

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.seen = 0  # the highest attempt item id counted
        self.recounted_at = -self.RECOUNT_SECONDS
        self.lock = threading.Lock()  # gevent's lock under monkey-patching: one refresh at a time

    def current(self, session: Session) -> Counter[int]:
        """The counts, brought up to date with the items written since the last call."""
        with self.lock:
            if time.monotonic() - self.recounted_at >= self.RECOUNT_SECONDS:
                self.counts, self.seen, self.recounted_at = Counter(), 0, time.monotonic()
            rows = session.execute(
                select(AttemptItem.question_id, Attempt.mode, func.count(AttemptItem.id), func.max(AttemptItem.id))
                .join(Attempt, Attempt.id == AttemptItem.attempt_id)
                .where(AttemptItem.id > self.seen)
                .group_by(AttemptItem.question_id, Attempt.mode)
            ).all()
            for question_id, mode, count, highest in rows:
                if mode == "exam":
                    self.counts[question_id] += count
                self.seen = max(self.seen, highest)
            return self.counts


@dataclass
class _PoolEntries:
    """Selection entries made from one cached live pool, each kept while its question's usage is the same."""

    live: list[LiveRevision]
    rows: dict[str, tuple[int, int]]  # by question id (external): question row id, current revision id
    entries: dict[int, PoolEntry] = field(default_factory=dict)  # by question row id


@dataclass
class _DrawCaches:
    """Per-process, per-database: exam usage counts and selection entries of the cached live pools."""

    usage: _UsageCounts = field(default_factory=_UsageCounts)
    pools: dict[int, _PoolEntries] = field(default_factory=dict)  # by id() of the live pool list


_CACHES: weakref.WeakKeyDictionary[Engine, _DrawCaches] = weakref.WeakKeyDictionary()


def _caches(session: Session) -> _DrawCaches:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    caches = _CACHES.get(engine)
    if caches is None:
        caches = _CACHES[engine] = _DrawCaches()
    return caches


def draw_pool(
    session: Session, blueprint: Blueprint, branch_ids: Iterable[int]
) -> tuple[list[PoolEntry], dict[str, tuple[int, int]]]:
    """Live questions the blueprint can draw from for an exam of `branch_ids`, with how often each was used in
    exams (least used first): the shared banks, and a branch's own only in an exam of that branch alone (naming
    another is refused); a section without banks draws from all of them (`bank_admin.drawable_bank_ids`).

    Also returns, by question id (external), the question row id and current revision id to store.
    Only entries whose usage changed since the last start are made anew (a start changes a paper's worth).
    """
    slug_of = dict(session.execute(select(Bank.id, Bank.slug)).all())
    allowed = bank_ids_for_branches(session, branch_ids)
    bank_ids = drawable_bank_ids(session, [section.banks for section in blueprint.sections], allowed)
    if not bank_ids:
        return [], {}
    live = load_live_revisions(session, bank_ids, blueprint.fixed_ids or None)
    caches = _caches(session)
    usage = caches.usage.current(session)
    made = caches.pools.get(id(live))
    if made is None or made.live is not live:
        if len(caches.pools) >= 16:  # pools replaced after a bank load are dropped here
            caches.pools.clear()
        rows = {q.question.id: (q.question_id, q.revision_id) for q in live}
        made = caches.pools[id(live)] = _PoolEntries(live, rows)
    pool = []
    for q in live:
        used, bank = usage.get(q.question_id, 0), slug_of[q.bank_id]
        entry = made.entries.get(q.question_id)
        if entry is None or entry.usage != used or entry.bank != bank:
            entry = made.entries[q.question_id] = PoolEntry(q.question, bank, used)
        pool.append(entry)
    return pool, made.rows


def tolerance_of(blueprint: dict[str, Any]) -> float | None:
    """A 随机组卷 exam's difficulty tolerance (None for exams made before balancing existed)."""
    value = blueprint.get("difficulty_tolerance")
    return None if value is None else float(value)


def _draw(  # type: ignore[no-untyped-def]
    session: Session,
    blueprint_json: dict[str, Any],
    mode: str,
    blueprint: Blueprint,
    rng: random.Random,
    branch_ids: Iterable[int],
):
    pool, rows = draw_pool(session, blueprint, branch_ids)
    tolerance = tolerance_of(blueprint_json)
    if mode == RANDOM and tolerance is not None:
        return select_balanced_paper(pool, blueprint, rng, tolerance), rows, pool
    return select_paper(pool, blueprint, rng), rows, pool


def sample_paper(
    session: Session, blueprint_json: dict[str, Any], mode: str, rng: random.Random, branch_ids: Iterable[int]
) -> Paper:
    """A paper the blueprint gives in this mode for an exam of `branch_ids` (raises InsufficientQuestions with the
    reason when none can)."""
    blueprint = blueprint_from_json(blueprint_json, True, True)
    return _draw(session, blueprint_json, mode, blueprint, rng, branch_ids)[0]


def _branch_ids(exam: Exam) -> list[int]:
    return [branch.id for branch in exam.branches]


def draw_uniform(session: Session, exam: Exam, rng: random.Random) -> list[dict[str, Any]]:
    """Draw a 统一试卷 for `exam` (least-used questions first) in the form stored in `Exam.paper`."""
    paper, rows, _ = _draw(session, exam.blueprint, UNIFORM, exam_blueprint(exam), rng, _branch_ids(exam))
    revisions = [rows[item.question_id][1] for item in paper.items]
    hashes = dict(
        session.execute(
            select(QuestionRevision.id, QuestionRevision.content_hash).where(QuestionRevision.id.in_(revisions))
        ).all()
    )
    return [
        {
            "q": rows[item.question_id][0],
            "r": rows[item.question_id][1],
            "id": item.question_id,
            "h": hashes[rows[item.question_id][1]],
            "p": item.points,
            "s": item.section,
        }
        for item in paper.items
    ]


def member_paper(session: Session, exam: Exam, rng: random.Random) -> tuple[Paper, dict[str, tuple[int, int]]]:
    """A member's paper and, by question id (external), the question row id and revision id to store."""
    blueprint = exam_blueprint(exam)
    if exam.paper_mode == UNIFORM and exam.paper:
        questions = engine_questions(session, [RevisionRef(e["r"], e["id"], e["h"]) for e in exam.paper])
        paper = personalize([(questions[e["r"]], e["p"], e["s"]) for e in exam.paper], blueprint, rng)
        return paper, {e["id"]: (e["q"], e["r"]) for e in exam.paper}
    paper, rows, _ = _draw(session, exam.blueprint, exam.paper_mode, blueprint, rng, _branch_ids(exam))
    return paper, rows


@dataclass(frozen=True)
class PreviewItem:
    """One question of a previewed paper."""

    external_id: str
    type_label: str
    stem: str
    difficulty: int
    points: float


@dataclass(frozen=True)
class PaperPreview:
    """What the organizer checks before publishing: the paper (统一试卷) or one sample draw (随机组卷)."""

    mode: str
    items: list[PreviewItem]
    target: float | None = None
    tolerance: float | None = None

    @property
    def total_points(self) -> float:
        """The paper's maximum score."""
        return sum(item.points for item in self.items)

    @property
    def total_difficulty(self) -> int:
        """The sum of the questions' difficulty levels."""
        return sum(item.difficulty for item in self.items)


def _preview_item(question: EngineQuestion, points: float) -> PreviewItem:
    return PreviewItem(question.id, get_type(question.type).label, question.stem, question.difficulty, points)


def preview(session: Session, exam: Exam) -> PaperPreview:
    """The uniform paper as stored, or for 随机组卷 a sample draw with the target and tolerance."""
    if exam.paper_mode == UNIFORM and exam.paper:
        questions = engine_questions(session, [RevisionRef(e["r"], e["id"], e["h"]) for e in exam.paper])
        return PaperPreview(UNIFORM, [_preview_item(questions[e["r"]], e["p"]) for e in exam.paper])
    paper, _, pool = _draw(
        session, exam.blueprint, exam.paper_mode, exam_blueprint(exam), random.Random(), _branch_ids(exam)
    )
    by_id = {entry.question.id: entry.question for entry in pool}
    tolerance = tolerance_of(exam.blueprint)
    return PaperPreview(
        exam.paper_mode,
        [_preview_item(by_id[item.question_id], item.points) for item in paper.items],
        difficulty_target(pool, exam_blueprint(exam)) if tolerance is not None else None,
        tolerance,
    )
