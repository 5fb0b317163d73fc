"""Question types as a registry of small classes.

A `Question` is an immutable value (one revision of one question). Its type object knows how to
normalize a member's response and grade it into an `Outcome`. Adding a type is adding a class with
`@register`, never an `if` chain in a caller.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from .errors import InvalidResponse, UnknownQuestionType

#: A blank in a fill-in stem: one run of two or more ASCII or full-width underscores.
BLANK_PATTERN = re.compile(r"[_＿]{2,}")

OPTION_KEYS = "ABCDEFGH"


class Verdict(StrEnum):
    """How a response was judged."""

    CORRECT = "correct"
    PARTIAL = "partial"
    WRONG = "wrong"
    PENDING = "pending"  # needs a human grader (short answers)


class MultiplePolicy(StrEnum):
    """How a multiple-choice response earns credit.

    `all_or_nothing`: only the exact set of keys earns credit.
    `partial`: a non-empty subset of the right keys with no wrong key earns chosen/right of the credit.
    """

    ALL_OR_NOTHING = "all_or_nothing"
    PARTIAL = "partial"


@dataclass(frozen=True)
class Outcome:
    """The result of grading one response; `credit` is the share of the question's points (0..1)."""

    verdict: Verdict
    credit: float
    answered: bool = True

    @property
    def is_correct(self) -> bool:
        """True only for a fully correct answer."""
        return self.verdict is Verdict.CORRECT


@dataclass(frozen=True)
class Option:
    """One choice of a single/multiple question, under its authoring key."""

    key: str
    text: str


@dataclass(frozen=True)
class Question:
    """One revision of a question, as written in the bank.

    `answer` is already normalized by the bank loader: a key (single), a sorted tuple of keys
    (multiple), a bool (judge), a tuple of accepted-answer tuples per blank (fill), or the reference
    text (short).
    """

    id: str
    type: str
    stem: str
    answer: Any
    options: tuple[Option, ...] = ()
    explanation: str = ""
    reference: str = ""
    category: str | None = None
    difficulty: int = 3
    tags: tuple[str, ...] = ()
    points: float | None = None
    fixed: tuple[str, ...] = ()
    keypoints: tuple[str, ...] = field(default=())
    #: 原文: the document's sentence(s) that decide the answer, quoted exactly ("" when not given).
    quote: str = ""
    #: Questions sharing a group test the same thing: a paper never draws two of them.
    group: str | None = None

    @property
    def option_keys(self) -> tuple[str, ...]:
        """The authoring keys of the options, in authoring order."""
        return tuple(option.key for option in self.options)

    @property
    def blank_count(self) -> int:
        """Number of blanks (runs of underscores) in the stem."""
        return len(BLANK_PATTERN.findall(self.stem))

    def content(self) -> dict[str, Any]:
        """Canonical JSON-ready content of this revision (everything but the id).

        `quote` and `group` appear only when set, so a question written before they existed keeps its hash
        (a load does not make a new revision of every unchanged question).
        """
        answer: Any = self.answer
        if isinstance(answer, tuple):
            answer = [list(item) if isinstance(item, tuple) else item for item in answer]
        content: dict[str, Any] = {
            "type": self.type,
            "stem": self.stem,
            "options": {option.key: option.text for option in self.options},
            "answer": answer,
            "explanation": self.explanation,
            "reference": self.reference,
            "category": self.category,
            "difficulty": self.difficulty,
            "tags": list(self.tags),
            "points": self.points,
            "fixed": list(self.fixed),
            "keypoints": list(self.keypoints),
        }
        if self.quote:
            content["quote"] = self.quote
        if self.group:
            content["group"] = self.group
        return content

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical content: equal content, equal hash, whatever the YAML layout."""
        canonical = json.dumps(self.content(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @classmethod
    def from_content(cls, question_id: str, content: Mapping[str, Any]) -> Question:
        """Rebuild a question from `content()` output (a stored revision)."""
        answer = content["answer"]
        if content["type"] == "multiple":
            answer = tuple(answer)
        elif content["type"] == "fill":
            answer = tuple(tuple(accepted) for accepted in answer)
        return cls(
            id=question_id,
            type=content["type"],
            stem=content["stem"],
            answer=answer,
            options=tuple(Option(key, text) for key, text in content.get("options", {}).items()),
            explanation=content.get("explanation", ""),
            reference=content.get("reference", ""),
            category=content.get("category"),
            difficulty=content.get("difficulty", 3),
            tags=tuple(content.get("tags", ())),
            points=content.get("points"),
            fixed=tuple(content.get("fixed", ())),
            keypoints=tuple(content.get("keypoints", ())),
            quote=content.get("quote", ""),
            group=content.get("group"),
        )


def normalize_text(text: str) -> str:
    """Fold a typed answer for comparison: Unicode NFKC, no whitespace at all, case-folded."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).casefold()


class QuestionType:
    """Base of the registry: one subclass per question type."""

    #: The type's name in banks and on the wire.
    name: ClassVar[str]
    #: The Chinese label shown to users.
    label: ClassVar[str]
    #: False when a human must grade the response.
    auto_graded: ClassVar[bool] = True
    #: True when the type has options that can be shuffled.
    has_options: ClassVar[bool] = False

    def is_blank(self, response: Any) -> bool:
        """True when the member gave no answer at all."""
        return response is None or response == "" or response == [] or response == ()

    def normalize(self, question: Question, response: Any) -> Any:
        """Return the canonical form of a non-blank response or raise InvalidResponse."""
        raise NotImplementedError

    def judge(self, question: Question, response: Any, policy: MultiplePolicy) -> Outcome:
        """Grade a normalized, non-blank response."""
        raise NotImplementedError

    def storable(self, question: Question, response: Any) -> Any:
        """The form of a response to keep in an answer sheet (JSON-ready; what the member meant, not folded)."""
        if self.is_blank(response):
            return None
        normalized = self.normalize(question, response)
        return list(normalized) if isinstance(normalized, tuple) else normalized

    def grade(
        self, question: Question, response: Any, policy: MultiplePolicy = MultiplePolicy.ALL_OR_NOTHING
    ) -> Outcome:
        """Grade a raw response; a blank response is wrong and marked unanswered."""
        if self.is_blank(response):
            return Outcome(Verdict.WRONG, 0.0, answered=False)
        return self.judge(question, self.normalize(question, response), policy)


QUESTION_TYPES: dict[str, QuestionType] = {}


def register(cls: type[QuestionType]) -> type[QuestionType]:
    """Class decorator: add a question type to the registry under its `name`."""
    QUESTION_TYPES[cls.name] = cls()
    return cls


def get_type(name: str) -> QuestionType:
    """Look up a question type or raise UnknownQuestionType."""
    try:
        return QUESTION_TYPES[name]
    except KeyError:
        known = "、".join(QUESTION_TYPES)
        raise UnknownQuestionType(f"未知题型“{name}”，可用题型：{known}") from None


def grade(question: Question, response: Any, policy: MultiplePolicy = MultiplePolicy.ALL_OR_NOTHING) -> Outcome:
    """Grade `response` to `question` with its type's rules."""
    return get_type(question.type).grade(question, response, policy)


def _choice_key(question: Question, raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidResponse("请选择一个选项")
    key = raw.strip().upper()
    if key not in question.option_keys:
        raise InvalidResponse(f"选项“{raw}”不存在")
    return key


@register
class SingleChoice(QuestionType):
    """单选题: exactly one key."""

    name = "single"
    label = "单选题"
    has_options = True

    def normalize(self, question: Question, response: Any) -> str:
        """Accept one option key, case-insensitive."""
        return _choice_key(question, response)

    def judge(self, question: Question, response: str, policy: MultiplePolicy) -> Outcome:
        """Right only when the key is the answer key."""
        if response == question.answer:
            return Outcome(Verdict.CORRECT, 1.0)
        return Outcome(Verdict.WRONG, 0.0)


@register
class MultipleChoice(QuestionType):
    """多选题: a set of keys; credit depends on the multiple-choice policy."""

    name = "multiple"
    label = "多选题"
    has_options = True

    def normalize(self, question: Question, response: Any) -> tuple[str, ...]:
        """Accept a list of keys or a string of key letters (e.g. "ABD"); order and case do not matter."""
        items = list(response.replace(",", "").replace(" ", "")) if isinstance(response, str) else response
        if not isinstance(items, list | tuple):
            raise InvalidResponse("请选择一个或多个选项")
        keys = {_choice_key(question, item) for item in items}
        return tuple(sorted(keys))

    def judge(self, question: Question, response: tuple[str, ...], policy: MultiplePolicy) -> Outcome:
        """Exact set: correct. Under the partial policy a wrong-free subset earns its share."""
        right = set(question.answer)
        chosen = set(response)
        if chosen == right:
            return Outcome(Verdict.CORRECT, 1.0)
        if policy is MultiplePolicy.PARTIAL and chosen < right:
            return Outcome(Verdict.PARTIAL, len(chosen) / len(right))
        return Outcome(Verdict.WRONG, 0.0)


@register
class Judge(QuestionType):
    """判断题: true or false."""

    name = "judge"
    label = "判断题"

    _WORDS: ClassVar[dict[str, bool]] = {"true": True, "false": False, "对": True, "错": False}

    def normalize(self, question: Question, response: Any) -> bool:
        """Accept a boolean, or the words true/false/对/错."""
        if isinstance(response, bool):
            return response
        if isinstance(response, str) and response.strip().lower() in self._WORDS:
            return self._WORDS[response.strip().lower()]
        raise InvalidResponse("请选择“对”或“错”")

    def judge(self, question: Question, response: bool, policy: MultiplePolicy) -> Outcome:
        """Right when the truth value matches."""
        if response is question.answer:
            return Outcome(Verdict.CORRECT, 1.0)
        return Outcome(Verdict.WRONG, 0.0)


@register
class Fill(QuestionType):
    """填空题: per blank several accepted answers, compared after NFKC, whitespace and case folding."""

    name = "fill"
    label = "填空题"

    def is_blank(self, response: Any) -> bool:
        """Blank when nothing was typed into any blank."""
        if isinstance(response, list | tuple):
            return all(isinstance(item, str) and not item.strip() for item in response)
        return super().is_blank(response) or (isinstance(response, str) and not response.strip())

    def normalize(self, question: Question, response: Any) -> tuple[str, ...]:
        """Accept one string per blank (a bare string for a single blank)."""
        items = [response] if isinstance(response, str) else response
        if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
            raise InvalidResponse("请填写答案")
        if len(items) != len(question.answer):
            raise InvalidResponse(f"本题有{len(question.answer)}个空，收到{len(items)}个答案")
        return tuple(normalize_text(item) for item in items)

    def storable(self, question: Question, response: Any) -> Any:
        """Keep what the member typed (trimmed), one string per blank."""
        self.normalize(question, response)  # validates the shape
        items = [response] if isinstance(response, str) else response
        return [item.strip() for item in items]

    def judge(self, question: Question, response: tuple[str, ...], policy: MultiplePolicy) -> Outcome:
        """Each blank is right when it equals one accepted answer; credit is the share of right blanks."""
        right = sum(
            1
            for given, accepted in zip(response, question.answer, strict=True)
            if given in {normalize_text(option) for option in accepted}
        )
        total = len(question.answer)
        if right == total:
            return Outcome(Verdict.CORRECT, 1.0)
        if right:
            return Outcome(Verdict.PARTIAL, right / total)
        return Outcome(Verdict.WRONG, 0.0)


@register
class ShortAnswer(QuestionType):
    """简答题: a person grades it, so grading returns PENDING."""

    name = "short"
    label = "简答题"
    auto_graded = False

    def is_blank(self, response: Any) -> bool:
        """Blank when only whitespace was typed."""
        return super().is_blank(response) or (isinstance(response, str) and not response.strip())

    def normalize(self, question: Question, response: Any) -> str:
        """Accept free text."""
        if not isinstance(response, str):
            raise InvalidResponse("请填写文字答案")
        return response.strip()

    def judge(self, question: Question, response: str, policy: MultiplePolicy) -> Outcome:
        """Always pending: the organizer grades it."""
        return Outcome(Verdict.PENDING, 0.0)
