"""The demo's finished knowledge contest, played through the contest service so that its results are stored by
the same code as a live one's."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.banks.contest_plan import plan_from_mapping
from quizengine.engine.timing import FakeClock
from quizengine.models import Bank, Contest, Role
from quizengine.modes.contest import Command, ContestError, Phase
from quizengine.modes.contest import Role as ContestRole

from .contest_commands import apply_command, load_contest
from .contest_join import join
from .contest_setup import create_contest
from .demo_rows import DemoMember, chinese_number, local_time
from .summaries import ZONE


def finished_contest(
    session: Session, members: list[DemoMember], by_chapter: dict, now: datetime, rng: random.Random
) -> int | None:
    """One finished knowledge contest of the first branch, about ten days ago, played through the contest
    service: its organizer hosts, four teams answer 必答题 and 抢答题, its members joined as players."""
    branch_id = members[0].user.branch_id
    organizer = next(m.user for m in members if m.user.branch_id == branch_id and m.user.role == Role.ORGANIZER)
    banks = session.scalars(select(Bank.slug).order_by(Bank.slug)).all()
    plan = plan_from_mapping(
        {
            "title": "支部党建知识竞赛",
            "teams": [{"name": f"第{chinese_number(n)}组"} for n in range(1, 5)],
            "base_score": 100,
            "tie_break": "time",
            "rounds": [
                {
                    "kind": "compulsory",
                    "title": "第一轮 必答题",
                    "source": {"banks": list(banks), "types": ["single", "judge"], "count": 8},
                    "points": 10,
                    "judged_by": "device",
                },
                {
                    "kind": "buzzer",
                    "title": "第二轮 抢答题",
                    "source": {"banks": list(banks), "types": ["single", "judge"], "count": 6},
                    "points": 10,
                    "penalty": 10,
                    "judged_by": "device",
                },
            ],
        }
    )
    day = (now - timedelta(days=10)).astimezone(ZONE).date()
    clock = FakeClock(local_time(day, 15))
    contest = create_contest(session, organizer, plan, rng=rng, clock=clock)
    players = [m for m in members if m.user.branch_id == branch_id and m.profile != "idle"]
    for index, member in enumerate(players):
        data = {"role": "player", "contest": contest.id, "pin": contest.pin, "team": f"t{index % 4 + 1}"}
        join(session, data, member.user, connection="demo", address="demo")
    skill = {f"t{n}": rng.uniform(0.55, 0.9) for n in range(1, 5)}
    _, machine = load_contest(session, contest.id)
    for _ in range(400):
        state = machine.state
        if state.phase is Phase.FINISHED:
            break
        clock.advance(seconds=rng.randint(4, 15))
        name, team, args = _next_move(state, machine, skill, rng)
        command = Command(name, ContestRole.TEAM if team else ContestRole.HOST, state.version, team=team, args=args)
        try:
            machine = apply_command(session, contest.id, command, actor="演示", clock=clock).machine
        except ContestError:  # a move the rules refuse: the host ends the contest as it stands
            break
    if machine.state.phase is not Phase.FINISHED:
        apply_command(session, contest.id, Command("end", ContestRole.HOST, machine.state.version), clock=clock)
    return session.scalar(select(Contest.id).where(Contest.id == contest.id))


def _next_move(state: Any, machine: Any, skill: dict[str, float], rng: random.Random) -> tuple[str, str | None, dict]:
    """The host's (or a team's) next command in a contest played by the demo."""
    phase = state.phase
    if phase is Phase.LOBBY:
        return "start", None, {}
    if phase in (Phase.ROUND_INTRO, Phase.REVEALED, Phase.SCOREBOARD):
        return "next", None, {}
    if phase in (Phase.READING, Phase.BUZZ_ARMED):
        return "open", None, {}
    if phase is Phase.BUZZ_OPEN:
        buzzed = set(state.locked_out) | {buzz["team"] for buzz in state.buzzes}
        free = [team for team in sorted(skill) if team not in buzzed]
        return ("buzz", rng.choice(free), {"question": state.question}) if free else ("void", None, {})
    if phase in (Phase.ANSWERING, Phase.BUZZ_WON) and state.team_on_turn:
        team = state.team_on_turn
        question = machine.questions[state.question]
        right = rng.random() < skill[team]
        return "answer", team, {"question": state.question, "response": _contest_response(question, right)}
    if phase in (Phase.LOCKED, Phase.ANSWERING):
        return "reveal", None, {}
    return "end", None, {}


def _contest_response(question: Any, right: bool) -> Any:
    """A team's response to an engine question (single or judge)."""
    if isinstance(question.answer, bool):
        return question.answer if right else not question.answer
    return question.answer if right else next(key for key in question.option_keys if key != question.answer)
