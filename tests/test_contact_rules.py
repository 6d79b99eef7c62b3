"""Caps, property by property: the walk touch by touch, and the one window query that says who is ever over."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.analyze.contact_log import ContactLog, micros
from accord.analyze.contact_rules import cap_marks, cap_walk, plan_rules, stats_query
from accord.compute.connect import project_sandbox
from accord.engine import open_engine

from test_touchpoints import BASE, TODAY, Source, write

times_st = st.lists(st.integers(0, 40), min_size=0, max_size=40).map(sorted)      # hours; repeats are ties


def brute_over(times: list[int], within: int, most: int) -> list[bool]:
    return [sum(1 for u in times[:i + 1] if u > t - within) > most for i, t in enumerate(times)]


def brute_refused(times: list[int], within: int, most: int) -> list[bool]:
    sent, out = [], []
    for t in times:
        full = sum(1 for u in sent if u > t - within) >= most
        out.append(full)
        if not full:
            sent.append(t)
    return out


@given(times_st, st.integers(1, 12), st.integers(1, 4))
def test_cap_marks_equal_the_definitions(times, within, most):
    over, refused = cap_marks(times, within, most)
    assert over == brute_over(times, within, most)
    assert refused == brute_refused(times, within, most)


@given(times_st, st.integers(1, 12), st.integers(1, 4))
def test_a_real_time_cap_refuses_only_touches_over_it_and_keeps_every_window_within_it(times, within, most):
    over, refused = cap_marks(times, within, most)
    assert all(o for o, r in zip(over, refused) if r)
    sent = [t for t, r in zip(times, refused) if not r]
    assert all(sum(1 for u in sent if t - within < u <= t) <= most for t in sent)
    assert sum(refused) <= sum(over)
    assert any(over) == (len(times) > 0 and max(brute_count(times, within)) > most)


@given(st.lists(times_st, min_size=1, max_size=6), st.integers(1, 12), st.integers(1, 4), st.booleans())
def test_the_walk_of_many_customers_at_once_equals_each_walked_alone(customers, within, most, far):
    """Also where times are too far apart to share one sorted key (each customer is then searched alone)."""
    scale = 2**56 if far else 1
    groups, times, want_over, want_refused = [], [], [], []
    for g, hours in enumerate(customers):
        stamps = [h * scale for h in hours]
        groups += [g] * len(stamps)
        times += stamps
        want_over += brute_over(stamps, within * scale, most)
        want_refused += brute_refused(stamps, within * scale, most)
    over, refused = cap_walk(np.array(groups, dtype=np.int64), np.array(times, dtype=np.int64), within * scale, most)
    assert over.tolist() == want_over and refused.tolist() == want_refused


def brute_count(times: list[int], within: int) -> list[int]:
    return [sum(1 for u in times[:i + 1] if u > t - within) for i, t in enumerate(times)]


customers_st = st.dictionaries(st.sampled_from("ABCDE"), st.tuples(times_st, times_st), min_size=1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers_st, st.integers(1, 6), st.integers(1, 3))
def test_the_window_query_finds_exactly_the_customers_ever_over_the_cap(tmp_path_factory, data, within, most):
    """Its RANGE frame counts tied touches together; the largest count per customer is the walk's."""
    hours = lambda h: BASE + dt.timedelta(hours=h)   # noqa: E731
    mail = Source("mail", "marketing", "ts", [(c, hours(h)) for c, (a, _) in sorted(data.items()) for h in a])
    crm = Source("crm", "sales", "ts", [(c, hours(h)) for c, (_, b) in sorted(data.items()) for h in b])
    rules = [{"name": "cap", "max_touches": most, "within": f"{within}h"},
             {"name": "sales cap", "max_touches": most, "within": f"{within}h", "teams": ["sales"]}]
    root: Path = tmp_path_factory.mktemp("p")
    project = write(root, [mail, crm], rules, outcome=[])
    engine = open_engine("duckdb", None, "Europe/Berlin", project_sandbox(project))
    try:
        log = ContactLog(project, engine, TODAY)
        plan = plan_rules(log)
        rows = {r["customer"]: r for r in engine.query(stats_query(log, plan, True)).to_pylist()}
    finally:
        engine.close()
    for c, (a, b) in data.items():
        for k, times in ((0, sorted(a + b)), (1, b)):
            if not times:
                continue
            counts = brute_count(times, within)
            row = rows[c]
            assert row[f"m{k}"] == max(counts)
            over = [t for t, n in zip(times, counts) if n > most]
            assert row[f"f{k}"] == (micros(hours(over[0])) if over else None)
            assert row[f"p{k}"] == micros(hours(next(t for t, n in zip(times, counts) if n == max(counts))))
