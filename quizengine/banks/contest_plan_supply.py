"""A valid contest plan against loaded banks: every reference exists and every round can get its questions.

`check_plan_against_banks` is the rule (see its docstring); `source_pool`, `risk_pools` and
`plan_fixed_ids` are the pools the check (and the contest's draw) work with. A round that draws from
several pools (风险题: one per value) says so through its type (`RoundType.plan_draws`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from quizengine.engine.questions import Question
from quizengine.engine.selection import PoolEntry, Section
from quizengine.modes.contest import ContestPlan, QuestionSource, RoundSpec, round_type

from .contest_plan_problems import LoadedPlan, PlanProblem, problem
from .contest_plan_schema import CHOICE_TYPES, type_labels
from .loader import Bank


def plan_fixed_ids(plan: ContestPlan) -> frozenset[str]:
    """Question ids a plan names in `ids` (reserved: no round or 加赛 draws them at random)."""
    sources = [spec.source for spec in plan.rounds]
    if plan.tie_break_questions is not None:
        sources.append(plan.tie_break_questions)
    return frozenset(question_id for source in sources for question_id in source.ids)


def source_section(source: QuestionSource, *, difficulties: Iterable[int] | None = None) -> Section:
    """The engine `Section` (filters + count) that draws a filtered source; `difficulties` overrides (风险题)."""
    levels = tuple(difficulties) if difficulties is not None else source.difficulties
    return Section(
        count=source.count,
        banks=source.banks,
        categories=source.categories,
        types=source.types,
        difficulties=levels,
        tags=source.tags,
    )


def source_pool(
    source: QuestionSource,
    banks: Sequence[Bank],
    *,
    difficulties: Iterable[int] | None = None,
    exclude: Iterable[str] = (),
) -> list[Question]:
    """The questions a source may draw from, in bank order.

    Fixed `ids`: those questions, in the plan's order (unknown ids are left out). Filters: every question
    passing every non-empty filter (as `engine.selection.Section.matches`: a category matches in any
    selected bank) and not in `exclude` (pass `plan_fixed_ids(plan)`). `difficulties` replaces the
    source's difficulty filter (a risk value's levels).
    """
    if source.ids:
        by_id = {question.id: question for bank in banks for question in bank.questions}
        return [by_id[question_id] for question_id in source.ids if question_id in by_id]
    section = source_section(source, difficulties=difficulties)
    excluded = set(exclude)
    return [
        question
        for bank in banks
        for question in bank.questions
        if question.id not in excluded and section.matches(PoolEntry(question, bank.slug))
    ]


def risk_pools(spec: RoundSpec, banks: Sequence[Bank], *, exclude: Iterable[str] = ()) -> dict[int, list[Question]]:
    """风险题: the pool of each value (questions at the value's difficulties)."""
    excluded = frozenset(exclude)
    return {
        value: source_pool(spec.source, banks, difficulties=levels, exclude=excluded)
        for value, levels in spec.risk_difficulty
    }


@dataclass
class _Demand:
    """What one round (or the 加赛) may take from the banks, for the worst-case supply check."""

    name: str
    pool: set[str]
    count: int


def _unknown_references(
    source: QuestionSource, on_device: bool, banks: Sequence[Bank], base: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    by_slug = {bank.slug: bank for bank in banks}
    for position, slug in enumerate(source.banks):
        if slug not in by_slug:
            known = "、".join(sorted(by_slug)) or "（没有题库）"
            problems.append(((*base, "banks", position), f"题库“{slug}”不存在，现有题库：{known}"))
    selected = [by_slug[slug] for slug in source.banks if slug in by_slug] if source.banks else list(banks)
    for position, category in enumerate(source.categories):
        if not any(category == item.id for bank in selected for item in bank.categories):
            if source.banks:
                where = "、".join(bank.slug for bank in selected) or "所选题库"
                problems.append(((*base, "categories", position), f"章节“{category}”不在题库 {where} 中"))
            else:
                problems.append(((*base, "categories", position), f"没有哪个题库有章节“{category}”"))
    for position, tag in enumerate(source.tags):
        if not any(tag in question.tags for bank in selected for question in bank.questions):
            where = "、".join(bank.slug for bank in selected) if source.banks else "任何题库"
            problems.append(((*base, "tags", position), f"{where}中没有标签为“{tag}”的题目"))
    if source.ids:
        by_id = {question.id: question for bank in banks for question in bank.questions}
        for position, question_id in enumerate(source.ids):
            question = by_id.get(question_id)
            if question is None:
                problems.append(((*base, "ids", position), f"题目“{question_id}”不在任何题库中"))
            elif on_device and question.type not in CHOICE_TYPES:
                problems.append(
                    (
                        (*base, "ids", position),
                        f"题目“{question_id}”是{type_labels([question.type])}，设备作答只能用{type_labels(CHOICE_TYPES)}",
                    )
                )
    return problems


def _supply(demand: _Demand, earlier: list[_Demand], condition: str) -> str | None:
    """Why `demand` may run dry when every earlier demand took its count from the overlap first."""
    if len(demand.pool) < demand.count:
        return f"{condition}的题目只有{len(demand.pool)}题，本轮需要{demand.count}题"
    taken = [(other.name, min(other.count, len(other.pool & demand.pool))) for other in earlier]
    used = sum(count for _, count in taken)
    if len(demand.pool) - used < demand.count:
        names = "、".join(dict.fromkeys(name for name, count in taken if count))
        return (
            f"{condition}的题目共{len(demand.pool)}题，与{names}的题源重叠，前面最多会用掉其中{used}题，"
            f"剩下{len(demand.pool) - used}题，不够本轮的{demand.count}题（请加大题源或减少题数）"
        )
    return None


def check_plan_against_banks(plan: ContestPlan | LoadedPlan, banks: Sequence[Bank]) -> list[PlanProblem]:
    """Check a valid plan against loaded banks; return every problem (empty: the plan can be played).

    - every bank slug, category (in at least one selected bank) and fixed question id exists, and a
      fixed question on a device round is single/multiple/judge;
    - every round can always be supplied, whatever earlier rounds drew: its pool (questions matching its
      source, minus questions any round names in `ids`) must hold its count even after every earlier
      round took its whole count from the overlap of their pools. A round drawing from several pools
      (`RoundType.plan_draws`: a risk round, one per value, as if every team chose that value) must manage
      this for each; the 加赛 (tie_break: buzzer) comes last.

    Problems point at the plan's lines when `plan` is a LoadedPlan.
    """
    located = plan if isinstance(plan, LoadedPlan) else None
    contest = plan.plan if isinstance(plan, LoadedPlan) else plan
    display = located.path if located else ""
    lines = located.lines if located else {}
    reserved = plan_fixed_ids(contest)
    problems: list[PlanProblem] = []
    earlier: list[_Demand] = []
    entries: list[tuple[str, tuple[str | int, ...], QuestionSource, RoundSpec | None]] = [
        (f"第{index + 1}轮", ("rounds", index, "source"), spec.source, spec)
        for index, spec in enumerate(contest.rounds)
    ]
    if contest.tie_break_questions is not None:
        entries.append(("加赛", ("tie_break_source",), contest.tie_break_questions, None))
    for name, base, source, spec in entries:
        kind = round_type(spec.kind) if spec is not None else None
        on_device = kind is None or kind.on_device({f.name: spec.value(f.name) for f in kind.plan_fields()})
        unknown = _unknown_references(source, on_device, banks, base)
        problems.extend(problem(display, lines, path, message) for path, message in unknown)
        if unknown or source.ids:
            continue
        what = "加赛题源" if spec is None else "本轮题源"
        count_path = (*base, "count")
        draws = kind.plan_draws(spec) if kind is not None and spec is not None else None
        if draws is not None:
            draw_demands: list[_Demand] = []
            before = len(problems)
            for draw in draws:
                questions = source_pool(source, banks, difficulties=draw.difficulties, exclude=reserved)
                draw_demands.append(_Demand(name, {question.id for question in questions}, draw.count))
                condition = draw.condition.format(source=source_section(source).describe())
                message = _supply(draw_demands[-1], earlier, condition)
                if message:
                    written = ("rounds", str(base[1]), *draw.path) in lines
                    path = ("rounds", base[1], *draw.path) if written else count_path
                    problems.append(problem(display, lines, path, message + draw.note))
            if len(problems) == before:  # a round that already fails is reported once, not in every later round
                earlier.extend(draw_demands)  # a draw may set aside `count` questions for each pool
            continue
        pool = {question.id for question in source_pool(source, banks, exclude=reserved)}
        demand = _Demand(name, pool, source.count)
        message = _supply(demand, earlier, f"{what}（{source_section(source).describe()}）")
        if message:
            if spec is None:
                message = message.replace("本轮", "加赛")
            problems.append(problem(display, lines, count_path, message))
        else:
            earlier.append(demand)
    return problems
