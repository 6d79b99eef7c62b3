"""One query per source for all its metrics, built as a sqlglot AST.

Two strategies, chosen per source by measuring the data (a sample of the clause columns):

* `grouped` — group the rows once by period and the low-cardinality columns the clauses read
  (clauses over high-cardinality columns become boolean group keys), keep partial aggregates,
  then evaluate every metric's clauses on that small result. Needs decomposable measures.
* `filter` — one `agg FILTER (WHERE clauses)` per metric in a single scan: works for any measure
  (count distinct, median, ...).

Clauses hold only when TRUE: an include that is NULL drops the row, an exclude that is NULL keeps it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp

from accord.sql.expressions import aggregates, is_decomposable

LOW_CARDINALITY = 256        # distinct values in the sample at or below which a column is grouped on
MAX_GROUPS = 200_000         # estimated groups per period above which columns become clause booleans
SAMPLE_ROWS = 100_000


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
    boolean_clauses: int = 0
    notes: dict = field(default_factory=dict)

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


def _true(clause: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=exp.Paren(this=clause), expressions=[exp.false()])


def condition(includes, excludes) -> exp.Expression | None:
    """includes all TRUE and no exclude TRUE; None when there is nothing to check."""
    parts = [_true(c) for c in includes] + [exp.Not(this=_true(c)) for c in excludes]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = exp.And(this=out, expression=p)
    return out


def _filtered(agg: exp.Expression, cond: exp.Expression | None) -> exp.Expression:
    if cond is None:
        return agg
    return exp.Filter(this=agg, expression=exp.Where(this=cond.copy()))


def rows_query(rel: exp.Expression, period_exprs: list[exp.Expression], time_exprs: list[exp.Expression],
               today: dt.date) -> exp.Select:
    """Every row up to today with its period start per time column; rows with NULL time stay (period NULL)."""
    cutoff = exp.Literal.string((today + dt.timedelta(days=1)).isoformat())
    cutoff_date = exp.Cast(this=cutoff, to=exp.DataType.build("DATE"))
    q = exp.select("*").from_(rel)
    for i, p in enumerate(period_exprs):
        q = q.select(exp.alias_(p, f"__p{i}"))
    keep = None
    for t in time_exprs:
        cond = exp.Or(this=exp.Is(this=t.copy(), expression=exp.null()),
                      expression=exp.LT(this=t.copy(), expression=cutoff_date.copy()))
        keep = cond if keep is None else exp.Or(this=keep, expression=cond)
    return q.where(keep) if keep is not None else q


def _group_by(q: exp.Select, times: int) -> exp.Select:
    periods = [exp.column(f"__p{i}") for i in range(times)]
    if times == 1:
        return q.group_by(*periods)
    sets = exp.GroupingSets(expressions=[exp.Tuple(expressions=[p.copy()]) for p in periods])
    q = q.group_by(sets)
    for i, p in enumerate(periods):
        q = q.select(exp.alias_(exp.Anonymous(this="grouping", expressions=[p.copy()]), f"__g{i}"))
    return q


def filter_plan(rows: exp.Select, metrics: list[MetricScan], times: int) -> ScanPlan:
    q = exp.select(*[exp.column(f"__p{i}") for i in range(times)]).from_(
        exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier("__rows"))))
    for i, m in enumerate(metrics):
        cond = condition(m.includes, m.excludes)
        value = m.measure.copy().transform(
            lambda n: _filtered(n, cond) if isinstance(n, exp.AggFunc) else n, copy=False)
        count = _filtered(exp.Count(this=exp.Star()), cond)
        q = q.select(exp.alias_(value, f"__m{i}"), exp.alias_(count, f"__n{i}"))
    return ScanPlan("filter", _group_by(q, times), metrics, times)


def grouped_plan(rows: exp.Select, metrics: list[MetricScan], times: int,
                 grouped_columns: tuple[str, ...]) -> ScanPlan:
    """Group once by period and low-cardinality clause columns; clauses on other columns become booleans."""
    low = {c.lower() for c in grouped_columns}
    booleans: dict[str, tuple[int, exp.Expression]] = {}
    partials: dict[str, tuple[str, exp.Expression]] = {}

    def clause_ref(clause: exp.Expression) -> exp.Expression:
        if all(c.name.lower() in low for c in clause.find_all(exp.Column)):
            return _true(clause)
        key = clause.sql("duckdb")
        if key not in booleans:
            booleans[key] = (len(booleans), _true(clause))
        return exp.column(f"__b{booleans[key][0]}")

    def partial(agg: exp.Expression) -> exp.Column:
        key = agg.sql("duckdb")
        if key not in partials:
            partials[key] = (f"__a{len(partials)}", agg.copy())
        return exp.column(partials[key][0])

    def outer(agg: exp.AggFunc, cond) -> exp.Expression:
        if isinstance(agg, exp.Avg):
            total = _filtered(exp.Sum(this=partial(exp.Sum(this=agg.this.copy()))), cond)
            n = _filtered(exp.Sum(this=partial(exp.Count(this=agg.this.copy()))), cond)
            return exp.Div(this=total, expression=exp.Nullif(this=n, expression=exp.Literal.number(0)))
        combine = {exp.Sum: exp.Sum, exp.Count: exp.Sum, exp.Min: exp.Min, exp.Max: exp.Max}[type(agg)]
        return _filtered(combine(this=partial(agg)), cond)

    outer_q = exp.select(*[exp.column(f"__p{i}") for i in range(times)])
    for i, m in enumerate(metrics):
        parts = [clause_ref(c) for c in m.includes] + [exp.Not(this=clause_ref(c)) for c in m.excludes]
        cond = None
        for p in parts:
            cond = p if cond is None else exp.And(this=cond, expression=p)
        value = m.measure.copy().transform(
            lambda n: outer(n, cond) if isinstance(n, exp.AggFunc) else n, copy=True)
        count = _filtered(exp.Sum(this=exp.column("__n")), cond)
        outer_q = outer_q.select(exp.alias_(value, f"__m{i}"), exp.alias_(count, f"__n{i}"))

    keys = [exp.column(f"__p{i}") for i in range(times)]
    keys += [exp.column(c, quoted=True) for c in grouped_columns]
    keys += [exp.alias_(expr, f"__b{i}") for i, expr in booleans.values()]
    inner = exp.select(*keys).from_(exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier("__rows"))))
    for name, agg in partials.values():
        inner = inner.select(exp.alias_(agg, name))
    inner = inner.select(exp.alias_(exp.Count(this=exp.Star()), "__n"))
    inner = inner.group_by(*[exp.column(f"__p{i}") for i in range(times)],
                           *[exp.column(c, quoted=True) for c in grouped_columns],
                           *[exp.column(f"__b{i}") for i, _ in booleans.values()])
    outer_q = outer_q.from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("__groups"))))
    return ScanPlan("grouped", _group_by(outer_q, times), metrics, times,
                    grouped_columns=grouped_columns, boolean_clauses=len(booleans))


def clause_columns(metrics: list[MetricScan]) -> list[str]:
    seen: dict[str, str] = {}
    for m in metrics:
        for c in m.includes + m.excludes:
            for col in c.find_all(exp.Column):
                seen.setdefault(col.name.lower(), col.name)
    return sorted(seen.values())


def sample_query(rel: exp.Expression, columns: list[str]) -> exp.Select:
    """Distinct counts of the clause columns over the first rows: cheap, and enough to choose a plan."""
    head = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(rel).limit(SAMPLE_ROWS)
    q = exp.select(exp.alias_(exp.Count(this=exp.Star()), "__rows"))
    for i, c in enumerate(columns):
        q = q.select(exp.alias_(exp.Anonymous(this="approx_count_distinct",
                                              expressions=[exp.column(c, quoted=True)]), f"__d{i}"))
    return q.from_(exp.Subquery(this=head, alias=exp.TableAlias(this=exp.to_identifier("__head"))))


def choose(metrics: list[MetricScan], distinct: dict[str, int]) -> tuple[str, tuple[str, ...]]:
    """The strategy and the columns to group on, from measured distinct counts."""
    if not all(is_decomposable(m.measure) for m in metrics):
        return "filter", ()
    grouped: list[str] = []
    groups = 1
    for col, n in sorted(distinct.items(), key=lambda kv: (kv[1], kv[0])):
        if n <= LOW_CARDINALITY and groups * max(n, 1) <= MAX_GROUPS:
            grouped.append(col)
            groups *= max(n, 1)
    return "grouped", tuple(sorted(grouped))


def additive_zero(measure: exp.Expression) -> bool:
    """Empty periods are 0 for a plain count or sum, null otherwise."""
    return isinstance(measure, (exp.Sum, exp.Count)) and len(aggregates(measure)) == 1
