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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="joins per measurement (default 1,000)")
    parser.add_argument("--batches", default="1,5,25", help="batch sizes, comma-separated (default 1,5,25)")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.batches.split(",") if n.strip()]
    print(f"{'path':<12} {'µs per join':>12}")
    print(f"{'usual':<12} {measure(args.members, None):>12.0f}")
    for size in sizes:
        print(f"{f'batch {size}':<12} {measure(args.members, size):>12.0f}")
    return 0


def measure(members: int, batch: int | None) -> float:
    """CPU per join (µs) of `members` joins on a fresh instance and contest: the usual path, or batches."""
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
    target.prepare(Path(tempfile.mkdtemp(prefix="join-cost-")), members + WARMUP, 3)
    app = create_app({"INSTANCE_PATH": target.instance, "BANKS_PATH": ROOT / "question_banks"})
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
