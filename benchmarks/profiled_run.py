"""run.py under a cProfile that the benchmark switches on and off by signals, to profile one phase of a run.

``python benchmarks/profiled_run.py PREFIX run.py ARGS…``: SIGUSR1 starts a profile (CPU time as the timer, so
time spent waiting in the gevent hub costs nothing; every greenlet of the process is counted), SIGUSR2 stops
it and writes ``PREFIX.N.prof`` (N = 1, 2, … in order). ``contest_fanout.py`` starts the app this way when
``QUIZENGINE_BENCH_PROFILE_APP=PREFIX`` is set, and profiles the connect storm (``.1``) and the answer burst
(``.2``). Read a profile with ``python -m pstats PREFIX.1.prof`` (``sort tottime``, ``stats 30``).
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
import time
from pathlib import Path
from types import FrameType

_profile: list[cProfile.Profile] = []
_dumped = [0]


def _start(_signum: int, _frame: FrameType | None) -> None:
    if not _profile:
        _profile.append(cProfile.Profile(time.process_time))
        _profile[0].enable()


def _stop(_signum: int, _frame: FrameType | None) -> None:
    if _profile:
        profile = _profile.pop()
        profile.disable()
        _dumped[0] += 1
        profile.dump_stats(f"{PREFIX}.{_dumped[0]}.prof")


if __name__ == "__main__":
    PREFIX, script = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[2:]
    sys.path[0] = str(Path(script).resolve().parent)  # as `python run.py` would: this checkout's quizengine
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    runpy.run_path(script, run_name="__main__")
