"""The 加赛: after the last round, teams tied for a prize place play sudden-death buzzer questions.

Each right answer wins the team the best place of the tie; the 加赛 ends when one team is left or the
questions run out (the plan's other tie-break, less answering time, ranks by `team_time_ms` instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .plan import TieBreak
from .state import EVERYONE_ROLES, Event, Phase

if TYPE_CHECKING:
    from .machine import LiveContest


def tied_for_prizes(m: LiveContest) -> list[str]:
    """The teams sharing a place within the prize places (the first such group), if any."""
    places: dict[int, list[str]] = {}
    for entry in m.ranking():
        places.setdefault(entry.place, []).append(entry.entry.key)
    for place, teams in sorted(places.items()):
        if place <= m.plan.prizes and len(teams) > 1:
            return teams
    return []


def start(m: LiveContest, now: int) -> list[Event]:
    """After the last round: a 加赛 among the teams tied for a prize, or the end."""
    state = m.state
    tied = tied_for_prizes(m)
    if tied and m.plan.tie_break is TieBreak.BUZZER and state.tie_pool:
        state.round_index = len(m.plan.rounds)
        state.tiebreak_teams = tied
        state.question_index = -1
        return [Event("tiebreak_started", EVERYONE_ROLES, {"teams": tied}), *next_question(m, now)]
    state.phase = Phase.FINISHED
    return [Event("finished", EVERYONE_ROLES)]


def next_question(m: LiveContest, now: int) -> list[Event]:
    """The next 加赛 question, or the end when one team is left or the questions ran out."""
    state = m.state
    if len(state.tiebreak_teams) < 2 or not state.tie_pool:
        state.phase = Phase.FINISHED
        return [Event("finished", EVERYONE_ROLES)]
    state.question_index += 1
    m.reset_question()
    state.question = state.tie_pool.pop(0)
    return m.show_question(m.round_spec(), now)
