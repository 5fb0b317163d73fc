"""Applying a command to a live contest: load the contest row -> the pure state machine decides -> write
the new state and an event-log row in one transaction (optimistic: a version check, retried on a race) ->
commit -> return the events for the publisher to send. Nothing here talks to Socket.IO.

Also what the other contest services read through: the contest and its machine (cached per version), the
joined players, who may host, and the results stored once a contest is finished.
"""

from __future__ import annotations

import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quizengine.engine.questions import Question as EngineQuestion
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import (
    Contest,
    ContestAnswer,
    ContestEvent,
    ContestPlayer,
    ContestResult,
    QuestionRevision,
    User,
)
from quizengine.modes.contest import (
    Command,
    ContestError,
    ContestState,
    Event,
    LiveContest,
    Phase,
    Role,
    plan_from_dict,
    round_type,
)
from quizengine.modes.contest.points import rank_of
from quizengine.modes.contest.standings import RosterCounts

from .access import can_manage_branch, is_organizer
from .contest_results import add_player_points

RETRIES = 5


#: Parsed question revisions are immutable: cache them across commands (and contests) in this process, per
#: database — a revision id names one revision only within its own database (a process that has opened
#: another one, as the tests and tools do, must not take its questions for this one's).
_question_caches: weakref.WeakKeyDictionary[Engine, dict[int, EngineQuestion]] = weakref.WeakKeyDictionary()


def _questions(session: Session, revisions: dict[str, int]) -> dict[str, EngineQuestion]:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    cache = _question_caches.setdefault(engine, {})
    missing = [rid for rid in revisions.values() if rid not in cache]
    if missing:
        for revision in session.scalars(select(QuestionRevision).where(QuestionRevision.id.in_(missing))):
            external = next(qid for qid, rid in revisions.items() if rid == revision.id)
            cache[revision.id] = EngineQuestion.from_content(external, revision.content)
    return {qid: cache[rid] for qid, rid in revisions.items()}


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


def load_players(session: Session, contest_id: int, only: set[str] | None = None) -> dict[str, dict[str, object]]:
    """Every joined player of a contest (or those in `only`), in joining order: player id -> team, name,
    joined_seq, points."""
    columns = (ContestPlayer.id, ContestPlayer.player, ContestPlayer.team, ContestPlayer.name)
    query = select(*columns, ContestPlayer.joined_seq, ContestPlayer.points).where(
        ContestPlayer.contest_id == contest_id
    )
    if only is None:
        rows = list(session.execute(query.order_by(ContestPlayer.id)))
    else:  # in chunks: a bound parameter per player, and databases cap them
        wanted = sorted(only)
        rows = []
        for start in range(0, len(wanted), _CHUNK):
            rows += session.execute(query.where(ContestPlayer.player.in_(wanted[start : start + _CHUNK])))
        rows.sort(key=lambda row: row[0])
    return {
        player: {"team": team, "name": name, "joined_seq": seq, "points": points}
        for _, player, team, name, seq, points in rows
    }


_CHUNK = 2000


def roster_counts(session: Session, contest_id: int, question_seq: int) -> RosterCounts:
    """How many players have joined, and per team how many before question `question_seq` (in SQL)."""
    rows = session.execute(
        select(
            ContestPlayer.team,
            func.count(ContestPlayer.id),
            func.sum(case((ContestPlayer.joined_seq < question_seq, 1), else_=0)),
        )
        .where(ContestPlayer.contest_id == contest_id)
        .group_by(ContestPlayer.team)
    )
    joined, before = 0, {}
    for team, count, earlier in rows:
        joined += count
        before[team] = int(earlier or 0)
    return RosterCounts(joined, before)


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


def cached_machine(session: Session, contest_id: int, *, version: int | None = None) -> LiveContest:
    """The machine at the stored version, parsed once per version (read-only use: answers, joins, timers);
    a caller that has just read the contest's `version` passes it, saving the version read."""
    if version is None:
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
        if command.name not in _NEEDS_PLAYERS and machine.needs_players():  # players take turns in a round
            machine = machine.with_players(load_players(session, contest_id))
        if command.name == "reveal":
            machine = _load_player_answers(session, contest, machine)
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
        if command.name == "answer":
            _store_answer(session, contest_id, machine, command, now)
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


#: Commands that look at every player (undoing a 全员答题 scoring, kicking one): the others never load them all
#: (a reveal loads the players it scores, _load_player_answers).
_NEEDS_PLAYERS = frozenset({"undo", "kick", "readmit"})


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


def _store_answer(session: Session, contest_id: int, machine: LiveContest, command: Command, now: datetime) -> None:
    """The row of an answer the machine recorded: a team's (per try, as buzzing may reopen) or a player's
    answer in turn (with the member's account, for the learning record)."""
    state = machine.state
    if command.role is Role.TEAM:
        record = next(a for a in reversed(list(state.answers.values())) if a["team"] == command.team)
        participant, user_id = f"team:{command.team}:{len(state.locked_out)}", None
    else:
        participant = machine.answered_key or ""
        record = state.answers[participant]
        user_id = int(command.player) if command.player and command.player.isdigit() else None
    session.add(
        ContestAnswer(
            contest_id=contest_id,
            question_seq=state.question_seq,
            question_id=state.question or "",
            participant=participant,
            user_id=user_id,
            response=record["response"],
            verdict=record["verdict"],
            at=now,
        )
    )


def _load_player_answers(session: Session, contest: Contest, machine: LiveContest) -> LiveContest:
    """Hand the stored 全员答题 answers of the current question to the machine (before the reveal scores them),
    with the players they concern: the ones who answered, the kicked and the current top ten with counts of
    the rest — or every player when the standings must be recounted (standings.py). Returns the machine."""
    state = machine.state
    spec = machine.round
    if spec is None or not round_type(spec.kind).players_answer or state.question is None:
        return machine
    rows = session.execute(
        select(ContestAnswer.participant, ContestAnswer.response, ContestAnswer.at, ContestAnswer.verdict).where(
            ContestAnswer.contest_id == contest.id,
            ContestAnswer.question_seq == state.question_seq,
            ContestAnswer.participant.like("player:%"),
        )
    ).all()
    if machine.scoring_needs_every_player() and not machine.needs_players():  # (else loaded already)
        machine = machine.with_players(load_players(session, contest.id))
    elif not machine.needs_players():
        wanted = {participant.removeprefix("player:") for participant, *_ in rows}
        wanted |= set(state.kicked) | {row["player"] for row in state.leaderboard["top"]}
        machine = LiveContest(
            machine.plan,
            state,
            machine.questions,
            load_players(session, contest.id, wanted),
            roster_counts(session, contest.id, state.question_seq),
        )
    for participant, response, at, verdict in rows:
        player = participant.removeprefix("player:")
        state.answers[participant] = {
            "response": response,
            "at_ms": int(at.timestamp() * 1000),
            "verdict": verdict,
            "credit": 1.0 if verdict == "correct" else 0.0,
            "team": machine.players.get(player, {}).get("team", ""),
        }
    return machine


def record_results(session: Session, contest_id: int, machine: LiveContest) -> None:
    """Store each player's final result once the contest is finished (for the learning record)."""
    if session.scalar(select(func.count(ContestResult.id)).where(ContestResult.contest_id == contest_id)):
        return
    places = {entry.entry.key: (entry.place, entry.entry.score) for entry in machine.ranking()}
    names = {team["id"]: team["name"] for team in machine.state.teams}
    players = load_players(session, contest_id)
    if machine.plan.individual:  # each member's own place and points (ties share a place)
        places, names = _individual_places(players, machine.state.kicked), dict.fromkeys(names, INDIVIDUAL)
    tallies: dict[int, list[int]] = {}
    for user_id, verdict in session.execute(
        select(ContestAnswer.user_id, ContestAnswer.verdict).where(
            ContestAnswer.contest_id == contest_id, ContestAnswer.user_id.is_not(None)
        )
    ):
        tally = tallies.setdefault(user_id, [0, 0])
        tally[0] += 1
        tally[1] += verdict == "correct"
    for player, info in players.items():
        if not player.isdigit():
            continue
        place, score = places[player if machine.plan.individual else info["team"]]
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


#: What the learning record shows as a 个人赛 player's team.
INDIVIDUAL = "个人赛"


def _individual_places(players: dict[str, dict[str, object]], kicked: list[str]) -> dict[str, tuple[int, float]]:
    """Each player's place by their points among the players not removed (1, 2, 2, 4), and the points."""
    points = {player: float(info["points"] or 0.0) for player, info in players.items()}  # type: ignore[arg-type]
    counts = Counter(total for player, total in points.items() if player not in kicked)
    return {player: (rank_of(total, counts), total) for player, total in points.items()}


def due_contests(session: Session, now: datetime) -> list[int]:
    """Contests whose current deadline has passed (the timer loop sends them a tick)."""
    return list(session.scalars(select(Contest.id).where(Contest.deadline_at.is_not(None), Contest.deadline_at <= now)))
