"""验收标准 engine: periods, each rule's progress text, status, mid-period joiners, 预备党员, deactivated members."""

from __future__ import annotations

from datetime import date

import pytest

from quizengine.engine.errors import StandardError
from quizengine.engine.learning import PointsPolicy
from quizengine.engine.member_facts import DayFacts, ExamFacts, MemberFacts
from quizengine.engine.periods import Period, PeriodKind, recent_periods
from quizengine.engine.standard import (
    DEFAULT_STANDARD,
    Standard,
    Status,
    evaluate,
    member_hint,
    met_rate,
    participation_rate,
    rule_from_json,
    standard_from_json,
)
from quizengine.engine.standard_rules import ActiveDaysRule, Audience, ContestRule, ExamRule, PointsRule, SelfTestRule

DEC = Period.parse("2026-12")
JOINED = date(2025, 1, 1)


def practice(day: int, sessions: int = 1, answered: int = 10, correct: int = 8, month: int = 12) -> DayFacts:
    """A self-test day in December 2026 (sessions and answers all self-test)."""
    return DayFacts(date(2026, month, day), answered, correct, sessions, answered, sessions)


def test_periods_cover_months_quarters_and_years_with_their_boundaries() -> None:
    assert DEC.start == date(2026, 12, 1) and DEC.end == date(2027, 1, 1) and DEC.days == 31
    assert DEC.label == "2026年12月" and DEC.key == "2026-12"
    assert DEC.next() == Period.parse("2027-01") and DEC.previous() == Period.parse("2026-11")
    feb = Period.containing(PeriodKind.MONTH, date(2028, 2, 29))
    assert feb.days == 29 and date(2028, 2, 29) in feb and date(2028, 3, 1) not in feb
    q4 = Period.containing("quarter", date(2026, 11, 15))
    assert (q4.start, q4.end, q4.key, q4.label) == (date(2026, 10, 1), date(2027, 1, 1), "2026-Q4", "2026年第4季度")
    assert Period.parse("2026-q1").end == date(2026, 4, 1)
    year = Period.parse("2026")
    assert year.days == 365 and year.label == "2026年" and year.previous() == Period.parse("2025")
    assert [p.key for p in recent_periods("month", date(2026, 2, 10), 3)] == ["2025-12", "2026-01", "2026-02"]
    assert DEC.is_closed(date(2027, 1, 1)) and not DEC.is_closed(date(2026, 12, 31))


@pytest.mark.parametrize("bad", ["", "2026-13", "2026-Q5", "26-1", "abc", "2026-00", "2026/12"])
def test_bad_period_keys_are_refused_in_chinese(bad: str) -> None:
    with pytest.raises(StandardError, match="无法识别的考核周期"):
        Period.parse(bad)


def test_self_test_rule_counts_sessions_or_questions_with_progress_text() -> None:
    standard = Standard(PeriodKind.MONTH, (SelfTestRule(sessions=4, questions=100),))
    facts = MemberFacts(JOINED, days=[practice(1), practice(2, sessions=2), practice(3, sessions=0, answered=5)])
    result = evaluate(standard, DEC, facts, date(2026, 12, 20))
    assert result.status is Status.NOT_MET
    [rule] = result.rules
    assert rule.progress == "自测 3/4 次，答题 25/100 道"
    assert rule.missing == "还需自测 1 次或答题 75 道"
    assert member_hint(result) == ["本月还需自测 1 次或答题 75 道"]
    many = MemberFacts(JOINED, days=[practice(1, sessions=1, answered=100)])
    assert evaluate(standard, DEC, many, date(2026, 12, 20)).status is Status.MET  # questions alone suffice


def test_exam_answers_and_sessions_do_not_count_as_self_test() -> None:
    standard = Standard(PeriodKind.MONTH, (SelfTestRule(sessions=1),))
    exam_day = DayFacts(date(2026, 12, 5), answered=20, correct=15, sessions=1)
    result = evaluate(standard, DEC, MemberFacts(JOINED, days=[exam_day]), date(2026, 12, 20))
    assert result.status is Status.NOT_MET and result.rules[0].progress == "自测 0/1 次"
    assert result.studied  # the exam is activity: the member is not 未开始


def test_days_outside_the_period_or_after_today_are_ignored() -> None:
    standard = Standard(PeriodKind.MONTH, (SelfTestRule(sessions=2),))
    days = [practice(30, month=11), practice(1), DayFacts(date(2027, 1, 1), 5, 5, 1, 5, 1)]
    result = evaluate(standard, DEC, MemberFacts(JOINED, days=days), date(2026, 12, 10))
    assert result.rules[0].progress == "自测 1/2 次"


def test_active_days_rule() -> None:
    standard = Standard(PeriodKind.MONTH, (ActiveDaysRule(days=3),))
    facts = MemberFacts(JOINED, days=[practice(1), practice(2), DayFacts(date(2026, 12, 3))])
    result = evaluate(standard, DEC, facts, date(2026, 12, 20))
    assert result.rules[0].progress == "学习 2/3 天" and result.rules[0].missing == "还需学习 1 天"
    facts = MemberFacts(JOINED, days=[practice(1), practice(2), practice(31)])
    assert evaluate(standard, DEC, facts, date(2026, 12, 31)).status is Status.MET


def test_exam_rule_needs_every_exam_of_the_period_passed() -> None:
    standard = Standard(PeriodKind.MONTH, (ExamRule(),))
    today = date(2026, 12, 30)
    none = evaluate(standard, DEC, MemberFacts(JOINED), today)
    assert none.status is Status.MET and none.rules[0].progress == "本期无考试"
    exam = ExamFacts("12月测试", 80, date(2026, 12, 28))
    missed = evaluate(standard, DEC, MemberFacts(JOINED, exams=[exam]), today)
    assert missed.status is Status.NOT_STARTED and missed.rules[0].missing == "还需参加12月测试"
    low = ExamFacts("12月测试", 80, date(2026, 12, 28), score=75)
    result = evaluate(standard, DEC, MemberFacts(JOINED, exams=[low]), today)
    assert result.status is Status.NOT_MET and result.rules[0].progress == "12月测试 75 分（及格 80）"
    pending = ExamFacts("12月测试", 80, date(2026, 12, 28), score=90, pending=True)
    assert evaluate(standard, DEC, MemberFacts(JOINED, exams=[pending]), today).rules[0].progress == "12月测试 待阅卷"
    hidden = ExamFacts("12月测试", 80, date(2026, 12, 28), score=75, hidden=True)
    result = evaluate(standard, DEC, MemberFacts(JOINED, exams=[hidden]), today)
    assert result.rules[0].progress == "12月测试 已交卷，成绩未公布" and "75" not in result.reason
    assert result.status is Status.NOT_MET and result.studied
    exactly = ExamFacts("12月测试", 80, date(2026, 12, 28), score=80)
    assert evaluate(standard, DEC, MemberFacts(JOINED, exams=[exactly]), today).status is Status.MET
    other_month = ExamFacts("1月测试", 80, date(2027, 1, 2))
    assert evaluate(standard, DEC, MemberFacts(JOINED, exams=[other_month]), today).status is Status.MET


def test_points_rule_uses_the_daily_capped_points() -> None:
    standard = Standard(PeriodKind.MONTH, (PointsRule(points=60),))
    policy = PointsPolicy(per_correct=1, per_session=5, daily_cap=50)
    facts = MemberFacts(JOINED, days=[practice(1, sessions=1, answered=100, correct=100), practice(2, correct=4)])
    result = evaluate(standard, DEC, facts, date(2026, 12, 20), policy=policy)
    assert result.rules[0].progress == "积分 59/60 分" and result.rules[0].missing == "还需积分 1 分"


def test_contest_rule_counts_contests_in_the_period() -> None:
    standard = Standard(PeriodKind.MONTH, (ContestRule(contests=1),))
    outside = MemberFacts(JOINED, contest_days=[date(2026, 11, 30)])
    result = evaluate(standard, DEC, outside, date(2026, 12, 20))
    assert result.rules[0].progress == "竞赛 0/1 次" and result.status is Status.NOT_STARTED
    inside = MemberFacts(JOINED, contest_days=[date(2026, 12, 1)])
    assert evaluate(standard, DEC, inside, date(2026, 12, 20)).status is Status.MET


def test_not_started_only_while_the_period_is_open() -> None:
    idle = MemberFacts(JOINED)
    assert evaluate(DEFAULT_STANDARD, DEC, idle, date(2026, 12, 31)).status is Status.NOT_STARTED
    closed = evaluate(DEFAULT_STANDARD, DEC, idle, date(2027, 1, 1))
    assert closed.status is Status.NOT_MET and closed.label == "未达标"
    future = evaluate(DEFAULT_STANDARD, DEC, idle, date(2026, 11, 30))
    assert future.status is Status.NOT_STARTED and future.rules == []


def test_mid_period_joiner_is_held_to_a_prorated_standard() -> None:
    standard = Standard(PeriodKind.MONTH, (SelfTestRule(sessions=4), ActiveDaysRule(days=8)))
    joined = date(2026, 12, 17)  # 15 of 31 days left: 4 → 2 sessions, 8 → 4 days
    facts = MemberFacts(joined, days=[practice(18), practice(19)])
    result = evaluate(standard, DEC, facts, date(2026, 12, 20))
    assert [rule.progress for rule in result.rules] == ["自测 2/2 次", "学习 2/4 天"]
    assert result.note == "12月17日入册，按比例考核" and result.share == pytest.approx(15 / 31)
    last_day = MemberFacts(date(2026, 12, 31))
    assert evaluate(standard, DEC, last_day, date(2026, 12, 31)).rules[0].progress == "自测 0/1 次"


def test_joiner_is_not_held_to_an_exam_that_closed_before_they_joined() -> None:
    standard = Standard(PeriodKind.MONTH, (ExamRule(),))
    exam = ExamFacts("12月测试", 80, date(2026, 12, 10))
    facts = MemberFacts(date(2026, 12, 15), exams=[exam])
    assert evaluate(standard, DEC, facts, date(2026, 12, 20)).status is Status.MET


def test_members_not_yet_enrolled_or_deactivated_are_exempt() -> None:
    later = evaluate(DEFAULT_STANDARD, DEC, MemberFacts(date(2027, 1, 1)), date(2027, 1, 5))
    assert later.status is Status.EXEMPT and later.label == "不参与考核" and later.note == "本期尚未入册"
    gone = evaluate(DEFAULT_STANDARD, DEC, MemberFacts(JOINED, active=False, days=[practice(1)]), date(2026, 12, 5))
    assert gone.status is Status.EXEMPT and gone.note == "账号已停用"
    assert member_hint(gone) == []


def test_rules_can_bind_only_probationary_or_only_full_members() -> None:
    standard = Standard(
        PeriodKind.MONTH,
        (SelfTestRule(sessions=1), ContestRule(contests=1, applies_to=Audience.PROBATIONARY)),
    )
    days = [practice(2)]
    full = evaluate(standard, DEC, MemberFacts(JOINED, days=days), date(2026, 12, 20))
    probationary = evaluate(standard, DEC, MemberFacts(JOINED, probationary=True, days=days), date(2026, 12, 20))
    assert full.status is Status.MET and len(full.rules) == 1
    assert probationary.status is Status.NOT_MET and probationary.missing == ["还需参加知识竞赛 1 次"]


def test_quarter_standard_sums_the_whole_quarter() -> None:
    standard = Standard(PeriodKind.QUARTER, (SelfTestRule(sessions=3),))
    q4 = Period.parse("2026-Q4")
    facts = MemberFacts(JOINED, days=[practice(1, month=10), practice(1, month=11), practice(1)])
    result = evaluate(standard, q4, facts, date(2026, 12, 2))
    assert result.status is Status.MET
    unmet = evaluate(standard, q4, MemberFacts(JOINED, days=[practice(1)]), date(2026, 12, 2))
    assert member_hint(unmet) == ["本季度还需自测 2 次"]


def test_rates_leave_exempt_members_out() -> None:
    today = date(2026, 12, 20)
    standard = Standard(PeriodKind.MONTH, (SelfTestRule(sessions=1),))
    results = [
        evaluate(standard, DEC, MemberFacts(JOINED, days=[practice(1)]), today),
        evaluate(standard, DEC, MemberFacts(JOINED, days=[DayFacts(date(2026, 12, 2), 3, 3)]), today),
        evaluate(standard, DEC, MemberFacts(JOINED), today),
        evaluate(standard, DEC, MemberFacts(JOINED, active=False), today),
    ]
    assert participation_rate(results) == pytest.approx(2 / 3)
    assert met_rate(results) == pytest.approx(1 / 3)
    assert met_rate([]) is None and participation_rate(results[3:]) is None


def test_standards_round_trip_through_json() -> None:
    standard = Standard(
        PeriodKind.YEAR,
        (
            SelfTestRule(sessions=40, questions=800),
            ActiveDaysRule(days=50),
            ExamRule(),
            PointsRule(points=500),
            ContestRule(contests=1, applies_to=Audience.FULL),
        ),
    )
    data = standard.to_json()
    assert data["rules"][4] == {"type": "contest", "contests": 1, "applies_to": "full"}
    assert standard_from_json(data) == standard
    assert standard.describe()[0] == "自测不少于 40 次或答题不少于 800 道"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "验收标准格式不正确"),
        ({"period": "week", "rules": [{"type": "exam"}]}, "考核周期"),
        ({"rules": []}, "至少需要一条规则"),
        ({"rules": [{"type": "exam"}, {"type": "exam"}]}, "同一类规则只能出现一次"),
        ({"rules": [{"type": "sleep"}]}, "未知的考核规则"),
        ({"rules": [{"type": "self_test"}]}, "至少填写次数或题数"),
        ({"rules": [{"type": "self_test", "sessions": 0}]}, "1 到 10000"),
        ({"rules": [{"type": "self_test", "sessions": "4"}]}, "整数"),
        ({"rules": [{"type": "self_test", "sessions": True}]}, "整数"),
        ({"rules": [{"type": "active_days", "days": 400}]}, "1 到 366"),
        ({"rules": [{"type": "points", "points": -1}]}, "1 到 100000"),
        ({"rules": [{"type": "contest", "contests": 1, "applies_to": "nobody"}]}, "格式不正确"),
        ({"rules": [{"type": "exam", "extra": 1}]}, "格式不正确"),
    ],
)
def test_malformed_standards_are_refused_in_chinese(data: object, message: str) -> None:
    with pytest.raises(StandardError, match=message):
        standard_from_json(data)


def test_rule_from_json_refuses_a_non_object() -> None:
    with pytest.raises(StandardError):
        rule_from_json(["self_test"])
