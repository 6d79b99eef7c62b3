"""Handoff collisions need weekly evidence: on hand-built weekly data whose answers are known by construction,
a pair is an error exactly when its weekly changes move against each other (at the lag built in), and info when
the quarters moved apart by chance. Every number is recomputed here with scipy and a hand-written
Benjamini–Hochberg, never with accord's own statistics.
"""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from accord.analyze.handoffs import negative_association
from accord.analyze.tree import build_tree
from accord.compute.connect import project_sandbox
from accord.engine import open_engine
from accord.project.loader import load_project

TODAY = dt.date(2026, 10, 5)                  # a Monday: 2026-Q3 and 2026-W40 are complete
WEEKS = [dt.date(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(39)]        # 2026-W02 .. 2026-W40
Q2, Q3 = dt.date(2026, 4, 1), dt.date(2026, 7, 1)
ALPHA = 0.05
UPSTREAM, DOWNSTREAM = ("leads", "webinars"), ("quality", "nps", "tickets")
WAY = {"leads": 1, "webinars": 1, "quality": 1, "nps": 1, "tickets": -1}          # target up: +1, down: −1


def weekly_values(rng) -> dict[str, np.ndarray]:
    """Each metric per week. Upstream metrics ramp up over Q3, downstream ones ramp against their targets.
    Week by week: quality loses what leads gain the same week, tickets rise two weeks after leads do;
    webinars and nps move apart only by the ramp, their weekly swings are independent."""
    n = len(WEEKS)
    ramp = np.array([0.0 if w < Q3 else (w - Q3).days / 91 for w in WEEKS])       # 0 .. 1 over Q3
    e = rng.normal(0, 10, n + 2)                                                 # leads' weekly swings
    swing = e[2:]
    return {
        "leads": 100 * (1 + 0.5 * ramp) + swing,
        "webinars": 50 * (1 + 0.5 * ramp) + rng.normal(0, 4, n),
        "quality": 400 * (1 - 0.35 * ramp) - 1.5 * swing + rng.normal(0, 3, n),
        "nps": 300 * (1 - 0.35 * ramp) + rng.normal(0, 8, n),
        "tickets": 200 * (1 + 0.4 * ramp) + 1.2 * e[:n] + rng.normal(0, 3, n),   # e[:n] is swing two weeks back
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    values = weekly_values(np.random.default_rng(7))
    rows = [{"id": len(WEEKS) * i + j, "kind": kind, "at": w, "amount": float(v[j])}
            for i, (kind, v) in enumerate(values.items()) for j, w in enumerate(WEEKS)]
    root = tmp_path_factory.mktemp("handoffs")
    (root / "data").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), root / "data" / "events.parquet")
    (root / "accord.yml").write_text(json.dumps({"project": "acme", "settings": {"as_of": TODAY.isoformat()}}))
    metrics = [{"name": k, "team": "marketing" if k in UPSTREAM else "sales", "level": "function",
                "source": "events", "measure": "sum(amount)", "include": [{"name": k, "sql": f"kind = '{k}'"}],
                "exclude": [], "target": {"direction": "up" if WAY[k] > 0 else "down", "value": 1, "period": "quarter"}}
               for k in values]
    defs = {"sources": [{"name": "events", "path": "data/events.parquet", "entity": "event", "key": "id",
                         "time": "at"}],
            "metrics": metrics,
            "teams": [{"name": t, "lead": f"{t}-lead@acme.example"} for t in ("marketing", "sales")],
            "handoffs": [{"from": "marketing", "to": "sales", "what": "leads"}]}
    (root / "definitions.yml").write_text(json.dumps(defs, indent=1))
    project = load_project(root)
    engine = open_engine("duckdb", None, "UTC", project_sandbox(project))
    try:
        tree = build_tree(project, engine, TODAY)
    finally:
        engine.close()
    return tree, rows


def independent(rows) -> dict[tuple[str, str], dict]:
    """Per pair: quarter moves, then the weekly evidence with scipy, then Benjamini–Hochberg by hand."""
    weekly = {k: {} for k in WAY}
    for r in rows:
        weekly[r["kind"]][r["at"]] = weekly[r["kind"]].get(r["at"], 0.0) + r["amount"]
    window = [w for w in WEEKS if Q2 <= w < dt.date(2026, 10, 1)]
    out = {}
    for u in UPSTREAM:
        for d in DOWNSTREAM:
            q = {k: [sum(v for w, v in weekly[k].items() if a <= w < b) for a, b in ((Q2, Q3), (Q3, TODAY))]
                 for k in (u, d)}
            won, lost = WAY[u] * (q[u][1] / q[u][0] - 1), WAY[d] * (q[d][1] / q[d][0] - 1)
            assert won >= 0.10 and lost <= -0.10, (u, d, won, lost)       # every pair moved apart, as built
            du = WAY[u] * np.diff([weekly[u][w] for w in window])
            dd = WAY[d] * np.diff([weekly[d][w] for w in window])
            tests = {k: stats.pearsonr(du[:len(du) - k], dd[k:], alternative="less") for k in range(9)}
            lag = min(tests, key=lambda k: tests[k].pvalue)
            out[(u, d)] = {"lag": lag, "r": tests[lag].statistic, "p": min(1.0, 9 * tests[lag].pvalue),
                           "pairs": len(du) - lag}
    ranked = sorted(out, key=lambda key: out[key]["p"])
    m, running = len(ranked), 1.0
    for rank in range(m, 0, -1):
        running = min(running, out[ranked[rank - 1]]["p"] * m / rank)
        out[ranked[rank - 1]]["adjusted"] = running
    return out


def test_errors_exactly_where_weekly_changes_move_against_each_other(built):
    tree, rows = built
    found = {f.metrics: f for f in tree.findings if f.code == "handoff-collision"}
    ref = independent(rows)
    assert set(found) == set(ref)
    for key, r in ref.items():
        ev = found[key].evidence
        assert ev["lag"] == r["lag"] and ev["weekly_changes"] == r["pairs"] and ev["lags_tested"] == [0, 8]
        assert ev["weekly_correlation"] == pytest.approx(r["r"], abs=1e-9)
        assert ev["p_value"] == pytest.approx(r["p"], rel=1e-6, abs=1e-300)
        assert ev["p_value_adjusted"] == pytest.approx(r["adjusted"], rel=1e-6, abs=1e-300)
        assert found[key].severity == ("error" if r["adjusted"] <= ALPHA else "info")
        assert ev["periods"] == ["2026-Q2", "2026-Q3"] and ev["test_periods"] == ["2026-W15", "2026-W40"]
    # the answers the data were built to give
    errors = {k: f.evidence["lag"] for k, f in found.items() if f.severity == "error"}
    assert errors == {("leads", "quality"): 0, ("leads", "tickets"): 2}
    assert "week by week one's gains go with the other's losses" in found[("leads", "quality")].title
    assert "r −0.9" in found[("leads", "quality")].title or "r −0.8" in found[("leads", "quality")].title
    info = found[("webinars", "nps")]
    assert info.severity == "info" and "moved apart from 2026-Q2 to 2026-Q3; weekly changes not related" in info.title


def test_negative_association_matches_scipy_with_gaps():
    rng = np.random.default_rng(3)
    x = rng.normal(size=30)
    y = -0.6 * np.roll(x, 3) + rng.normal(size=30)
    y[:3] = rng.normal(size=3)
    x[5], y[11] = np.nan, np.nan
    a = negative_association(x, y, 6)
    p = {}
    for k in range(7):
        u, v = x[:30 - k], y[k:]
        ok = ~np.isnan(u) & ~np.isnan(v)
        p[k] = stats.pearsonr(u[ok], v[ok], alternative="less")
    best = min(p, key=lambda k: p[k].pvalue)
    assert best == 3 and a.lag == 3 and a.lags_tested == 7
    assert a.correlation == pytest.approx(p[3].statistic, abs=1e-12)
    assert a.p_value == pytest.approx(min(1.0, 7 * p[3].pvalue), rel=1e-9)


def test_a_positive_relation_is_no_evidence_and_too_little_data_says_so():
    rng = np.random.default_rng(5)
    x = rng.normal(size=25)
    positive = negative_association(x, x + rng.normal(0, 0.1, 25), 0)
    assert positive.correlation > 0.9 and positive.p_value == 1.0
    short = negative_association(np.array([1.0, np.nan, 2.0]), np.array([0.5, 1.0, np.nan]), 2)
    assert short.p_value is None and short.correlation is None and short.lags_tested == 0
