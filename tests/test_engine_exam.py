"""Pure exam rules: item analysis, histograms, windows with make-up overrides, review visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quizengine.engine.analysis import MIN_RESPONSES, histogram, item_statistics
from quizengine.modes.timed_exam import ReviewPolicy, member_window, passed, review_visible

T0 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def test_facility_and_discrimination() -> None:
    # the strong members get the item right, the weak ones wrong: high discrimination
    stats = item_statistics(marks=[2, 2, 0, 0], totals=[10, 9, 4, 3], max_mark=2, min_responses=4)
    assert stats.responses == 4 and stats.facility == 0.5
    assert stats.discrimination is not None and stats.discrimination > 0.9
    # a wrong key: the weak get it "right"
    reversed_key = item_statistics(marks=[0, 0, 2, 2], totals=[8, 7, 6, 5], max_mark=2, min_responses=4)
    assert reversed_key.discrimination is not None and reversed_key.discrimination < 0


def test_statistics_without_variance_or_answers() -> None:
    assert item_statistics([1, 1, 1], [5, 6, 7], 1, min_responses=3).discrimination is None
    assert item_statistics([], [], 1).facility is None
    assert item_statistics([1], [3], 2, min_responses=1).discrimination is None


def test_too_few_responses_compute_nothing() -> None:
    few = item_statistics([1] * (MIN_RESPONSES - 1), list(range(MIN_RESPONSES - 1)), 1)
    assert few.too_few and (few.responses, few.facility, few.discrimination) == (MIN_RESPONSES - 1, None, None)
    enough = item_statistics([1, 0] * 5, list(range(10, 0, -1)), 1)
    assert not enough.too_few and enough.facility == 0.5 and enough.discrimination is not None


def test_histogram_bands_include_the_maximum() -> None:
    bands = histogram([0, 5, 10, 59.9, 60, 100], 100, bins=10)
    assert bands[0] == (0.0, 10.0, 2) and bands[5] == (50.0, 60.0, 1) and bands[6][2] == 1 and bands[9][2] == 1
    assert histogram([1, 2], 0) == []


def test_window_and_deadline_with_override() -> None:
    window = member_window(T0, T0 + timedelta(hours=2), 60, 1)
    assert window.is_open(T0) and not window.is_open(T0 + timedelta(hours=2))
    assert window.deadline(T0 + timedelta(minutes=90), timedelta(seconds=30)).at == T0 + timedelta(hours=2)
    assert window.deadline(T0, timedelta(0)).at == T0 + timedelta(hours=1)
    make_up = member_window(
        T0,
        T0 + timedelta(hours=2),
        60,
        1,
        override_opens_at=T0 + timedelta(days=1),
        override_closes_at=T0 + timedelta(days=1, hours=1),
        override_duration_minutes=20,
        extra_attempts=1,
    )
    assert make_up.attempts == 2 and make_up.duration == timedelta(minutes=20)
    assert make_up.is_open(T0 + timedelta(days=1)) and not make_up.is_open(T0)


@pytest.mark.parametrize(
    ("policy", "released", "closed", "visible"),
    [
        (ReviewPolicy.IMMEDIATELY, False, False, True),
        (ReviewPolicy.AFTER_CLOSE, False, False, False),
        (ReviewPolicy.AFTER_CLOSE, False, True, True),
        (ReviewPolicy.MANUAL, False, True, False),
        (ReviewPolicy.MANUAL, True, False, True),
    ],
)
def test_review_visibility(policy: ReviewPolicy, released: bool, closed: bool, visible: bool) -> None:
    assert review_visible(policy, released, closed) is visible


def test_pass_mark_is_inclusive() -> None:
    assert passed(60, 60) and not passed(59.99, 60)
