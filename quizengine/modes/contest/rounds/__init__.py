"""Round types by name (see base.py); importing this package registers every round type in it."""

from . import buzzer, compulsory, everyone, risk  # noqa: F401  (each module registers its round type)
from .base import COMMON_FIELDS, Draw, RoundType, plan_fields, register, round_type, round_types

__all__ = ["COMMON_FIELDS", "Draw", "RoundType", "plan_fields", "register", "round_type", "round_types"]
