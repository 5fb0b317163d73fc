"""Live team contest (知识竞赛): the plan, the state machine, the per-role views and the round types.

Modules: `plan` (the plan dataclasses), `state` (snapshot, phases, commands, events), `machine` (the
state machine and the phases every round shares), `controls` (the host's controls), `views` (per-role
views), `rounds/` (one class per round kind, registered by name), `points` and `podium`.
"""

from .machine import HANDLERS, LiveContest
from .plan import (
    ContestPlan,
    FoulRule,
    QuestionSource,
    RoundKind,
    RoundSpec,
    TeamScoreRule,
    TeamSpec,
    TieBreak,
    default_prizes,
    plan_from_dict,
    plan_to_dict,
)
from .rounds import RoundType, round_type, round_types
from .state import (
    EVERYONE_ROLES,
    OUTAGE_GRACE_MS,
    OUTAGE_REASON,
    PHASE_LABELS,
    STAFF_ROLES,
    Award,
    Command,
    ContestError,
    ContestState,
    Event,
    Phase,
    Role,
)

__all__ = [
    "EVERYONE_ROLES",
    "HANDLERS",
    "OUTAGE_GRACE_MS",
    "OUTAGE_REASON",
    "PHASE_LABELS",
    "STAFF_ROLES",
    "Award",
    "Command",
    "ContestError",
    "ContestPlan",
    "ContestState",
    "Event",
    "FoulRule",
    "LiveContest",
    "Phase",
    "QuestionSource",
    "Role",
    "RoundKind",
    "RoundSpec",
    "RoundType",
    "TeamScoreRule",
    "TeamSpec",
    "TieBreak",
    "default_prizes",
    "plan_from_dict",
    "plan_to_dict",
    "round_type",
    "round_types",
]
