"""CPU of a member's player join in-process: the join service and the player's snapshot, by batch size.

Why: the connect storm's server CPU per join (``contest_fanout.py``) moves with the machine's load by ±0.1 ms
from run to run, more than what is left of the app's own work. This times ``contest_join`` in-process with
``time.process_time`` on the fan-out's own instance (the shipped banks, N members, one 全员答题 contest, SQLite):

* ``usual``: one join at a time through Flask-Login's loader (the whole account, ORM) and the usual path —
  what every member's join did before the group commit, and what host, projector and team joins still do;
* ``batch B``: members' joins arriving B at a time, as the storm brings them (``_write_joins``: the accounts,
  the contest's keys and the rows these members already have read once per batch, one insert and one
  commit), then each player's snapshot and ack JSON. B = 1 is the group commit with nobody to share it.

    PYTHONPATH=. .venv/bin/python benchmarks/join_cost.py                    # 1,000 members, B = 1, 5, 25
    PYTHONPATH=. .venv/bin/python benchmarks/join_cost.py --members 2000 --batches 10,50
    PYTHONPATH=. .venv/bin/python benchmarks/join_cost.py --postgres         # a throw-away PostgreSQL database

With ``--postgres`` each measurement runs on a new PostgreSQL database (created and dropped here), to see what
the round trips of a batch's reads, insert and commit add against the embedded default.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 20
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="joins per measurement (default 1,000)")
    parser.add_argument("--batches", default="1,5,25", help="batch sizes, comma-separated (default 1,5,25)")
    parser.add_argument("--postgres", action="store_true", help="on a throw-away PostgreSQL database, not SQLite")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help=f"where to create it (default {PG_ADMIN_URL})")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.batches.split(",") if n.strip()]
    admin_url = args.pg_admin_url if args.postgres else None
    print(f"{'path':<12} {'µs per join':>12}   ({'PostgreSQL' if admin_url else 'SQLite'})")
    print(f"{'usual':<12} {measure(args.members, None, admin_url):>12.0f}")
    for size in sizes:
        print(f"{f'batch {size}':<12} {measure(args.members, size, admin_url):>12.0f}")
    return 0


def measure(members: int, batch: int | None, admin_url: str | None = None) -> float:
    """CPU per join (µs) of `members` joins on a fresh instance and contest: the usual path, or batches; on a
    new PostgreSQL database (dropped afterwards) when `admin_url` is given."""
    if admin_url is None:
        return _measure(members, batch, None)
    from sqlalchemy import create_engine, text

    from benchmarks.fanout_workers import create_database

    name, url = create_database(admin_url)
    try:
        return _measure(members, batch, url)
    finally:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _measure(members: int, batch: int | None, database_url: str | None) -> float:
    from sqlalchemy import select

    from benchmarks.contest_fanout import AppTarget
    from quizengine import create_app
    from quizengine.extensions import db
    from quizengine.models import User
    from quizengine.services import contest_commands, contest_join, contest_member_joins, contest_players
    from quizengine.web import _load_user

    contest_commands._machine_cache.clear()
    contest_commands._player_cache.clear()
    target = AppTarget()
    target.database_url = database_url
    target.prepare(Path(tempfile.mkdtemp(prefix="join-cost-")), members + WARMUP, 3)
    database = {"DATABASE_URL": database_url} if database_url else {}
    app = create_app({"INSTANCE_PATH": target.instance, "BANKS_PATH": ROOT / "question_banks", **database})
    with app.app_context():
        epochs = dict(db.session.execute(select(User.id, User.session_epoch)).all())  # type: ignore[arg-type]
        db.session.remove()

    def payload(index: int) -> dict[str, object]:
        return {"contest": target.contest_id, "pin": target.pin, "role": "player", "team": f"t{index % 4 + 1}"}

    def usual(index: int) -> None:
        user_id = target.user_ids[index]
        with app.app_context():
            user = _load_user(f"{user_id}.{epochs[user_id]}")
            joined = contest_join.join(db.session, payload(index), user, connection=f"s{index}", address="127.0.0.1")
            json.dumps({"ok": True, "view": joined.snapshot()})

    def batched(indexes: list[int]) -> None:
        ids = [target.user_ids[i] for i in indexes]
        pending = [contest_member_joins._PendingJoin(payload(i), ids[n], epochs[ids[n]]) for n, i in enumerate(indexes)]
        with app.app_context():
            contest_member_joins._write_joins(db.session, pending)
            db.session.remove()
        for one in pending:
            assert one.error is None and not one.usual and one.contest and one.machine and one.info is not None
            player, user_id = str(one.user_id), one.user_id
            contest_id = one.contest.id
            joined = contest_players.player_joined(None, contest_id, one.machine, player, one.info, user_id, new=True)
            json.dumps({"ok": True, "view": joined.snapshot()})

    for index in range(WARMUP):
        usual(index)
    started = time.process_time()
    if batch is None:
        for index in range(WARMUP, WARMUP + members):
            usual(index)
    else:
        for first in range(WARMUP, WARMUP + members, batch):
            batched(list(range(first, min(WARMUP + members, first + batch))))
    return (time.process_time() - started) / members * 1e6


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
