"""Organization management (branches, party groups, members, roster import)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("org", __name__, url_prefix="/org")
