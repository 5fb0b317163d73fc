"""The member's wrong-answer book (错题本) and reviews due, kept to the banks the member may see."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from quizengine.models import Bank, Question, QuestionProgress, User

from .access import require
from .bank_admin import bank_visible_clause
from .questions import LiveQuestion, live_questions_query, load_live


def list_wrong_book(session: Session, user: User) -> list[LiveQuestion]:
    """The member's wrong-answer book: live questions, in bank order."""
    return load_live(session, live_questions_query().where(Question.id.in_(wrong_book_question_ids(user))))


def wrong_book_question_ids(user: User) -> Select[tuple[int]]:
    """The questions in the member's wrong-answer book (its list, its size, 错题练习), as `progress_question_ids`."""
    return progress_question_ids(user, QuestionProgress.in_wrong_book.is_(True))


def progress_question_ids(user: User, *criteria: ColumnElement[bool]) -> Select[tuple[int]]:
    """The live questions of the member's own progress rows that meet `criteria`, from banks the member may see.
    A question met in a branch's own bank leaves the wrong-answer book and the reviews due once the bank is no
    longer the member's (it went to another branch, or the member moved), and comes back if it is theirs again:
    what is counted is what 错题练习 and 智能练习 can draw."""
    return (
        select(QuestionProgress.question_id)
        .join(Question, Question.id == QuestionProgress.question_id)
        .join(Bank, Bank.id == Question.bank_id)
        .where(QuestionProgress.user_id == user.id, Question.retired.is_(False), bank_visible_clause(user), *criteria)
    )


def remove_from_wrong_book(session: Session, user: User, question_id: int) -> None:
    """Take a question out of the member's wrong-answer book by hand."""
    row = session.scalar(
        select(QuestionProgress).where(QuestionProgress.user_id == user.id, QuestionProgress.question_id == question_id)
    )
    require(row is not None and row.in_wrong_book, "该题不在错题本中")
    assert row is not None
    row.in_wrong_book, row.wrong_streak = False, 0
    session.commit()
