"""A bounded memo of signed values this process has already verified (session cookies, CSRF tokens).

A member's exam page sends the same session cookie and the same CSRF token with every autosave; checking
their HMAC signatures and decoding them again each time was ~20 % of a save's CPU (docs/performance.md).
What a memo may hold is only the result of a verification that cannot come out differently later: the
same signed bytes under the same key always verify to the same value. Whatever depends on time (a cookie's
age) is checked again on every hit; revocation (logout, password change) never relied on the signature —
it is the account's session epoch, read from the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

#: Enough for every member of a committee-wide exam (a cookie and a token each) on one worker.
DEFAULT_SIZE = 8192


class VerifiedMemo:
    """key -> value of verifications that succeeded; the least recently used entry goes first when full."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()  # real threads in tests and the hashing pool; greenlets never wait on it

    def get(self, key: Hashable) -> Any | None:
        """The value stored for `key`, or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        """Remember a verification's result (never None)."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        """Forget `key` (an entry that has expired)."""
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


def immutable_values(data: dict[str, Any]) -> bool:
    """Whether every value is a scalar nobody can change in place: only such a session may be shared by copies."""
    return all(value is None or isinstance(value, str | int | float | bool) for value in data.values())
