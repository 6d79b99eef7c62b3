"""The bridge on tables where every step is known by construction, and a property: steps sum to the gap."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from factory import write_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.analyze.bridge import reconcile
from accord.compute.run import compute
from accord.compute.connect import project_sandbox
from accord.engine import open_engine
from accord.errors import UserError
from accord.project.loader import load_project
import datetime as dt

A_ROWS = """id,stage,amount,created_at,is_test
1,SQL,100,2026-04-03,false
2,SQL,200,2026-04-20,false
3,Lead,50,2026-05-01,false
4,SQL,300,2026-06-02,true
5,SQL,70,2026-05-05,
6,Lead,20,2026-05-06,true
7,SQL,999,2026-08-01,false
,SQL,5,2026-05-01,false
"""
# 1: same; 2: amount changed (stale sync); 3: only in A; 4: in both, B counts it (no test rule) ;
# 5: dated in Q3 in B (period); 6: Lead + test: fails two of A's clauses, counted by B; 8: only in B
B_ROWS = """id,stage,amount,created_at,is_test
1,SQL,100,2026-04-03,false
2,SQL,260,2026-04-20,false
4,SQL,300,2026-06-02,true
5,SQL,70,2026-07-05,false
6,Lead,20,2026-05-06,true
8,Proposal,40,2026-06-30,false
"""
DEFS = """
sources:
  - {name: a_src, system: crm, path: data/a.csv, entity: opportunity, key: id, time: created_at}
  - {name: b_src, system: marketing_automation, path: data/b.csv, entity: opportunity, key: id, time: created_at}
  - {name: other, system: billing, path: data/b.csv, entity: invoice, key: id, time: created_at}
metrics:
  - name: a
    team: sales
    level: function
    source: a_src
    measure: sum(amount)
    include: [{name: qualified, sql: "stage = 'SQL'"}]
    exclude: [{name: tests, sql: is_test}]
  - name: b
    team: marketing
    level: function
    source: b_src
    measure: sum(amount)
  - name: a_count
    team: sales
    level: function
    source: a_src
    measure: count(*)
    exclude: [{name: tests, sql: is_test}]
  - name: a_all
    team: sales
    level: function
    source: a_src
    measure: count(distinct id)
  - name: a_median
    team: sales
    level: function
    source: a_src
    measure: median(amount)
  - name: rate
    team: sales
    level: function
    ratio: {numerator: a, denominator: b}
  - name: invoices
    team: finance
    level: function
    source: other
    measure: sum(amount)
"""


@pytest.fixture
def project(tmp_path):
    return load_project(write_project(tmp_path, {"defs.yml": DEFS, "data/a.csv": A_ROWS, "data/b.csv": B_ROWS},
                                      "project: b\nsettings: {as_of: 2026-10-01}\n"))


def steps(bridge):
    return {(s.kind, s.side, s.clause): (float(s.delta), s.records, s.examples) for s in bridge.steps}


def test_every_step_known_by_construction(project):
    with open_engine("duckdb", None, sandbox=project_sandbox(project)) as engine:
        br = reconcile(project, engine, "a", "b", "2026-Q2")
    # A: ids 1, 2, 5 (3 is a Lead, 4 and 6 tests, 7 in Q3, the keyless row counts but cannot be matched)
    assert br.a["value"] == 100 + 200 + 70 + 5
    # B: ids 1, 2, 4, 6, 8 (5 moved to Q3)
    assert br.b["value"] == 100 + 260 + 300 + 20 + 40
    assert steps(br) == {
        ("value-differs", None, None): (60.0, 1, ["2"]),
        ("clause", "a", "tests"): (300.0, 1, ["4"]),
        ("several-clauses", "a", None): (20.0, 1, ["6"]),
        ("clause", "b", "period"): (-70.0, 1, ["5"]),
        ("only-in-b", "b", None): (40.0, 1, ["8"]),
        ("no-key", "a", None): (-5.0, 1, []),   # counted by A, but it has no key to match
    }
    combos = next(s for s in br.steps if s.kind == "several-clauses").combinations
    assert combos == {"qualified + tests": 1}
    assert [s.kind for s in br.steps][:2] == ["clause", "clause"]  # sorted by size: 300, then −70
    assert sum(s.delta for s in br.steps) == br.gap


def test_a_value_equals_compute(project):
    with open_engine("duckdb", None, sandbox=project_sandbox(project)) as engine:
        br = reconcile(project, engine, "b", "a", "2026-Q2")
        rows = compute(project, engine, ["a", "b"], "quarter", dt.date(2026, 10, 1))
    values = {(r.metric, r.period): r.value for r in rows.rows}
    assert br.a["value"] == values[("b", "2026-Q2")] and br.b["value"] == values[("a", "2026-Q2")]


def test_same_source_pairs_match_each_row_with_itself(project):
    with open_engine("duckdb", None, sandbox=project_sandbox(project)) as engine:
        br = reconcile(project, engine, "a_count", "a_all", "2026-Q2")
    # a_count: ids 1,2,3,5,<null> (4, 6 tests); a_all counts the distinct ids of Q2: 1,2,3,4,5,6 (NULL is no id)
    assert (br.a["value"], br.b["value"]) == (5, 6)
    # the keyless row is 1 for count(*) and 0 for count(distinct id): same record, different values
    assert steps(br) == {("clause", "a", "tests"): (2.0, 2, ["4", "6"]),
                         ("value-differs", None, None): (-1.0, 1, [])}


def test_refusals(project):
    with open_engine("duckdb", None, sandbox=project_sandbox(project)) as engine:
        for args, words in ((("a", "invoices"), "different entities"), (("a_median", "a"), "not additive"),
                            (("rate", "a"), "bridge its numerator and denominator"),
                            (("a", "bb"), "Did you mean 'b'?")):
            with pytest.raises(UserError) as e:
                reconcile(project, engine, *args, "2026-Q2")
            assert words in str(e.value)


def test_cli_json_shape_and_exit_codes(project):
    cmd = [sys.executable, "-m", "accord.cli", "reconcile", "a", "b", "--period", "2026-Q2",
           "--project", str(project.root)]
    r = subprocess.run(cmd + ["--format", "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"a", "b", "period", "gap", "steps"}
    assert set(data["a"]) == {"metric", "value", "source", "system"}
    assert set(data["steps"][0]) >= {"kind", "side", "clause", "delta", "records", "examples"}
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0 and "exists only in marketing automation" in r.stdout
    r = subprocess.run(cmd[:5] + ["invoices", "--period", "2026-Q2", "--project", str(project.root)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "different entities" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------- property: steps sum to the gap

row = st.tuples(st.integers(0, 30), st.sampled_from(["SQL", "Lead", None]), st.integers(-50, 500),
                st.sampled_from(["2026-04-02", "2026-06-30", "2026-07-01", None]), st.sampled_from([True, False, None]))
CLAUSES = st.lists(st.sampled_from([("include", "stage = 'SQL'"), ("exclude", "is_test"),
                                    ("include", "amount > 100"), ("exclude", "stage = 'Lead'")]),
                   unique=True, max_size=3)


def _table(rows, path):
    """Typed Parquet (so a column of NULLs keeps its type); the first row of a key wins."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    first = {}
    for r in rows:
        first.setdefault(r[0], r)
    cols = list(zip(*first.values()))
    schema = pa.schema([("id", pa.int64()), ("stage", pa.string()), ("amount", pa.int64()),
                        ("created_at", pa.string()), ("is_test", pa.bool_())])
    pq.write_table(pa.table([list(c) for c in cols], schema=schema), path)
    return first


def _metric(name, source, clauses):
    text = f"  - name: {name}\n    team: t\n    level: role\n    source: {source}\n    measure: sum(amount)\n"
    for side in ("include", "exclude"):
        items = [sql for s, sql in clauses if s == side]
        if items:
            text += f"    {side}:\n" + "".join(f"      - {{name: c{i}, sql: \"{sql}\"}}\n" for i, sql in enumerate(items))
    return text


def _brute(rows, clauses):
    """Counted value by a Python loop: includes must be TRUE, excludes must not be TRUE."""
    def holds(sql, r):
        _, stage, amount, day, test = r
        return {"stage = 'SQL'": None if stage is None else stage == "SQL", "is_test": test,
                "amount > 100": amount > 100, "stage = 'Lead'": None if stage is None else stage == "Lead"}[sql]
    total = 0
    for r in rows.values():
        if r[3] is None or not ("2026-04-01" <= r[3] < "2026-07-01"):
            continue
        if all(holds(s, r) is True for side, s in clauses if side == "include") and \
                not any(holds(s, r) is True for side, s in clauses if side == "exclude"):
            total += r[2]
    return total


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=25), st.lists(row, min_size=1, max_size=25), CLAUSES, CLAUSES)
def test_steps_sum_to_the_gap(tmp_path_factory, rows_a, rows_b, clauses_a, clauses_b):
    root = tmp_path_factory.mktemp("prop")
    by_a, by_b = _table(rows_a, root / "a.parquet"), _table(rows_b, root / "b.parquet")
    defs = ("sources:\n  - {name: sa, path: a.parquet, entity: e, key: id, time: created_at}\n"
            "  - {name: sb, path: b.parquet, entity: e, key: id, time: created_at}\nmetrics:\n"
            + _metric("ma", "sa", clauses_a) + _metric("mb", "sb", clauses_b))
    project = load_project(write_project(root, {"defs.yml": defs}))
    days = [r[3] for r in list(by_a.values()) + list(by_b.values()) if r[3] is not None]
    if not any(d < "2026-07-01" for d in days):   # every record after the period, or none with a time
        with open_engine("duckdb", None, sandbox=project_sandbox(project)) as engine, \
                pytest.raises(UserError, match="there is no data (in 2026-Q2: the first record is of 2026-07-01|to "
                                               "bridge)"):
            reconcile(project, engine, "ma", "mb", "2026-Q2")
        return
    with open_engine("duckdb", None, sandbox=project_sandbox(project)) as engine:
        br = reconcile(project, engine, "ma", "mb", "2026-Q2")
    assert br.a["value"] == _brute(by_a, clauses_a) and br.b["value"] == _brute(by_b, clauses_b)
    assert sum(s.delta for s in br.steps) == br.b["value"] - br.a["value"]
    assert all(s.delta != 0 for s in br.steps)


def test_check_bridges_sources_that_share_a_label(tmp_path):
    from accord.analyze.disagreement import source_disagreements
    defs = DEFS.replace("  - name: a\n    team: sales", "  - name: a\n    label: Pipeline\n    team: sales")
    defs = defs.replace("  - name: b\n    team: marketing", "  - name: b\n    label: pipeline\n    team: marketing")
    project = load_project(write_project(tmp_path, {"defs.yml": defs, "data/a.csv": A_ROWS, "data/b.csv": B_ROWS}))
    with open_engine("duckdb", None, sandbox=project_sandbox(project)) as engine:
        [f] = source_disagreements(project, engine, dt.date(2026, 10, 1))
    # last complete quarter: Q3. A counts id 7 (999); B counts id 5 (70, dated Q2 in A)
    assert f.metrics == ("a", "b") and f.evidence["period"] == "2026-Q3"
    assert f.evidence["gap"] == 70 - 999
    assert f.evidence["gap_relative"] == pytest.approx((70 - 999) / 999)
    assert f.evidence["largest_step"]["kind"] == "only-in-a" and f.evidence["largest_step"]["delta"] == -999
    assert "1 opportunity exists only in crm" in f.title and "\u221293%" in f.title and f.severity == "error"
    # the other step runs against the gap: B's 70 offsets part of A's 999
    assert "largest single reason: \u2212999" in f.title and "partly offset by +70" in f.title


def test_html_is_one_offline_file_with_the_waterfall(project, tmp_path):
    out = tmp_path / "bridge.html"
    r = subprocess.run([sys.executable, "-m", "accord.cli", "reconcile", "a", "b", "--period", "2026-Q2",
                        "--project", str(project.root), "--format", "html", "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import html as html_lib
    html = html_lib.unescape(out.read_text())
    assert "<svg" in html and "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "1 opportunity exists only in marketing automation" in html
    assert "is left out by marketing's rule" not in html  # b has no clauses, so no step blames one
    assert "counted by b is left out by sales' rule 'tests'" in html
    # a phone gets the same bars drawn at its width with short labels (A, 1…n, B); the table numbers the steps
    assert html.count("<svg") == 2 and '<div class="only-narrow">' in html and '<div class="only-wide">' in html
    assert html.count("<tr>") == 2 + len(json.loads(subprocess.run(
        [sys.executable, "-m", "accord.cli", "reconcile", "a", "b", "--period", "2026-Q2", "--project",
         str(project.root), "--format", "json"], capture_output=True, text=True).stdout)["steps"]) + 1
