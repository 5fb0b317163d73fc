"""Live contest use-cases: create from a plan, apply commands (persisted in one transaction), answers.

Flow of every command: load the contest row -> the pure state machine decides -> write the new state and
an event-log row in one transaction (optimistic: a version check, retried on a race) -> commit -> return
the events for the publisher to send. Nothing here talks to Socket.IO.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from quizengine.banks.contest_plan import plan_fixed_ids
from quizengine.engine.errors import QuizError
from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.selection import Blueprint, PoolEntry, Section, select_paper
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import (
    AuditEntry,
    Bank,
    Contest,
    ContestAnswer,
    ContestEvent,
    ContestPlayer,
    ContestResult,
    ContestTeam,
    Question,
    QuestionRevision,
    User,
)
from quizengine.modes.contest import (
    Command,
    ContestError,
    ContestPlan,
    ContestState,
    Event,
    LiveContest,
    Phase,
    QuestionSource,
    Role,
    plan_from_dict,
    plan_to_dict,
    round_type,
)

from .access import can_manage_branch, is_organizer, require
from .contest_results import add_player_points
from .questions import live_questions_query, load_live

DEFAULT_TEAMS = ("第一队", "第二队", "第三队", "第四队")
TEAM_COLORS = ("#C8161D", "#1E63B5", "#137333", "#8B6508", "#6A3FA0", "#A84300", "#00737D", "#5D4037")  # AA on white
RETRIES = 5
log = logging.getLogger("quizengine.contests")


def _pool(session: Session) -> list[PoolEntry]:
    slugs = dict(session.execute(select(Bank.id, Bank.slug)).all())
    return [PoolEntry(live.question, slugs[live.row.bank_id]) for live in load_live(session, live_questions_query())]


def _section(source: QuestionSource, count: int | None = None, difficulties: tuple[int, ...] | None = None) -> Section:
    return Section(
        count=count if count is not None else source.count,
        banks=source.banks,
        categories=source.categories,
        types=source.types,
        difficulties=difficulties if difficulties is not None else source.difficulties,
    )


def _draw(
    pool: list[PoolEntry],
    taken: set[str],
    source: QuestionSource,
    rng: random.Random,
    reserved: frozenset[str] = frozenset(),
    **kw: object,
) -> list[str]:
    """Questions for one source, none asked before in this contest; ids another round names are not drawn,
    nor a question whose `group` was already drawn."""
    blocked = taken if source.ids else taken | reserved
    groups = {entry.question.group for entry in pool if entry.question.id in taken and entry.question.group}
    available = [
        entry
        for entry in pool
        if entry.question.id not in blocked and (source.ids or entry.question.group not in groups)
    ]
    if source.ids:
        missing = [qid for qid in source.ids if qid not in {e.question.id for e in available}]
        if missing:
            raise ContestError("以下题目不存在、已停用或已被其他环节使用：" + "、".join(missing))
        chosen = list(source.ids)
    else:
        paper = select_paper(available, Blueprint((_section(source, **kw),), shuffle_options=False), rng)  # type: ignore[arg-type]
        chosen = list(paper.question_ids)
    taken.update(chosen)
    return chosen


def _current_revisions(session: Session, external_ids: set[str]) -> dict[str, int]:
    rows = session.execute(
        select(Question.external_id, QuestionRevision.id)
        .join(QuestionRevision, QuestionRevision.question_id == Question.id)
        .where(Question.external_id.in_(external_ids), QuestionRevision.number == Question.current_revision)
    ).all()
    return dict(rows)


def _unique_pin(session: Session) -> str:
    while True:
        pin = f"{secrets.randbelow(900_000) + 100_000}"
        if session.scalar(select(Contest.id).where(Contest.pin == pin)) is None:
            return pin


def create_contest(
    session: Session,
    host: User,
    plan: ContestPlan,
    *,
    allow_guests: bool = False,
    rng: random.Random | None = None,
    clock: Clock | None = None,
) -> Contest:
    """Draw every round's questions now (pinning their revisions) and open the lobby. Audited.

    `allow_guests`: an open event, where people without an account may play 全员答题 by name.
    """
    require(is_organizer(host), "只有组织员可以主持知识竞赛")
    rng, clock = rng or random.Random(), clock or SystemClock()
    pool = _pool(session)
    taken: set[str] = set()
    reserved = plan_fixed_ids(plan)
    names = [team.name for team in plan.teams] or list(DEFAULT_TEAMS)
    colors = [team.color for team in plan.teams] or [""] * len(names)
    rounds: list[list[str]] = []
    risk_pools: dict[str, dict[str, list[str]]] = {}
    for index, spec in enumerate(plan.rounds):
        pools = round_type(spec.kind).question_pools(spec, len(names))
        if pools is not None:
            risk_pools[str(index)] = {
                name: _draw(pool, taken, spec.source, rng, reserved, count=count, difficulties=levels)
                for name, (count, levels) in pools.items()
            }
            rounds.append([])
        else:
            rounds.append(_draw(pool, taken, spec.source, rng, reserved))
    tie_pool = _draw(pool, taken, plan.tie_break_source, rng, reserved) if plan.tie_break_source.count else []
    state = ContestState(
        teams=[
            {"id": f"t{n}", "name": name, "color": colors[n - 1] or TEAM_COLORS[(n - 1) % len(TEAM_COLORS)]}
            for n, name in enumerate(names, start=1)
        ],
        rounds=rounds,
        risk_pools=risk_pools,
        tie_pool=tie_pool,
    )
    contest = Contest(
        title=plan.title,
        host_id=host.id,
        branch_id=host.branch_id,
        pin=_unique_pin(session),
        projector_token=secrets.token_urlsafe(24),
        plan=plan_to_dict(plan),
        revisions=_current_revisions(session, taken),
        state=state.to_dict(),
        version=0,
        created_at=clock.now(),
        allow_guests=allow_guests,
    )
    contest.teams = [
        ContestTeam(
            key=team["id"],
            name=team["name"],
            join_code=f"{rng.randrange(100_000, 1_000_000)}",
            join_secret=secrets.token_urlsafe(16),
        )
        for team in state.teams
    ]
    session.add(contest)
    session.flush()
    session.add(
        AuditEntry(
            actor_id=host.id,
            action="contests.create",
            subject=plan.title,
            detail={"contest_id": contest.id, "allow_guests": allow_guests},
        )
    )
    session.commit()
    return contest


#: Parsed question revisions are immutable: cache them across commands (and contests) in this process.
_question_cache: dict[int, EngineQuestion] = {}


def _questions(session: Session, revisions: dict[str, int]) -> dict[str, EngineQuestion]:
    missing = [rid for rid in revisions.values() if rid not in _question_cache]
    if missing:
        for revision in session.scalars(select(QuestionRevision).where(QuestionRevision.id.in_(missing))):
            external = next(qid for qid, rid in revisions.items() if rid == revision.id)
            _question_cache[revision.id] = EngineQuestion.from_content(external, revision.content)
    return {qid: _question_cache[rid] for qid, rid in revisions.items()}


def load_contest(session: Session, contest_id: int, *, with_players: bool = False) -> tuple[Contest, LiveContest]:
    """The contest row and its state machine (seeing every joined player when `with_players`)."""
    contest = session.get(Contest, contest_id)
    if contest is None:
        raise ContestError("没有找到这场竞赛", "not_found")
    machine = LiveContest(
        plan_from_dict(contest.plan),
        ContestState.from_dict(contest.state),
        _questions(session, contest.revisions),
        load_players(session, contest_id) if with_players else None,
    )
    return contest, machine


def load_players(session: Session, contest_id: int) -> dict[str, dict[str, object]]:
    """Every joined player of a contest, in joining order: player id -> team, name, joined_seq, points."""
    rows = session.execute(
        select(
            ContestPlayer.player, ContestPlayer.team, ContestPlayer.name, ContestPlayer.joined_seq, ContestPlayer.points
        )
        .where(ContestPlayer.contest_id == contest_id)
        .order_by(ContestPlayer.id)
    )
    return {
        player: {"team": team, "name": name, "joined_seq": seq, "points": points}
        for player, team, name, seq, points in rows
    }


#: (contest id, player) -> the player's row: a player never changes team or join time (kicks live in the
#: state), so answers are checked without a query; another worker's joins are read on the first miss.
_player_cache: dict[tuple[int, str], dict[str, object]] = {}


def _player(session: Session, contest_id: int, player: str) -> dict[str, object] | None:
    info = _player_cache.get((contest_id, player))
    if info is None:
        row = session.execute(
            select(ContestPlayer.team, ContestPlayer.name, ContestPlayer.joined_seq).where(
                ContestPlayer.contest_id == contest_id, ContestPlayer.player == player
            )
        ).first()
        if row is None:
            return None
        info = _player_cache[(contest_id, player)] = {"team": row.team, "name": row.name, "joined_seq": row.joined_seq}
    return info


#: contest id -> (version, machine): answers arrive by the thousand between transitions, and the state
#: they are checked against only changes with the version, so it is parsed once per version.
_machine_cache: dict[int, tuple[int, LiveContest]] = {}


def cached_machine(session: Session, contest_id: int) -> LiveContest:
    """The machine at the stored version, parsed once per version (read-only use: answers, joins, timers)."""
    version = session.scalar(select(Contest.version).where(Contest.id == contest_id))
    if version is None:
        raise ContestError("没有找到这场竞赛", "not_found")
    cached = _machine_cache.get(contest_id)
    if cached is None or cached[0] != version:
        _, machine = load_contest(session, contest_id)
        cached = (machine.state.version, machine)
        _machine_cache[contest_id] = cached
    return cached[1]


def can_host(user: User, contest: Contest) -> bool:
    """The contest's host, an organizer of its branch, or an admin — while still an organizer (or admin)."""
    return is_organizer(user) and (user.id == contest.host_id or can_manage_branch(user, contest.branch_id))


@dataclass(frozen=True)
class Applied:
    """A command that changed the contest: the machine after it and the events to publish."""

    machine: LiveContest
    events: list[Event]


def _deadline(machine: LiveContest) -> datetime | None:
    deadline_ms = machine.state.deadline_ms
    return datetime.fromtimestamp(deadline_ms / 1000, UTC) if deadline_ms else None


def apply_command(
    session: Session, contest_id: int, command: Command, *, actor: str = "", clock: Clock | None = None
) -> Applied:
    """Check and apply one command, persisting the state and an event-log row in one transaction.

    Concurrency: the write is conditional on the version read; a racing writer makes this retry on the
    newer state (so two buzzes in the same millisecond are ordered by whoever commits first).
    """
    clock = clock or SystemClock()
    for _ in range(RETRIES):
        now = clock.now()
        contest, machine = load_contest(session, contest_id, with_players=command.name in _NEEDS_PLAYERS)
        if command.name == "reveal":
            _load_player_answers(session, contest, machine)
        if command.name == "undo":
            machine.undo_player_points = _logged_player_points(session, contest_id, machine.last_group)
        version = machine.state.version
        try:
            events = machine.handle(command, now)
        except ContestError:
            session.rollback()
            raise
        if not events:
            session.rollback()
            return Applied(machine, [])
        written = session.execute(
            update(Contest)
            .where(Contest.id == contest_id, Contest.version == version)
            .values(
                state=machine.state.to_dict(),
                version=machine.state.version,
                deadline_at=_deadline(machine),
                finished_at=now if machine.state.phase is Phase.FINISHED else None,
            )
        )
        if written.rowcount != 1:
            session.rollback()
            continue
        session.add(
            ContestEvent(
                contest_id=contest_id,
                version=machine.state.version,
                at=now,
                command=command.name,
                actor=actor,
                detail=_event_detail(command, events, machine),
            )
        )
        if command.name == "answer" and command.role is Role.TEAM:
            _store_team_answer(session, contest_id, machine, command, now)
        if machine.player_deltas:
            add_player_points(session, contest_id, machine.player_deltas)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        if machine.state.phase is Phase.FINISHED:
            record_results(session, contest_id, machine)
        return Applied(machine, events)
    raise ContestError("操作过于频繁，请重试", "busy")


#: Commands that look at the players (scoring 全员答题 or undoing it, kicking one): the others never load them.
_NEEDS_PLAYERS = frozenset({"reveal", "undo", "kick", "readmit"})


def _event_detail(command: Command, events: list[Event], machine: LiveContest) -> dict[str, object]:
    """The event-log row's detail; a 全员答题 reveal also logs each scored player's points with its award
    group, which is where an undo of that group finds them (the state never lists every player)."""
    detail: dict[str, object] = {"args": command.args, "events": [event.name for event in events]}
    if machine.player_group is not None and machine.player_deltas and command.name != "undo":
        detail["player_group"] = machine.player_group
        detail["player_points"] = machine.player_deltas
    return detail


def _logged_player_points(session: Session, contest_id: int, group: int | None) -> dict[str, float]:
    """The players' points a 全员答题 reveal logged with award `group` (empty for any other scoring)."""
    if group is None:
        return {}
    details = session.scalars(
        select(ContestEvent.detail).where(ContestEvent.contest_id == contest_id).order_by(ContestEvent.version.desc())
    )
    for detail in details:
        if detail.get("player_group") == group:
            return {player: float(points) for player, points in detail.get("player_points", {}).items()}
    return {}


def _store_team_answer(
    session: Session, contest_id: int, machine: LiveContest, command: Command, now: datetime
) -> None:
    record = next(a for a in reversed(list(machine.state.answers.values())) if a["team"] == command.team)
    session.add(
        ContestAnswer(
            contest_id=contest_id,
            question_seq=machine.state.question_seq,
            question_id=machine.state.question or "",
            participant=f"team:{command.team}:{len(machine.state.locked_out)}",
            response=record["response"],
            verdict=record["verdict"],
            at=now,
        )
    )


def _load_player_answers(session: Session, contest: Contest, machine: LiveContest) -> None:
    """Hand the stored 全员答题 answers of the current question to the machine (before the reveal scores them)."""
    state = machine.state
    spec = machine.round
    if spec is None or not round_type(spec.kind).players_answer or state.question is None:
        return
    rows = session.execute(
        select(ContestAnswer).where(
            ContestAnswer.contest_id == contest.id,
            ContestAnswer.question_seq == state.question_seq,
            ContestAnswer.participant.like("player:%"),
        )
    ).scalars()
    for row in rows:
        player = row.participant.removeprefix("player:")
        state.answers[row.participant] = {
            "response": row.response,
            "at_ms": int(row.at.timestamp() * 1000),
            "verdict": row.verdict,
            "credit": 1.0 if row.verdict == "correct" else 0.0,
            "team": machine.players.get(player, {}).get("team", ""),
        }


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

    Answers arriving together are checked and stored together (group commit, :class:`_AnswerBatcher`):
    a whole room answering at once costs one version read and one transaction per batch, not per answer.
    """
    now = (clock or SystemClock()).now()
    pending = _PendingAnswer(contest_id, player, user_id, question, response, now)
    _answers.submit(session, pending)
    if pending.error is not None:
        raise pending.error
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
    done: threading.Event = field(default_factory=threading.Event)


class _AnswerBatcher:
    """Group commit: the first answer in becomes the writer, yields once so the answers that arrived with
    it join, then checks them all against one read of the contest and inserts them in one transaction.
    The others wait for their batch; an ack is sent only after its answer is committed (or refused).
    Works the same under gevent (patched threading) and plain threads."""

    def __init__(self) -> None:
        self._queue: list[_PendingAnswer] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()

    def submit(self, session: Session | scoped_session[Session], pending: _PendingAnswer) -> None:
        with self._queue_lock:
            self._queue.append(pending)
        while True:
            if self._writer.acquire(blocking=False):
                try:
                    time.sleep(0)  # let the answers that arrived with this one reach the queue
                    while batch := self._take():
                        _write_answers(session, batch)
                finally:
                    self._writer.release()
                if self._queue:  # queued while the writer was being released: nobody else may look
                    continue
            if pending.done.is_set():
                return
            # Whoever holds the writer looks at the queue again after releasing it, so this wakes up.
            pending.done.wait()

    def _take(self) -> list[_PendingAnswer]:
        with self._queue_lock:
            batch, self._queue = self._queue, []
        return batch


_answers = _AnswerBatcher()


def _write_answers(session: Session | scoped_session[Session], batch: list[_PendingAnswer]) -> None:
    """Check a batch against the stored state and insert the valid answers in one transaction."""
    try:
        rows: list[tuple[_PendingAnswer, dict[str, object]]] = []
        machines: dict[int, LiveContest] = {}  # one read of each contest per batch
        for pending in batch:
            try:
                if pending.contest_id not in machines:
                    machines[pending.contest_id] = cached_machine(session, pending.contest_id)
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
    except Exception:  # the database failed: this batch is refused (the phones may send again), the next is written
        log.exception("storing a batch of %d contest answers failed", len(batch))
        session.rollback()
        for pending in batch:
            pending.error = pending.error or ContestError("答案未能保存，请重试", "busy")
    finally:
        for pending in batch:
            pending.done.set()


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


def roster_sizes(session: Session) -> dict[int, int]:
    """Players per unfinished contest (the timer loop pushes a contest's roster when it changes)."""
    rows = session.execute(
        select(ContestPlayer.contest_id, func.count(ContestPlayer.id))
        .join(Contest, Contest.id == ContestPlayer.contest_id)
        .where(Contest.finished_at.is_(None))
        .group_by(ContestPlayer.contest_id)
    )
    return {contest_id: size for contest_id, size in rows}


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


def due_contests(session: Session, now: datetime) -> list[int]:
    """Contests whose current deadline has passed (the timer loop sends them a tick)."""
    return list(session.scalars(select(Contest.id).where(Contest.deadline_at.is_not(None), Contest.deadline_at <= now)))


def record_results(session: Session, contest_id: int, machine: LiveContest) -> None:
    """Store each player's final result once the contest is finished (for the learning record)."""
    if session.scalar(select(func.count(ContestResult.id)).where(ContestResult.contest_id == contest_id)):
        return
    places = {entry.entry.key: (entry.place, entry.entry.score) for entry in machine.ranking()}
    names = {team["id"]: team["name"] for team in machine.state.teams}
    tallies: dict[int, list[int]] = {}
    for user_id, verdict in session.execute(
        select(ContestAnswer.user_id, ContestAnswer.verdict).where(
            ContestAnswer.contest_id == contest_id, ContestAnswer.user_id.is_not(None)
        )
    ):
        tally = tallies.setdefault(user_id, [0, 0])
        tally[0] += 1
        tally[1] += verdict == "correct"
    for player, info in load_players(session, contest_id).items():
        if not player.isdigit():
            continue
        place, score = places[info["team"]]
        answered, correct = tallies.get(int(player), [0, 0])
        session.add(
            ContestResult(
                contest_id=contest_id,
                user_id=int(player),
                team_name=names[info["team"]],
                team_place=place,
                team_score=score,
                answered=answered,
                correct=correct,
            )
        )
    session.commit()
    for key in [key for key in _player_cache if key[0] == contest_id]:  # finished: nobody answers any more
        del _player_cache[key]


def answering_contests(session: Session) -> list[int]:
    """Contests with an open deadline that are not finished (candidates for answer counts)."""
    return list(
        session.scalars(select(Contest.id).where(Contest.deadline_at.is_not(None), Contest.finished_at.is_(None)))
    )
