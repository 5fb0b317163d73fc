"""Papers from blueprints, with an injected `random.Random`.

The same pool, blueprint and seed always give the same paper, so an attempt can be rebuilt and a
test can assert exact shuffles. A paper stores, per question, the order in which the member sees the
options (`option_order`), so a displayed key never reveals the authoring order.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InsufficientQuestions, InvalidResponse
from .questions import OPTION_KEYS, Question, get_type


@dataclass(frozen=True)
class PoolEntry:
    """A question available for selection, with the bank it lives in and how often it was used."""

    question: Question
    bank: str
    usage: int = 0


@dataclass(frozen=True)
class Section:
    """One rule of a blueprint: `count` questions matching every given filter, worth `points` each.

    An empty filter matches everything; `tags` matches a question carrying any of the tags.
    """

    count: int
    points: float = 1.0
    banks: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    difficulties: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    title: str = ""

    def matches(self, entry: PoolEntry) -> bool:
        """True when the question passes every non-empty filter."""
        question = entry.question
        return (
            (not self.banks or entry.bank in self.banks)
            and (not self.categories or question.category in self.categories)
            and (not self.types or question.type in self.types)
            and (not self.difficulties or question.difficulty in self.difficulties)
            and (not self.tags or bool(set(self.tags) & set(question.tags)))
        )

    def describe(self) -> str:
        """A short Chinese description for error messages."""
        parts = [self.title] if self.title else []
        if self.banks:
            parts.append("题库" + "、".join(self.banks))
        if self.categories:
            parts.append("章节" + "、".join(self.categories))
        if self.types:
            parts.append("题型" + "、".join(get_type(name).label for name in self.types))
        if self.difficulties:
            parts.append("难度" + "、".join(str(level) for level in self.difficulties))
        if self.tags:
            parts.append("标签" + "、".join(self.tags))
        return "，".join(parts) or "全部题目"


@dataclass(frozen=True)
class Blueprint:
    """Ordered sections plus shuffling choices; or a fixed list of question ids (`fixed_ids`)."""

    sections: tuple[Section, ...] = ()
    shuffle_questions: bool = True
    shuffle_options: bool = True
    fixed_ids: tuple[str, ...] = ()
    fixed_points: float = 1.0


@dataclass(frozen=True)
class PaperItem:
    """One question on a member's paper.

    `option_order` lists the authoring keys in the order shown: the option shown as "A" is
    `option_order[0]`, and so on. It is empty for types without options.
    """

    question_id: str
    points: float
    section: int = 0
    option_order: tuple[str, ...] = ()

    def original_key(self, shown_key: str) -> str:
        """Map a key as the member saw it to the authoring key."""
        index = OPTION_KEYS.find(shown_key.strip().upper()) if isinstance(shown_key, str) else -1
        if index < 0 or index >= len(self.option_order):
            raise InvalidResponse(f"选项“{shown_key}”不存在")
        return self.option_order[index]

    def shown_key(self, original_key: str) -> str:
        """Map an authoring key to the key the member sees."""
        return OPTION_KEYS[self.option_order.index(original_key)]

    def to_original(self, response: Any) -> Any:
        """Translate a response in shown keys into authoring keys (other types pass through)."""
        if not self.option_order or response is None:
            return response
        if isinstance(response, str):
            if len(response.strip()) > 1:  # "ABD" style for multiple choice
                return [self.original_key(key) for key in response.strip()]
            return self.original_key(response)
        if isinstance(response, list | tuple):
            return [self.original_key(key) for key in response]
        raise InvalidResponse("请选择选项")


@dataclass(frozen=True)
class Paper:
    """The fixed list of questions one member answers."""

    items: tuple[PaperItem, ...]

    @property
    def total_points(self) -> float:
        """The paper's maximum score."""
        return sum(item.points for item in self.items)

    @property
    def question_ids(self) -> tuple[str, ...]:
        """The question ids in paper order."""
        return tuple(item.question_id for item in self.items)


def shuffle_options(keys: Sequence[str], fixed: Iterable[str], rng: random.Random) -> tuple[str, ...]:
    """Shuffle option keys, keeping every key in `fixed` at its authoring position."""
    fixed_set = set(fixed)
    movable = [key for key in keys if key not in fixed_set]
    rng.shuffle(movable)
    moved = iter(movable)
    return tuple(key if key in fixed_set else next(moved) for key in keys)


def _free(entry: PoolEntry, groups: set[str]) -> bool:
    """False when the question's `group` is already on the paper (questions of one group test one thing)."""
    return entry.question.group is None or entry.question.group not in groups


def one_per_group(entries: Iterable[PoolEntry], groups: set[str] | None = None) -> list[PoolEntry]:
    """`entries` in order, skipping any whose group is in `groups` or came earlier; `groups` is updated."""
    groups = set() if groups is None else groups
    kept: list[PoolEntry] = []
    for entry in entries:
        if _free(entry, groups):
            kept.append(entry)
            if entry.question.group:
                groups.add(entry.question.group)
    return kept


def _item(question: Question, points: float, section: int, blueprint: Blueprint, rng: random.Random) -> PaperItem:
    order: tuple[str, ...] = ()
    if get_type(question.type).has_options:
        keys = question.option_keys
        order = shuffle_options(keys, question.fixed, rng) if blueprint.shuffle_options else keys
    return PaperItem(question.id, points, section, order)


def select_paper(pool: Sequence[PoolEntry], blueprint: Blueprint, rng: random.Random) -> Paper:
    """Build a paper: least-used questions first (ties broken by `rng`), never the same question twice and
    never two questions of one `group`.

    A question's own `points` overrides the section's points. Raises InsufficientQuestions when a
    section cannot be filled from what earlier sections left. A fixed list of ids is the organizer's own
    choice and is taken as given.
    """
    by_id = {entry.question.id: entry for entry in pool}
    if blueprint.fixed_ids:
        missing = [qid for qid in blueprint.fixed_ids if qid not in by_id]
        if missing:
            raise InsufficientQuestions("以下题目不存在或已停用：" + "、".join(missing))
        ids = list(dict.fromkeys(blueprint.fixed_ids))
        if blueprint.shuffle_questions:
            rng.shuffle(ids)
        return Paper(
            tuple(
                _item(by_id[qid].question, by_id[qid].question.points or blueprint.fixed_points, 0, blueprint, rng)
                for qid in ids
            )
        )
    taken: set[str] = set()
    groups: set[str] = set()
    items: list[PaperItem] = []
    for number, section in enumerate(blueprint.sections):
        candidates = [entry for entry in pool if entry.question.id not in taken and section.matches(entry)]
        rng.shuffle(candidates)
        candidates.sort(key=lambda entry: entry.usage)  # stable: random order within equal usage
        candidates = one_per_group(candidates, set(groups))
        if len(candidates) < section.count:
            raise InsufficientQuestions(_shortage(number, section, len(candidates)))
        chosen = candidates[: section.count]
        groups.update(entry.question.group for entry in chosen if entry.question.group)
        if blueprint.shuffle_questions:
            rng.shuffle(chosen)
        else:
            chosen.sort(key=lambda entry: entry.question.id)
        for entry in chosen:
            taken.add(entry.question.id)
            items.append(_item(entry.question, entry.question.points or section.points, number, blueprint, rng))
    return Paper(tuple(items))


def _shortage(number: int, section: Section, available: int) -> str:
    """Why a section cannot be filled (`available` counts the questions of one group once)."""
    return f"第{number + 1}部分（{section.describe()}）需要{section.count}题，题库中只有{available}题"


def personalize(questions: Sequence[tuple[Question, float, int]], blueprint: Blueprint, rng: random.Random) -> Paper:
    """A member's copy of a 统一试卷 (a paper drawn once for everyone): the same questions and points.

    `questions` are (question, points, section) in the paper's stored order. With `shuffle_questions` the
    order is shuffled within each section (sections keep their order, so types stay grouped); with
    `shuffle_options` each member gets their own option order. Nothing is drawn, so a start costs no pool.
    """
    sections: dict[int, list[tuple[Question, float, int]]] = {}
    for entry in questions:
        sections.setdefault(entry[2], []).append(entry)
    items: list[PaperItem] = []
    for section in sections.values():
        if blueprint.shuffle_questions:
            rng.shuffle(section)
        items += [_item(question, points, number, blueprint, rng) for question, points, number in section]
    return Paper(tuple(items))


def difficulty_target(pool: Sequence[PoolEntry], blueprint: Blueprint) -> float:
    """The total difficulty a 随机组卷 paper aims at: per section, its count × the mean difficulty of the
    questions it may draw (rounded to one decimal, so the organizer can read it)."""
    total = 0.0
    for section in blueprint.sections:
        levels = [entry.question.difficulty for entry in pool if section.matches(entry)]
        total += section.count * (sum(levels) / len(levels) if levels else 0.0)
    return round(total, 1)


def paper_difficulty(paper: Paper, pool: Sequence[PoolEntry]) -> int:
    """The sum of the difficulty levels of a paper's questions."""
    level = {entry.question.id: entry.question.difficulty for entry in pool}
    return sum(level[item.question_id] for item in paper.items)


def _swappable(entry: PoolEntry, taken: set[str], groups: set[str]) -> bool:
    """A spare question may come onto the paper: not on it already, and its group not on it either."""
    return entry.question.id not in taken and _free(entry, groups)


def select_balanced_paper(
    pool: Sequence[PoolEntry],
    blueprint: Blueprint,
    rng: random.Random,
    tolerance: float,
    *,
    target: float | None = None,
) -> Paper:
    """A 随机组卷 paper: every member's own draw, yet papers are comparable.

    Each section draws its `count` at random (usage is ignored: fairness over variety), so every paper has
    the same count per section, and with one type per section the same count per type. Then questions are
    swapped *within* a section, one at a time, each swap the one that brings the total difficulty closest
    to `target` (ties broken by `rng`), until the total is within ±`tolerance` of it. Any two papers then
    differ by at most 2 × tolerance in total difficulty. The search is greedy; when no swap gets closer and
    the total is still outside the band, InsufficientQuestions says so with the closest total reached.
    `target` defaults to `difficulty_target(pool, blueprint)`. Fixed-id blueprints are drawn as usual.
    """
    if blueprint.fixed_ids:
        return select_paper(pool, blueprint, rng)
    target = difficulty_target(pool, blueprint) if target is None else target
    taken: set[str] = set()
    groups: set[str] = set()
    chosen: list[list[PoolEntry]] = []
    spare: list[list[PoolEntry]] = []
    for number, section in enumerate(blueprint.sections):
        candidates = [entry for entry in pool if entry.question.id not in taken and section.matches(entry)]
        rng.shuffle(candidates)
        drawn = one_per_group(candidates, set(groups))
        if len(drawn) < section.count:
            raise InsufficientQuestions(_shortage(number, section, len(drawn)))
        chosen.append(drawn[: section.count])
        taken.update(entry.question.id for entry in chosen[-1])
        spare.append([entry for entry in candidates if entry.question.id not in taken])
        groups.update(entry.question.group for entry in chosen[-1] if entry.question.group)
    total = sum(entry.question.difficulty for section in chosen for entry in section)
    while abs(target - total) > tolerance:
        gap = target - total
        swaps = [
            (abs(gap - (d_in - d_out)), number, d_out, d_in)
            for number in range(len(chosen))
            for d_out in sorted({entry.question.difficulty for entry in chosen[number]})
            for d_in in sorted({e.question.difficulty for e in spare[number] if _swappable(e, taken, groups)})
            if abs(gap - (d_in - d_out)) < abs(gap)
        ]
        if not swaps:
            raise InsufficientQuestions(
                f"题库无法组出总难度在 {target:g}±{tolerance:g} 之内的试卷（最接近的一份为 {total}），"
                "请放宽难度容差，或调整组卷规则让每部分有更多不同难度的题目"
            )
        best = min(swap[0] for swap in swaps)
        _, number, d_out, d_in = rng.choice([swap for swap in swaps if swap[0] == best])
        out = rng.choice([entry for entry in chosen[number] if entry.question.difficulty == d_out])
        into = rng.choice([e for e in spare[number] if e.question.difficulty == d_in and _swappable(e, taken, groups)])
        chosen[number][chosen[number].index(out)] = into
        spare[number][spare[number].index(into)] = out
        taken.discard(out.question.id)
        taken.add(into.question.id)
        if out.question.group:
            groups.discard(out.question.group)
        if into.question.group:
            groups.add(into.question.group)
        total += d_in - d_out
    items: list[PaperItem] = []
    for number, (section, entries) in enumerate(zip(blueprint.sections, chosen, strict=True)):
        if blueprint.shuffle_questions:
            rng.shuffle(entries)
        else:
            entries.sort(key=lambda entry: entry.question.id)
        items += [_item(e.question, e.question.points or section.points, number, blueprint, rng) for e in entries]
    return Paper(tuple(items))
