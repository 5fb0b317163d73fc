"""Study plans in YAML (`question_banks/plans/*.yaml`, see docs/study-plan.md) -> `StudyPlan`.

The same pipeline as banks and contest plans: strict UTF-8, the bounded YAML composer, the line of every key,
then validation that collects every problem of every file as `file:line: message` — all or nothing.
`check_plan_against_banks` then checks that every bank and chapter a topic names exists and that each topic's
practice can be drawn (its chapters hold questions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

import yaml

from quizengine.engine.study_plan import WEEKDAY_NAMES, Reading, StudyDay, StudyPlan, build_topics

from .loader import Bank, BankProblem, ProblemsError, _parse, bank_files
from .safe_yaml import key_lines

#: The folder (below the banks folder) that holds study plans; the bank loader never reads it.
PLANS_DIR = "plans"

MAX_TITLE = 60
MAX_NOTE = 500
MAX_TOPICS = 104  # two years of weekly topics
MAX_WEEKS_PER_TOPIC = 8
MIN_PRACTICE, MAX_PRACTICE = 5, 50
_TOP_FIELDS = {"version", "title", "description", "start", "study_day", "practice_count", "topics"}
_TOPIC_FIELDS = {"title", "weeks", "read", "questions", "note"}
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class PlanProblem:
    """One thing wrong in a study plan file, located for the author."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class StudyPlanLoadError(ProblemsError[PlanProblem]):
    """Study plan files with problems; nothing was loaded."""


@dataclass(frozen=True)
class LoadedStudyPlan:
    """A valid plan and where its parts were written (for checks against the banks)."""

    path: str
    plan: StudyPlan
    lines: Mapping[tuple[str, ...], int]

    def line(self, *parts: str | int) -> int:
        return _line_of(self.lines, parts)


def _line_of(lines: Mapping[tuple[str, ...], int], parts: Sequence[str | int]) -> int:
    """The line of the deepest written part of `parts` (a missing field: the line of what holds it)."""
    path = tuple(str(part) for part in parts)
    for size in range(len(path), -1, -1):
        if path[:size] in lines:
            return lines[path[:size]]
    return 1


class _Reader:
    """Validates plain data against the plan format, collecting problems with their lines."""

    def __init__(self, display: str, lines: Mapping[tuple[str, ...], int]) -> None:
        self.display, self.lines = display, lines
        self.problems: list[PlanProblem] = []

    def problem(self, path: Sequence[str | int], message: str) -> None:
        self.problems.append(PlanProblem(self.display, _line_of(self.lines, path), message))

    def unknown(self, data: Mapping[str, Any], allowed: set[str], path: tuple[str | int, ...]) -> None:
        for key in data:
            if key not in allowed:
                self.problem((*path, str(key)), f"未知字段“{key}”（请检查拼写）")

    def text(self, data: Mapping[str, Any], key: str, path: tuple, *, required: bool, limit: int) -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(path if key not in data else (*path, key), f"缺少必填字段“{key}”")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem((*path, key), f"{key} 应为不空的文字")
            return ""
        if len(value.strip()) > limit:
            self.problem((*path, key), f"{key} 超过 {limit} 个字")
        return value.strip()

    def integer(self, data: Mapping[str, Any], key: str, path: tuple, default: int, low: int, high: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem((*path, key), f"{key} 应为 {low} 到 {high} 的整数，实际为“{value}”")
            return default
        return value

    def readings(self, value: Any, path: tuple) -> tuple[Reading, ...]:
        if not isinstance(value, list) or not value:
            self.problem(path, "应为列表，每项写成 {bank: 题库标识, chapters: [章节标识…]}")
            return ()
        found = []
        for index, item in enumerate(value):
            where = (*path, index)
            if not isinstance(item, dict):
                self.problem(where, "应写成 {bank: 题库标识, chapters: [章节标识…]}")
                continue
            self.unknown(item, {"bank", "chapters"}, where)
            bank = self.text(item, "bank", where, required=True, limit=100)
            chapters = item.get("chapters", [])
            if not isinstance(chapters, list) or not all(isinstance(c, str) and c.strip() for c in chapters):
                self.problem((*where, "chapters"), "chapters 应为章节标识的列表，如 [ch1, ch2]")
                chapters = []
            if bank:
                found.append(Reading(bank, tuple(c.strip() for c in chapters)))
        return tuple(found)

    def study_day(self, value: Any) -> StudyDay:
        path = ("study_day",)
        if not isinstance(value, dict):
            self.problem(path, "study_day 应写成 {weekday: 1–7（周一为 1）, time: 'HH:MM'}")
            return StudyDay(1)
        self.unknown(value, {"weekday", "time"}, path)
        weekday = self.integer(value, "weekday", path, 0, 1, 7) if "weekday" in value else 0
        if "weekday" not in value:
            self.problem(path, "缺少必填字段“weekday”（1–7，周一为 1）")
        at = None
        if "time" in value:
            raw = value["time"]
            match = _TIME.fullmatch(raw) if isinstance(raw, str) else None
            if match is None:
                self.problem((*path, "time"), f"time 应写成带引号的 'HH:MM'，如 '15:00'，实际为“{raw}”")
            else:
                at = time(int(match[1]), int(match[2]))
        return StudyDay(weekday or 1, at)

    def start(self, value: Any) -> date:
        if not isinstance(value, date) or isinstance(value, bool):
            self.problem(("start",), f"start 应为日期，如 2026-03-02（一个周一），实际为“{value}”")
            return date(2000, 1, 3)
        if value.weekday() != 0:
            self.problem(("start",), f"start 应为周一（每周从周一开始），{value} 是{WEEKDAY_NAMES[value.weekday()]}")
        return value

    def topics(self, value: Any) -> list[tuple[str, int, tuple, tuple, str]]:
        if not isinstance(value, list) or not value:
            self.problem(("topics",), "topics 应为至少一个专题的列表")
            return []
        if len(value) > MAX_TOPICS:
            self.problem(("topics",), f"专题过多（{len(value)} 个，上限 {MAX_TOPICS} 个）")
        entries = []
        for index, item in enumerate(value):
            where = ("topics", index)
            if not isinstance(item, dict):
                self.problem(where, f"第{index + 1}个专题应写成键值映射（title、read…）")
                continue
            self.unknown(item, _TOPIC_FIELDS, where)
            title = self.text(item, "title", where, required=True, limit=MAX_TITLE)
            weeks = self.integer(item, "weeks", where, 1, 1, MAX_WEEKS_PER_TOPIC)
            read = self.readings(item.get("read"), (*where, "read"))
            questions = self.readings(item["questions"], (*where, "questions")) if "questions" in item else ()
            note = self.text(item, "note", where, required=False, limit=MAX_NOTE)
            entries.append((title, weeks, read, questions, note))
        return entries


def _read_plan(data: Mapping[str, Any], display: str, slug: str, lines: Mapping) -> tuple[StudyPlan, list]:
    reader = _Reader(display, lines)
    reader.unknown(data, _TOP_FIELDS, ())
    if data.get("version") != 1:
        reader.problem(("version",), "version 应为 1")
    title = reader.text(data, "title", (), required=True, limit=MAX_TITLE)
    description = reader.text(data, "description", (), required=False, limit=MAX_NOTE)
    if "start" not in data:
        reader.problem((), "缺少必填字段“start”（计划第一周的周一）")
    start = reader.start(data.get("start")) if "start" in data else date(2000, 1, 3)
    if "study_day" not in data:
        reader.problem((), "缺少必填字段“study_day”（每周学习日）")
    study_day = reader.study_day(data.get("study_day")) if "study_day" in data else StudyDay(1)
    practice_count = reader.integer(data, "practice_count", (), 10, MIN_PRACTICE, MAX_PRACTICE)
    entries = reader.topics(data.get("topics"))
    topics = build_topics(start, entries)
    plan = StudyPlan(slug, title, start, study_day, topics, practice_count, description)
    return plan, reader.problems


def _load_file(path: Path, problems: list[PlanProblem]) -> LoadedStudyPlan | None:
    display = str(path)
    parse_problems: list[BankProblem] = []
    data, root, _ = _parse(path, display, parse_problems)
    problems.extend(PlanProblem(p.path, p.line, p.message) for p in parse_problems)
    if root is None:
        if data is None and not parse_problems:
            problems.append(PlanProblem(display, 1, "文件为空"))
        return None
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        message = "学习计划顶层应为键值映射（title、start、topics…）"
        problems.append(PlanProblem(display, root.start_mark.line + 1, message))
        return None
    lines, duplicates = key_lines(root)
    for key_path, line in duplicates:
        problems.append(PlanProblem(display, line, f"字段“{key_path[-1]}”重复出现"))
    plan, found = _read_plan(data, display, path.stem, lines)
    problems.extend(found)
    return None if found or duplicates else LoadedStudyPlan(display, plan, lines)


def load_study_plans(paths: Iterable[str | Path]) -> list[LoadedStudyPlan]:
    """Validate every plan under `paths` (directories: their top-level *.yaml); raises StudyPlanLoadError
    listing every problem of every file, and then returns nothing."""
    problems: list[PlanProblem] = []
    paths = list(paths)
    for missing in (path for path in paths if not Path(path).exists()):
        problems.append(PlanProblem(str(missing), 1, "找不到这个文件或目录"))
    plans = []
    for path in bank_files(path for path in paths if Path(path).exists()):
        loaded = _load_file(path, problems)
        if loaded is not None:
            plans.append(loaded)
    if problems:
        raise StudyPlanLoadError(problems)
    return plans


def check_plan_against_banks(loaded: LoadedStudyPlan, banks: Sequence[Bank]) -> list[PlanProblem]:
    """Every bank and chapter a topic names exists, and each topic's questions can be drawn."""
    by_slug = {bank.slug: bank for bank in banks}
    problems = []
    for index, topic in enumerate(loaded.plan.topics):
        available = 0
        for part, readings in (("read", topic.read), ("questions", topic.questions)):
            if part == "questions" and topic.questions is topic.read:
                continue
            for position, reading in enumerate(readings):
                where = ("topics", index, part, position)
                bank = by_slug.get(reading.bank)
                if bank is None:
                    problems.append(PlanProblem(loaded.path, loaded.line(*where, "bank"), f"没有题库“{reading.bank}”"))
                    continue
                known = {category.id for category in bank.categories}
                for chapter in reading.chapters:
                    if chapter not in known:
                        message = f"题库“{reading.bank}”没有章节“{chapter}”（可选：{'、'.join(sorted(known)) or '无'}）"
                        problems.append(PlanProblem(loaded.path, loaded.line(*where, "chapters"), message))
        for reading in topic.questions:
            bank = by_slug.get(reading.bank)
            if bank is not None:
                chapters = set(reading.chapters)
                available += sum(1 for q in bank.questions if not chapters or q.category in chapters)
        if available == 0 and not problems:
            message = f"专题“{topic.title}”的章节里没有题目，无法练习"
            problems.append(PlanProblem(loaded.path, loaded.line("topics", index), message))
    return problems


def check_study_plans(
    paths: Iterable[str | Path], banks: Sequence[Bank]
) -> tuple[list[LoadedStudyPlan], list[PlanProblem]]:
    """Load and check plans against banks; (plans, problems) — plans are empty when anything is wrong."""
    try:
        plans = load_study_plans(paths)
    except StudyPlanLoadError as error:
        return [], error.problems
    problems = [problem for loaded in plans for problem in check_plan_against_banks(loaded, banks)]
    return ([] if problems else plans), problems
