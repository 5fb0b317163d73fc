"""Every event and room name of the contest protocol is built here, and only here (docs/socket-protocol.md)."""

from __future__ import annotations

NAMESPACE = "/contest"

# client -> server (verbs)
JOIN = "join"
COMMAND = "command"
BUZZ = "buzz"
SUBMIT_ANSWER = "submit_answer"
CHOOSE_RISK = "choose_risk"
DEVICE_HERE = "device_here"  # a team device answers DEVICE_CHECK (several workers)

# server -> client (facts)
STATE = "state"
ANSWER_COUNT = "answer_count"
PLAYERS = "players"  # who has joined (host, projector), coalesced
DEVICE = "device"  # a team device came online or went offline (host only)
DEVICE_CHECK = "device_check"  # to the team rooms when a host joins: devices on every worker say they are here


def host_room(contest_id: int) -> str:
    """The host console(s) of a contest."""
    return f"contest:{contest_id}:host"


def projector_room(contest_id: int) -> str:
    """The projector screen(s) of a contest."""
    return f"contest:{contest_id}:projector"


def team_room(contest_id: int, team: str) -> str:
    """One team's device(s)."""
    return f"contest:{contest_id}:team:{team}"


def players_room(contest_id: int) -> str:
    """Every player phone of a contest (全员答题)."""
    return f"contest:{contest_id}:players"
