"""Round types by name (see base.py). Importing this package imports every module in it, and each module
registers its round type (`@register`): a new round kind is a new file here, nothing else to list."""

import importlib
import pkgutil

from .base import COMMON_FIELDS, Draw, RoundType, plan_fields, register, round_type, round_types

for _module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["COMMON_FIELDS", "Draw", "RoundType", "plan_fields", "register", "round_type", "round_types"]
