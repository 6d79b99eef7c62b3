"""One query per source for all its metrics, built as a sqlglot AST.

Two strategies, chosen per source by measuring the data (a sample of the clause columns):

* `grouped` — group the rows once by period and the low-cardinality columns the clauses read, keep
  partial aggregates, then evaluate every metric's clauses on that small result. A clause over other
  columns (`amount > 10000`) is evaluated once per row and filters the partial aggregates that need it,
  so it never multiplies the groups. Needs decomposable measures.
* `filter` — one `agg FILTER (WHERE clauses)` per metric in a single scan: works for any measure
  (count distinct, median, ...).

In both, a clause that several metrics share is evaluated once per row (a boolean column), not once per
metric. Clauses hold only when TRUE: an include that is NULL drops the row, an exclude that is NULL keeps it.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Callable

from sqlglot import exp

from accord.sql.expressions import aggregates, fails, holds, is_decomposable

LOW_CARDINALITY = 256        # distinct values in the sample at or below which a column may be grouped on
MAX_GROUPS = 1_000           # groups per period (product of grouped columns' values) the grouped plan stays within
SAMPLE_ROWS = 20_000       # enough to tell a column of a few hundred values from a wide one; 100k cost 0.05 s more


@dataclass(frozen=True)
class MetricScan:
    """What one simple metric contributes to its source's scan."""

    name: str
    measure: exp.Expression
    includes: tuple[exp.Expression, ...]
    excludes: tuple[exp.Expression, ...]
    time_index: int                      # which of the scan's time columns dates this metric


@dataclass
class ScanPlan:
    strategy: str
    query: exp.Select
    metrics: list[MetricScan]
    times: int
    grouped_columns: tuple[str, ...] = ()
    boolean_clauses: int = 0             # clauses evaluated once per row rather than on the groups
    notes: dict = field(default_factory=dict)
    rows: exp.Select | None = None       # the rows the query scans, each with its periods
    bounds: frozenset[int] = frozenset()  # metrics whose `__n` only bounds their row count (see grouped_plan)
    guards: tuple[str, ...] = ()         # columns whose values must all be finite for the sums to be exact

    def value_column(self, i: int) -> str:
        return f"__m{i}"

    def count_column(self, i: int) -> str:
        return f"__n{i}"


def unqualify(tree: exp.Expression) -> exp.Expression:
    def strip(node):
        if isinstance(node, exp.Column) and node.table:
            return exp.column(node.name, quoted=node.this.quoted)
        return node
    return tree.transform(strip)


def _all(parts: list[exp.Expression]) -> exp.Expression | None:
    out = None
    for p in parts:
        out = p if out is None else exp.And(this=out, expression=p)
    return out


def condition(includes, excludes) -> exp.Expression | None:
    """includes all TRUE and no exclude TRUE; None when there is nothing to check."""
    return _all([holds(c) for c in includes] + [fails(c) for c in excludes])


def _filtered(agg: exp.Expression, cond: exp.Expression | None) -> exp.Expression:
    if cond is None:
        return agg
    return exp.Filter(this=agg, expression=exp.Where(this=cond.copy()))


def _subquery(q: exp.Select, alias: str) -> exp.Subquery:
    return exp.Subquery(this=q, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def rows_query(rel: exp.Expression, time_exprs: list[exp.Expression],
               period_of: Callable[[int, exp.Expression], exp.Expression], today: dt.date) -> exp.Select:
    """Every row up to today with its local time per time column (`__t{i}`, read once per row) and that
    time's period start (`__p{i}` = `period_of(i, __t{i})`); rows with NULL time stay (period NULL)."""
    timed = exp.select("*").from_(rel)
    for i, t in enumerate(time_exprs):
        timed = timed.select(exp.alias_(t, f"__t{i}"), copy=False)
    q = exp.select("*").from_(_subquery(timed, "__timed"))
    times = [exp.column(f"__t{i}") for i in range(len(time_exprs))]
    for i, t in enumerate(times):
        q = q.select(exp.alias_(period_of(i, t.copy()), f"__p{i}"), copy=False)
    after = day_after(today)
    if after is None:           # the last day there is: every time is up to it
        return q
    cutoff_date = exp.Cast(this=exp.Literal.string(after.isoformat()), to=exp.DataType.build("DATE"))
    keep = None
    for t in times:
        cond = exp.Or(this=exp.Is(this=t.copy(), expression=exp.null()),
                      expression=exp.LT(this=t.copy(), expression=cutoff_date.copy()))
        keep = cond if keep is None else exp.Or(this=keep, expression=cond)
    return q.where(keep, copy=False) if keep is not None else q


def day_after(day: dt.date) -> dt.date | None:
    """The next day, None after the last date there is."""
    return day + dt.timedelta(days=1) if day < dt.date.max else None


def _last_times(q: exp.Select, times: int, source: Callable[[int], exp.Expression]) -> exp.Select:
    """`__l{i}`: each period's latest time under time column i (a TIMESTAMP), for freshness."""
    for i in range(times):
        latest = exp.Cast(this=exp.Max(this=source(i)), to=exp.DataType.build("TIMESTAMP"))
        q = q.select(exp.alias_(latest, f"__l{i}"), copy=False)
    return q


def _group_by(q: exp.Select, times: int) -> exp.Select:
    periods = [exp.column(f"__p{i}") for i in range(times)]
    if times == 1:
        return q.group_by(*periods, copy=False)
    sets = exp.GroupingSets(expressions=[exp.Tuple(expressions=[p.copy()]) for p in periods])
    q = q.group_by(sets, copy=False)
    for i, p in enumerate(periods):
        q = q.select(exp.alias_(exp.Anonymous(this="grouping", expressions=[p.copy()]), f"__g{i}"), copy=False)
    return q


def _only_where(agg: exp.AggFunc, where: exp.Expression | None, zero_for_none: bool = False,
                multiply: bool = False) -> exp.Expression:
    """`agg` over the rows where `where` holds, as `agg(CASE WHEN where THEN x END)` or `count_if(where)`.

    The same values as `agg FILTER (WHERE where)`, and cheaper in DuckDB's grouped aggregation.
    With `zero_for_none` a sum adds 0 for the other rows (`ELSE 0`, cheaper still): it is then 0 instead of
    NULL where no row holds, which only a caller that reads both the same way may ask for. With `multiply`
    too, the sum is `sum(x * CAST(where AS INTEGER))`, a fifth cheaper again in DuckDB than the CASE and of
    the same type; it differs only where a row that fails has an x of ±inf or NaN (x * 0 is NaN there),
    which the caller must rule out (`ScanPlan.guards`).
    """
    if where is None:
        return agg
    if isinstance(agg, exp.Count) and (agg.this is None or isinstance(agg.this, exp.Star)):
        return exp.CountIf(this=where.copy())
    if zero_for_none and isinstance(agg, exp.Sum):
        if multiply:
            flag = exp.Cast(this=exp.Paren(this=where.copy()), to=exp.DataType.build("INTEGER"))
            return exp.Sum(this=exp.Mul(this=exp.Paren(this=agg.this), expression=flag))
        return exp.Sum(this=exp.Case(ifs=[exp.If(this=where.copy(), true=agg.this)], default=exp.Literal.number(0)))
    return agg.__class__(this=exp.Case(ifs=[exp.If(this=where.copy(), true=agg.this)]))


class _RowFlags:
    """Clauses evaluated once per row as boolean columns `__c0, __c1, …`, however many metrics read them."""

    def __init__(self):
        self._flags: dict[str, tuple[str, exp.Expression]] = {}

    def __len__(self) -> int:
        return len(self._flags)

    def ref(self, clause: exp.Expression) -> exp.Column:
        key = clause.sql("duckdb")
        if key not in self._flags:
            self._flags[key] = (f"__c{len(self._flags)}", holds(clause))
        return exp.column(self._flags[key][0])

    def condition(self, includes, excludes) -> exp.Expression | None:
        return _all([self.ref(c) for c in includes] + [exp.Not(this=self.ref(c)) for c in excludes])

    def rows(self, rows: exp.Select) -> exp.Expression:
        """The rows with one column per flag (the rows themselves when there is none)."""
        if not self._flags:
            return _subquery(rows, "__rows")
        q = exp.select("*").from_(_subquery(rows, "__rows"), copy=False)
        q = q.select(*[exp.alias_(e, name, copy=False) for name, e in self._flags.values()], copy=False)
        return _subquery(q, "__flagged")


def filter_plan(rows: exp.Select, metrics: list[MetricScan], times: int) -> ScanPlan:
    flags = _RowFlags()
    q = exp.select(*[exp.column(f"__p{i}") for i in range(times)])
    for i, m in enumerate(metrics):
        cond = flags.condition(m.includes, m.excludes)
        value = m.measure.copy().transform(
            lambda n: _filtered(n, cond) if isinstance(n, exp.AggFunc) else n, copy=False)
        count = _filtered(exp.Count(this=exp.Star()), cond)
        q = q.select(exp.alias_(value, f"__m{i}", copy=False), exp.alias_(count, f"__n{i}", copy=False), copy=False)
    q = _last_times(q, times, lambda t: exp.column(f"__t{t}"))
    q = q.from_(flags.rows(rows), copy=False)
    return ScanPlan("filter", _group_by(q, times), metrics, times, boolean_clauses=len(flags))


def grouped_plan(rows: exp.Select, metrics: list[MetricScan], times: int,
                 grouped_columns: tuple[str, ...], multiply: bool = True) -> ScanPlan:
    """Group once by period and `grouped_columns`; clauses over other columns filter the partial aggregates.

    A metric's clauses split in two: those reading only grouped columns are evaluated on the groups (outer
    query); the others are evaluated once per row (see `_RowFlags`) and restrict the partial aggregates
    the metric reads (`_only_where`).
    Partials are shared between metrics with the same aggregate and the same per-row condition.

    Each metric's row count `__n` only tells whether a period has rows at all (its first period) and,
    exactly, how many rows have no time. Counting a metric's rows under its per-row condition would cost
    one more partial per row, so for a single-aggregate measure `__n` counts the rows that pass its clauses
    on the groups instead: an upper bound (the metric is in `bounds`). Its value then often proves rows
    (`shows_rows`), and `presence_query` settles the rest. With several time columns every count is exact.

    A plain sum under a per-row condition multiplies by the condition (`_only_where`, `multiply`). That is
    exact unless a row holds ±inf or NaN, so for each such x the query also sums x over every row: a
    finite total in every period (`guards`) proves every x finite, and the caller reruns the plan with
    `multiply=False` otherwise.
    """
    low = {c.lower() for c in grouped_columns}
    flags = _RowFlags()
    bounds: set[int] = set()
    partials: dict[str, tuple[str, exp.Expression]] = {}
    guarded: dict[str, exp.Column] = {}

    def on_groups(clause: exp.Expression) -> bool:
        return all(c.name.lower() in low for c in clause.find_all(exp.Column))

    def partial(agg: exp.Expression, where: exp.Expression | None, zero_for_none: bool = False) -> exp.Column:
        multiplied = multiply and zero_for_none and where is not None and isinstance(agg, exp.Sum)
        inner = _only_where(agg, where, zero_for_none, multiplied)
        key = inner.sql("duckdb")
        if key not in partials:
            partials[key] = (f"__a{len(partials)}", inner)
        if multiplied:
            whole = agg.this.sql("duckdb")
            if whole not in guarded:
                guarded[whole] = partial(exp.Sum(this=agg.this.copy()), None)
        return exp.column(partials[key][0])

    def outer(agg: exp.AggFunc, where, cond, zero_for_none: bool) -> exp.Expression:
        if isinstance(agg, exp.Avg):   # the total is read only where the count is not 0
            total = _filtered(exp.Sum(this=partial(exp.Sum(this=agg.this.copy()), where, True)), cond)
            n = _filtered(exp.Sum(this=partial(exp.Count(this=agg.this.copy()), where)), cond)
            return exp.Div(this=total, expression=exp.Nullif(this=n, expression=exp.Literal.number(0)))
        combine = {exp.Sum: exp.Sum, exp.Count: exp.Sum, exp.Min: exp.Min, exp.Max: exp.Max}[type(agg)]
        return _filtered(combine(this=partial(agg.copy(), where, zero_for_none)), cond)

    outer_q = exp.select(*[exp.column(f"__p{i}") for i in range(times)])
    for i, m in enumerate(metrics):
        where = flags.condition([c for c in m.includes if not on_groups(c)],
                                [c for c in m.excludes if not on_groups(c)])
        cond = condition([c for c in m.includes if on_groups(c)], [c for c in m.excludes if on_groups(c)])
        # a plain sum reads NULL as 0 (`additive_zero`); inside a larger measure NULL must stay NULL
        zero_for_none = additive_zero(m.measure)
        value = m.measure.copy().transform(
            lambda n: outer(n, where, cond, zero_for_none) if isinstance(n, exp.AggFunc) else n, copy=False)
        bound = where is not None and times == 1 and _proves_rows(m.measure)
        if bound:
            bounds.add(i)
        count = _filtered(exp.Sum(this=partial(exp.Count(this=exp.Star()), None if bound else where)), cond)
        outer_q = outer_q.select(exp.alias_(value, f"__m{i}", copy=False), exp.alias_(count, f"__n{i}", copy=False),
                                 copy=False)

    latest = [partial(exp.Max(this=exp.column(f"__t{t}")), None) for t in range(times)]
    outer_q = _last_times(outer_q, times, lambda t: latest[t].copy())
    guards = [f"__s{j}" for j in range(len(guarded))]
    for name, column in zip(guards, guarded.values()):
        outer_q = outer_q.select(exp.alias_(exp.Sum(this=column.copy()), name, copy=False), copy=False)
    keys = [exp.column(f"__p{i}") for i in range(times)] + [exp.column(c, quoted=True) for c in grouped_columns]
    inner = exp.select(*keys).from_(flags.rows(rows), copy=False)
    inner = inner.select(*[exp.alias_(agg, name, copy=False) for name, agg in partials.values()], copy=False)
    inner = inner.group_by(*[k.copy() for k in keys], copy=False)
    outer_q = outer_q.from_(_subquery(inner, "__groups"), copy=False)
    return ScanPlan("grouped", _group_by(outer_q, times), metrics, times, grouped_columns=grouped_columns,
                    boolean_clauses=len(flags), rows=rows, bounds=frozenset(bounds), guards=tuple(guards))


_PROVING = (exp.Sum, exp.Count, exp.Min, exp.Max, exp.Avg)


def _proves_rows(measure: exp.Expression) -> bool:
    """A measure that is one aggregate whose value can prove rows (`shows_rows`); count(*) is a count already."""
    if not isinstance(measure, _PROVING) or len(aggregates(measure)) != 1:
        return False
    return not (isinstance(measure, exp.Count) and (measure.this is None or isinstance(measure.this, exp.Star)))


def shows_rows(measure: exp.Expression, value) -> bool:
    """Whether a period's value of a single-aggregate measure proves that some row passed its clauses.

    No row gives a sum or count of 0 or NULL and a min, max or avg of NULL; any other value needs a row.
    """
    if value is None:
        return False
    if isinstance(measure, (exp.Sum, exp.Count)):
        return value != 0
    return True


def presence_query(rows: exp.Select, metrics: list[MetricScan], before: dict[int, dt.date | None],
                   nulls: set[int]) -> exp.Select:
    """For metrics `before` and `nulls` (indexes into `metrics`): the first period with a passing row before
    a date (`__f{i}`; None: any) and the exact count of passing rows with no time (`__z{i}`).

    One scan without grouping, only over the rows with no time or before the latest of those dates.
    """
    flags = _RowFlags()
    period = exp.column("__p0")
    q = exp.select()
    for i in sorted(set(before) | nulls):
        m = metrics[i]
        cond = flags.condition(m.includes, m.excludes)
        if i in before:
            first = _all([c for c in (cond, _before(period, before[i])) if c is not None])
            q = q.select(exp.alias_(_filtered(exp.Min(this=period.copy()), first), f"__f{i}"), copy=False)
        if i in nulls:
            none = _all([c for c in (cond, exp.Is(this=period.copy(), expression=exp.null())) if c is not None])
            q = q.select(exp.alias_(_filtered(exp.Count(this=exp.Star()), none), f"__z{i}"), copy=False)
    q = q.from_(flags.rows(rows), copy=False)
    keep = exp.Is(this=period.copy(), expression=exp.null())
    if before:
        if any(d is None for d in before.values()):
            return q
        keep = exp.Or(this=keep, expression=_before(period, max(before.values())))
    return q.where(keep, copy=False)


def _before(period: exp.Expression, day: dt.date | None) -> exp.Expression | None:
    if day is None:
        return None
    return exp.LT(this=period.copy(), expression=exp.Cast(this=exp.Literal.string(day.isoformat()),
                                                            to=exp.DataType.build("DATE")))


def clause_columns(metrics: list[MetricScan]) -> list[str]:
    seen: dict[str, str] = {}
    for m in metrics:
        for c in m.includes + m.excludes:
            for col in c.find_all(exp.Column):
                seen.setdefault(col.name.lower(), col.name)
    return sorted(seen.values())


def sample_query(head: exp.Expression, columns: list[str]) -> exp.Select:
    """Distinct counts of the clause columns over a sample of rows (the engine's `sample`, SAMPLE_ROWS of
    them): cheap, and enough to choose a plan."""
    q = exp.select(exp.alias_(exp.Count(this=exp.Star()), "__rows"))
    for i, c in enumerate(columns):
        q = q.select(exp.alias_(exp.Anonymous(this="approx_count_distinct",
                                              expressions=[exp.column(c, quoted=True)]), f"__d{i}"), copy=False)
    return q.from_(head, copy=False)


def choose(metrics: list[MetricScan], distinct: dict[str, int]) -> tuple[str, tuple[str, ...]]:
    """The strategy and the columns to group on, from measured distinct counts.

    Grouping on a column lets every clause over it be evaluated once per group instead of once per row,
    but multiplies the groups, and a grouped aggregation slows down as its groups grow. Measured on DuckDB
    (`python -m bench compute`: 20M rows, 30 metrics, weekly), grouping on all six low-cardinality clause
    columns (20k groups a week) costs more than twice the CPU of grouping on the four that most clauses
    read (1k groups a week), and grouping on two costs a third more. So columns are taken greedily, those
    read by the most clauses for the fewest values first, while the groups in one period stay within
    MAX_GROUPS.
    """
    if not all(is_decomposable(m.measure) for m in metrics):
        return "filter", ()
    values = {c.lower(): n + 1 for c, n in distinct.items() if n <= LOW_CARDINALITY}   # + 1: NULL
    names = {c.lower(): c for c in distinct}
    uses = dict.fromkeys(values, 0)
    for m in metrics:
        for clause in m.includes + m.excludes:
            cols = {c.name.lower() for c in clause.find_all(exp.Column)}
            if cols and cols <= values.keys():
                for c in cols:
                    uses[c] += 1
    grouped: list[str] = []
    groups = 1
    for col in sorted((c for c in values if uses[c]), key=lambda c: (-uses[c] / math.log2(values[c] + 1), c)):
        if groups * values[col] <= MAX_GROUPS:
            grouped.append(names[col])
            groups *= values[col]
    return "grouped", tuple(sorted(grouped))


def additive_zero(measure: exp.Expression) -> bool:
    """Empty periods are 0 for a plain count or sum, null otherwise."""
    return isinstance(measure, (exp.Sum, exp.Count)) and len(aggregates(measure)) == 1
