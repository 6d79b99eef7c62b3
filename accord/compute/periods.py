"""Grains, period boundaries and labels (ISO weeks, calendar or fiscal quarters and years)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlglot import exp

GRAINS = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class Calendar:
    """How periods are cut: the grain and the month the fiscal year starts (1 = calendar)."""

    grain: str
    fiscal_year_start: int = 1

    @property
    def _shift(self) -> int:
        return self.fiscal_year_start - 1 if self.grain in ("quarter", "year") else 0

    def start_sql(self, local_time: exp.Expression) -> exp.Expression:
        """SQL for the start date of the period holding `local_time` (a DATE or naive TIMESTAMP)."""
        # the day first: truncating a DATE costs less per row than truncating a TIMESTAMP, same start
        value: exp.Expression = exp.Cast(this=local_time, to=exp.DataType.build("DATE"))
        if self._shift:
            value = exp.Sub(this=value, expression=exp.Interval(this=exp.Literal.string(str(self._shift)),
                                                                unit=exp.var("MONTH")))
        start: exp.Expression = exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string(self.grain), value])
        if self._shift:
            start = exp.Add(this=start, expression=exp.Interval(this=exp.Literal.string(str(self._shift)),
                                                                unit=exp.var("MONTH")))
        return exp.Cast(this=start, to=exp.DataType.build("DATE"))

    def start(self, day: dt.date) -> dt.date:
        if self.grain == "day":
            return day
        if self.grain == "week":
            return day - dt.timedelta(days=day.weekday())
        if self.grain == "month":
            return day.replace(day=1)
        months = 3 if self.grain == "quarter" else 12
        index = (day.year * 12 + day.month - 1) - self._shift
        index -= index % months
        index += self._shift
        return dt.date(index // 12, index % 12 + 1, 1)

    def next(self, start: dt.date) -> dt.date:
        if self.grain == "day":
            return start + dt.timedelta(days=1)
        if self.grain == "week":
            return start + dt.timedelta(days=7)
        months = {"month": 1, "quarter": 3, "year": 12}[self.grain]
        index = start.year * 12 + start.month - 1 + months
        return dt.date(index // 12, index % 12 + 1, 1)

    def after(self, start: dt.date) -> dt.date:
        """The next period's start, or the last date there is when no period starts after this one."""
        try:
            return self.next(start)
        except (ValueError, OverflowError):
            return dt.date.max

    def count(self, first: dt.date, last: dt.date) -> int:
        """How many periods start from `first` to `last` (period starts, both included), without walking them."""
        if last < first:
            return 0
        if self.grain in ("day", "week"):
            return (last - first).days // (1 if self.grain == "day" else 7) + 1
        months = {"month": 1, "quarter": 3, "year": 12}[self.grain]
        return ((last.year - first.year) * 12 + last.month - first.month) // months + 1

    def previous(self, start: dt.date) -> dt.date:
        return self.start(start - dt.timedelta(days=1))

    def label(self, start: dt.date) -> str:
        if self.grain == "day":
            return start.isoformat()
        if self.grain == "week":
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.grain == "month":
            return f"{start.year}-{start.month:02d}"
        fiscal = self.fiscal_year_start != 1
        year = start.year + (1 if fiscal and start.month >= self.fiscal_year_start else 0)
        if self.grain == "quarter":
            q = ((start.month - self.fiscal_year_start) % 12) // 3 + 1
            return f"FY{year}-Q{q}" if fiscal else f"{year}-Q{q}"
        return f"FY{year}" if fiscal else f"{year}"

    def complete(self, start: dt.date, today: dt.date) -> bool:
        """A period is complete when it ended before today."""
        try:
            return self.next(start) <= today
        except (ValueError, OverflowError):     # it ends after the last date there is
            return False

    def span(self, first: dt.date, last: dt.date) -> list[dt.date]:
        out, p = [], self.start(first)
        while p <= last:
            out.append(p)
            p = self.next(p)
        return out

    def last_complete(self, today: dt.date) -> dt.date:
        return self.previous(self.start(today))


_LABELS = (
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "day"),
    (re.compile(r"^(\d{4})-W(\d{2})$"), "week"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(FY)?(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(FY)?(\d{4})$"), "year"),
)


def parse_period(label: str, fiscal_year_start: int = 1) -> tuple[Calendar, dt.date]:
    """'2026-Q3', '2026-07', '2026-W29', '2026-07-14', '2026', 'FY2027-Q1' → (calendar, start date)."""
    text = label.strip()
    for pattern, grain in _LABELS:
        m = pattern.match(text)
        if not m:
            continue
        cal = Calendar(grain, fiscal_year_start)
        try:
            if grain == "day":
                return cal, dt.date(int(m[1]), int(m[2]), int(m[3]))
            if grain == "week":
                return cal, dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
            if grain == "month":
                return cal, dt.date(int(m[1]), int(m[2]), 1)
        except ValueError:
            break
        fiscal, year = bool(m[1]), int(m[2])
        if fiscal != (fiscal_year_start != 1):
            break
        first = dt.date(year - 1, fiscal_year_start, 1) if fiscal else dt.date(year, 1, 1)
        if grain == "year":
            return cal, first
        start = first
        for _ in range(int(m[3]) - 1):
            start = cal.next(start)
        return cal, start
    fy = " (fiscal years are set, so FY2027-Q1 or FY2027)" if fiscal_year_start != 1 else ""
    raise ValueError(f"'{label}' is not a period. write 2026-07-14, 2026-W29, 2026-07, 2026-Q3 or 2026{fy}")
