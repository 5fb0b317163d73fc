"""Spacing, learning points and streaks, and the self-test policy: pure, with fixed times."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from quizengine.engine.learning import (
    DayActivity,
    PointsPolicy,
    current_streak,
    day_points,
    merge_days,
    points_added,
    total_points,
)
from quizengine.engine.spacing import INTERVALS, TOP_BOX, ReviewState, is_due, review
from quizengine.modes.self_test import (
    Candidate,
    WrongBookState,
    after_answer,
    sequential_start,
    smart_order,
)

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_leitner_moves_up_on_correct_and_back_to_zero_on_wrong() -> None:
    state = review(None, True, NOW)
    assert state == ReviewState(1, NOW + timedelta(days=1))
    for _ in range(10):
        state = review(state, True, NOW)
    assert state.box == TOP_BOX and state.due_at == NOW + INTERVALS[TOP_BOX]
    missed = review(state, False, NOW)
    assert missed == ReviewState(0, NOW + timedelta(minutes=10))


def test_due_only_once_its_time_comes_and_never_for_unseen() -> None:
    state = review(None, True, NOW)
    assert not is_due(state, NOW + timedelta(hours=23))
    assert is_due(state, NOW + timedelta(days=1))
    assert not is_due(None, NOW)


def test_points_are_capped_per_day() -> None:
    policy = PointsPolicy(per_correct=1, per_session=5, daily_cap=20)
    assert day_points(DayActivity(date(2026, 3, 1), answered=12, correct=10, sessions=1), policy) == 15
    assert day_points(DayActivity(date(2026, 3, 2), answered=40, correct=40, sessions=3), policy) == 20
    days = merge_days(
        {date(2026, 3, 1): (12, 10), date(2026, 3, 2): (40, 40)}, {date(2026, 3, 1): 1, date(2026, 3, 2): 3}
    )
    assert total_points(days, policy) == 35


def test_streak_counts_back_from_today_or_yesterday() -> None:
    today = date(2026, 3, 10)
    run = [today - timedelta(days=n) for n in range(1, 5)]
    assert current_streak(run, today) == 4  # today still open
    assert current_streak([*run, today], today) == 5
    assert current_streak([today - timedelta(days=2)], today) == 0
    assert current_streak([], today) == 0


def test_wrong_book_needs_two_correct_in_a_row() -> None:
    state = after_answer(WrongBookState(), False)
    assert state.in_book
    state = after_answer(state, True)
    assert state == WrongBookState(True, 1)
    state = after_answer(state, False)  # the run restarts
    assert state == WrongBookState(True, 0)
    state = after_answer(after_answer(state, True), True)
    assert not state.in_book
    assert after_answer(WrongBookState(), True) == WrongBookState()


def test_smart_order_due_then_weak_chapters_then_unseen() -> None:
    candidates = [
        Candidate(1, "b:ch1", seen=True, due_at=NOW - timedelta(days=2), last_answered_at=NOW - timedelta(days=5)),
        Candidate(2, "b:ch1", seen=True, due_at=NOW - timedelta(days=1), last_answered_at=NOW - timedelta(days=3)),
        Candidate(3, "b:ch2", seen=True, due_at=NOW + timedelta(days=3), last_answered_at=NOW),
        Candidate(4, "b:ch3", seen=False),
        Candidate(5, "b:ch2", seen=False),
        Candidate(6, "b:ch4", seen=True, due_at=NOW + timedelta(days=9), last_answered_at=NOW - timedelta(days=1)),
    ]
    accuracy = {"b:ch1": 0.9, "b:ch2": 0.4, "b:ch4": 1.0}
    order = smart_order(candidates, accuracy, 10, NOW, random.Random(0))
    assert order[:2] == [1, 2]  # most overdue first
    assert set(order[2:4]) == {3, 5}  # the weak chapter ch2, seen or not
    assert order[4] == 4  # unseen elsewhere
    assert order[5] == 6  # the rest
    assert smart_order(candidates, accuracy, 3, NOW, random.Random(0))[:2] == [1, 2]


def test_sequential_start_wraps_at_the_end() -> None:
    assert sequential_start(30, 10) == (10, False)
    assert sequential_start(30, 30) == (0, True)
    assert sequential_start(0, 0) == (0, False)


def test_points_added_by_a_session_count_within_the_days_cap() -> None:
    policy = PointsPolicy(per_correct=1, per_session=5, daily_cap=12)
    day = DayActivity(date(2026, 1, 1), answered=10, correct=10, sessions=2)  # 20 raw, 12 capped
    session = DayActivity(date(2026, 1, 1), answered=5, correct=5, sessions=1)  # the rest earned 10 already
    assert points_added(day, session, policy) == 2
    assert points_added(day, day, policy) == 12
    assert points_added(day, DayActivity(date(2026, 1, 1)), policy) == 0
