"""Join links members' phones can open (see services/addresses.py for the choice of address)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for

from quizengine.services.addresses import join_base_url, reachable_lan


def _join_base() -> tuple[str, str | None]:
    lan = reachable_lan(current_app.config.get("BIND_HOST"))
    return join_base_url(current_app.config.get("PUBLIC_URL"), request.url_root, lan)


def join_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` on the address phones in the room can reach."""
    path = url_for(endpoint, **values)[len(request.script_root) :]
    return _join_base()[0] + path


def join_warning() -> str | None:
    """Why phones cannot open the join links, with the fix; None when they can."""
    return _join_base()[1]
