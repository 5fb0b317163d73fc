"""The staged podium reveal at the end of a contest: third place, then second, then first, then the table.

Pure Python. The host advances the stage (a command, so it is persisted with the state and every screen
shows the same stage after a reload); the projector highlights the places shown so far.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quizengine.engine.scoring import Ranked

#: The places the podium reveals, last first.
PODIUM_PLACES = (3, 2, 1)


def podium_steps(ranking: list[Ranked]) -> list[int]:
    """The places to reveal, one step each, from third to first; a place nobody holds (two teams tied for
    second leave no third) is skipped, and a contest of two teams starts at second."""
    held = {entry.place for entry in ranking}
    return [place for place in PODIUM_PLACES if place in held]


def team_row(entry: Ranked) -> dict[str, Any]:
    """A team's place as the screens get it."""
    return {"team": entry.entry.key, "place": entry.place, "score": entry.entry.score}


def podium_view(
    ranking: list[Ranked], stage: int, row: Callable[[Ranked], dict[str, Any]] = team_row
) -> dict[str, Any]:
    """What the screens show at `stage` (0 = not started, one more per step, then the full table); `row`
    writes one place (a team's, or a player's in a 个人赛)."""
    steps = podium_steps(ranking)
    shown = set(steps[:stage])
    return {
        "stage": stage,
        "steps": len(steps),
        "done": stage > len(steps),
        "next_place": steps[stage] if stage < len(steps) else None,
        "places": [row(entry) for entry in ranking if entry.place in shown],
    }


def can_advance(ranking: list[Ranked], stage: int) -> bool:
    """True while there is a place (or the full table) left to show."""
    return stage <= len(podium_steps(ranking))
