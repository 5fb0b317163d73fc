"""Group commit: work items arriving together (a whole room answering, or joining, at once) are written by one
of their callers in one transaction, and every caller returns only once its own item is written (or refused).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger("quizengine.contests")


class Pending(Protocol):
    """An item waiting for its batch: the writer sets `done` once the item is written or refused."""

    done: threading.Event


P = TypeVar("P", bound=Pending)
Writer = Callable[[Session | scoped_session[Session], list[P]], None]


class GroupCommit(Generic[P]):
    """The first item in makes its caller the writer: it yields once so the items that arrived with it join,
    then hands them all to `write` (one transaction, through :meth:`write_batch`). The others wait for their
    batch. Works the same under gevent (patched threading) and plain threads.

    `refuse` marks an item as not stored when the database fails under `write`; `what` names the items in the
    log ("contest answers")."""

    def __init__(self, write: Writer[P], refuse: Callable[[P], None], what: str) -> None:
        self._write = write
        self._refuse = refuse
        self._what = what
        self._queue: list[P] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()

    def submit(self, session: Session | scoped_session[Session], pending: P) -> None:
        """Queue `pending` and return once its batch is written (by this caller or another)."""
        with self._queue_lock:
            self._queue.append(pending)
        while True:
            if self._writer.acquire(blocking=False):
                try:
                    time.sleep(0)  # let the items that arrived with this one reach the queue
                    while batch := self._take():
                        self.write_batch(session, batch)
                finally:
                    self._writer.release()
                if self._queue:  # queued while the writer was being released: nobody else may look
                    continue
            if pending.done.is_set():
                return
            # Whoever holds the writer looks at the queue again after releasing it, so this wakes up.
            pending.done.wait()

    def write_batch(self, session: Session | scoped_session[Session], batch: list[P]) -> None:
        """Write one batch; every item is done afterwards. If the database fails, every item is refused
        *before* the rollback is tried, so a rollback that fails too cannot let one be acked as stored."""
        try:
            self._write(session, batch)
        except Exception:  # this batch is refused (the phones may send again); the next one is written
            log.exception("storing a batch of %d %s failed", len(batch), self._what)
            for pending in batch:
                self._refuse(pending)
            try:
                session.rollback()
            except Exception:
                log.exception("rolling back a failed batch of %s failed", self._what)
        finally:
            for pending in batch:
                pending.done.set()

    def _take(self) -> list[P]:
        with self._queue_lock:
            batch, self._queue = self._queue, []
        return batch
