"""Computed values checked against a brute-force loop over the same rows or hand-written DuckDB SQL.

Nothing here compares accord with itself: every expected number is derived from the rows the test
wrote, by rules written out in this file (`reference`), or by a query written by hand.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import statistics
import tempfile
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from factory import ref_label

import accord.compute.plan as plan_module
import accord.compute.run as run_module
from accord.compute.run import compute
from accord.compute.connect import project_sandbox
from accord.engine import open_engine
from accord.errors import UserError

from conftest import write_project

UTC = dt.timezone.utc
TODAY = dt.date(2026, 7, 20)


# ---------------------------------------------------------------- the reference: rules written out

def local_day(value, tz: str) -> dt.date | None:
    """The day a time value falls on in `tz`: aware values are converted, naive ones are wall clock."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(tz))
        return value.date()
    return value


def holds(clause, row) -> bool:
    """A clause holds only when it is TRUE (None is SQL's NULL)."""
    return clause(row) is True


def keep(row, includes=(), excludes=()) -> bool:
    return all(holds(c, row) for c in includes) and not any(holds(c, row) for c in excludes)


def non_null(rows, col):
    return [r[col] for r in rows if r[col] is not None]


def measure(text: str):
    """(aggregate over rows, value of an empty period) for `agg([distinct ]column)`, from SQL's rules.

    Also `sum(a) - sum(b)`: SQL's sum of no values is NULL, and NULL minus anything is NULL.
    """
    both = re.fullmatch(r"sum\((\w+)\) - sum\((\w+)\)", text)
    if both:
        a, b = both.groups()
        return (lambda rs: sum(non_null(rs, a)) - sum(non_null(rs, b))
                if non_null(rs, a) and non_null(rs, b) else None), None
    m = re.fullmatch(r"(\w+)\((distinct )?(\*|\w+)\)", text)
    agg, distinct, col = m.groups()
    if col == "*":
        return len, 0.0
    if agg == "count":
        return ((lambda rs: len(set(non_null(rs, col)))) if distinct else (lambda rs: len(non_null(rs, col)))), 0.0
    if agg == "sum":
        return (lambda rs: sum(non_null(rs, col))), 0.0          # a sum of nothing is 0
    fn = {"avg": statistics.fmean, "min": min, "max": max, "median": statistics.median}[agg]
    return (lambda rs: fn(non_null(rs, col)) if non_null(rs, col) else None), None


MEASURES = ("sum(amount)", "count(*)", "count(amount)", "count(distinct customer)", "avg(amount)",
            "min(amount)", "max(amount)", "median(amount)")


@lru_cache(maxsize=None)
def periods(first: dt.date, today: dt.date, grain: str, fiscal: int) -> list[tuple[str, dt.date, dt.date]]:
    """(label, first day, last day) of every period from the one holding `first` to the one holding `today`."""
    starts: dict[str, dt.date] = {}
    ends: dict[str, dt.date] = {}
    for i in range(-400, (today - first).days + 400):
        d = first + dt.timedelta(days=i)
        starts.setdefault(ref_label(d, grain, fiscal), d)
        ends[ref_label(d, grain, fiscal)] = d
    labels = dict.fromkeys(ref_label(first + dt.timedelta(days=i), grain, fiscal) for i in range((today - first).days + 1))
    return [(lab, starts[lab], ends[lab]) for lab in labels]


class Ref(list):
    """A reference series that knows where its source's data stops: periods from `stale_from` on have no data."""

    stale_from: dt.date | None = None


def year_after(day: dt.date) -> dt.date:
    return day + (dt.date(day.year + 1, 1, 1) - dt.date(day.year, 1, 1)) if (day.month, day.day) < (3, 1) \
        else day + (dt.date(day.year + 2, 1, 1) - dt.date(day.year + 1, 1, 1))


def reference(rows, aggregate, time="t", grain="month", today=TODAY, tz="UTC", fiscal=1, includes=(),
              excludes=()):
    """[(label, start, value, complete)] for every period from the first with data to today's.

    The source's last data is its latest time up to today over every row (clauses aside): the periods after
    the one holding it have no data (None), and those starting more than a year after it are left out.
    """
    fn, empty = measure(aggregate)
    days = [d for r in rows if (d := local_day(r[time], tz)) is not None and d <= today]
    last = max(days) if days else None
    kept = []
    for r in rows:
        day = local_day(r[time], tz)
        if day is not None and day <= today and keep(r, includes, excludes):
            kept.append((day, r))
    out = Ref()
    if not kept:
        return out
    first = min(d for d, _ in kept)
    by_period: dict[str, list] = {}
    for d, r in kept:
        by_period.setdefault(ref_label(d, grain, fiscal), []).append(r)
    for lab, start, end in periods(first, today, grain, fiscal):
        if start > year_after(last):
            break
        stale = start > last
        if stale and out.stale_from is None:
            out.stale_from = start
        value = None if stale else fn(by_period[lab]) if lab in by_period else empty
        out.append((lab, start, None if value is None else float(value), end < today))
    return out


def null_times(rows, time="t", includes=(), excludes=()) -> int:
    return sum(1 for r in rows if r[time] is None and keep(r, includes, excludes))


def combine(a, b, fn):
    """Two reference series joined by label; a period missing from one side counts as that side's empty value."""
    left, right = {x[0]: x for x in a}, {x[0]: x for x in b}
    out = Ref()
    stale = [s for s in (getattr(a, "stale_from", None), getattr(b, "stale_from", None)) if s is not None]
    out.stale_from = min(stale) if stale else None
    for lab in sorted(set(left) | set(right), key=lambda k: (left.get(k) or right.get(k))[1]):
        x, y = left.get(lab), right.get(lab)
        start, complete = (x or y)[1], (x or y)[3]
        if out.stale_from is not None and start >= out.stale_from:     # stale when any input is
            out.append((lab, start, None, complete))
            continue
        out.append((lab, start, fn(x[2] if x else None, y[2] if y else None), complete))
    return out


# ---------------------------------------------------------------- helpers

def run(project, tz=None, **kw):
    kw.setdefault("today", TODAY)
    path = project.config.engine.path
    engine = open_engine("duckdb", str(project.root / path) if path else None,
                         tz or project.settings.timezone, project_sandbox(project))
    try:
        return compute(project, engine, **kw)
    finally:
        engine.close()


def got(result, metric):
    return [(r.period, r.start, r.value, r.complete) for r in result.series(metric)]


def same(actual, expected):
    """Series equal: labels, starts and completeness exactly, values to float precision."""
    assert [a[0] for a in actual] == [e[0] for e in expected]
    for a, e in zip(actual, expected):
        assert a[1] == e[1], a
        assert a[3] == e[3], a
        if e[2] is None:
            assert a[2] is None, a
        else:
            assert a[2] is not None and a[2] == pytest.approx(e[2], rel=1e-9, abs=1e-9), (a, e)


def table(columns: dict[str, pa.DataType], rows: list[tuple]) -> pa.Table:
    return pa.table({c: pa.array([r[i] for r in rows], type=t) for i, (c, t) in enumerate(columns.items())})


def dicts(columns, rows):
    return [dict(zip(columns, r)) for r in rows]


def source(name="orders", path="data/orders.parquet", time="t", **kw):
    return {"name": name, "path": path, "time": time, **kw}


ORDER_COLUMNS = {"id": pa.int64(), "t": pa.date32(), "amount": pa.float64(), "customer": pa.string(),
                 "stage": pa.string(), "closed": pa.bool_(), "region": pa.string()}
D = dt.date
ORDER_ROWS = [
    (1, D(2026, 1, 5), 100.0, "acme", "won", True, "eu"),
    (2, D(2026, 1, 31), 250.5, "acme", "open", False, "us"),
    (3, D(2026, 1, 31), None, "beta", "open", None, "eu"),
    (4, D(2026, 2, 1), 40.0, "beta", "won", True, None),
    (5, D(2026, 2, 14), 10.0, None, None, False, "us"),
    (6, D(2026, 2, 28), 7.25, "gamma", "lost", True, "eu"),
    (7, D(2026, 2, 28), 7.25, "gamma", "won", False, "eu"),
    (8, D(2026, 5, 1), 300.0, "acme", "open", None, "us"),         # March and April are empty
    (9, D(2026, 5, 31), None, None, "won", True, "us"),
    (10, None, 999.0, "acme", "won", True, "eu"),                   # no time: belongs to no period
    (11, None, 5.0, "beta", "open", None, "us"),
    (12, D(2026, 7, 20), 11.0, "delta", "open", False, "eu"),       # today: counted
    (13, D(2026, 7, 21), 1000.0, "delta", "won", True, "eu"),       # tomorrow: ignored
    (14, D(2026, 12, 1), 5000.0, "omega", "won", True, "eu"),       # far future: ignored
]
ORDERS = dicts(ORDER_COLUMNS, ORDER_ROWS)


def orders_data(suffix="parquet"):
    return {f"data/orders.{suffix}": table(ORDER_COLUMNS, ORDER_ROWS)}


# Clauses as SQL for accord and as three-valued Python for the reference.
CLAUSES = {
    "stage = 'won'": lambda r: None if r["stage"] is None else r["stage"] == "won",
    "closed": lambda r: r["closed"],
    "region in ('eu')": lambda r: None if r["region"] is None else r["region"] == "eu",
    "amount > 20": lambda r: None if r["amount"] is None else r["amount"] > 20,
    "customer <> 'acme'": lambda r: None if r["customer"] is None else r["customer"] != "acme",
}


def clauses(*sqls):
    return [{"name": f"c{i}", "sql": s} for i, s in enumerate(sqls)]


# ---------------------------------------------------------------- measures and clauses

@pytest.mark.parametrize("suffix", ["parquet", "csv", "json"])
def test_every_measure_matches_a_brute_force_loop(make_project, suffix):
    metrics = [{"name": f"m{i}", "source": "orders", "measure": m} for i, m in enumerate(MEASURES)]
    project = make_project([source(path=f"data/orders.{suffix}")], metrics, orders_data(suffix))
    result = run(project)
    for i, m in enumerate(MEASURES):
        same(got(result, f"m{i}"), reference(ORDERS, m))


def test_measures_match_hand_written_sql(make_project):
    project = make_project([source()], [
        {"name": "revenue", "source": "orders", "measure": "sum(amount)"},
        {"name": "buyers", "source": "orders", "measure": "count(distinct customer)"},
        {"name": "typical", "source": "orders", "measure": "median(amount)"},
    ], orders_data())
    result = run(project)
    con = duckdb.connect()
    check = {r[0]: r[1:] for r in con.sql(f"""
        SELECT strftime(t, '%Y-%m'), coalesce(sum(amount), 0), count(DISTINCT customer), median(amount)
        FROM read_parquet('{project.root}/data/orders.parquet')
        WHERE t <= DATE '{TODAY}' GROUP BY 1""").fetchall()}
    for i, name in enumerate(("revenue", "buyers", "typical")):
        rows = {r.period: r.value for r in result.series(name)}
        assert set(rows) == {"2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"}
        for period, value in rows.items():
            if period in check:
                assert value == pytest.approx(check[period][i])
            else:  # no rows: 0 for count and sum, null otherwise
                assert value == (None if name == "typical" else 0)


@pytest.mark.parametrize("includes, excludes", [
    ((), ()),
    (("stage = 'won'",), ()),
    ((), ("closed",)),
    (("stage = 'won'", "region in ('eu')"), ("closed",)),
    (("amount > 20",), ("customer <> 'acme'", "closed")),
    (("closed",), ("region in ('eu')",)),
])
def test_clauses_hold_only_when_true(make_project, includes, excludes):
    """include NULL drops the row; exclude NULL keeps it."""
    metrics = [{"name": m.split("(")[0] + str(i), "source": "orders", "measure": m,
                "include": clauses(*includes) or None, "exclude": clauses(*excludes) or None}
               for i, m in enumerate(("sum(amount)", "count(*)", "avg(amount)", "count(distinct customer)"))]
    metrics = [{k: v for k, v in m.items() if v is not None} for m in metrics]
    project = make_project([source()], metrics, orders_data())
    result = run(project)
    inc = [CLAUSES[c] for c in includes]
    exc = [CLAUSES[c] for c in excludes]
    for m in metrics:
        same(got(result, m["name"]), reference(ORDERS, m["measure"], includes=inc, excludes=exc))
        n = null_times(ORDERS, includes=inc, excludes=exc)
        assert result.dropped.get(m["name"]) == ({"null_time": n} if n else None)


def test_null_clause_semantics_against_hand_written_sql(make_project):
    project = make_project([source()], [
        {"name": "open_value", "source": "orders", "measure": "sum(amount)",
         "include": clauses("not closed"), "exclude": clauses("customer = 'acme'")},
    ], orders_data())
    result = run(project)
    con = duckdb.connect()
    check = dict(con.sql(f"""
        SELECT strftime(t, '%Y-%m'), coalesce(sum(amount), 0) FROM read_parquet('{project.root}/data/orders.parquet')
        WHERE (NOT closed) IS TRUE AND (customer = 'acme') IS NOT TRUE AND t <= DATE '{TODAY}'
        GROUP BY 1""").fetchall())
    values = {r.period: r.value for r in result.series("open_value")}
    assert set(check) <= set(values)
    assert values == {p: check.get(p, 0) for p in values}
    assert "2026-01" not in values          # row 3 has closed NULL: `not closed` is NULL, so it does not count
    assert values["2026-02"] == 10 + 7.25   # row 5 has customer NULL: the exclude is NULL, so it counts


def test_null_times_are_dropped_and_counted(make_project):
    project = make_project([source()], [
        {"name": "all_rows", "source": "orders", "measure": "count(*)"},
        {"name": "won_rows", "source": "orders", "measure": "count(*)", "include": clauses("stage = 'won'")},
        {"name": "open_rows", "source": "orders", "measure": "count(*)", "include": clauses("stage = 'open'")},
        {"name": "lost_rows", "source": "orders", "measure": "count(*)", "include": clauses("stage = 'lost'")},
    ], orders_data())
    result = run(project)
    assert result.dropped["all_rows"] == {"null_time": 2}
    assert result.dropped["won_rows"] == {"null_time": 1}
    assert result.dropped["open_rows"] == {"null_time": 1}
    assert "lost_rows" not in result.dropped
    assert sum(r.value for r in result.series("all_rows")) == len(
        [r for r in ORDERS if r["t"] is not None and r["t"] <= TODAY])


def test_empty_periods_are_zero_for_count_and_sum_and_null_otherwise(make_project):
    measures = list(MEASURES)
    project = make_project([source()], [{"name": f"m{i}", "source": "orders", "measure": m}
                                        for i, m in enumerate(measures)], orders_data())
    result = run(project)
    for i, m in enumerate(measures):
        values = {r.period: r.value for r in result.series(f"m{i}")}
        for empty in ("2026-03", "2026-04", "2026-06"):
            assert values[empty] == (0 if m.startswith(("sum", "count")) else None), (m, empty)


def test_a_period_whose_rows_all_fail_the_clauses_is_empty(make_project):
    project = make_project([source()], [
        {"name": "lost_value", "source": "orders", "measure": "sum(amount)", "include": clauses("stage = 'lost'")},
        {"name": "lost_avg", "source": "orders", "measure": "avg(amount)", "include": clauses("stage = 'lost'")},
    ], orders_data())
    result = run(project)
    assert [(r.period, r.value) for r in result.series("lost_value")] == [
        ("2026-02", 7.25), ("2026-03", 0), ("2026-04", 0), ("2026-05", 0), ("2026-06", 0), ("2026-07", 0)]
    assert [r.value for r in result.series("lost_avg")] == [7.25, None, None, None, None, None]


@pytest.mark.parametrize("strategy", ["filter", "grouped"])
def test_column_names_in_any_case_with_spaces_or_reserved_words(make_project, monkeypatch, strategy):
    import decimal
    columns = {"Created At": pa.timestamp("us"), "Deal Stage": pa.string(), "order": pa.int64(),
               "Amount": pa.decimal128(12, 2)}
    rows = [(dt.datetime(2026, 1, 2), "Won", 1, decimal.Decimal("10.25")),
            (dt.datetime(2026, 1, 3), "Lost", 2, decimal.Decimal("5.50")),
            (dt.datetime(2026, 2, 3), "Won", None, None),
            (dt.datetime(2026, 2, 9), None, 4, decimal.Decimal("1.10"))]
    force(monkeypatch, strategy)
    project = make_project([source("deals", "data/deals.parquet", "Created At")], [
        {"name": "won_amount", "source": "deals", "measure": "sum(amount)",
         "include": clauses('"Deal Stage" = \'Won\''), "exclude": clauses('"order" > 3')},
        {"name": "orders", "source": "deals", "measure": 'max("ORDER")', "exclude": clauses('"deal stage" = \'Lost\'')},
    ], {"data/deals.parquet": table(columns, rows)})
    result = run(project)
    assert result.plans["deals"].strategy == strategy
    assert [(r.period, r.value) for r in result.series("won_amount")][:2] == [("2026-01", 10.25), ("2026-02", 0)]
    assert [(r.period, r.value) for r in result.series("orders")][:2] == [("2026-01", 1), ("2026-02", 4)]


# ---------------------------------------------------------------- ratios and formulas

RATIO_COLUMNS = {"t": pa.timestamp("us"), "won": pa.float64(), "total": pa.float64(), "kind": pa.string()}
RATIO_ROWS = [
    (dt.datetime(2026, 1, 3, 9), 1.0, 1.0, "a"),       # per-row ratio 1.0
    (dt.datetime(2026, 1, 9, 9), 0.0, 9.0, "a"),       # per-row ratio 0.0: the mean of ratios would be 0.5
    (dt.datetime(2026, 2, 2, 9), 3.0, 4.0, "b"),
    (dt.datetime(2026, 2, 27, 9), None, 6.0, "a"),
    (dt.datetime(2026, 3, 15, 9), 2.0, 0.0, "a"),      # zero denominator in March
    (dt.datetime(2026, 5, 1, 9), 5.0, 10.0, "b"),
    (dt.datetime(2026, 6, 30, 23), 1.0, 3.0, "b"),
]
RATIOS = dicts(RATIO_COLUMNS, RATIO_ROWS)


def ratio_project(make_project, extra_metrics=()):
    return make_project([source("deals", "data/deals.parquet")], [
        {"name": "won", "source": "deals", "measure": "sum(won)"},
        {"name": "total", "source": "deals", "measure": "sum(total)"},
        {"name": "win_rate", "ratio": {"numerator": "won", "denominator": "total"}},
        *extra_metrics,
    ], {"data/deals.parquet": table(RATIO_COLUMNS, RATIO_ROWS)})


@pytest.mark.parametrize("grain", ["month", "quarter", "year"])
def test_ratio_divides_the_period_totals_never_averages_ratios(make_project, grain):
    result = run(ratio_project(make_project), grain=grain)
    won = reference(RATIOS, "sum(won)", grain=grain)
    total = reference(RATIOS, "sum(total)", grain=grain)
    expected = combine(won, total, lambda a, b: None if a is None or not b else a / b)
    same(got(result, "win_rate"), expected)
    if grain == "month":
        assert result.series("win_rate")[0].value == pytest.approx(0.1)   # (1 + 0) / (1 + 9), not 0.5
        assert result.series("win_rate")[2].value is None                  # March: zero denominator
        assert result.series("win_rate")[3].value is None                  # April: no rows, 0 / 0
    if grain == "quarter":
        assert result.series("win_rate")[0].value == pytest.approx((1 + 0 + 3 + 2) / (1 + 9 + 4 + 6 + 0))


def test_formulas_do_arithmetic_per_period_with_nulls_and_division_by_zero(make_project):
    project = ratio_project(make_project, [
        {"name": "lost", "formula": "total - won"},
        {"name": "scaled", "formula": "(won + total) * 2 - total / 4"},
        {"name": "per_total", "formula": "won / total"},
        {"name": "typical", "source": "deals", "measure": "avg(won)"},
        {"name": "typical_plus", "formula": "typical + 1"},
        {"name": "nested", "formula": "lost / win_rate"},
        {"name": "negated", "formula": "-won + 2.5 * (total - -1)"},
    ])
    result = run(project)
    won, total = reference(RATIOS, "sum(won)"), reference(RATIOS, "sum(total)")
    avg = reference(RATIOS, "avg(won)")
    same(got(result, "lost"), combine(total, won, lambda a, b: a - b))
    same(got(result, "scaled"), combine(won, total, lambda a, b: (a + b) * 2 - b / 4))
    same(got(result, "per_total"), combine(won, total, lambda a, b: None if a is None or not b else a / b))
    same(got(result, "typical_plus"), [(p, s, None if v is None else v + 1, c) for p, s, v, c in avg])
    rate = combine(won, total, lambda a, b: None if not b else a / b)
    lost = combine(total, won, lambda a, b: a - b)
    same(got(result, "nested"), combine(lost, rate, lambda a, b: None if a is None or not b else a / b))
    same(got(result, "negated"), combine(won, total, lambda a, b: -a + 2.5 * (b + 1)))
    values = {r.period: r.value for r in result.series("typical_plus")}
    assert values["2026-04"] is None   # avg of an empty period is null, and null propagates


def test_inputs_that_start_later_count_as_empty_before_their_first_period(make_project):
    """A count or sum with no rows yet is 0 in a formula or ratio, not null."""
    columns = {"t": pa.date32(), "kind": pa.string(), "amount": pa.float64()}
    rows = [(D(2026, 1, 10), "new", 100.0), (D(2026, 2, 10), "new", 50.0), (D(2026, 3, 3), "churn", 30.0),
            (D(2026, 3, 20), "new", 10.0), (D(2026, 4, 1), "churn", 5.0)]
    project = make_project([source("arr", "data/arr.parquet")], [
        {"name": "new_arr", "source": "arr", "measure": "sum(amount)", "include": clauses("kind = 'new'")},
        {"name": "churned_arr", "source": "arr", "measure": "sum(amount)", "include": clauses("kind = 'churn'")},
        {"name": "net_new_arr", "formula": "new_arr - churned_arr"},
        {"name": "churn_share", "ratio": {"numerator": "churned_arr", "denominator": "new_arr"}},
        {"name": "double_net", "formula": "net_new_arr * 2"},
    ], {"data/arr.parquet": table(columns, rows)})
    result = run(project, today=D(2026, 5, 15))
    data = dicts(columns, rows)
    new = reference(data, "sum(amount)", today=D(2026, 5, 15), includes=[lambda r: r["kind"] == "new"])
    churn = reference(data, "sum(amount)", today=D(2026, 5, 15), includes=[lambda r: r["kind"] == "churn"])
    zero = lambda v: 0.0 if v is None else v   # noqa: E731 — an absent sum is an empty sum
    net = combine(new, churn, lambda a, b: zero(a) - zero(b))
    same(got(result, "net_new_arr"), net)
    same(got(result, "churn_share"), combine(churn, new, lambda a, b: None if not b else zero(a) / b))
    same(got(result, "double_net"), [(p, s, None if v is None else v * 2, c) for p, s, v, c in net])
    # the data stops on 1 April: May has no data yet, which is not 0
    assert [r.value for r in result.series("net_new_arr")] == [100, 50, -20, -5, None]
    assert [r.stale for r in result.series("net_new_arr")] == [False] * 4 + [True]


# ---------------------------------------------------------------- time types, zones and boundaries

def instants():
    """Instants near midnight UTC and period edges, as aware UTC datetimes."""
    return [
        dt.datetime(2026, 3, 1, 0, 0, tzinfo=UTC),        # midnight UTC on the 1st: Feb 28 in New York
        dt.datetime(2026, 3, 1, 4, 59, tzinfo=UTC),       # 23:59 in New York, still Feb 28
        dt.datetime(2026, 3, 1, 5, 0, tzinfo=UTC),        # 00:00 in New York, Mar 1
        dt.datetime(2026, 3, 31, 23, 30, tzinfo=UTC),     # Apr 1 in Berlin, still Mar 31 in New York
        dt.datetime(2026, 7, 12, 23, 0, tzinfo=UTC),      # Sunday in UTC, Monday (next ISO week) in Tokyo
        dt.datetime(2026, 7, 13, 2, 0, tzinfo=UTC),       # Monday in UTC, Sunday in Los Angeles
        dt.datetime(2026, 6, 30, 22, 0, tzinfo=UTC),      # Q3 in Berlin, Q2 in UTC
        dt.datetime(2026, 7, 20, 23, 30, tzinfo=UTC),     # after today in Tokyo, today in UTC
        dt.datetime(2026, 7, 19, 22, 30, tzinfo=UTC),     # today in Tokyo
        None,
    ]


ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles"]


TIME_KINDS = {"timestamptz": pa.timestamp("us", tz="UTC"), "timestamp": pa.timestamp("us"), "date": pa.date32(),
              "iso_text": pa.string(), "iso_text_offset": pa.string(), "timestamp_ns": pa.timestamp("ns"),
              "timestamp_s": pa.timestamp("s"), "timestamptz_ms": pa.timestamp("ms", tz="Asia/Kolkata")}


def as_kind(instant: dt.datetime | None, kind: str, i: int):
    if instant is None:
        return None
    if kind.startswith("timestamptz"):
        return instant
    if kind.startswith("timestamp"):
        return instant.replace(tzinfo=None)
    if kind == "date":
        return instant.date()
    if kind == "iso_text":
        return instant.replace(tzinfo=None).isoformat(sep=" ")
    return instant.astimezone(dt.timezone(dt.timedelta(hours=i - 5))).isoformat()   # offsets -05:00 .. +03:00


@pytest.mark.parametrize("zone", ZONES)
def test_time_types_are_read_in_the_project_zone(make_project, zone):
    """TIMESTAMPTZ and ISO text with an offset are converted; TIMESTAMP, DATE and plain text are wall clock."""
    columns = {kind: arrow_type for kind, arrow_type in TIME_KINDS.items()} | {"amount": pa.float64()}
    rows = [tuple(as_kind(instant, kind, i) for kind in TIME_KINDS) + (float(2 ** i),)   # amounts: binary digits
            for i, instant in enumerate(instants())]
    sources = [source(kind, "data/events.parquet", kind) for kind in TIME_KINDS]
    metrics = [m for kind in TIME_KINDS for m in (
        {"name": f"{kind}_amount", "source": kind, "measure": "sum(amount)"},
        {"name": f"{kind}_events", "source": kind, "measure": "count(*)"})]
    project = make_project(sources, metrics, {"data/events.parquet": table(columns, rows)},
                           settings={"timezone": zone})
    data = dicts(columns, rows)
    for grain in ("day", "week", "month", "quarter"):
        result = run(project, grain=grain)
        for kind in TIME_KINDS:
            same(got(result, f"{kind}_amount"), reference(data, "sum(amount)", kind, grain=grain, tz=zone))
            same(got(result, f"{kind}_events"), reference(data, "count(*)", kind, grain=grain, tz=zone))
            assert result.dropped[f"{kind}_events"] == {"null_time": 1}


def test_text_times_do_not_depend_on_the_engine_session_zone(make_project):
    """Plain ISO text is wall clock in settings.timezone even when the engine session runs in another zone."""
    columns = {"t": pa.string(), "amount": pa.float64()}
    rows = [("2026-03-01 00:30:00", 1.0), ("2026-02-28 23:30:00", 2.0), ("2026-03-01", 4.0),
            ("2026-03-01T01:00:00+00:00", 8.0)]
    project = make_project([source("events", "data/events.parquet")], [
        {"name": "amount", "source": "events", "measure": "sum(amount)"},
    ], {"data/events.parquet": table(columns, rows)}, settings={"timezone": "America/New_York"})
    expected = reference(dicts(columns, rows), "sum(amount)", tz="America/New_York", today=D(2026, 3, 20))
    assert [v for _, _, v, _ in expected] == [10.0, 5.0]
    for session in ("UTC", "Asia/Tokyo", "America/New_York"):
        same(got(run(project, tz=session, today=D(2026, 3, 20)), "amount"), expected)


@pytest.mark.parametrize("grain, first_instant", [
    ("day", dt.datetime(2026, 7, 14)),
    ("week", dt.datetime(2026, 7, 13)),     # Monday
    ("month", dt.datetime(2026, 7, 1)),
    ("quarter", dt.datetime(2026, 4, 1)),
    ("year", dt.datetime(2026, 1, 1)),
])
@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_a_row_at_midnight_on_the_first_day_belongs_to_the_new_period(make_project, grain, first_instant, zone):
    tz = ZoneInfo(zone)
    local = [first_instant, first_instant - dt.timedelta(microseconds=1), first_instant + dt.timedelta(hours=1)]
    columns = {"t": pa.timestamp("us", tz="UTC"), "naive": pa.timestamp("us"), "amount": pa.float64()}
    rows = [(t.replace(tzinfo=tz).astimezone(UTC), t, float(10 ** i)) for i, t in enumerate(local)]
    project = make_project([source("events", "data/events.parquet")], [
        {"name": "aware", "source": "events", "measure": "sum(amount)"},
        {"name": "naive", "source": "events", "measure": "sum(amount)", "time": "naive"},
    ], {"data/events.parquet": table(columns, rows)}, settings={"timezone": zone})
    result = run(project, grain=grain)
    for name in ("aware", "naive"):
        series = result.series(name)
        new = next(r for r in series if r.start == first_instant.date())
        before = series[series.index(new) - 1]
        assert new.value == 1 + 100 and before.value == 10, name
    data = dicts(columns, rows)
    same(got(result, "aware"), reference(data, "sum(amount)", grain=grain, tz=zone))
    same(got(result, "naive"), reference(data, "sum(amount)", time="naive", grain=grain, tz=zone))


GRAIN_COLUMNS = {"t": pa.timestamp("us"), "amount": pa.float64(), "customer": pa.string()}


def grain_rows():
    rows, day = [], dt.datetime(2024, 11, 3, 13)
    for i in range(160):
        rows.append((day, float(i % 7) if i % 11 else None, f"c{i % 5}"))
        day += dt.timedelta(days=(i * 7) % 12, hours=5 * (i % 3))
    return rows


@pytest.mark.parametrize("fiscal", [1, 2, 4, 7, 11])
def test_every_grain_and_fiscal_year(make_project, fiscal):
    rows = grain_rows()
    project = make_project([source("events", "data/events.parquet")], [
        {"name": "amount", "source": "events", "measure": "sum(amount)"},
        {"name": "customers", "source": "events", "measure": "count(distinct customer)"},
        {"name": "largest", "source": "events", "measure": "max(amount)"},
    ], {"data/events.parquet": table(GRAIN_COLUMNS, rows)}, settings={"fiscal_year_start": fiscal})
    today = D(2026, 8, 3)
    data = dicts(GRAIN_COLUMNS, rows)
    for grain in ("day", "week", "month", "quarter", "year"):
        result = run(project, grain=grain, today=today)
        for name, measure in (("amount", "sum(amount)"), ("customers", "count(distinct customer)"),
                              ("largest", "max(amount)")):
            same(got(result, name), reference(data, measure, grain=grain, fiscal=fiscal, today=today))
        labels = [r.period for r in result.series("amount")]
        if fiscal != 1 and grain in ("quarter", "year"):
            assert all(p.startswith("FY") for p in labels)
        else:
            assert not any(p.startswith("FY") for p in labels)


# ---------------------------------------------------------------- as of, since and until

@pytest.mark.parametrize("today", [D(2026, 7, 20), D(2026, 8, 1), D(2026, 7, 31), D(2026, 5, 1), D(2026, 1, 5)])
def test_as_of_ignores_later_rows_and_marks_only_ended_periods_complete(make_project, today):
    project = make_project([source()], [{"name": "revenue", "source": "orders", "measure": "sum(amount)"},
                                        {"name": "orders", "source": "orders", "measure": "count(*)"}],
                           orders_data())
    for grain in ("month", "week", "quarter"):
        result = run(project, today=today, grain=grain)
        same(got(result, "revenue"), reference(ORDERS, "sum(amount)", today=today, grain=grain))
        same(got(result, "orders"), reference(ORDERS, "count(*)", today=today, grain=grain))
        series = result.series("orders")
        assert series[-1].start <= today and not series[-1].complete
        assert all(r.complete for r in series[:-1])


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/Los_Angeles"])
def test_the_last_instant_of_today_counts_and_midnight_after_does_not(make_project, zone):
    tz = ZoneInfo(zone)
    local = [dt.datetime(2026, 7, 20, 23, 59, 59, 999999), dt.datetime(2026, 7, 21), dt.datetime(2026, 7, 20)]
    columns = {"aware": pa.timestamp("us", tz="UTC"), "naive": pa.timestamp("us"), "text": pa.string(),
               "amount": pa.float64()}
    rows = [(t.replace(tzinfo=tz).astimezone(UTC), t, t.isoformat(), float(10 ** i)) for i, t in enumerate(local)]
    project = make_project([source("events", "data/events.parquet", "aware"),
                            source("events_text", "data/events.parquet", "text")], [
        {"name": "aware", "source": "events", "measure": "sum(amount)"},
        {"name": "naive", "source": "events", "measure": "sum(amount)", "time": "naive"},
        {"name": "text", "source": "events_text", "measure": "sum(amount)"},
    ], {"data/events.parquet": table(columns, rows)}, settings={"timezone": zone})
    for grain in ("day", "month"):
        result = run(project, grain=grain)
        for name in ("aware", "naive", "text"):
            assert [(r.start, r.value, r.complete) for r in result.series(name)] == [(D(2026, 7, 1) if grain ==
                                                                                      "month" else TODAY, 101, False)]


def test_settings_as_of_is_today_when_none_is_given(make_project):
    project = make_project([source()], [{"name": "orders", "source": "orders", "measure": "count(*)"}],
                           orders_data(), settings={"as_of": "2026-02-14"})
    engine = open_engine("duckdb", None, "UTC", project_sandbox(project))
    result = compute(project, engine, grain="month")
    engine.close()
    assert result.today == D(2026, 2, 14)
    same(got(result, "orders"), reference(ORDERS, "count(*)", today=D(2026, 2, 14)))
    assert [r.value for r in result.rows] == [3, 2]   # rows 4 and 5 by Feb 14; 6 and 7 come later


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])   # UTC+14 and UTC-11
def test_without_as_of_today_is_the_clock_in_the_project_zone(make_project, zone):
    project = make_project([source()], [{"name": "orders", "source": "orders", "measure": "count(*)"}],
                           orders_data(), settings={"timezone": zone})
    before = dt.datetime.now(ZoneInfo(zone)).date()
    engine = open_engine("duckdb", None, "UTC", project_sandbox(project))
    result = compute(project, engine)
    engine.close()
    assert result.today in {before, dt.datetime.now(ZoneInfo(zone)).date()}


def test_as_of_before_any_data_gives_no_rows(make_project):
    project = make_project([source()], [{"name": "orders", "source": "orders", "measure": "count(*)"},
                                        {"name": "twice", "formula": "orders * 2"}], orders_data())
    result = run(project, today=D(2025, 12, 31))
    assert result.rows == []


@pytest.mark.parametrize("since, until", [
    (None, None),
    (D(2026, 2, 1), D(2026, 5, 1)),       # inclusive on both ends
    (D(2026, 2, 2), D(2026, 4, 30)),      # February starts before since; May starts after until
    (D(2026, 5, 1), None),
    (None, D(2026, 1, 31)),
    (D(2026, 7, 2), None),                # nothing starts in range
])
def test_since_and_until_select_periods_that_start_in_the_range(make_project, since, until):
    project = ratio_project(make_project, [{"name": "lost", "formula": "total - won"}])
    full = run(project)
    part = run(project, since=since, until=until)
    for name in ("won", "win_rate", "lost"):
        expected = [r for r in got(full, name)
                    if (since is None or r[1] >= since) and (until is None or r[1] <= until)]
        same(got(part, name), expected)
    expected_starts = [s for s in (D(2026, m, 1) for m in range(1, 8))
                       if (since is None or s >= since) and (until is None or s <= until)]
    assert [r.start for r in part.series("won")] == expected_starts


def test_rows_are_ordered_by_metric_as_defined_then_period(make_project):
    project = ratio_project(make_project, [{"name": "a_first_alphabetically", "formula": "won + 1"}])
    result = run(project)
    names = [r.metric for r in result.rows]
    assert list(dict.fromkeys(names)) == ["won", "total", "win_rate", "a_first_alphabetically"]
    for name in dict.fromkeys(names):
        starts = [r.start for r in result.series(name)]
        assert starts == sorted(starts)
    only = run(project, names=["win_rate", "won"])
    assert list(dict.fromkeys(r.metric for r in only.rows)) == ["won", "win_rate"]


def test_an_unknown_metric_name_is_a_user_error(make_project):
    project = ratio_project(make_project)
    with pytest.raises(UserError, match="Did you mean 'win_rate'"):
        run(project, names=["win_rates"])


# ---------------------------------------------------------------- sources: sql, table, several times

def test_sql_sources_join_and_union_other_sources_by_name(make_project):
    lead_cols = {"lead_id": pa.int64(), "created": pa.date32(), "channel": pa.string()}
    leads = [(1, D(2026, 1, 3), "web"), (2, D(2026, 1, 20), "ads"), (3, D(2026, 2, 2), "web"),
             (4, D(2026, 2, 9), None), (5, D(2026, 3, 1), "ads")]
    opp_cols = {"opp_id": pa.int64(), "lead_id": pa.int64(), "opened": pa.date32(), "amount": pa.float64()}
    opps = [(10, 1, D(2026, 2, 1), 100.0), (11, 1, D(2026, 3, 5), 50.0), (12, 3, D(2026, 2, 28), 70.0),
            (13, 9, D(2026, 2, 3), 999.0), (14, 5, D(2026, 3, 2), None)]
    legacy = [(100, D(2026, 1, 15), "web"), (101, D(2026, 3, 31), "fax")]
    project = make_project([
        source("leads", "data/leads.csv", "created"),
        source("legacy_leads", "data/legacy.parquet", "created"),
        source("opps", "data/opps.parquet", "opened"),
        {"name": "lead_opps", "time": "opened",
         "sql": "select o.opp_id, o.opened, o.amount, l.channel from opps o join leads l on o.lead_id = l.lead_id"},
        {"name": "all_leads", "time": "created",
         "sql": "select lead_id, created, channel from leads union all "
                "select lead_id, created, channel from legacy_leads"},
    ], [
        {"name": "web_pipeline", "source": "lead_opps", "measure": "sum(amount)", "include": clauses("channel = 'web'")},
        {"name": "joined_opps", "source": "lead_opps", "measure": "count(*)"},
        {"name": "leads_everywhere", "source": "all_leads", "measure": "count(*)",
         "exclude": clauses("channel = 'fax'")},
    ], {"data/leads.csv": table(lead_cols, leads), "data/legacy.parquet": table(lead_cols, legacy),
        "data/opps.parquet": table(opp_cols, opps)})
    result = run(project)
    con = duckdb.connect()
    root = project.root
    joined = dict(con.sql(f"""
        SELECT strftime(o.opened, '%Y-%m'), sum(o.amount) FILTER (WHERE l.channel = 'web')
        FROM read_parquet('{root}/data/opps.parquet') o JOIN read_csv('{root}/data/leads.csv') l USING (lead_id)
        GROUP BY 1""").fetchall())
    # the joined rows stop in the month of their latest `opened`: later months have no data (None), not 0
    last = con.sql(f"""
        SELECT strftime(max(o.opened), '%Y-%m') FROM read_parquet('{root}/data/opps.parquet') o
        JOIN read_csv('{root}/data/leads.csv') l USING (lead_id)""").fetchall()[0][0]
    months = ("2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07")
    assert {r.period: r.value for r in result.series("web_pipeline")} == {
        p: joined.get(p, 0) if p <= last else None for p in months}
    assert joined["2026-02"] == 170 and joined["2026-03"] == 50 and last == "2026-03"
    assert [r.value for r in result.series("joined_opps")] == [2, 2, None, None, None, None]
    union = dict(con.sql(f"""
        SELECT strftime(created, '%Y-%m'), count(*) FROM (
          SELECT created, channel FROM read_csv('{root}/data/leads.csv')
          UNION ALL SELECT created, channel FROM read_parquet('{root}/data/legacy.parquet'))
        WHERE channel IS DISTINCT FROM 'fax' GROUP BY 1""").fetchall())
    last = con.sql(f"""
        SELECT strftime(max(created), '%Y-%m') FROM (
          SELECT created FROM read_csv('{root}/data/leads.csv')
          UNION ALL SELECT created FROM read_parquet('{root}/data/legacy.parquet'))""").fetchall()[0][0]
    assert {r.period: r.value for r in result.series("leads_everywhere")} == {
        p: union.get(p, 0) if p <= last else None
        for p in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07")}
    assert union["2026-01"] == 3


def test_table_sources_in_a_duckdb_file_are_read_only(make_project, tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    db = root / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.register("orders_arrow", table(ORDER_COLUMNS, ORDER_ROWS))
    con.execute("CREATE SCHEMA sales")
    con.execute("CREATE TABLE sales.orders AS SELECT * FROM orders_arrow")
    con.execute("CREATE TABLE refunds AS SELECT t, amount / 10 AS refund FROM orders_arrow WHERE closed")
    con.execute("CHECKPOINT")
    con.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns
    project = make_project([
        {"name": "orders", "table": "sales.orders", "time": "t"},
        {"name": "refunds", "table": "refunds", "time": "t"},
        {"name": "net", "time": "t",
         "sql": "select t, amount as value from orders union all select t, -refund from refunds"},
    ], [
        {"name": "revenue", "source": "orders", "measure": "sum(amount)", "exclude": clauses("closed")},
        {"name": "refunded", "source": "refunds", "measure": "sum(refund)"},
        {"name": "net_value", "source": "net", "measure": "sum(value)"},
    ], engine={"type": "duckdb", "path": "warehouse.duckdb"}, root=root)
    result = run(project)
    same(got(result, "revenue"), reference(ORDERS, "sum(amount)", excludes=[CLAUSES["closed"]]))
    refunds = [{"t": r["t"], "amount": r["amount"] / 10 if r["amount"] is not None else None}
               for r in ORDERS if r["closed"]]
    same(got(result, "refunded"), reference(refunds, "sum(amount)"))
    check = duckdb.connect(str(db), read_only=True)
    net = dict(check.sql(f"""SELECT strftime(t, '%Y-%m'), sum(v) FROM (
        SELECT t, amount AS v FROM sales.orders UNION ALL SELECT t, -refund FROM refunds)
        WHERE t <= DATE '{TODAY}' GROUP BY 1""").fetchall())
    check.close()
    assert {r.period: r.value for r in result.series("net_value")} == {
        r.period: net.get(r.period, 0) for r in result.series("net_value")}
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns) == before
    engine = open_engine("duckdb", str(db), "UTC")
    with pytest.raises(Exception):
        engine.query("CREATE TABLE sneaky (a INT)")
    engine.close()
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns) == before


def test_several_time_columns_on_one_source(make_project):
    columns = {"id": pa.int64(), "created": pa.date32(), "closed_at": pa.timestamp("us"),
               "amount": pa.float64(), "stage": pa.string()}
    rows = [
        (1, D(2026, 5, 3), dt.datetime(2026, 6, 2, 10), 100.0, "won"),
        (2, D(2026, 5, 30), None, 20.0, "open"),
        (3, None, dt.datetime(2026, 5, 31, 23, 59), 30.0, "won"),
        (4, D(2026, 6, 1), dt.datetime(2026, 7, 21, 0, 0), 40.0, "won"),      # closes after today
        (5, D(2026, 7, 25), dt.datetime(2026, 7, 2), 50.0, "won"),            # created after today
        (6, D(2026, 7, 28), None, 60.0, "open"),                              # created after today
        (7, None, None, 70.0, "won"),
        (8, D(2026, 7, 1), dt.datetime(2026, 7, 20, 23, 59), 80.0, "won"),
    ]
    project = make_project([source("deals", "data/deals.parquet", "created")], [
        {"name": "created_value", "source": "deals", "measure": "sum(amount)"},
        {"name": "created_count", "source": "deals", "measure": "count(*)"},
        {"name": "won_value", "source": "deals", "measure": "sum(amount)", "time": "closed_at",
         "include": clauses("stage = 'won'")},
        {"name": "closed_count", "source": "deals", "measure": "count(*)", "time": "closed_at"},
    ], {"data/deals.parquet": table(columns, rows)})
    data = dicts(columns, rows)
    won = [lambda r: r["stage"] == "won"]
    for grain in ("month", "week"):
        result = run(project, grain=grain)
        same(got(result, "created_value"), reference(data, "sum(amount)", "created", grain))
        same(got(result, "created_count"), reference(data, "count(*)", "created", grain))
        same(got(result, "won_value"), reference(data, "sum(amount)", "closed_at", grain, includes=won))
        same(got(result, "closed_count"), reference(data, "count(*)", "closed_at", grain))
        assert result.dropped == {"created_value": {"null_time": 2}, "created_count": {"null_time": 2},
                                  "won_value": {"null_time": 1}, "closed_count": {"null_time": 3}}
        assert len(result.plans) == 1


# ---------------------------------------------------------------- bad data and bad names

def test_a_text_time_that_does_not_parse_names_source_column_and_example(make_project):
    columns = {"signed_on": pa.string(), "amount": pa.float64()}
    rows = [("2026-01-04", 1.0), ("14/07/2026", 2.0), (None, 3.0), ("2026-02-01T10:00:00", 4.0)]
    project = make_project([source("contracts", "data/contracts.parquet", "signed_on")], [
        {"name": "signed", "source": "contracts", "measure": "sum(amount)"},
    ], {"data/contracts.parquet": table(columns, rows)})
    with pytest.raises(UserError) as err:
        run(project)
    text = str(err.value)
    assert "contracts" in text and "signed_on" in text and "14/07/2026" in text
    assert text.startswith("definitions.yml:")


def test_a_time_column_that_holds_no_dates_is_a_user_error(make_project):
    project = make_project([source(time="id")], [{"name": "n", "source": "orders", "measure": "count(*)"}],
                           orders_data())
    with pytest.raises(UserError) as err:
        run(project)
    text = str(err.value)
    assert "'id'" in text and "'orders'" in text and "BIGINT" in text and "not a date" in text


@pytest.mark.parametrize("field, value, column, suggestion", [
    ("measure", "sum(amuont)", "amuont", "amount"),
    ("include", [{"name": "stage", "sql": "stgae = 'won'"}], "stgae", "stage"),
    ("exclude", [{"name": "region", "sql": "regoin = 'eu'"}], "regoin", "region"),
    ("time", "tt", "tt", "t"),
])
def test_a_missing_column_is_a_user_error_with_did_you_mean(make_project, field, value, column, suggestion):
    metric = {"name": "bad", "source": "orders", "measure": "sum(amount)", field: value}
    project = make_project([source()], [metric, {"name": "fine", "source": "orders", "measure": "count(*)"}],
                           orders_data())
    with pytest.raises(UserError) as err:
        run(project)
    assert len(err.value.problems) == 1
    line = str(err.value)
    assert f"'{column}'" in line and f"Did you mean '{suggestion}'?" in line
    assert line.startswith("definitions.yml:")


def test_a_source_time_column_that_does_not_exist(make_project):
    project = make_project([source(time="created")], [{"name": "n", "source": "orders", "measure": "count(*)"}],
                           orders_data())
    with pytest.raises(UserError, match="time column 'created' is not in source 'orders'"):
        run(project)


# ---------------------------------------------------------------- plans: both strategies, one scan

def force(monkeypatch, strategy, grouped=None):
    """Make `choose` return `strategy`; for grouped, group on `grouped` columns (None: every sampled one)."""
    def choose(metrics, distinct):
        if strategy == "filter":
            return "filter", ()
        return "grouped", tuple(sorted(distinct if grouped is None else grouped))
    monkeypatch.setattr(plan_module, "choose", choose)
    monkeypatch.setattr(run_module, "choose", choose)


DECOMPOSABLE = ("sum(amount)", "count(*)", "count(amount)", "avg(amount)", "min(amount)", "max(amount)")


def strategy_metrics():
    out = []
    for i, (measure, inc, exc) in enumerate([
        ("sum(amount)", (), ()), ("count(*)", ("stage = 'won'",), ()), ("avg(amount)", (), ("closed",)),
        ("min(amount)", ("region in ('eu')",), ("customer <> 'acme'",)), ("max(amount)", ("amount > 20",), ()),
        ("count(amount)", ("stage = 'won'", "region in ('eu')"), ("closed",)),
        ("sum(amount)", ("customer <> 'acme'",), ("amount > 20",)),
    ]):
        m = {"name": f"m{i}", "source": "orders", "measure": measure}
        if inc:
            m["include"] = clauses(*inc)
        if exc:
            m["exclude"] = clauses(*exc)
        out.append((m, [CLAUSES[c] for c in inc], [CLAUSES[c] for c in exc]))
    return out


@pytest.mark.parametrize("strategy, grouped", [
    ("filter", None), ("grouped", None), ("grouped", ()), ("grouped", ("stage",)),
    ("grouped", ("closed", "customer", "region")),
])
@pytest.mark.parametrize("grain", ["month", "week"])
def test_both_plan_strategies_give_the_reference_values(make_project, monkeypatch, strategy, grouped, grain):
    specs = strategy_metrics()
    project = make_project([source()], [m for m, _, _ in specs], orders_data())
    force(monkeypatch, strategy, grouped)
    result = run(project, grain=grain)
    assert result.plans["orders"].strategy == strategy
    for m, inc, exc in specs:
        same(got(result, m["name"]), reference(ORDERS, m["measure"], grain=grain, includes=inc, excludes=exc))
        n = null_times(ORDERS, includes=inc, excludes=exc)
        assert result.dropped.get(m["name"]) == ({"null_time": n} if n else None)


@pytest.mark.parametrize("strategy, grouped", [("filter", None), ("grouped", ()), ("grouped", ("stage",))])
def test_a_sum_of_only_nulls_stays_null_inside_a_larger_measure(make_project, monkeypatch, strategy, grouped):
    """In January the rows that pass the clauses have no amount: SQL's sum is NULL there, and so is
    `sum(amount) - sum(fee)`; a plain `sum(amount)` reads that NULL as 0, like an empty period."""
    columns = {"t": pa.date32(), "amount": pa.float64(), "fee": pa.float64(), "stage": pa.string()}
    rows = [(D(2026, 1, 5), None, 1.0, "won"), (D(2026, 1, 6), 7.0, 2.0, "lost"),
            (D(2026, 2, 5), 10.0, 1.5, "won"), (D(2026, 2, 9), None, 4.0, "won"), (D(2026, 3, 1), 3.0, None, "won")]
    big = "fee > 0.5"   # a clause over a column no plan groups on: evaluated once per row
    metrics = [{"name": "net", "source": "orders", "measure": "sum(amount) - sum(fee)",
                "include": clauses("stage = 'won'", big)},
               {"name": "gross", "source": "orders", "measure": "sum(amount)", "include": clauses("stage = 'won'", big)},
               {"name": "typical", "source": "orders", "measure": "avg(amount)", "include": clauses("stage = 'won'", big)}]
    project = make_project([source()], metrics, {"data/orders.parquet": table(columns, rows)})
    force(monkeypatch, strategy, grouped)
    result = run(project, today=D(2026, 3, 31))
    assert result.plans["orders"].strategy == strategy
    data = dicts(columns, rows)
    keep_ = [lambda r: r["stage"] == "won", lambda r: None if r["fee"] is None else r["fee"] > 0.5]
    for name, measure_ in (("net", "sum(amount) - sum(fee)"), ("gross", "sum(amount)"), ("typical", "avg(amount)")):
        same(got(result, name), reference(data, measure_, includes=keep_, today=D(2026, 3, 31)))
    assert [v for _, _, v, _ in got(result, "net")] == [None, 10.0 - 5.5, None]
    assert [v for _, _, v, _ in got(result, "gross")] == [0.0, 10.0, 0.0]


def test_both_strategies_agree_with_two_time_columns(make_project, monkeypatch):
    columns = {"t": pa.date32(), "u": pa.date32(), "amount": pa.float64(), "stage": pa.string()}
    rows = [(D(2026, 1, 1), D(2026, 2, 1), 1.0, "won"), (D(2026, 1, 31), None, 2.0, "lost"),
            (None, D(2026, 3, 3), 4.0, "won"), (D(2026, 3, 9), D(2026, 7, 21), 8.0, None),
            (D(2026, 7, 22), D(2026, 7, 2), 16.0, "won"), (D(2026, 7, 20), D(2026, 7, 20), 32.0, "won")]
    metrics = [{"name": "a", "source": "orders", "measure": "sum(amount)", "include": clauses("stage = 'won'")},
               {"name": "b", "source": "orders", "measure": "avg(amount)", "time": "u",
                "exclude": clauses("stage = 'lost'")},
               {"name": "c", "source": "orders", "measure": "count(*)", "time": "u"}]
    data = dicts(columns, rows)
    won = [lambda r: None if r["stage"] is None else r["stage"] == "won"]
    lost = [lambda r: None if r["stage"] is None else r["stage"] == "lost"]
    for strategy in ("filter", "grouped"):
        project = make_project([source()], metrics, {"data/orders.parquet": table(columns, rows)},
                               root=Path(tempfile.mkdtemp()) / strategy)
        force(monkeypatch, strategy)
        result = run(project)
        assert result.plans["orders"].strategy == strategy
        same(got(result, "a"), reference(data, "sum(amount)", "t", includes=won))
        same(got(result, "b"), reference(data, "avg(amount)", "u", excludes=lost))
        same(got(result, "c"), reference(data, "count(*)", "u"))


def test_a_non_decomposable_measure_uses_the_filter_plan(make_project):
    project = make_project([source()], [
        {"name": "buyers", "source": "orders", "measure": "count(distinct customer)",
         "include": clauses("stage = 'won'")},
        {"name": "revenue", "source": "orders", "measure": "sum(amount)", "include": clauses("stage = 'won'")},
    ], orders_data())
    result = run(project)
    assert result.plans["orders"].strategy == "filter"
    won = [CLAUSES["stage = 'won'"]]
    same(got(result, "buyers"), reference(ORDERS, "count(distinct customer)", includes=won))
    same(got(result, "revenue"), reference(ORDERS, "sum(amount)", includes=won))


class CountingEngine:
    """Wraps an engine and keeps every query it is asked to run."""

    def __init__(self, engine):
        self._engine = engine
        self.dialect = engine.dialect
        self.queries: list[exp.Expression] = []

    def query(self, ast):
        self.queries.append(ast)
        return self._engine.query(ast)

    def records(self, ast):
        self.queries.append(ast)
        return self._engine.records(ast)

    def describe(self, relation):
        self.queries.append(exp.Describe(this=relation))
        return self._engine.describe(relation)

    def sample(self, relation, rows):
        return self._engine.sample(relation, rows)

    def close(self):
        self._engine.close()


def kind(q: exp.Expression) -> str:
    names = {n.alias for n in q.walk() if isinstance(n, exp.Alias)}
    if any(n.name.lower() == "approx_count_distinct" for n in q.find_all(exp.Anonymous)):
        return "sample"
    return "presence" if any(a.startswith(("__f", "__z")) for a in names) else "scan"


@pytest.mark.parametrize("grouped", [(), ("stage",)])
def test_a_first_period_whose_values_prove_no_row_still_starts_the_series(make_project, monkeypatch, grouped):
    """January's passing rows add up to 0 (sum), have no amount (avg, min) or only NULL amounts (count):
    the values cannot tell January has rows, and yet each series starts there, as in the brute-force loop."""
    columns = {"t": pa.date32(), "amount": pa.float64(), "fee": pa.float64(), "stage": pa.string()}
    rows = [(D(2026, 1, 5), 0.0, 1.0, "won"), (D(2026, 1, 6), None, 2.0, "won"), (D(2026, 1, 7), 9.0, 0.1, "won"),
            (D(2026, 2, 5), 10.0, 1.5, "won"), (D(2026, 3, 9), -10.0, 4.0, "won"), (D(2026, 3, 9), 10.0, 4.0, "won"),
            (None, 0.0, 3.0, "won"), (None, 5.0, 3.0, "lost"), (None, None, 3.0, "won")]
    measures = ("sum(amount)", "avg(amount)", "min(amount)", "count(amount)", "max(amount)")
    metrics = [{"name": f"m{i}", "source": "orders", "measure": m, "include": clauses("stage = 'won'", "fee > 0.5")}
               for i, m in enumerate(measures)]
    metrics.append({"name": "late", "source": "orders", "measure": "sum(amount)",
                    "include": clauses("fee > 3.5")})          # first rows in March, and they sum to 0
    project = make_project([source()], metrics, {"data/orders.parquet": table(columns, rows)})
    force(monkeypatch, "grouped", grouped)
    engine = CountingEngine(open_engine("duckdb", None, "UTC", project_sandbox(project)))
    result = compute(project, engine, today=D(2026, 3, 31), grain="month")
    engine.close()
    data = dicts(columns, rows)
    keep_ = [lambda r: r["stage"] == "won", lambda r: r["fee"] > 0.5]
    for i, m in enumerate(measures):
        same(got(result, f"m{i}"), reference(data, m, includes=keep_, today=D(2026, 3, 31)))
        n = null_times(data, includes=keep_)
        assert result.dropped.get(f"m{i}") == {"null_time": n}
    same(got(result, "late"), reference(data, "sum(amount)", includes=[lambda r: r["fee"] > 3.5],
                                        today=D(2026, 3, 31)))
    assert [p for _, p, _, _ in got(result, "late")] == [D(2026, 3, 1)]
    assert [kind(q) for q in engine.queries if not isinstance(q, exp.Describe)] == ["sample", "scan", "presence"]


def sums_project(make_project, rows, measures=("sum(amount)",)):
    columns = {"t": pa.date32(), "amount": pa.float64(), "fee": pa.float64(), "paid": pa.bool_()}
    metrics = [{"name": f"m{i}", "source": "orders", "measure": m, "include": clauses("fee > 0.5")}
               for i, m in enumerate(measures)]
    return make_project([source()], metrics, {"data/orders.parquet": table(columns, rows)}), dicts(columns, rows)


def check_sums(result, data, measures):
    for i, m in enumerate(measures):
        same(got(result, f"m{i}"), reference(data, m, includes=[lambda r: r["fee"] > 0.5], today=D(2026, 3, 31)))


def test_a_sum_under_a_per_row_clause_multiplies_by_it(make_project, monkeypatch):
    """The fast form `sum(x * CAST(clause AS INTEGER))`, with a negative amount in a failing row: no -0.0."""
    rows = [(D(2026, 1, 5), 1.5, 1.0, True), (D(2026, 1, 6), 7.0, 0.1, True), (D(2026, 2, 5), 2.0, 1.0, False),
            (D(2026, 3, 1), -3.0, 0.1, True), (D(2026, 3, 2), None, 2.0, True)]
    project, data = sums_project(make_project, rows)
    force(monkeypatch, "grouped", ())
    result = run(project, today=D(2026, 3, 31))
    plan = result.plans["orders"]
    assert plan.guards and "* CAST(" in plan.query.sql("duckdb")
    check_sums(result, data, ("sum(amount)",))
    march = got(result, "m0")[-1][2]
    assert march == 0.0 and math.copysign(1.0, march) == 1.0


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_sum_under_a_per_row_clause_stays_exact_when_a_failing_row_is_not_finite(make_project, monkeypatch, bad):
    """x * 0 is NaN for x = ±inf or NaN: the plan sees a total that is not finite and reruns without
    multiplying, so a failing row's value still changes nothing."""
    rows = [(D(2026, 1, 5), 1.5, 1.0, True), (D(2026, 1, 6), bad, 0.1, True), (D(2026, 2, 5), 2.0, 1.0, False)]
    project, data = sums_project(make_project, rows)
    force(monkeypatch, "grouped", ())
    engine = CountingEngine(open_engine("duckdb", None, "UTC", project_sandbox(project)))
    result = compute(project, engine, today=D(2026, 3, 31))
    engine.close()
    plan = result.plans["orders"]
    assert not plan.guards and "* CAST(" not in plan.query.sql("duckdb")
    assert [kind(q) for q in engine.queries if not isinstance(q, exp.Describe)] == ["sample", "scan", "scan"]
    check_sums(result, data, ("sum(amount)",))


def test_a_sum_the_engine_cannot_multiply_is_summed_the_exact_way(make_project, monkeypatch):
    """DuckDB has no BOOLEAN * INTEGER: sum(paid) under a per-row clause falls back to CASE WHEN."""
    rows = [(D(2026, 1, 5), 1.5, 1.0, True), (D(2026, 1, 6), 7.0, 0.1, True), (D(2026, 2, 5), 2.0, 1.0, False),
            (D(2026, 2, 6), 2.0, 1.0, True), (D(2026, 2, 7), 2.0, 1.0, None)]
    project, data = sums_project(make_project, rows, ("sum(paid)", "sum(amount)"))
    force(monkeypatch, "grouped", ())
    result = run(project, today=D(2026, 3, 31))
    assert not result.plans["orders"].guards
    check_sums(result, data, ("sum(paid)", "sum(amount)"))


def test_values_that_prove_their_rows_need_no_second_query(make_project, monkeypatch):
    columns = {"t": pa.date32(), "amount": pa.float64(), "fee": pa.float64()}
    rows = [(D(2026, 1, 5), 3.0, 1.0), (D(2026, 1, 6), 0.0, 0.1), (D(2026, 2, 5), 0.0, 1.5), (D(2026, 3, 1), 2.0, 2.0)]
    metrics = [{"name": f"m{i}", "source": "orders", "measure": m, "include": clauses("fee > 0.5")}
               for i, m in enumerate(("sum(amount)", "avg(amount)", "count(*)"))]
    project = make_project([source()], metrics, {"data/orders.parquet": table(columns, rows)})
    force(monkeypatch, "grouped", ())
    engine = CountingEngine(open_engine("duckdb", None, "UTC", project_sandbox(project)))
    result = compute(project, engine, today=D(2026, 3, 31), grain="month")
    engine.close()
    assert [kind(q) for q in engine.queries if not isinstance(q, exp.Describe)] == ["sample", "scan"]
    assert result.plans["orders"].bounds == {0, 1}     # count(*) counts its own rows
    data = dicts(columns, rows)
    for i, m in enumerate(("sum(amount)", "avg(amount)", "count(*)")):
        same(got(result, f"m{i}"), reference(data, m, includes=[lambda r: r["fee"] > 0.5], today=D(2026, 3, 31)))


def test_all_metrics_over_one_source_are_one_scan(make_project):
    specs = strategy_metrics()
    extra = [{"name": "buyers", "source": "other", "measure": "count(distinct customer)"},
             {"name": "rows", "source": "other", "measure": "count(*)"},
             {"name": "share", "ratio": {"numerator": "m1", "denominator": "m0"}},
             {"name": "diff", "formula": "m0 - m6"}]
    project = make_project([source(), source("other", "data/orders.csv")], [m for m, _, _ in specs] + extra,
                           {**orders_data(), **orders_data("csv")})
    engine = CountingEngine(open_engine("duckdb", None, "UTC", project_sandbox(project)))
    result = compute(project, engine, today=TODAY)
    engine.close()
    kinds = []
    for q in engine.queries:
        if isinstance(q, exp.Describe):
            kinds.append("describe")
        else:
            kinds.append(kind(q))
    # orders: 7 metrics with clauses; other: 2 metrics without clauses, so nothing to sample.
    # orders has rows without time: those of the metrics with per-row clauses are counted in one small query
    assert sorted(kinds) == sorted(["describe", "describe", "sample", "scan", "scan", "presence"])
    assert len(result.plans) == 2
    for m, inc, exc in specs:
        same(got(result, m["name"]), reference(ORDERS, m["measure"], includes=inc, excludes=exc))


# ---------------------------------------------------------------- property: random tables and clauses

PROPERTY_CLAUSES = {
    "flag": lambda r: r["flag"],
    "not flag": lambda r: None if r["flag"] is None else not r["flag"],
    "cat = 'a'": lambda r: None if r["cat"] is None else r["cat"] == "a",
    "cat in ('a', 'b')": lambda r: None if r["cat"] is None else r["cat"] in ("a", "b"),
    "x > 2": lambda r: None if r["x"] is None else r["x"] > 2,
    "x is null": lambda r: r["x"] is None,
    "coalesce(cat, 'z') <> 'b'": lambda r: (r["cat"] or "z") != "b",
    "x + n > 3": lambda r: None if r["x"] is None or r["n"] is None else r["x"] + r["n"] > 3,
}
PROPERTY_MEASURES = ("sum(x)", "count(*)", "count(x)", "count(distinct cat)", "avg(x)", "min(n)", "max(x)",
                     "median(x)", "sum(x) - sum(n)")
PROPERTY_COLUMNS = {"t": pa.timestamp("us"), "u": pa.date32(), "x": pa.int64(), "n": pa.int64(),
                    "cat": pa.string(), "flag": pa.bool_()}
times_strategy = st.one_of(st.none(), st.datetimes(min_value=dt.datetime(2025, 12, 20),
                                                  max_value=dt.datetime(2026, 4, 20)))
rows_strategy = st.lists(st.tuples(
    times_strategy,
    times_strategy.map(lambda t: t and t.date()),
    st.one_of(st.none(), st.integers(-5, 9)),
    st.one_of(st.none(), st.integers(0, 4)),
    st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
    st.one_of(st.none(), st.booleans()),
), min_size=0, max_size=25)
metric_strategy = st.tuples(st.sampled_from(PROPERTY_MEASURES),
                            st.lists(st.sampled_from(sorted(PROPERTY_CLAUSES)), max_size=2, unique=True),
                            st.lists(st.sampled_from(sorted(PROPERTY_CLAUSES)), max_size=2, unique=True),
                            st.sampled_from(["t", "t", "u"]))
STRATEGIES = {
    "measured": None,
    "filter": lambda scans, distinct: ("filter", ()),
    "grouped on every clause column": lambda scans, distinct: ("grouped", tuple(sorted(distinct))),
    "grouped on clause booleans": lambda scans, distinct: ("grouped", ()),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, metrics=st.lists(metric_strategy, min_size=1, max_size=4),
       grain=st.sampled_from(["day", "week", "month"]), strategy=st.sampled_from(sorted(STRATEGIES)))
def test_random_tables_and_clauses_match_a_brute_force_loop(rows, metrics, grain, strategy):
    """Random NULLs, clauses, time columns and plan strategies: the same values as a loop over the rows."""
    today = D(2026, 4, 10)
    defs = []
    for i, (measure, inc, exc, time) in enumerate(metrics):
        m = {"name": f"m{i}", "source": "s", "measure": measure, "time": time}
        if inc:
            m["include"] = clauses(*inc)
        if exc:
            m["exclude"] = clauses(*exc)
        defs.append(m)
    measured = run_module.choose
    if STRATEGIES[strategy]:   # grouped only where the measures allow it (not median, not count distinct)
        run_module.choose = lambda scans, distinct: (
            measured(scans, distinct) if measured(scans, distinct)[0] == "filter" else STRATEGIES[strategy](
                scans, distinct))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = write_project(Path(tmp), [source("s", "data/s.parquet")], defs,
                                    {"data/s.parquet": table(PROPERTY_COLUMNS, rows)})
            result = run(project, grain=grain, today=today)
    finally:
        run_module.choose = measured
    data = dicts(PROPERTY_COLUMNS, rows)
    for i, (measure, inc, exc, time) in enumerate(metrics):
        includes = [PROPERTY_CLAUSES[c] for c in inc]
        excludes = [PROPERTY_CLAUSES[c] for c in exc]
        expected = reference(data, measure, time, grain=grain, today=today, includes=includes, excludes=excludes)
        same(got(result, f"m{i}"), expected)
        n = null_times(data, time, includes=includes, excludes=excludes)
        assert result.dropped.get(f"m{i}") == ({"null_time": n} if n else None)
    assert not any(math.isnan(r.value) for r in result.rows if r.value is not None)
