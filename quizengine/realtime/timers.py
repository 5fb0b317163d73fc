"""Server-side timers: deadlines are stored with the state, so after a restart the loop simply finds
the contests that are due and ticks them. Answer counts and rosters are coalesced to a few messages a second."""

from __future__ import annotations

import logging

from flask import Flask

from quizengine.engine.timing import Clock, SystemClock
from quizengine.extensions import db, socketio
from quizengine.modes.contest import Command, ContestError, Phase, Role, round_type
from quizengine.services import contest_answers, contest_commands, contest_players

from .publisher import publish, publish_count, publish_roster

TICK_SECONDS = 0.1
COUNT_SECONDS = 0.3
ROSTER_SECONDS = 0.5

_last_counts: dict[int, tuple[int, int]] = {}
_last_rosters: dict[int, tuple[int, tuple[str, ...]]] = {}
log = logging.getLogger("quizengine.contest.timers")


def tick_due(clock: Clock | None = None) -> int:
    """Send a tick to every contest whose deadline has passed; return how many changed. The tick is judged at
    the same `clock` time the contests were found due at (a deadline long gone after a restart pauses)."""
    session = db.session()
    clock = clock or SystemClock()
    changed = 0
    for contest_id in contest_commands.due_contests(session, clock.now()):
        try:
            command = Command("tick", Role.SYSTEM)
            applied = contest_commands.apply_command(session, contest_id, command, actor="timer", clock=clock)
        except ContestError:
            continue
        if applied.events:
            changed += 1
            publish(contest_id, applied.machine, applied.events)
    return changed


def push_counts() -> None:
    """Send the current question's answer count to host and projector when it changed."""
    session = db.session()
    for contest_id in contest_answers.answering_contests(session):
        machine = contest_commands.cached_machine(session, contest_id)
        state = machine.state
        spec = machine.round
        if state.phase is not Phase.ANSWERING or spec is None or not round_type(spec.kind).players_answer:
            continue
        count = contest_answers.count_answers(session, contest_id, state.question_seq)
        if _last_counts.get(contest_id) != (state.question_seq, count):
            _last_counts[contest_id] = (state.question_seq, count)
            eligible = contest_answers.eligible_players(session, contest_id, state.question_seq, state.kicked)
            publish_count(contest_id, state.question_seq, count, eligible)


def push_rosters() -> None:
    """Send a contest's roster to host and projector when players joined or were kicked/readmitted since: at
    most one push per contest every ROSTER_SECONDS however many join meanwhile, from the players read
    incrementally (a push during a connect storm reads the rows added since the last one)."""
    session = db.session()
    for contest_id, size in contest_players.roster_sizes(session).items():
        machine = contest_commands.cached_machine(session, contest_id)
        key = (size, tuple(machine.state.kicked))
        if _last_rosters.get(contest_id) != key:
            _last_rosters[contest_id] = key
            publish_roster(contest_id, machine.with_players(contest_players.roster_players(session, contest_id, size)))


def run_loops(app: Flask) -> None:
    """The background task started with the server: ticks every 0.1 s, counts every 0.3 s, rosters every 0.5 s."""
    ticks = 0
    while True:
        socketio.sleep(TICK_SECONDS)
        ticks += 1
        with app.app_context():
            try:
                tick_due()
                if ticks % round(COUNT_SECONDS / TICK_SECONDS) == 0:
                    push_counts()
                if ticks % round(ROSTER_SECONDS / TICK_SECONDS) == 0:
                    push_rosters()
            except Exception:  # a broken contest must not stop the timers of the others
                log.exception("contest timer loop failed")
