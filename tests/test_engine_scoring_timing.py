"""Scoring rules, ranking tie-break, clocks and deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from quizengine.engine.questions import Outcome, Verdict
from quizengine.engine.scoring import POINTS_RULES, RankEntry, ScoringContext, rank, round_points
from quizengine.engine.timing import Deadline, FakeClock

RIGHT, WRONG = Outcome(Verdict.CORRECT, 1.0), Outcome(Verdict.WRONG, 0.0)
PARTIAL, PENDING = Outcome(Verdict.PARTIAL, 2 / 3), Outcome(Verdict.PENDING, 0.0)


def test_flat_rule_and_rounding() -> None:
    flat = POINTS_RULES["flat"]
    assert flat.award(RIGHT, ScoringContext(points=2)) == 2
    assert flat.award(PARTIAL, ScoringContext(points=2)) == 1.33
    assert flat.award(WRONG, ScoringContext(points=2)) == 0
    assert round_points(0.125) == 0.13  # half away from zero, not banker's rounding


def test_penalty_rule() -> None:
    penalty = POINTS_RULES["penalty"]
    context = ScoringContext(points=10, penalty=10)
    assert penalty.award(RIGHT, context) == 10
    assert penalty.award(WRONG, context) == -10
    assert penalty.award(Outcome(Verdict.WRONG, 0, answered=False), context) == -10
    assert penalty.award(PENDING, context) == 0


def test_speed_bonus_only_for_fully_correct() -> None:
    speed = POINTS_RULES["speed"]
    assert speed.award(RIGHT, ScoringContext(points=10, bonus=5, time_left_share=0.5)) == 12.5
    assert speed.award(RIGHT, ScoringContext(points=10, bonus=5, time_left_share=3)) == 15
    assert speed.award(PARTIAL, ScoringContext(points=9, bonus=5, time_left_share=1)) == 6


def test_rank_by_score_then_time_with_shared_places() -> None:
    ranked = rank(
        [
            RankEntry("c", 80, 100),
            RankEntry("a", 90, 300),
            RankEntry("b", 80, 100),
            RankEntry("d", 80, 50),
            RankEntry("e", 10),
        ]
    )
    assert [(r.place, r.entry.key) for r in ranked] == [(1, "a"), (2, "d"), (3, "b"), (3, "c"), (5, "e")]


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock()
    start = clock.now()
    assert clock.now() == start
    assert clock.advance(90) - start == timedelta(seconds=90)
    with pytest.raises(ValueError):
        clock.set(start.replace(tzinfo=None))


def test_deadline_edges() -> None:
    clock = FakeClock()
    deadline = Deadline(clock.now() + timedelta(minutes=30), grace=timedelta(seconds=30))
    assert deadline.remaining(clock.now()) == timedelta(minutes=30)
    clock.advance(minutes=30)
    assert not deadline.expired(clock.now()) and deadline.accepts(clock.now())  # exactly at the deadline
    clock.advance(1)
    assert deadline.expired(clock.now()) and deadline.accepts(clock.now())  # in grace
    assert deadline.remaining(clock.now()) == timedelta(0)
    clock.advance(29)
    assert deadline.accepts(clock.now())  # last moment of grace
    clock.advance(0.001)
    assert not deadline.accepts(clock.now())


def test_earliest_deadline_window_closes_first() -> None:
    clock = FakeClock()
    start = clock.now()
    deadline = Deadline.earliest(start + timedelta(minutes=60), start + timedelta(minutes=20))
    assert deadline.at == start + timedelta(minutes=20)
