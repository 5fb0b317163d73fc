"""Players' answers in 全员答题: each is checked by the machine and stored in its own row (a unique key
refuses a second), in group commits, without rewriting the contest state; and the answer counts the host
and projector see, coalesced.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from quizengine.engine.errors import QuizError
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import Contest, ContestAnswer, ContestPlayer
from quizengine.modes.contest import Command, ContestError, LiveContest, Role

from .contest_commands import _player, cached_machine
from .group_commit import GroupCommit

#: The ack code of a player's answer that the round takes as a command (see submit_player_answer).
AS_COMMAND = "as_command"


def submit_player_answer(
    session: Session | scoped_session[Session],
    contest_id: int,
    player: str,
    user_id: int | None,
    question: str,
    response: object,
    *,
    clock: Clock | None = None,
) -> dict[str, object]:
    """A player's 全员答题 answer: validated by the machine, stored in its own row (a unique key refuses a
    second one) without rewriting the contest state. Returns the ack for the answerer only, once stored.

    Answers arriving together are checked and stored together (group commit, :class:`GroupCommit`):
    a whole room answering at once costs one version read and one transaction per batch, not per answer.
    In a round where players answer in turn (`RoundType.player_answers_are_commands`) nothing is stored:
    the ack says `code: AS_COMMAND`, and the caller applies the answer as a command instead.
    """
    now = (clock or SystemClock()).now()
    pending = _PendingAnswer(contest_id, player, user_id, question, response, now)
    _answers.submit(session, pending)
    if pending.error is not None:
        raise pending.error
    if pending.as_command:
        return {"ok": False, "code": AS_COMMAND}
    # `at_ms` is the receive time the reveal scores it at: with the key and rules the reveal broadcasts, the
    # phone shows its own result and points without a message of its own.
    return {"ok": True, "question": question, "response": pending.response, "at_ms": pending.at_ms}


@dataclass
class _PendingAnswer:
    """One answer waiting for its batch; `error` (a refusal) or `at_ms` is set once the batch is written."""

    contest_id: int
    player: str
    user_id: int | None
    question: str
    response: object
    at: datetime
    at_ms: int = 0
    error: ContestError | None = None
    #: The round takes this answer as a command (a player answering in turn), not as a row of its own.
    as_command: bool = False
    done: threading.Event = field(default_factory=threading.Event)


def _write_answers(session: Session | scoped_session[Session], batch: list[_PendingAnswer]) -> None:
    """Check a batch against the stored state and insert the valid answers in one transaction."""
    rows: list[tuple[_PendingAnswer, dict[str, object]]] = []
    machines: dict[int, LiveContest] = {}  # one read of each contest per batch
    for pending in batch:
        try:
            if pending.contest_id not in machines:
                machines[pending.contest_id] = cached_machine(session, pending.contest_id)
            if _as_command(machines[pending.contest_id]):
                pending.as_command = True
                continue
            rows.append((pending, _answer_row(session, machines[pending.contest_id], pending)))
        except QuizError as error:  # this answer is refused; the others of the batch are still written
            pending.error = error if isinstance(error, ContestError) else ContestError(error.message, error.code)
    if rows:
        try:
            session.execute(insert(ContestAnswer.__table__), [row for _, row in rows])
            session.commit()
        except IntegrityError:  # a duplicate in the batch: one at a time, so only the duplicates fail
            session.rollback()
            for pending, row in rows:
                try:
                    session.execute(insert(ContestAnswer.__table__), [row])
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    pending.error = ContestError("已经作答，不能重复提交", "duplicate")


def _not_stored(pending: _PendingAnswer) -> None:
    pending.error = pending.error or ContestError("答案未能保存，请重试", "busy")


#: Group commit (:class:`GroupCommit`): the first answer in becomes the writer, yields once so the answers that
#: arrived with it join, then checks them all against one read of the contest and inserts them in one
#: transaction; an ack is sent only after its answer is committed (or refused).
_answers: GroupCommit[_PendingAnswer] = GroupCommit(_write_answers, _not_stored, "contest answers")


def _as_command(machine: LiveContest) -> bool:
    """Whether players answer the current round in turn (their answers are commands, not rows)."""
    return machine.state.round_index >= 0 and machine.kind.player_answers_are_commands(machine)


def _answer_row(session: Session, machine: LiveContest, pending: _PendingAnswer) -> dict[str, object]:
    info = _player(session, pending.contest_id, pending.player)
    args = {"question": pending.question, "response": pending.response}
    command = Command("answer", Role.PLAYER, player=pending.player, args=args)
    at_ms = int(pending.at.timestamp() * 1000)
    key, record = machine.with_players({pending.player: info} if info else {}).check_answer(command, at_ms)
    pending.response, pending.at_ms = record["response"], at_ms
    return {
        "contest_id": pending.contest_id,
        "question_seq": machine.state.question_seq,
        "question_id": pending.question,
        "participant": key,
        "user_id": pending.user_id,
        "response": record["response"],
        "verdict": record["verdict"],
        "at": pending.at,
    }


def own_answer(session: Session, contest_id: int, question_seq: int, player: str) -> dict[str, object] | None:
    """A player's answer to the current question, as the machine scores it (for that player's snapshot)."""
    row = session.scalar(
        select(ContestAnswer).where(
            ContestAnswer.contest_id == contest_id,
            ContestAnswer.question_seq == question_seq,
            ContestAnswer.participant == f"player:{player}",
        )
    )
    if row is None:
        return None
    return {
        "response": row.response,
        "verdict": row.verdict,
        "credit": 1.0 if row.verdict == "correct" else 0.0,
        "at_ms": int(row.at.timestamp() * 1000),
    }


def eligible_players(session: Session, contest_id: int, question_seq: int, kicked: list[str]) -> int:
    """Players who may answer question `question_seq` (joined before it, not kicked): the counts' total."""
    query = select(func.count(ContestPlayer.id)).where(
        ContestPlayer.contest_id == contest_id, ContestPlayer.joined_seq < question_seq
    )
    if kicked:
        query = query.where(ContestPlayer.player.not_in(kicked))
    return session.scalar(query) or 0


def count_answers(session: Session, contest_id: int, question_seq: int) -> int:
    """How many answers the current question has (for the coalesced counts to host and projector)."""
    return (
        session.scalar(
            select(func.count(ContestAnswer.id)).where(
                ContestAnswer.contest_id == contest_id, ContestAnswer.question_seq == question_seq
            )
        )
        or 0
    )


def answering_contests(session: Session) -> list[int]:
    """Contests with an open deadline that are not finished (candidates for answer counts)."""
    return list(
        session.scalars(select(Contest.id).where(Contest.deadline_at.is_not(None), Contest.finished_at.is_(None)))
    )
