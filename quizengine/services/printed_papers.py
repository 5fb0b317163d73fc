"""Printed papers (试卷): a 统一试卷 exam's paper, or a paper drawn from blueprint rows, laid out for A4.

For members without phones and for meetings: the paper everyone answers on paper, numbered by section
(一、单项选择题 …) with each section's score, and an answer key with 解析 and 出处. Who may print: whoever
reads the exam (admin, the organizers of its branches, their inspectors); a drawn paper, any organizer,
admin or inspector. Members never reach either (the key is on it).

A 随机组卷 exam has no paper everyone shares: it offers a paper drawn by its own rules instead. Options are
printed in the authoring order (a 统一试卷 stores no option order; each member's is their own).
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.engine.errors import QuizError
from quizengine.engine.questions import BLANK_PATTERN, OPTION_KEYS, get_type
from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.selection import PoolEntry, select_balanced_paper, select_paper
from quizengine.models import Bank, Exam, User

from .access import require
from .attempt_items import answer_key
from .bank_admin import bank_ids_for_branches, drawable_bank_ids, visible_bank_ids
from .exam_access import can_read_exam, get_exam
from .exam_papers import RANDOM, UNIFORM, blueprint_from_json, tolerance_of
from .questions import RevisionRef, engine_questions, load_live_revisions

#: A question of a paper with its points and blueprint section, in paper order.
PaperQuestion = tuple[EngineQuestion, float, int]

#: Printed sections in this order within a blueprint section; their headings and how to answer.
TYPE_ORDER = ("single", "multiple", "judge", "fill", "short")
HEADINGS = {"single": "单项选择题", "multiple": "多项选择题", "judge": "判断题", "fill": "填空题", "short": "简答题"}
HOW_TO_ANSWER = {
    "single": "每题只有一个正确选项，请将其字母填在括号内",
    "multiple": "每题有两个或两个以上正确选项，请将其字母填在括号内",
    "judge": "正确的在括号内画“√”，错误的画“×”",
    "fill": "请在横线上填写",
    "short": "请在横线上作答",
}
#: Where a choice or judge question is answered: an empty bracket, widened so a letter or mark fits.
ANSWER_BRACKET = "（\u3000\u3000）"
#: Options per line by the longest option's width in em (full-width characters 1, others ½), so a line
#: of 10.5 pt text on A4 (about 48 em) holds them: four short options, two middling ones, else one each.
COLUMN_WIDTHS = ((9.0, 4), (21.0, 2))
#: The most questions one printed paper holds (a paper longer than this is a mistake in the form).
MAX_QUESTIONS = 200
DEFAULT_TITLE = "党的知识测试卷"

_EMPTY_BRACKET = re.compile(r"[（(][ \u3000\t]*[）)]")
_NUMERALS = "零一二三四五六七八九"


class PaperError(QuizError):
    """A printed paper that cannot be made (no rules, too many questions)."""

    code = "paper_error"


@dataclass(frozen=True)
class PrintedQuestion:
    """One question as printed: its number on the paper, the stem split at its blanks, options and key."""

    number: int
    type: str
    stem_parts: tuple[str, ...]  # text between the fill blanks (one part when there is no blank)
    options: tuple[tuple[str, str], ...]
    columns: int
    points: float
    answer: str
    explanation: str
    reference: str
    keypoints: tuple[str, ...]
    lines: int  # ruled answer lines (简答)


@dataclass(frozen=True)
class PrintedSection:
    """一、单项选择题 with its count, points and how to answer; its questions in paper order."""

    heading: str
    note: str
    points: float
    questions: tuple[PrintedQuestion, ...]

    @property
    def numeral(self) -> str:
        """The section's 一/二/… (the score table's column)."""
        return self.heading.partition("、")[0]


@dataclass(frozen=True)
class PrintedPaper:
    """A paper ready to print: heading details, sections and (for a drawn paper) the seed that draws it again."""

    title: str
    sections: tuple[PrintedSection, ...]
    date: str = ""
    minutes: int | None = None
    seed: int | None = None

    @property
    def total_points(self) -> float:
        """The paper's full score."""
        return sum(section.points for section in self.sections)

    @property
    def question_count(self) -> int:
        """How many questions the paper has."""
        return sum(len(section.questions) for section in self.sections)


def numeral(number: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (section headings; papers have a few dozen at most)."""
    tens, ones = divmod(number, 10)
    if not tens:
        return _NUMERALS[ones]
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + (_NUMERALS[ones] if ones else "")


def _width(text: str) -> float:
    """The width of `text` in em: full-width and wide characters 1, the rest ½."""
    return sum(1.0 if unicodedata.east_asian_width(char) in "WF" else 0.5 for char in text)


def _columns(options: Sequence[tuple[str, str]]) -> int:
    widest = max((_width(text) for _, text in options), default=0.0)
    return next((columns for limit, columns in COLUMN_WIDTHS if widest <= limit), 1)


def _stem(question: EngineQuestion) -> tuple[str, ...]:
    """The stem split at its blanks; a choice or judge stem gets one wide bracket to answer in."""
    stem = question.stem
    if question.type in ("single", "multiple", "judge"):
        stem, brackets = _EMPTY_BRACKET.subn(ANSWER_BRACKET, stem)
        if not brackets:
            stem += ANSWER_BRACKET
    return tuple(BLANK_PATTERN.split(stem))


def _lines(points: float) -> int:
    """Answer lines for a 简答: more for a question worth more (4 to 10)."""
    return max(4, min(10, math.ceil(points / 2) + 3))


def _question(number: int, question: EngineQuestion, points: float) -> PrintedQuestion:
    options = tuple((OPTION_KEYS[index], option.text) for index, option in enumerate(question.options))
    return PrintedQuestion(
        number=number,
        type=question.type,
        stem_parts=_stem(question),
        options=options,
        columns=_columns(options),
        points=points,
        answer=answer_key(question, question.option_keys, judge=("√", "×")),
        explanation=question.explanation,
        reference=question.reference,
        keypoints=question.keypoints,
        lines=_lines(points) if question.type == "short" else 0,
    )


def _section_note(questions: Sequence[PrintedQuestion], kind: str) -> str:
    total = sum(question.points for question in questions)
    each = {question.points for question in questions}
    score = f"每题{_score(next(iter(each)))}分，" if len(each) == 1 else ""
    how = HOW_TO_ANSWER.get(kind)
    return f"（共{len(questions)}题，{score}共{_score(total)}分{'。' + how if how else ''}）"


def _score(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def layout(title: str, questions: Sequence[PaperQuestion], **heading: Any) -> PrintedPaper:
    """Lay a paper out: blueprint sections in order, each split by type (单选, 多选, 判断, 填空, 简答), runs of one
    type merged into one printed section, questions numbered 1… through the paper. `heading`: date, minutes, seed.
    """
    rank = {name: index for index, name in enumerate(TYPE_ORDER)}
    ordered = sorted(
        enumerate(questions), key=lambda entry: (entry[1][2], rank.get(entry[1][0].type, len(rank)), entry[0])
    )
    runs: list[list[tuple[EngineQuestion, float]]] = []
    for _, (question, points, _section) in ordered:
        if runs and runs[-1][0][0].type == question.type:
            runs[-1].append((question, points))
        else:
            runs.append([(question, points)])
    sections, number = [], 0
    for index, run in enumerate(runs, 1):
        printed = []
        for question, points in run:
            number += 1
            printed.append(_question(number, question, points))
        kind = run[0][0].type
        heading_text = f"{numeral(index)}、{HEADINGS.get(kind, get_type(kind).label)}"
        total = sum(question.points for question in printed)
        sections.append(PrintedSection(heading_text, _section_note(printed, kind), total, tuple(printed)))
    return PrintedPaper(title, tuple(sections), **heading)


def frozen_questions(session: Session, exam: Exam) -> list[PaperQuestion]:
    """A 统一试卷 exam's paper as stored (drawn or published): the revisions it froze, in its order."""
    questions = engine_questions(session, [RevisionRef(e["r"], e["id"], e["h"]) for e in exam.paper or ()])
    return [(questions[e["r"]], e["p"], e["s"]) for e in exam.paper or ()]


def _pool(session: Session, bank_ids: Sequence[int]) -> list[PoolEntry]:
    """The live questions of these banks, as selection entries (no usage counts: a seed must redraw a paper)."""
    slug_of = dict(session.execute(select(Bank.id, Bank.slug)).all())
    return [PoolEntry(live.question, slug_of[live.bank_id]) for live in load_live_revisions(session, bank_ids)]


def seeded_questions(
    session: Session,
    blueprint_json: dict[str, Any],
    mode: str,
    seed: int,
    usable: Sequence[int],
    unnamed: Sequence[int] | None = None,
) -> list[PaperQuestion]:
    """A paper for printing, drawn as the blueprint draws in `mode` (随机组卷: balanced like a member's paper)
    from the banks `usable` (a section naming another is refused; one naming none draws from `unnamed`,
    default `usable`: `bank_admin.drawable_bank_ids`).

    The same seed gives the same paper while the banks are unchanged: exam usage counts, which change with
    every start, are not used. Raises InsufficientQuestions with the reason when the banks cannot fill it.
    """
    blueprint = blueprint_from_json(blueprint_json, shuffle_questions=True, shuffle_options=False)
    bank_ids = drawable_bank_ids(session, [section.banks for section in blueprint.sections], usable, unnamed)
    pool = _pool(session, bank_ids)
    rng, tolerance = random.Random(seed), tolerance_of(blueprint_json)
    if mode == RANDOM and tolerance is not None:
        paper = select_balanced_paper(pool, blueprint, rng, tolerance)
    else:
        paper = select_paper(pool, blueprint, rng)
    by_id = {entry.question.id: entry.question for entry in pool}
    return [(by_id[item.question_id], item.points, item.section) for item in paper.items]


def _day(exam: Exam, zone: ZoneInfo) -> str:
    local = exam.opens_at.astimezone(zone)
    return f"{local.year}年{local.month}月{local.day}日"


def readable_exam(session: Session, actor: User, exam_id: int) -> Exam:
    """The exam, if `actor` reads it (admin, its branches' organizers and inspectors), else NotAllowed."""
    exam = get_exam(session, exam_id)
    require(can_read_exam(actor, exam))
    return exam


def exam_paper(session: Session, exam: Exam, zone: ZoneInfo) -> PrintedPaper | None:
    """A 统一试卷 exam's paper as drawn (a draft's) or published; None for a 随机组卷 exam (no paper is shared)."""
    if exam.paper_mode != UNIFORM or not exam.paper:
        return None
    return layout(exam.title, frozen_questions(session, exam), date=_day(exam, zone), minutes=exam.duration_minutes)


def exam_sample(session: Session, exam: Exam, seed: int, zone: ZoneInfo) -> PrintedPaper:
    """A paper drawn by a 随机组卷 exam's own rules (balanced as members' papers are), for printing instead."""
    mode = RANDOM if exam.paper_mode == RANDOM else UNIFORM
    usable = bank_ids_for_branches(session, [branch.id for branch in exam.branches])  # as its members draw
    questions = seeded_questions(session, exam.blueprint, mode, seed, usable)
    return layout(
        f"{exam.title}（抽样试卷）", questions, date=_day(exam, zone), minutes=exam.duration_minutes, seed=seed
    )


@dataclass(frozen=True)
class DrawSpec:
    """What the printed-paper form asks: the heading, the seed and the blueprint sections (as exams store them)."""

    title: str
    sections: list[dict[str, Any]]
    seed: int
    date: str = ""
    minutes: int | None = None


def paper_banks(session: Session, actor: User) -> tuple[list[int], list[int]]:
    """The banks `actor`'s drawn papers use: every bank they see may be named in a row (another branch's own is
    refused); a row of 全部题库 takes the shared banks and their own branch's (an admin's: the shared ones)."""
    own = [actor.branch_id] if actor.branch_id is not None else []
    return visible_bank_ids(session, actor), bank_ids_for_branches(session, own)


def drawn_paper(session: Session, actor: User, spec: DrawSpec) -> PrintedPaper:
    """A paper drawn from blueprint rows by `actor` (`paper_banks`); the same seed draws the same paper while the
    banks are unchanged."""
    if not spec.sections:
        raise PaperError("请至少设置一个组卷规则（填写题数）")
    if any(section["count"] < 1 for section in spec.sections):
        raise PaperError("每个组卷规则的题数都必须大于 0")
    if sum(section["count"] for section in spec.sections) > MAX_QUESTIONS:
        raise PaperError(f"一份试卷最多 {MAX_QUESTIONS} 题，请减少题数")
    usable, unnamed = paper_banks(session, actor)
    questions = seeded_questions(session, {"sections": spec.sections}, UNIFORM, spec.seed, usable, unnamed)
    title = spec.title.strip() or DEFAULT_TITLE
    return layout(title, questions, date=spec.date.strip(), minutes=spec.minutes, seed=spec.seed)
