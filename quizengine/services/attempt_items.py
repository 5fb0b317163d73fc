"""An answered item as the member saw it: the revision asked (an engine question), the option order shown,
the right answer and the member's response in the shown keys. Self-test feedback, exam review and printed
papers all show answers this way.
"""

from __future__ import annotations

from collections.abc import Sequence

from quizengine.engine.questions import OPTION_KEYS
from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.selection import PaperItem
from quizengine.models import AttemptItem


def engine_question(item: AttemptItem) -> EngineQuestion:
    """The revision the member was asked, as an engine object."""
    return EngineQuestion.from_content(item.question.external_id, item.revision.content)


def paper_item(item: AttemptItem) -> PaperItem:
    """The stored option order as an engine paper item (maps shown keys to authoring keys)."""
    return PaperItem(item.question.external_id, item.points, option_order=tuple(item.option_order))


def shown_answer(item: AttemptItem) -> str:
    """The correct answer as the member saw it: shown option keys, 对/错, or the accepted fill answers."""
    return answer_key(engine_question(item), item.option_order)


def answer_key(question: EngineQuestion, option_order: Sequence[str], judge: tuple[str, str] = ("对", "错")) -> str:
    """The correct answer in the keys of `option_order` (the options as shown), `judge` for true/false, the
    accepted fill answers per blank, or the reference text. Pages and printed papers show keys this way."""
    paper = PaperItem(question.id, 0, option_order=tuple(option_order))
    if question.type == "single":
        return paper.shown_key(question.answer)
    if question.type == "multiple":
        return "".join(sorted(paper.shown_key(key) for key in question.answer))
    if question.type == "judge":
        return judge[0] if question.answer else judge[1]
    if question.type == "fill":
        return "；".join("/".join(accepted) for accepted in question.answer)
    return question.answer


def shown_options(item: AttemptItem) -> list[tuple[str, str]]:
    """(shown key, text) pairs in the order the member sees them."""
    texts = {option.key: option.text for option in engine_question(item).options}
    return [(OPTION_KEYS[index], texts[key]) for index, key in enumerate(item.option_order)]


def shown_response(item: AttemptItem) -> str:
    """The member's answer as they saw it."""
    response = item.response
    if response is None:
        return "未作答"
    paper = paper_item(item)
    if item.option_order:
        keys = response if isinstance(response, list) else [response]
        return "".join(sorted(paper.shown_key(key) for key in keys))
    if isinstance(response, bool):
        return "对" if response else "错"
    if isinstance(response, list):
        return "；".join(response)
    return str(response)
