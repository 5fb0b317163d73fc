"""Load YAML banks into engine objects, all or nothing.

Pipeline: bytes -> strict UTF-8 -> YAML node tree (C loader when available, for speed) -> plain data
plus the line of every question and field -> marshmallow -> `engine.questions.Question`. Every
problem in every file is collected and reported as `file:line: question-id: message`; if there is
any problem, nothing is returned, so a caller never syncs half a bank.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from marshmallow import ValidationError

from quizengine.engine.questions import Option, Question

from .format import BankSchema, QuestionSchema, scalar_text, translate
from .safe_yaml import MAX_FILE_BYTES, SafeLoader, YamlLimitError

BANK_SUFFIXES = (".yaml", ".yml")
ProblemT = TypeVar("ProblemT")


@dataclass(frozen=True)
class BankProblem:
    """One thing wrong in a bank file, located for the author."""

    path: str
    line: int
    question_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return f"{where}: {self.question_id}: {self.message}" if self.question_id else f"{where}: {self.message}"


class ProblemsError(Exception, Generic[ProblemT]):
    """Raised with every problem found, one per line of the message: all or nothing, nothing was returned."""

    def __init__(self, problems: list[ProblemT]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


class BankLoadError(ProblemsError[BankProblem]):
    """A bank file set with problems; nothing was loaded."""


@dataclass(frozen=True)
class Category:
    """A chapter of a bank."""

    id: str
    title: str


@dataclass(frozen=True)
class Bank:
    """A validated bank: its metadata and its questions as engine objects."""

    slug: str
    title: str
    source: str
    path: str
    categories: tuple[Category, ...]
    questions: tuple[Question, ...]
    #: Line of each question in the file, for messages that concern several files.
    question_lines: dict[str, int] = field(default_factory=dict, compare=False)


@dataclass
class _Located:
    """Lines of a mapping node's keys (1-based), for pointing at the field that is wrong."""

    line: int
    key_lines: dict[str, int]


def bank_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their *.yaml/*.yml files (top level only; contest plans live below)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(child for child in path.iterdir() if child.suffix in BANK_SUFFIXES and child.is_file()))
        else:
            files.append(path)
    return files


def _mapping_lines(node: yaml.Node) -> _Located:
    """The node's line and its keys' lines (a duplicated key: its last line, the value that was kept)."""
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    return _Located(node.start_mark.line + 1, {str(key.value): key.start_mark.line + 1 for key, _ in pairs})


def _parse(
    path: Path, display: str, problems: list[BankProblem]
) -> tuple[Any, yaml.Node | None, list[tuple[int, str]]]:
    """Read and compose one file under the size, depth and alias limits; returns (data, root, duplicate keys)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            limit = MAX_FILE_BYTES // (1024 * 1024)
            problems.append(BankProblem(display, 1, None, f"文件过大（{size / 1024 / 1024:.1f} MB，上限 {limit} MB）"))
            return None, None, []
        raw = path.read_bytes()
    except OSError as error:
        problems.append(BankProblem(display, 1, None, f"无法读取文件：{error.strerror}"))
        return None, None, []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.append(BankProblem(display, line, None, "文件不是 UTF-8 编码，请用 UTF-8 保存后再试"))
        return None, None, []
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        prefix = "" if isinstance(error, YamlLimitError) else "YAML 语法错误："
        problems.append(BankProblem(display, line, None, f"{prefix}{error.problem or error.context}"))
        return None, None, []
    finally:
        loader.dispose()
    return data, node, loader.duplicate_keys


def _question_at(root: yaml.Node, line: int) -> str | None:
    """The id of the question whose text spans `line` (for problems found before validation)."""
    for node in _question_nodes(root):
        if isinstance(node, yaml.MappingNode) and node.start_mark.line < line <= node.end_mark.line + 1:
            ids = [value.value for key, value in node.value if key.value == "id" and isinstance(value, yaml.ScalarNode)]
            return ids[0] if ids else None
    return None


def _question_nodes(root: yaml.Node) -> list[yaml.Node]:
    for key_node, value_node in root.value:
        if key_node.value == "questions" and isinstance(value_node, yaml.SequenceNode):
            return list(value_node.value)
    return []


def _flatten(messages: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            yield from _flatten(value, name)
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, prefix)
    else:
        yield prefix, translate(str(messages))


def _report(
    error: ValidationError, located: _Located, display: str, question_id: str | None, problems: list[BankProblem]
) -> None:
    for field_path, message in _flatten(error.messages):
        top = field_path.split(".", 1)[0]
        line = located.key_lines.get(top, located.line)
        text = f"{field_path}：{message}" if field_path and field_path != "_schema" else message
        problems.append(BankProblem(display, line, question_id, text))


def _build_question(data: dict[str, Any]) -> Question:
    answer: Any = data["answer"]
    if data["type"] == "multiple":
        answer = tuple(sorted(answer))
    elif data["type"] == "fill":
        answer = tuple(tuple(scalar_text(item) for item in group) for group in answer)
    elif data["type"] == "short":
        answer = scalar_text(answer) or ""  # no reference answer: the grader decides
    options = data.get("options") or {}
    return Question(
        id=data["id"],
        type=data["type"],
        stem=data["stem"].strip(),
        answer=answer,
        options=tuple(Option(key, scalar_text(options[key]) or "") for key in sorted(options)),
        explanation=data["explanation"].strip(),
        reference=data["reference"].strip(),
        category=data["category"],
        difficulty=data["difficulty"],
        tags=tuple(data["tags"]),
        points=data["points"],
        fixed=tuple(data["fixed"]),
        keypoints=tuple(point.strip() for point in data["keypoints"]),
        quote=data["quote"].strip(),
        group=data["group"],
    )


def _load_file(path: Path, display: str, strict: bool, problems: list[BankProblem]) -> Bank | None:
    before = len(problems)
    data, root, duplicates = _parse(path, display, problems)
    if root is None:
        if data is None and len(problems) == before:
            problems.append(BankProblem(display, 1, None, "文件为空"))
        return None
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        message = "题库文件顶层应为键值映射（bank、title、questions…）"
        problems.append(BankProblem(display, root.start_mark.line + 1, None, message))
        return None
    for line, key in duplicates:
        problems.append(BankProblem(display, line, _question_at(root, line), f"字段“{key}”重复出现"))
    top = _mapping_lines(root)
    try:
        header = BankSchema().load(data)
    except ValidationError as error:
        _report(error, top, display, None, problems)
        return None
    category_ids = {category["id"] for category in header["categories"]}
    if len(category_ids) != len(header["categories"]):
        problems.append(BankProblem(display, top.key_lines.get("categories", 1), None, "章节 id 重复"))
    questions: list[Question] = []
    seen: dict[str, int] = {}
    question_schema = QuestionSchema()
    for raw, node in zip(header["questions"], _question_nodes(root), strict=True):
        question_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        located = _mapping_lines(node)
        if not isinstance(raw, dict):
            problems.append(BankProblem(display, located.line, None, "题目应为键值映射（id、type、stem…）"))
            continue
        try:
            item = question_schema.load(raw)
        except ValidationError as error:
            _report(error, located, display, question_id, problems)
            continue
        if item["id"] in seen:
            problems.append(
                BankProblem(display, located.line, item["id"], f"题目 id 重复（第{seen[item['id']]}行已使用）")
            )
            continue
        seen[item["id"]] = located.line
        if item["category"] is not None and item["category"] not in category_ids:
            declared = "、".join(sorted(category_ids)) or "（未声明任何章节）"
            problems.append(
                BankProblem(
                    display,
                    located.key_lines.get("category", located.line),
                    item["id"],
                    f"未知章节“{item['category']}”，已声明的章节：{declared}",
                )
            )
            continue
        if strict:
            for required in ("explanation", "reference"):
                if not item[required].strip():
                    label = "解析" if required == "explanation" else "出处"
                    problems.append(
                        BankProblem(display, located.line, item["id"], f"缺少{label}（{required}），随附题库必须填写")
                    )
        questions.append(_build_question(item))
    if len(problems) > before:
        return None
    return Bank(
        slug=header["bank"],
        title=header["title"].strip(),
        source=header["source"].strip(),
        path=display,
        categories=tuple(Category(category["id"], category["title"].strip()) for category in header["categories"]),
        questions=tuple(questions),
        question_lines=seen,
    )


def load_banks(paths: Iterable[str | Path], *, strict: bool = False) -> list[Bank]:
    """Validate every bank under `paths` and return them, or raise BankLoadError listing every problem.

    Besides each file's own checks, bank slugs and question ids must be unique across all files.
    `strict` also requires 解析 and 出处 on every question (the rule for shipped banks).
    """
    problems: list[BankProblem] = []
    banks: list[Bank] = []
    files = bank_files(paths)
    if not files:
        raise BankLoadError([BankProblem(str(Path(*paths) if paths else "."), 1, None, "没有找到 .yaml 题库文件")])
    for path in files:
        bank = _load_file(path, str(path), strict, problems)
        if bank is not None:
            banks.append(bank)
    slugs: dict[str, str] = {}
    owners: dict[str, str] = {}
    for bank in banks:
        if bank.slug in slugs:
            problems.append(BankProblem(bank.path, 1, None, f"题库 bank“{bank.slug}”与 {slugs[bank.slug]} 重复"))
        slugs[bank.slug] = bank.path
        for question in bank.questions:
            if question.id in owners:
                line = bank.question_lines.get(question.id, 1)
                message = f"题目 id 与题库文件 {owners[question.id]} 中的题目重复"
                problems.append(BankProblem(bank.path, line, question.id, message))
            owners[question.id] = bank.path
    if problems:
        raise BankLoadError(problems)
    return banks
