"""CPU of one 全员答题 reveal in the process that applies it (the host's worker), by the contest's player count.

Why: across workers (docs/performance.md, "Across workers") the host's worker scores the whole contest at
each reveal, so its cost per delivered message grew with the players on the *other* workers. This times
``contest_commands.apply_command`` for ``reveal`` (and ``next`` and ``open`` around it) in-process, with
``time.process_time`` — the command's own CPU, database client included, free of the broadcast and far
less disturbed by other processes than the fan-out's per-worker figures. Players are stored rows (as the
joins store them) and a share of them answer each question (rows as the answer service stores them).

    PYTHONPATH=. .venv/bin/python benchmarks/reveal_cost.py                       # SQLite, 2,000 and 4,000
    PYTHONPATH=. .venv/bin/python benchmarks/reveal_cost.py --postgres --answering 0,0.1
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import log

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _bank(folder: Path) -> Path:
    options = "{A: 甲, B: 乙, C: 丙, D: 丁}"
    lines = ["bank: reveal", "title: 竞赛题库", "questions:"]
    lines += [
        f"  - {{id: r-{n}, type: single, stem: 竞赛题{n}, options: {options}, answer: A, explanation: 解析{n}}}"
        for n in range(40)
    ]
    path = folder / "reveal.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(url: str, players: int, reveals: int, answering: float, folder: Path) -> dict[str, float]:
    """Median CPU ms of next, open and reveal over `reveals` questions of one contest with `players` players."""
    from sqlalchemy.orm import Session

    from quizengine import create_app
    from quizengine.extensions import db
    from quizengine.models import ContestAnswer, ContestPlayer, Role
    from quizengine.modes.contest import Command, ContestPlan, QuestionSource, RoundKind, RoundSpec, TieBreak
    from quizengine.modes.contest import Role as ContestRole
    from quizengine.services import contest_commands, contest_setup
    from quizengine.services.accounts import create_user

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder / "instance", "SECRET_KEY": "bench"})
    assert app.test_cli_runner().invoke(args=["banks", "load", str(_bank(folder))]).exit_code == 0
    plan = ContestPlan(
        "竞赛",
        (RoundSpec(RoundKind.EVERYONE, "全员答题", QuestionSource(count=reveals + 2), points=10, speed_bonus=5),),
        base_score=100,
        tie_break=TieBreak.TIME,
    )
    rng = random.Random(1)
    times: dict[str, list[float]] = {"next": [], "open": [], "reveal": []}
    with app.app_context(), Session(db.engine, expire_on_commit=False) as session:
        host, _ = create_user(session, username="host", name="主持人", role=Role.ORGANIZER, password="Bench-pass-1",
                              branch_name="第一党支部")  # fmt: skip
        contest = contest_setup.create_contest(session, host, plan, rng=rng)
        session.add_all(
            ContestPlayer(contest_id=contest.id, player=f"g{n}", team=f"t{n % 4 + 1}", name=f"来宾{n}", joined_seq=0)
            for n in range(players)
        )
        session.commit()
        version = contest_commands.apply_command(session, contest.id, Command("start", ContestRole.HOST, 0))
        version_number = version.machine.state.version
        for index in range(reveals + 1):
            for name in ("next", "open", "reveal"):
                if name == "reveal":  # a share of the players answered (rows as the answer service writes them)
                    state = contest_commands.load_contest(session, contest.id)[1].state
                    now = datetime.now(UTC)
                    session.add_all(
                        ContestAnswer(contest_id=contest.id, question_seq=state.question_seq,
                                      question_id=state.question or "", participant=f"player:g{n}", user_id=None,
                                      response="A" if rng.random() < 0.7 else "B", verdict="correct", at=now)
                        for n in range(players) if rng.random() < answering
                    )  # fmt: skip
                    session.commit()
                started = time.process_time()
                applied = contest_commands.apply_command(
                    session, contest.id, Command(name, ContestRole.HOST, version_number)
                )
                spent = (time.process_time() - started) * 1000
                version_number = applied.machine.state.version
                if index:  # the first question warms the caches (and recounts the standings once)
                    times[name].append(spent)
    db.engine.dispose()
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", default="2000,4000", help="players in the contest, comma-separated")
    parser.add_argument("--answering", default="0,0.1", help="share of players answering each question")
    parser.add_argument("--reveals", type=int, default=10, help="measured questions (default 10)")
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL database per run")
    args = parser.parse_args(argv)
    from quizengine.services.schema import upgrade_database

    print(f"{'players':>8} {'answering':>9} {'next ms':>8} {'open ms':>8} {'reveal ms':>8}")
    for players in [int(n) for n in args.players.split(",")]:
        for answering in [float(s) for s in args.answering.split(",")]:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                if args.postgres:
                    from benchmarks.fanout_workers import create_database, drop_databases

                    name, url = create_database(PG_ADMIN_URL)
                    _register(folder, name, url)
                else:
                    url = f"sqlite:///{folder / 'reveal.sqlite3'}"
                upgrade_database(url)
                log(f"{players} players, {answering:.0%} answering")
                try:
                    result = measure(url, players, args.reveals, answering, folder)
                finally:
                    if args.postgres:
                        drop_databases(PG_ADMIN_URL)
            figures = " ".join(f"{result[name]:>8.1f}" for name in ("next", "open", "reveal"))
            print(f"{players:>8} {answering:>9.0%} {figures}")
    return 0


def _register(folder: Path, name: str, url: str) -> None:
    """Let fanout_workers.drop_databases drop it afterwards."""
    from benchmarks import fanout_workers

    fanout_workers._databases[folder] = (name, url)


if __name__ == "__main__":
    sys.exit(main())
