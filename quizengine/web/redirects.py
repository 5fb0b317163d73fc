"""The one rule for following a `next` target: a path on this site, or nowhere.

Every view that redirects to a caller-supplied target (login, the forced first password change) goes
through `safe_next`, so an open redirect cannot come back through a second, looser copy of the check.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import request

#: Longer targets are refused (a deep link is a short path and a query; nothing legitimate is longer).
MAX_NEXT_LENGTH = 2048


def _is_local_path(target: str) -> bool:
    """True for "/path?query" with no way for a browser to read it as another host or a scheme."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    # Browsers drop tab/CR/LF inside URLs ("/\t/evil" becomes "//evil") and read "\" as "/";
    # CR/LF would also split the Location header. Any control or space character is refused.
    if "\\" in target or any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a same-origin path (its path checked raw and percent-decoded), else `default`.

    The decoded path is checked too: "/%09/host" or "/%5C/host" are harmless to a standards-following
    browser, but nothing legitimate needs them, and refusing them leaves no parser difference to exploit.
    """
    if not target or len(target) > MAX_NEXT_LENGTH:
        return default
    if _is_local_path(target) and _is_local_path(unquote(urlsplit(target).path)):
        return target
    return default


def current_path() -> str:
    """The request's own path and query, as a `next` target (no trailing "?" when there is no query)."""
    return request.full_path.removesuffix("?")
