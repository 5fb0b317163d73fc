"""Bank import from Excel (issue #13 item 7): time and memory against openpyxl's own read-only pass.

In-process, no server. Writes a workbook of --rows questions (every type, the template's columns, realistic
Chinese text) and measures, each as the median of --repeat runs:

- **baseline**: openpyxl's own read-only pass over the same file (`load_workbook(read_only=True,
  data_only=True)` and every row of the question sheet with `values_only=True`, nothing else);
- **import**: `quizengine.banks.importing.import_bank` on the same bytes (reading, checking every question
  with the bank format's schema, ids, the bank mapping).

Budgets: import ≤ 2 × baseline and ≤ 5 s for 5,000 rows. Memory (tracemalloc, Python allocations) is measured
for --small rows and for --rows rows: the import's peak, what its result keeps (the bank mapping, which
grows with the questions by nature), and the working memory beyond the result (peak − kept), which must
not grow with the file: the sheet is streamed, never loaded whole. openpyxl's full (not read-only) load is
shown for comparison.

    .venv/bin/python benchmarks/bank_import.py                 # 5,000 rows against 1,000, 5 runs each
    .venv/bin/python benchmarks/bank_import.py --rows 20000    # a bigger file
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import log
from quizengine.banks.importing import import_bank
from quizengine.banks.importing.exporting import TEMPLATE_COLUMNS

TIME_RATIO_BUDGET = 2.0
TIME_BUDGET_SECONDS = 5.0


def _row(number: int) -> list[Any]:
    kind = ("单选题", "多选题", "判断题", "填空题", "简答题")[number % 5]
    stem = f"第{number}题：根据《中国共产党章程》，党的基层组织在推进工作中应当坚持的原则是什么（  ）。"
    options = [f"选项{letter}：第{number}题的备选内容，说明一项具体要求" for letter in "ABCD"]
    answer = {"单选题": "B", "多选题": "ABD", "判断题": "正确", "填空题": "一年|1年", "简答题": "参考答案要点"}[kind]
    if kind == "填空题":
        stem = f"第{number}题：预备党员的预备期为____。"
    if kind in ("判断题", "填空题", "简答题"):
        options = ["", "", "", ""]
    values = {
        "题型": kind,
        "题干": stem,
        **{f"选项{letter}": text for letter, text in zip("ABCD", options, strict=True)},
        "答案": answer,
        "解析": f"第{number}题解析：党章第{number % 11 + 1}条规定了相关内容，答题时应当注意原文的表述。",
        "出处": f"《中国共产党章程》第{number % 11 + 1}条",
        "章节": f"第{number % 11 + 1}章",
        "难度": number % 5 + 1,
    }
    return [values.get(column) for column in TEMPLATE_COLUMNS]


def make_workbook(rows: int) -> bytes:
    """An .xlsx in the import template's layout with `rows` questions (written as Excel writes: with its used range)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题目"
    sheet.append(list(TEMPLATE_COLUMNS))
    for number in range(1, rows + 1):
        sheet.append(_row(number))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def openpyxl_pass(data: bytes) -> int:
    """openpyxl's own read-only pass: every row's values, nothing else (the baseline)."""
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    count = sum(1 for _ in workbook["题目"].iter_rows(values_only=True))
    workbook.close()
    return count


def openpyxl_full_load(data: bytes) -> int:
    """openpyxl's ordinary (not read-only) load, for the memory comparison."""
    workbook = load_workbook(io.BytesIO(data), data_only=True)
    return workbook["题目"].max_row


def run_import(data: bytes) -> Any:
    result = import_bank(data, "bench.xlsx", slug="bench")
    assert result.ok, result.problems[:3]
    return result


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def memory(action: Callable[[], Any]) -> dict[str, float]:
    """Peak and kept Python allocations (MB) of one call, with what it returned still alive."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = action()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    mb = 1024 * 1024
    return {"peak_mb": (peak - before) / mb, "kept_mb": (kept - before) / mb, "working_mb": (peak - kept) / mb}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()

    figures: dict[str, Any] = {"rows": args.rows, "small": args.small, "repeat": args.repeat}
    files = {size: make_workbook(size) for size in (args.small, args.rows)}
    data = files[args.rows]
    log(f"workbook of {args.rows} rows: {len(data) / 1024:.0f} KB")
    assert openpyxl_pass(data) == args.rows + 1
    assert len(run_import(data).bank["questions"]) == args.rows

    baseline = timed(lambda: openpyxl_pass(data), args.repeat)
    imported = timed(lambda: run_import(data), args.repeat)
    figures["baseline_s"] = statistics.median(baseline)
    figures["import_s"] = statistics.median(imported)
    figures["ratio"] = figures["import_s"] / figures["baseline_s"]
    for size, content in files.items():
        figures[f"import_memory_{size}"] = memory(lambda content=content: run_import(content))
        figures[f"openpyxl_full_memory_{size}"] = memory(lambda content=content: openpyxl_full_load(content))

    print(f"rows: {args.rows} (file {len(data) / 1024:.0f} KB), median of {args.repeat} runs")
    print(f"openpyxl read-only pass (baseline): {figures['baseline_s']:.3f} s")
    print(f"import_bank:                        {figures['import_s']:.3f} s")
    print(f"ratio import / baseline:            {figures['ratio']:.2f} (budget ≤ {TIME_RATIO_BUDGET})")
    print("memory (tracemalloc, MB)            peak    kept by result    working (peak − kept)")
    for size in (args.small, args.rows):
        one = figures[f"import_memory_{size}"]
        figures_mb = f"{one['peak_mb']:6.1f}  {one['kept_mb']:10.1f}  {one['working_mb']:14.1f}"
        print(f"  import {size:>6} rows              {figures_mb}")
    for size in (args.small, args.rows):
        full = figures[f"openpyxl_full_memory_{size}"]
        print(f"  openpyxl full load {size:>6} rows  {full['peak_mb']:6.1f}  {full['kept_mb']:10.1f}")
    small, large = figures[f"import_memory_{args.small}"], figures[f"import_memory_{args.rows}"]
    growth = large["working_mb"] / small["working_mb"] if small["working_mb"] else float("inf")
    figures["working_growth"] = growth
    checks = {
        f"import ≤ {TIME_RATIO_BUDGET} × baseline": figures["ratio"] <= TIME_RATIO_BUDGET,
        f"import ≤ {TIME_BUDGET_SECONDS} s": figures["import_s"] <= TIME_BUDGET_SECONDS,
        f"working memory {args.rows} rows ≤ 1.5 × {args.small} rows (is {growth:.2f} ×)": growth <= 1.5,
    }
    for name, passed in checks.items():
        print(f"{'OK  ' if passed else 'FAIL'} {name}")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
