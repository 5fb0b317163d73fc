"""Where an autosave's server CPU goes: the app's save route against the bare baseline, in one process.

exam_autosave.py measures saves through real servers; this calls the two WSGI apps directly (no sockets,
no gevent server: that part is the same for both), so what is left is what the app adds per save. It
prepares an instance as exam_autosave.py does (SQLite by default), starts every member's attempt through
the app, then times the same saves against the app and the baseline with ``time.process_time`` and
profiles the app's with cProfile on the same clock.

    .venv/bin/python benchmarks/save_profile.py                  # 20,000 saves each, top 35 functions
    .venv/bin/python benchmarks/save_profile.py --saves 5000 --sort cumulative --top 60
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.exam_autosave import (  # noqa: E402
    HOST,
    META,
    STATE,
    USER_AGENT,
    Member,
    answer_for,
    baseline_app,
    prepare,
    prepare_baseline,
)


def start_attempts(app: Any, exam_id: int, members: list[Member]) -> None:
    """Each member starts the exam and reads the paper through the app, as the page does."""
    client = app.test_client(use_cookies=False)
    for member in members:
        headers = {"Cookie": member.cookie, "User-Agent": USER_AGENT}
        started = client.post(f"/exams/{exam_id}/start", data={"csrf_token": member.form_token}, headers=headers)
        assert started.status_code == 302, started.data[:300]
        page = client.get(started.headers["Location"], headers=headers)
        state, meta = STATE.search(page.data), META.search(page.data)
        assert page.status_code == 200 and state and meta, page.status_code
        member.attempt_id = int(started.headers["Location"].rsplit("/", 1)[1])
        member.page_token = meta.group(1).decode()
        member.questions = json.loads(state.group(1))["questions"]


def environs(members: list[Member], count: int, seed: str) -> list[dict[str, Any]]:
    """`count` save requests as WSGI environs (what the gevent server hands the app), members in turn."""
    from werkzeug.test import EnvironBuilder

    rng = random.Random(seed)
    built = []
    for n in range(count):
        member = members[n % len(members)]
        question = rng.choice(member.questions)
        body = json.dumps(
            {"position": question["position"], "response": answer_for(question, n, rng)}, ensure_ascii=False
        ).encode()
        builder = EnvironBuilder(
            path=f"/exams/attempts/{member.attempt_id}/answers",
            method="POST",
            data=body,
            headers={
                "Cookie": member.cookie,
                "X-CSRFToken": member.page_token,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
            environ_base={"REMOTE_ADDR": HOST},
        )
        built.append(builder.get_environ())
    return built


def drive(wsgi: Any, batch: list[dict[str, Any]]) -> float:
    """Send every request of `batch` through `wsgi`; every one must be acknowledged. CPU seconds per save."""
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc: Any = None) -> Any:
        statuses.append(status)
        return lambda _data: None

    started = time.process_time()
    for environ in batch:
        body = b"".join(wsgi(environ, start_response))
        if not statuses[-1].startswith("200") or b'"ok":true' not in body.replace(b" ", b""):
            raise RuntimeError(f"save refused: {statuses[-1]} {body[:200]!r}")
    return (time.process_time() - started) / len(batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=64)
    parser.add_argument("--saves", type=int, default=20000, help="timed saves per app (default 20,000)")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed rounds (default 5)")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--match", help="only functions whose file:line(name) matches this regular expression")
    parser.add_argument("--callees", help="also print what the functions matching this expression call")
    parser.add_argument("--url", help="database URL (default: SQLite files in a temporary folder)")
    parser.add_argument("--baseline-url", help="the baseline's database URL (default: SQLite)")
    cfg = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="quizengine-profile-"))
    try:
        url = cfg.url or f"sqlite:///{work / 'instance' / 'quizengine.sqlite3'}"
        setup = prepare(url, work / "instance", cfg.members)
        start_attempts(setup.app, setup.exam_id, setup.members)
        baseline_url = cfg.baseline_url or f"sqlite:///{work / 'baseline.sqlite3'}"
        prepare_baseline(baseline_url, setup.members)
        baseline = baseline_app(baseline_url)
        rounds: dict[str, list[float]] = {"app": [], "baseline": []}
        for wsgi in (setup.app, baseline):
            drive(wsgi, environs(setup.members, 500, "warm"))
        for round_no in range(cfg.rounds):  # alternating, so both see the same machine; the least disturbed counts
            for name, wsgi in (("app", setup.app), ("baseline", baseline)):
                batch = environs(setup.members, cfg.saves // cfg.rounds, f"timed-{round_no}")
                rounds[name].append(drive(wsgi, batch))
        app_us, base_us = (1e6 * min(rounds[name]) for name in ("app", "baseline"))
        print(
            f"CPU per save, in-process (best of {cfg.rounds} rounds): app {app_us:.0f} µs, baseline {base_us:.0f} µs, "
            f"app/baseline throughput {base_us / app_us:.2f} (the app adds {app_us - base_us:.0f} µs)"
        )
        profiler = cProfile.Profile(time.process_time)
        batch = environs(setup.members, cfg.saves // cfg.rounds, "profiled")
        profiler.enable()
        drive(setup.app, batch)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(cfg.sort).print_stats(
            *([cfg.match] if cfg.match else []), cfg.top
        )
        if cfg.callees:
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees(cfg.callees)
        print(out.getvalue())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
