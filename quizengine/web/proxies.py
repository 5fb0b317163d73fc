"""X-Forwarded-* honoured only when the request comes straight from a proxy we run.

ProxyFix alone trusts those headers from whoever connects. The workers behind nginx listen on 127.0.0.1, but
anything else that can reach the port (another service on the machine, a worker bound to 0.0.0.0 by mistake)
could then name any client address and dodge the per-address login limiter. So the headers count only when
the direct peer is one of TRUSTED_PROXY_ADDRESSES (default: this machine).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

from quizengine.services.addresses import Network


class ProxyFixFromTrustedPeers:
    """Apply ProxyFix to requests whose direct peer is a trusted proxy; pass the others through untouched."""

    def __init__(self, app: Any, hops: int, peers: Iterable[Network]) -> None:
        self.plain = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        self.peers = tuple(peers)

    def _trusted(self, address: str | None) -> bool:
        try:
            peer = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(peer in network for network in self.peers)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Route the request through ProxyFix only if it came from a trusted proxy."""
        app = self.fixed if self._trusted(environ.get("REMOTE_ADDR")) else self.plain
        return app(environ, start_response)
