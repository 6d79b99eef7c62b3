"""Does a child metric move its parent as it claims? Granger F-tests, cross-correlation, Benjamini–Hochberg.

For each declared edge, on the two test-grain series (differenced): F-tests of "the child's past adds to
the parent's own past" at orders 1 .. L, L = max(lag + 4 weeks, 8 weeks) in test periods; the edge's
p-value is the smallest, Bonferroni-adjusted for the orders tried. The sign and best lag come from the
cross-correlation of the child's changes with the parent's changes 0 .. L periods later. Edges are then
adjusted together (Benjamini–Hochberg at `alpha`) and judged:

* supported — significant, and the sign is the one the edge claims;
* reversed — significant, with the opposite sign;
* unsupported — no significant relation at any lag tried;
* insufficient-data — fewer than 26 periods where both have values.

An edge declared with no lag (under one test period: `lag: 0w`) claims a same-period effect, which
Granger's strictly-earlier test cannot see; for those the F-test at order k reads the child's changes at
lags 0 .. k-1 instead of 1 .. k (same number of terms, same Bonferroni count).

The core (`edge_statistics`, `granger_test`, `cross_correlations`, `adjust`, `verdict`) works on numpy
arrays, so it can be checked and simulated without data. The F-test is the one statsmodels'
`grangercausalitytests` reports as `ssr_ftest`, computed here by least squares because it runs for
every edge and order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from accord.analyze.hierarchy import Link, links
from accord.analyze.values import Series
from accord.findings import Finding
from accord.project.durations import in_periods
from accord.project.lint import metric_owner
from accord.project.model import Project

MIN_PERIODS = 26   # fewer periods with both values: insufficient-data
MIN_DF = 10        # residual degrees of freedom the largest Granger regression keeps
VERDICTS = ("supported", "reversed", "unsupported", "insufficient-data")


# ---------------------------------------------------------------- the statistical core

def granger_test(child: np.ndarray, parent: np.ndarray, order: int, first_lag: int = 1
                 ) -> tuple[float, float, int, int]:
    """(F, p, df_num, df_den) of: do `order` values of `child` (lags first_lag .. first_lag + order - 1)
    add to `order` past values of `parent` in explaining `parent` now? Both are 1-D arrays of equal
    length (already differenced). With first_lag 1 this is Granger's test (statsmodels' ssr_ftest)."""
    n = len(parent)
    y = parent[order:]
    own = [parent[order - k:n - k] for k in range(1, order + 1)]
    other = [child[order - k:n - k] for k in range(first_lag, first_lag + order)]
    # One QR of [1, parent lags, child lags] gives both nested fits: the residual sum of squares of the
    # first k columns is |y|² minus the squares of the first k coordinates of Q'y.
    q = np.linalg.qr(np.column_stack([np.ones(len(y))] + own + other))[0]
    z = q.T @ y
    total = float(y @ y)
    ssr_r = max(total - float(z[:order + 1] @ z[:order + 1]), 0.0)
    ssr_u = max(total - float(z @ z), 0.0)
    df_den = len(y) - (2 * order + 1)
    if ssr_u <= 1e-12 * max(ssr_r, 1e-300):   # the child's values explain the parent exactly
        return (float("inf"), 0.0, order, df_den) if ssr_r > ssr_u else (0.0, 1.0, order, df_den)
    f = max((ssr_r - ssr_u) / order / (ssr_u / df_den), 0.0)
    return f, float(special.fdtrc(order, df_den, f)), order, df_den


def cross_correlations(child: np.ndarray, parent: np.ndarray, max_lag: int) -> list[float | None]:
    """Pearson correlation of the child at t with the parent at t + k, for k = 0 .. max_lag
    (None where either side does not vary)."""
    out: list[float | None] = []
    n = len(parent)
    for k in range(max_lag + 1):
        a, b = child[:n - k], parent[k:]
        if len(a) < 3:
            out.append(None)
            continue
        a, b = a - a.mean(), b - b.mean()
        den = float(np.sqrt((a @ a) * (b @ b)))
        out.append(None if den == 0 else float(np.clip((a @ b) / den, -1.0, 1.0)))
    return out


def max_orders(periods: int, wanted: int) -> int:
    """The Granger orders that fit in `periods` levels: the largest regression keeps MIN_DF residual df."""
    n = periods - 1                       # differences
    return max(0, min(wanted, (n - 1 - MIN_DF) // 3))


@dataclass(frozen=True)
class EdgeStatistics:
    """The numbers behind one edge's verdict, before adjustment across edges."""

    periods: int                         # levels where both series have values, consecutive
    orders_wanted: int                   # L
    orders_tested: int                   # L, or fewer when the history is short
    best_order: int | None = None        # the Granger order with the smallest p-value
    f_statistic: float | None = None     # at that order
    p_smallest: float | None = None      # before Bonferroni
    p_value: float | None = None         # smallest p-value times the orders tried (at most 1)
    correlations: tuple[float | None, ...] = ()   # lags 0 .. orders_tested
    best_lag: int | None = None          # the lag with the largest absolute correlation
    correlation: float | None = None     # at that lag
    note: str | None = None              # why there is no test
    first_lag: int = 1                   # 0 when the F-test also sees same-period changes

    @property
    def tested(self) -> bool:
        return self.p_value is not None

    @property
    def lags_tested(self) -> list[int] | None:
        """[first, last] lag of the child's changes the F-tests read."""
        return [self.first_lag, self.first_lag + self.orders_tested - 1] if self.orders_tested else None


def edge_statistics(child: np.ndarray, parent: np.ndarray, wanted: int, first_lag: int = 1) -> EdgeStatistics:
    """Test one edge on two aligned level series without gaps (oldest first). `first_lag` 0 lets the
    F-test see same-period changes too (for edges that claim no lag)."""
    periods = len(parent)
    if periods < MIN_PERIODS:
        return EdgeStatistics(periods, wanted, 0,
                              note=f"{periods} periods with both values; the test needs {MIN_PERIODS}")
    orders = max_orders(periods, wanted)
    if orders < 1:
        return EdgeStatistics(periods, wanted, 0, note=f"{periods} periods are too few for any lag")
    dx, dy = np.diff(child), np.diff(parent)
    ccf = tuple(cross_correlations(dx, dy, orders))
    if np.ptp(dx) == 0 or np.ptp(dy) == 0:
        which = "child" if np.ptp(dx) == 0 else "parent"
        return EdgeStatistics(periods, wanted, orders, p_smallest=1.0, p_value=1.0, correlations=ccf,
                              note=f"the {which} never changes")
    tests = [granger_test(dx, dy, k, first_lag) for k in range(1, orders + 1)]
    best = min(range(orders), key=lambda i: tests[i][1])
    known = [(abs(r), -k, k, r) for k, r in enumerate(ccf) if r is not None]
    best_lag, corr = (max(known)[2], max(known)[3]) if known else (None, None)
    return EdgeStatistics(periods, wanted, orders, best + 1, tests[best][0], tests[best][1],
                          min(1.0, tests[best][1] * orders), ccf, best_lag, corr, first_lag=first_lag)


def adjust(p_values: list[float], alpha: float) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (statsmodels), in the order given."""
    if not p_values:
        return []
    from statsmodels.stats.multitest import multipletests
    return [float(p) for p in multipletests(p_values, alpha=alpha, method="fdr_bh")[1]]


def verdict(p_adjusted: float | None, correlation: float | None, sign: int, alpha: float) -> str:
    """The verdict of an edge claiming `sign` (+1 raises, -1 lowers) from its adjusted p and correlation."""
    if p_adjusted is None:
        return "insufficient-data"
    if p_adjusted > alpha or not correlation:
        return "unsupported"
    return "supported" if (correlation > 0) == (sign > 0) else "reversed"


# ---------------------------------------------------------------- edges of a project

@dataclass(frozen=True)
class Edge:
    """One declared edge with its test and verdict."""

    link: Link
    lag_periods: int
    grain: str
    stats: EdgeStatistics
    first_period: str | None
    last_period: str | None
    p_adjusted: float | None
    verdict: str

    def as_dict(self) -> dict:
        s = self.stats
        return {"child": self.link.child, "parent": self.link.parent, "effect": self.link.effect,
                "lag": self.link.lag, "lag_periods": self.lag_periods, "grain": self.grain,
                "verdict": self.verdict, "periods": s.periods, "first_period": self.first_period,
                "last_period": self.last_period, "orders_wanted": s.orders_wanted, "orders_tested": s.orders_tested,
                "best_order": s.best_order, "f_statistic": s.f_statistic, "p_smallest": s.p_smallest,
                "p_value": s.p_value, "p_adjusted": self.p_adjusted, "best_lag": s.best_lag,
                "correlation": s.correlation, "correlations": list(s.correlations),
                "lags_tested": s.lags_tested, "note": s.note}


def aligned(child: Series, parent: Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The most recent unbroken run of periods where both series have a value: (labels, child, parent)."""
    c = dict(zip(child.starts, child.values))
    p = dict(zip(parent.starts, parent.values))
    common = sorted(set(c) & set(p))
    run: list = []
    for start in reversed(common):
        if c[start] is None or p[start] is None:
            break
        run.append(start)
    run.reverse()
    labels = dict(zip(parent.starts, parent.labels))
    return ([labels[s] for s in run], np.array([c[s] for s in run], dtype=float),
            np.array([p[s] for s in run], dtype=float))


def orders_wanted(lag: str, grain: str) -> int:
    """L = max(lag + 4 weeks, 8 weeks), in periods of the test grain (at least 1)."""
    return max(1, in_periods(lag, grain) + in_periods("4w", grain), in_periods("8w", grain))


def test_edges(project: Project, series: dict[str, Series]) -> list[Edge]:
    """Every declared edge tested, then judged together (Benjamini–Hochberg across the project)."""
    grain, alpha = project.settings.test_grain, project.settings.alpha
    rows = []
    for link in links(project):
        labels, x, y = aligned(series[link.child], series[link.parent])
        s = edge_statistics(x, y, orders_wanted(link.lag, grain), 0 if in_periods(link.lag, grain) == 0 else 1)
        rows.append((link, labels, s))
    tested = [i for i, (_, _, s) in enumerate(rows) if s.tested]
    adjusted = dict(zip(tested, adjust([rows[i][2].p_value for i in tested], alpha)))
    out = []
    for i, (link, labels, s) in enumerate(rows):
        p = adjusted.get(i)
        out.append(Edge(link, in_periods(link.lag, grain), grain, s, labels[0] if labels else None,
                        labels[-1] if labels else None, p, verdict(p, s.correlation, link.sign, alpha)))
    return out


def _lag_words(lag: int, grain: str) -> str:
    return "the same " + grain if lag == 0 else f"{lag} {grain}{'s' if lag != 1 else ''} later"


def _span(lags: list[int], grain: str) -> str:
    first, last = lags
    if first == 0:
        return f"in the same {grain}" + (f" or up to {last} {grain}s later" if last else "")
    return f"{first} to {last} {grain}s later" if first != last else _lag_words(first, grain)


def contribution_findings(project: Project, edges: list[Edge]) -> list[Finding]:
    """unsupported-contribution (warning) and reversed-contribution (error), child then parent."""
    out = []
    for e in edges:
        if e.verdict not in ("unsupported", "reversed"):
            continue
        s, link = e.stats, e.link
        child, parent = project.metric(link.child), project.metric(link.parent)
        claim = f"'{child.name}' claims it {link.effect} '{parent.name}'"
        if link.lag and e.lag_periods:
            claim += f" {link.lag} later"
        if e.verdict == "reversed":
            does = "raising" if link.effect == "lowers" else "lowering"
            title = (f"{claim}, but over {s.periods} {e.grain}s its changes go with {does} it: correlation "
                     f"{s.correlation:+.2f} {_lag_words(s.best_lag, e.grain)} (adjusted p {e.p_adjusted:.2g})")
        elif s.note:
            title = f"{claim}, but over {s.periods} {e.grain}s {s.note}, so it cannot move the parent"
        else:
            title = (f"{claim}, but over {s.periods} {e.grain}s its changes show no significant relation to the "
                     f"parent's changes {_span(s.lags_tested, e.grain)} (adjusted p {e.p_adjusted:.2g})")
            if s.best_lag == 0 and s.first_lag == 1 and s.correlation is not None and abs(s.correlation) >= 0.3:
                title += (f"; they do move together in the same {e.grain} (correlation {s.correlation:+.2f}), "
                          "which does not say which drives which")
        evidence = {"effect": link.effect, "lag": link.lag, "best_lag": s.best_lag, "correlation": s.correlation,
                    "p_value_adjusted": e.p_adjusted, "p_value": s.p_value, "periods": s.periods,
                    "first_period": e.first_period, "last_period": e.last_period,
                    "lags_tested": s.lags_tested, "grain": e.grain}
        if s.note:
            evidence["note"] = s.note
        teams = tuple(dict.fromkeys((child.team, parent.team)))
        out.append(Finding(f"{e.verdict}-contribution", "error" if e.verdict == "reversed" else "warning", title,
                           metrics=(child.name, parent.name), teams=teams, owner=metric_owner(project, child),
                           evidence=evidence, location=child.at(f"parents.{link.index}.metric")))
    return out
