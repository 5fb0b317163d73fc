"""Which pages may open a Socket.IO connection: our own origins only (Cross-Site WebSocket Hijacking).

Engine.IO calls `cors_allowed_origins(origin, environ)` for every handshake that carries an `Origin` header
and refuses it (400) when this returns False; `cors_allowed_origins=[]` would switch the check off. A browser
always sends `Origin` on a WebSocket handshake and on a cross-origin request, so a page on another site (or
another port of this host) cannot ride a member's cookie. A handshake without `Origin` comes from a
non-browser client (python-socketio, the benchmarks), which has no victim's cookie to abuse: it is allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from quizengine.services.addresses import origin_of, own_origins


def same_origin(app: Flask) -> Callable[[str | None, Mapping[str, Any]], bool]:
    """The origin check for `SocketIO(cors_allowed_origins=...)`: the `PUBLIC_URL` setting or the request's host.

    The request's host is taken with the scheme the browser used (behind a TLS proxy `wsgi.url_scheme` is http).
    """

    def allowed(origin: str | None, environ: Mapping[str, Any]) -> bool:
        if not origin:
            return True
        try:
            scheme = urlsplit(origin).scheme.lower()
            if scheme not in ("http", "https"):
                return False
            host_url = f"{scheme}://{environ.get('HTTP_HOST', '')}"
            return origin_of(origin) in own_origins(app.config.get("PUBLIC_URL"), host_url)
        except ValueError:  # a malformed port or host
            return False

    return allowed
