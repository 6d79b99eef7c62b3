"""Grains, period starts and labels, checked day by day against independent rules and DuckDB."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import duckdb
import pytest
from sqlglot import exp

from accord.compute.periods import GRAINS, Calendar
from factory import ref_label

FIRST, LAST = dt.date(2019, 11, 1), dt.date(2028, 3, 1)
DAYS = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
FISCAL_STARTS = (1, 2, 4, 7, 10, 12)


@lru_cache(maxsize=None)
def ref_bounds(grain: str, fiscal_year_start: int = 1) -> dict[dt.date, tuple[dt.date, dt.date]]:
    """Each day of DAYS (and 400 days either side) -> (first day, last day) of its period, found by walking neighbouring days."""
    wide = [FIRST - dt.timedelta(days=800) + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1601)]
    first: dict[str, dt.date] = {}
    last: dict[str, dt.date] = {}
    for d in wide:
        label = ref_label(d, grain, fiscal_year_start)
        first.setdefault(label, d)
        last[label] = d
    return {d: (first[ref_label(d, grain, fiscal_year_start)], last[ref_label(d, grain, fiscal_year_start)])
            for d in wide[400:-400]}


@pytest.mark.parametrize("grain", GRAINS)
@pytest.mark.parametrize("fiscal", FISCAL_STARTS)
def test_start_next_label_and_completeness_match_the_rules(grain, fiscal):
    cal = Calendar(grain, fiscal)
    bounds = ref_bounds(grain, fiscal)
    for d in DAYS:
        start, end = bounds[d]
        assert cal.start(d) == start, d
        assert cal.next(start) == end + dt.timedelta(days=1), d
        assert cal.label(start) == ref_label(d, grain, fiscal), d
        assert cal.complete(start, d) is (end < d), d
        assert cal.previous(start) == bounds[start - dt.timedelta(days=1)][0], d


@pytest.mark.parametrize("grain", GRAINS)
@pytest.mark.parametrize("fiscal", (1, 4, 7))
def test_period_start_in_sql_matches_the_rules_for_dates_and_timestamps(grain, fiscal):
    """The SQL start of a period agrees with the rules for a DATE, its first and its last instant."""
    cal = Calendar(grain, fiscal)
    bounds = ref_bounds(grain, fiscal)
    col = exp.column("t")
    query = exp.select(exp.column("d"), exp.alias_(cal.start_sql(exp.column("d")), "s_date"),
                       exp.alias_(cal.start_sql(col), "s_first"),
                       exp.alias_(cal.start_sql(exp.column("t_last")), "s_last")).from_("days")
    con = duckdb.connect()
    con.execute(f"""CREATE TABLE days AS
        SELECT d::DATE AS d, d::TIMESTAMP AS t, d::TIMESTAMP + INTERVAL 1 DAY - INTERVAL 1 MICROSECOND AS t_last
        FROM range(DATE '{FIRST}', DATE '{LAST}' + 1, INTERVAL 1 DAY) r(d)""")
    rows = con.sql(query.sql("duckdb")).fetchall()
    assert len(rows) == len(DAYS)
    for d, s_date, s_first, s_last in rows:
        assert s_date == s_first == s_last == bounds[d][0], d


@pytest.mark.parametrize("day, grain, fiscal, label", [
    (dt.date(2026, 7, 14), "day", 1, "2026-07-14"),
    (dt.date(2026, 7, 14), "week", 1, "2026-W29"),
    (dt.date(2026, 7, 14), "month", 1, "2026-07"),
    (dt.date(2026, 7, 14), "quarter", 1, "2026-Q3"),
    (dt.date(2026, 7, 14), "year", 1, "2026"),
    (dt.date(2026, 7, 14), "quarter", 7, "FY2027-Q1"),
    (dt.date(2026, 7, 14), "year", 7, "FY2027"),
    (dt.date(2026, 6, 30), "quarter", 7, "FY2026-Q4"),
    (dt.date(2027, 1, 1), "quarter", 7, "FY2027-Q3"),
    (dt.date(2026, 7, 14), "month", 7, "2026-07"),        # fiscal years cut only quarters and years
    (dt.date(2024, 12, 30), "week", 1, "2025-W01"),       # ISO: the week belongs to the year of its Thursday
    (dt.date(2021, 1, 3), "week", 1, "2020-W53"),
    (dt.date(2026, 12, 31), "week", 1, "2026-W53"),
])
def test_labels_from_the_design(day, grain, fiscal, label):
    cal = Calendar(grain, fiscal)
    assert cal.label(cal.start(day)) == label


def test_weeks_start_on_monday():
    cal = Calendar("week")
    assert cal.start(dt.date(2026, 7, 19)) == dt.date(2026, 7, 13)   # Sunday -> the Monday before
    assert cal.start(dt.date(2026, 7, 13)) == dt.date(2026, 7, 13)
    assert cal.start(dt.date(2026, 7, 13)).weekday() == 0


@pytest.mark.parametrize("grain", GRAINS)
def test_span_is_every_period_from_the_first_to_the_last(grain):
    cal = Calendar(grain, 4)
    first, last = dt.date(2025, 2, 17), dt.date(2026, 11, 3)
    span = cal.span(first, last)
    labels = list(dict.fromkeys(ref_label(first + dt.timedelta(days=i), grain, 4)
                                for i in range((last - first).days + 1)))
    assert [cal.label(s) for s in span] == labels
    assert span[0] <= first < cal.next(span[0])
    assert span[-1] <= last < cal.next(span[-1])


def test_last_complete_period():
    assert Calendar("month").last_complete(dt.date(2026, 8, 1)) == dt.date(2026, 7, 1)
    assert Calendar("month").last_complete(dt.date(2026, 7, 31)) == dt.date(2026, 6, 1)
    assert Calendar("week").last_complete(dt.date(2026, 7, 20)) == dt.date(2026, 7, 13)
    assert Calendar("quarter", 7).last_complete(dt.date(2026, 7, 1)) == dt.date(2026, 4, 1)
