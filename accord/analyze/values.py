"""The numbers the tree reads, in one compute() per grain: every metric's complete test-grain series, and
its last two complete periods at the grain it is judged at (its target's, else compare_grain) and at
compare_grain (for handoffs). Every series stops at the metric's last complete period with data: the
periods after its source's last data are no data, never 0."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from accord.compute.periods import Calendar
from accord.project.model import Metric, Project


@dataclass(frozen=True)
class Series:
    """One metric's complete periods at one grain, oldest first, consecutive."""

    grain: str
    starts: tuple[dt.date, ...]
    labels: tuple[str, ...]
    values: tuple[float | None, ...]

    def __len__(self) -> int:
        return len(self.values)

    def array(self) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in self.values], dtype=float)

    def tail(self, n: int) -> "Series":
        return Series(self.grain, self.starts[-n:], self.labels[-n:], self.values[-n:]) if n > 0 else \
            Series(self.grain, (), (), ())

    def between(self, first: dt.date, before: dt.date) -> "Series":
        """The periods that start on or after `first` and before `before`."""
        keep = [i for i, s in enumerate(self.starts) if first <= s < before]
        return Series(self.grain, tuple(self.starts[i] for i in keep), tuple(self.labels[i] for i in keep),
                      tuple(self.values[i] for i in keep))


@dataclass(frozen=True)
class Pair:
    """A metric's last complete period at one grain and the one before."""

    grain: str
    period: str
    start: dt.date
    value: float | None
    previous_period: str
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def relative(self) -> float | None:
        """The change over the previous value's size; None from zero."""
        if self.change is None or self.previous == 0:
            return None
        return self.change / abs(self.previous)


@dataclass(frozen=True)
class Numbers:
    test: dict[str, Series]     # complete test-grain periods with data
    judged: dict[str, Pair]     # at the grain each metric's target is judged at
    compare: dict[str, Pair]    # at compare_grain
    compare_series: dict[str, Series] = field(default_factory=dict)   # complete compare-grain periods with data

    def common_pairs(self, a: str, b: str) -> tuple[Pair, Pair]:
        """Both metrics' compare-grain pairs at the latest period complete and with data for both."""
        sa, sb = self.compare_series.get(a), self.compare_series.get(b)
        if sa is None or sb is None:
            return self.compare[a], self.compare[b]
        common = set(sa.starts) & set(sb.starts)
        if not common:
            return self.compare[a], self.compare[b]
        last = max(common)
        return _pair_at(sa, last, self.compare[a]), _pair_at(sb, last, self.compare[b])


def judged_grain(project: Project, m: Metric) -> str:
    return m.target.period if m.target is not None else project.settings.compare_grain


def _series(rows, grain: str, names: list[str]) -> dict[str, Series]:
    """Each metric's complete periods with data (a period after its source's last data is left out)."""
    by: dict[str, list] = {n: [] for n in names}
    for r in rows:
        if r.complete and not r.stale and r.metric in by:
            by[r.metric].append(r)
    return {n: Series(grain, tuple(r.start for r in rs), tuple(r.period for r in rs), tuple(r.value for r in rs))
            for n, rs in by.items()}


def _pair_at(s: Series, last: dt.date, fallback: Pair) -> Pair:
    i = s.starts.index(last)
    before = i - 1 if i > 0 else None
    return Pair(s.grain, s.labels[i], last, s.values[i],
                s.labels[before] if before is not None else fallback.previous_period,
                s.values[before] if before is not None else None)


def _pairs(series: dict[str, Series], calendar: Calendar, today: dt.date) -> dict[str, Pair]:
    """Each metric's last complete period with data and the one before (the last complete period when it
    has none, with no values)."""
    try:
        last = calendar.last_complete(today)
        none = Pair(calendar.grain, calendar.label(last), last, None, calendar.label(calendar.previous(last)), None)
    except (ValueError, OverflowError):     # no period ends before the first date there is
        none = Pair(calendar.grain, "", dt.date.min, None, "", None)
    out = {}
    for name, s in series.items():
        out[name] = _pair_at(s, s.starts[-1], none) if s.starts else none
    return out


def gather(project: Project, engine, today: dt.date, names: list[str]) -> Numbers:
    """Everything the tree needs: one compute() at test_grain over all history, one per other grain."""
    from accord.compute.run import compute
    settings = project.settings
    fy = settings.fiscal_year_start
    if not names:
        return Numbers({}, {}, {})
    test = _series(compute(project, engine, names, settings.test_grain, today).rows, settings.test_grain, names)
    wanted: dict[str, list[str]] = {settings.compare_grain: list(names)}
    for n in names:
        g = judged_grain(project, project.metric(n))
        wanted.setdefault(g, [])
        if n not in wanted[g]:
            wanted[g].append(n)
    series: dict[str, dict[str, Series]] = {}
    for grain, ms in wanted.items():
        series[grain] = {n: test[n] for n in ms} if grain == settings.test_grain else \
            _series(compute(project, engine, ms, grain, today).rows, grain, ms)
    pairs = {grain: _pairs(s, Calendar(grain, fy), today) for grain, s in series.items()}
    judged = {n: pairs[judged_grain(project, project.metric(n))][n] for n in names}
    return Numbers(test, judged, pairs[settings.compare_grain], series[settings.compare_grain])
