"""Hostile YAML is refused fast and small: bombs, deep nesting and huge values never expand, and random
documents never raise anything but the loaders' own errors.

The limits are checked while the node tree is built (quizengine/banks/safe_yaml.py); these tests measure
wall time and the peak of Python allocations so a regression that expands first and checks later fails.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizengine.banks.contest_plan import PlanLoadError, load_plans
from quizengine.banks.loader import BankLoadError, load_banks
from quizengine.banks.safe_yaml import MAX_FILE_BYTES

from .test_bank_loader import BOMB, HEADER, SHORT

HOSTILE = {
    "alias bomb": HEADER + SHORT + BOMB,
    "deep nesting": HEADER + SHORT + "    answer: " + "[" * 900 + "]" * 900 + "\n",
    "deep block nesting": HEADER + SHORT + "".join("    " + "  " * depth + "k:\n" for depth in range(500)),
    "huge scalar": HEADER + SHORT + "    answer: " + "长" * 1_000_000 + "\n",
    "many aliases": HEADER + SHORT + "    answer: &a x\n    keypoints: [" + ", ".join(["*a"] * 5000) + "]\n",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_bank_is_refused_in_well_under_a_second_with_bounded_memory(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(BankLoadError) as raised:
            load_banks([path])
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 3 * len(text.encode()) + 20 * 1024 * 1024  # the text itself, decoded, plus a little
    [problem] = raised.value.problems
    assert problem.path == str(path) and problem.line > 1
    assert len(str(problem)) < 400  # the message never quotes the huge value


def test_the_same_limits_guard_contest_plans(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("title: 炸弹\nteams:\n" + BOMB.split("answer:\n", 1)[1].replace("      - ", "  - "), "utf-8")
    started = time.perf_counter()
    with pytest.raises(PlanLoadError) as raised:
        load_plans([path])
    assert time.perf_counter() - started < 1.0
    assert any("展开后超过" in problem.message and problem.line > 1 for problem in raised.value.problems)


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: instant to create
    started = time.perf_counter()
    with pytest.raises(BankLoadError, match="文件过大"):
        load_banks([path])
    assert time.perf_counter() - started < 0.5


def test_duplicate_keys_anywhere_in_a_plan_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("title: 方案\ntitle: 又一个\nteams: [甲, 乙]\nrounds: []\n", "utf-8")
    with pytest.raises(PlanLoadError) as raised:
        load_plans([path])
    assert any(p.line == 2 and "字段“title”重复出现" in p.message for p in raised.value.problems)


# --- fuzz -------------------------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["A", "B", "C", "D", "single", "multiple", "judge", "fill", "short", "ch1", "____", ""])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8) | SCALARS, inner, max_size=5),
    max_leaves=25,
)
QUESTION_FIELDS = ["stem", "answer", "explanation", "reference", "category", "difficulty", "tags", "points", "fixed"]
OPTIONS = st.dictionaries(st.sampled_from("ABCDEF") | SCALARS, VALUES, min_size=2, max_size=6)
QUESTIONS = st.fixed_dictionaries(
    {"id": st.sampled_from(["q-1", "q-2"]) | SCALARS, "type": st.sampled_from(["single", "multiple"]) | SCALARS},
    optional={"options": OPTIONS | VALUES, "keypoints": VALUES} | {name: VALUES for name in QUESTION_FIELDS},
)
BANKS = st.fixed_dictionaries(
    {"bank": st.just("fuzz") | SCALARS, "title": st.just("题库") | SCALARS, "questions": st.lists(QUESTIONS | VALUES)},
    optional={"categories": VALUES, "source": VALUES, "extra": VALUES},
)
YAML_NOISE = st.text(alphabet="[]{}:,&*!|>-?#'\"\n  abAB12.~%@`\t", max_size=80)


def _documents() -> st.SearchStrategy[str]:
    dumped = (BANKS | VALUES).map(lambda data: yaml.safe_dump(data, allow_unicode=True))
    return dumped | YAML_NOISE | st.tuples(dumped, YAML_NOISE).map("".join)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_documents())
def test_random_bank_and_plan_documents_raise_only_the_loaders_errors(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_banks([path])
        except BankLoadError as error:
            assert all(len(str(problem)) < 600 for problem in error.problems)
        with contextlib.suppress(PlanLoadError):
            load_plans([path])
