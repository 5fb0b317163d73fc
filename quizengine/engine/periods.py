"""Evaluation periods: calendar months, quarters and years of local (Asia/Shanghai) days, with the keys the
dashboards, reports and the CLI read ("2026-12", "2026-Q4", "2026") and their Chinese labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .errors import StandardError


class PeriodKind(StrEnum):
    """How long one evaluation period lasts."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


PERIOD_NOUNS = {PeriodKind.MONTH: "本月", PeriodKind.QUARTER: "本季度", PeriodKind.YEAR: "本年度"}
PERIOD_KIND_LABELS = {PeriodKind.MONTH: "每月", PeriodKind.QUARTER: "每季度", PeriodKind.YEAR: "每年"}


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year: local days `start` (inclusive) to `end` (exclusive)."""

    start: date
    end: date
    kind: PeriodKind

    @classmethod
    def containing(cls, kind: PeriodKind | str, day: date) -> Period:
        """The period of `kind` that holds the local day `day`."""
        kind = PeriodKind(kind)
        if kind is PeriodKind.MONTH:
            start = date(day.year, day.month, 1)
            months = 1
        elif kind is PeriodKind.QUARTER:
            start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            months = 3
        else:
            start = date(day.year, 1, 1)
            months = 12
        return cls(start, _add_months(start, months), kind)

    @classmethod
    def parse(cls, key: str) -> Period:
        """Read a period key: "2026-12" (month), "2026-Q4" (quarter) or "2026" (year)."""
        text = (key or "").strip().upper()
        try:
            if len(text) == 4 and text.isdigit():
                return cls.containing(PeriodKind.YEAR, date(int(text), 1, 1))
            year, _, rest = text.partition("-")
            if rest.startswith("Q") and len(rest) == 2 and rest[1] in "1234":
                return cls.containing(PeriodKind.QUARTER, date(int(year), 3 * int(rest[1]) - 2, 1))
            if len(year) == 4 and rest.isdigit() and len(rest) <= 2:
                return cls.containing(PeriodKind.MONTH, date(int(year), int(rest), 1))
        except ValueError:
            pass
        raise StandardError(f"无法识别的考核周期：{key}（应为 2026-12、2026-Q4 或 2026）")

    @property
    def key(self) -> str:
        """The period's key, as `parse` reads it."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        """The period in Chinese: 2026年12月, 2026年第4季度, 2026年."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year}年{self.start.month}月"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年"

    @property
    def days(self) -> int:
        """Number of local days in the period."""
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def previous(self) -> Period:
        """The period just before this one."""
        return Period.containing(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        """The period just after this one."""
        return Period.containing(self.kind, self.end)

    def is_closed(self, today: date) -> bool:
        """Whether the period is over on the local day `today`."""
        return today >= self.end


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def recent_periods(kind: PeriodKind | str, today: date, count: int) -> list[Period]:
    """The `count` periods ending with the one holding `today`, oldest first (for trends)."""
    period = Period.containing(kind, today)
    periods = [period]
    for _ in range(count - 1):
        period = period.previous()
        periods.append(period)
    return periods[::-1]
