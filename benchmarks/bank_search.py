"""题库管理's question search on the shipped banks ×N (issue #13 item 3): time per search against a bare SQL read.

In-process, no server, SQLite in a temporary folder. Loads --copies copies of every shipped bank (ids and
slugs suffixed, so ×10 is about 7,000 live questions) and measures, each as the median of --repeat runs:

- **baseline**: the cheapest honest read of the same questions: one `SELECT id, type, category, difficulty`
  over the live questions (no text: the text lives in the revisions' JSON);
- **search (warm)**: `question_admin.search` for a text in stems and options, for a type + difficulty filter,
  and for everything (page 1), with the per-process pool already read;
- **search (cold)**: the first search after a bank load changed a question (the pool is read again).

    .venv/bin/python benchmarks/bank_search.py               # shipped banks ×10, 20 runs each
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from benchmarks.harness import log
from quizengine import create_app
from quizengine.extensions import db
from quizengine.models import Question, Role
from quizengine.services import question_admin
from quizengine.services.accounts import create_user
from quizengine.services.banks import check_banks, sync_banks
from quizengine.services.schema import upgrade_database

ROOT = Path(__file__).resolve().parent.parent


def copies(folder: Path, count: int) -> list[Path]:
    """`count` copies of every shipped bank, ids and slugs suffixed with the copy's number."""
    paths = []
    for source in sorted((ROOT / "question_banks").glob("*.yaml")):
        text = source.read_text(encoding="utf-8")
        for number in range(count):
            copy = re.sub(r"(?m)^bank: (\S+)", rf"bank: \1-k{number}", text)
            copy = re.sub(r"(?m)^(\s*- id: )(\S+)", rf"\1\2-k{number}", copy)
            path = folder / f"{source.stem}-k{number}.yaml"
            path.write_text(copy, encoding="utf-8")
            paths.append(path)
    return paths


def timed(call: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        (folder / "banks").mkdir()
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder / "instance", "BANKS_PATH": folder / "banks"})
        with app.app_context():
            upgrade_database(url)
            session = db.session()
            paths = copies(folder / "banks", args.copies)
            sync_banks(session, check_banks(paths))
            admin, _ = create_user(
                session, username="admin", name="管理员", password="bench-pass-2026", role=Role.ADMIN
            )
            session.commit()
            live = session.scalar(select(func.count()).select_from(Question).where(Question.retired.is_(False)))
            log(f"live questions: {live} ({args.copies} copies of the shipped banks)")

            def baseline() -> object:
                return session.execute(
                    select(Question.id, Question.type, Question.category, Question.difficulty).where(
                        Question.retired.is_(False)
                    )
                ).all()

            searches = {
                "text 入党 (stems and options)": question_admin.SearchFilters(text="入党"),
                "type single + difficulty 2": question_admin.SearchFilters(type="single", difficulty=2),
                "everything, page 1": question_admin.SearchFilters(),
            }
            base = timed(baseline, args.repeat)
            print(f"baseline (bare SELECT of the live questions): {base:.2f} ms")
            for label, filters in searches.items():
                question_admin.search(session, admin, filters)  # the pool is read once
                warm = timed(lambda filters=filters: question_admin.search(session, admin, filters), args.repeat)
                found = question_admin.search(session, admin, filters).total
                print(f"search warm, {label}: {warm:.2f} ms ({warm / base:.1f}× baseline), {found} found")
            cold = []
            for number in range(5):  # a bank load moves a question: the next search reads the pool again
                question = session.scalar(select(Question).limit(1))
                assert question is not None
                question.position += 1 if number % 2 == 0 else -1
                session.commit()
                start = time.perf_counter()
                question_admin.search(session, admin, searches["text 入党 (stems and options)"])
                cold.append((time.perf_counter() - start) * 1000)
            median = statistics.median(cold)
            print(f"search cold (after a bank change): {median:.2f} ms ({median / base:.1f}× baseline)")


if __name__ == "__main__":
    main()
