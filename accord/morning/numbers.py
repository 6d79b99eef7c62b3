"""A metric's numbers as the digest shows them: yesterday, the day before, the same weekday a week earlier, and
week-, month- and quarter-to-date against the same point of the previous period.

Every number is `compute`'s: a day is compute's row at day grain; a period-to-date value is compute's current
period at that grain with as-of set to the last day it covers (compute counts data up to the end of its as-of
day). The digest of day D covers data up to the end of D - 1 ("yesterday").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from accord.compute.periods import Calendar
from accord.project.model import Metric, Project

TO_DATE = ("week", "month", "quarter")
TO_DATE_WORDS = {"week": "Week to date", "month": "Month to date", "quarter": "Quarter to date",
                 "year": "Year to date"}
BEFORE_WORDS = {"week": "the same point last week", "month": "the same point last month",
                "quarter": "the same point last quarter", "year": "the same point last year"}


@dataclass(frozen=True)
class Figure:
    """One number: compute's value of `metric` for `period` at `grain`, computed as of `as_of`."""

    metric: str
    grain: str
    period: str
    as_of: dt.date
    value: float | None
    complete: bool
    through: dt.date          # the last day of data it covers
    stale: bool = False       # after the last data of a source it reads: no data, not 0
    days: int = 1             # days of the period it covers, up to `through`
    length: int = 1           # days in the period


@dataclass(frozen=True)
class Comparison:
    """A number against the one it is compared with, in words: `what` ("Yesterday", "Month to date") and
    `against` ("the day before", "same point of 2026-09")."""

    what: str
    against: str
    current: Figure
    previous: Figure

    @property
    def change(self) -> float | None:
        a, b = self.current.value, self.previous.value
        return None if a is None or b is None else a - b

    @property
    def relative(self) -> float | None:
        c, b = self.change, self.previous.value
        return None if c is None or not b else c / abs(b)


@dataclass(frozen=True)
class Pace:
    """Whether a target is on track: the target's period to date against the target, pro-rated by the share
    of the period gone for a sum or count (a rate or average is held to the target as it is)."""

    figure: Figure
    target: float
    direction: str
    share_gone: float          # of the target's period, up to the figure's last day
    prorated: bool
    status: str                # "on track", "behind", "no data"

    @property
    def expected(self) -> float:
        return self.target * self.share_gone if self.prorated else self.target


@dataclass(frozen=True)
class MetricNumbers:
    metric: str
    comparisons: tuple[Comparison, ...]   # yesterday, same weekday, week/month/quarter to date
    pace: Pace | None


def same_point(calendar: Calendar, day: dt.date) -> dt.date:
    """The same point of the previous period: as many days into it as `day` is into its own, at most its last
    day (31 March is matched by the 28th or 29th of February, so a month to date never reaches past its month)."""
    start = calendar.start(day)
    before = calendar.previous(start)
    return min(before + (day - start), start - dt.timedelta(days=1))


def additive(m: Metric) -> bool:
    """A sum or count: its period-to-date grows through the period, so a target is pro-rated."""
    from accord.compute.plan import additive_zero
    from accord.project.references import fragment
    return m.kind == "simple" and additive_zero(fragment(m.measure))


class Numbers:
    """Every metric's digest numbers for the digest of `day`, from one compute per grain and as-of."""

    def __init__(self, project: Project, engine, day: dt.date, metrics: list[str]):
        from accord.compute.run import compute
        self.project, self.day, self.metrics = project, day, metrics
        self.yesterday = day - dt.timedelta(days=1)
        fiscal = project.settings.fiscal_year_start
        self._rows: dict[tuple[str, dt.date], dict] = {}

        def run(grain: str, as_of: dt.date, since: dt.date) -> None:
            if (grain, as_of) in self._rows or not metrics:
                return
            result = compute(project, engine, metrics, grain, as_of, since=since)
            self._rows[(grain, as_of)] = {(r.metric, r.start): r for r in result.rows}

        y = self.yesterday
        run("day", day, y - dt.timedelta(days=7))    # as of the digest's day: yesterday is complete
        grains = list(TO_DATE) + sorted({m.target.period for m in project.metrics
                                         if m.name in metrics and m.target} - set(TO_DATE) - {"day"})
        self.grains = grains
        for grain in grains:
            cal = Calendar(grain, fiscal)
            run(grain, y, cal.start(y))
            back = same_point(cal, y)
            run(grain, back, cal.start(back))

    def figure(self, metric: str, grain: str, as_of: dt.date, start: dt.date) -> Figure:
        cal = Calendar(grain, self.project.settings.fiscal_year_start)
        row = self._rows.get((grain, as_of), {}).get((metric, start))
        end = cal.next(start) - dt.timedelta(days=1)
        through = min(as_of, end)
        days, length = (through - start).days + 1, (end - start).days + 1
        if row is None:      # no data in any period up to here
            return Figure(metric, grain, cal.label(start), as_of, None, through == end, through, False, days, length)
        return Figure(metric, grain, row.period, as_of, row.value, through == end, through, row.stale, days, length)

    def of(self, m: Metric) -> MetricNumbers:
        y = self.yesterday
        day = lambda d: self.figure(m.name, "day", self.day, d)  # noqa: E731
        out = [Comparison("Yesterday", "the day before", day(y), day(y - dt.timedelta(days=1))),
               Comparison("Yesterday", "the same weekday a week before", day(y), day(y - dt.timedelta(days=7)))]
        fiscal = self.project.settings.fiscal_year_start
        for grain in TO_DATE:
            cal = Calendar(grain, fiscal)
            back = same_point(cal, y)
            prev = self.figure(m.name, grain, back, cal.start(back))
            out.append(Comparison(TO_DATE_WORDS[grain], BEFORE_WORDS[grain],
                                  self.figure(m.name, grain, y, cal.start(y)), prev))
        return MetricNumbers(m.name, tuple(out), self._pace(m))

    def _pace(self, m: Metric) -> Pace | None:
        if m.target is None:
            return None
        cal = Calendar(m.target.period, self.project.settings.fiscal_year_start)
        y = self.yesterday
        start = cal.start(y)
        fig = self.figure(m.name, m.target.period, y, start)
        length = (cal.next(start) - start).days
        gone = ((y - start).days + 1) / length
        prorated = additive(m)
        expected = m.target.value * gone if prorated else m.target.value
        if fig.value is None:
            status = "no data"
        else:
            ok = fig.value >= expected if m.target.direction == "up" else fig.value <= expected
            status = "on track" if ok else "behind"
        return Pace(fig, m.target.value, m.target.direction, gone, prorated, status)


def shown(value: float | None, unit: str | None) -> str:
    """A number as the digest shows it, rounded as displayed: $8.92M, 2,099, 21.7% ("no data" without one)."""
    from accord.report_items import _number
    return "no data" if value is None else _number(value, unit)


def change_shown(c: Comparison, unit: str | None) -> str:
    """The move from the number compared with: +12%, −3.0 pts for a percentage, "" when there is none."""
    if c.change is None:
        return ""
    if unit == "percent":
        a, b = c.current.value, c.previous.value
        scale = 100 if abs(a) <= 1.5 and abs(b) <= 1.5 else 1
        pts = c.change * scale
        return "no change" if round(pts, 1) == 0 else f"{'+' if pts > 0 else '−'}{abs(pts):.1f} pts"
    if c.relative is None:
        return "from 0" if c.change else "no change"
    pct = c.relative * 100
    if round(pct, 1) == 0:
        return "no change"
    return f"{'+' if pct > 0 else '−'}{abs(pct):.0f}%" if abs(pct) >= 10 else \
        f"{'+' if pct > 0 else '−'}{abs(pct):.1f}%"
