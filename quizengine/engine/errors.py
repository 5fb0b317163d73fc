"""Domain errors with user-facing Chinese messages.

Each error carries a message that can be shown to a member or organizer as it is; transports map
them to HTTP 4xx responses or socket error events without rewording.
"""

from __future__ import annotations


class QuizError(Exception):
    """Base class: a rule of the game was broken; `message` is safe to show to the user."""

    #: Short machine-readable code for clients and tests.
    code: str = "quiz_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidResponse(QuizError):
    """The answer has the wrong shape for its question type (e.g. two keys for a single choice)."""

    code = "invalid_response"


class UnknownQuestionType(QuizError):
    """A question names a type that is not in the registry."""

    code = "unknown_question_type"


class InsufficientQuestions(QuizError):
    """A paper blueprint asks for more questions than the pool holds."""

    code = "insufficient_questions"


class DeadlinePassed(QuizError):
    """An answer arrived after the deadline and its grace period."""

    code = "deadline_passed"


class StandardError(QuizError):
    """A malformed standard or period (the message is shown to the organizer)."""

    code = "bad_standard"
