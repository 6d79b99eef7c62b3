"""Label normalization, definition normalization, fingerprints, label collisions and duplicates."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from factory import write_project

from accord.analyze.collisions import collisions, differences, spread
from accord.compute.connect import project_sandbox
from accord.engine import open_engine
from accord.project.fingerprint import fingerprint
from accord.project.labels import normalize_label
from accord.project.loader import load_project
from accord.sql.expressions import parse_fragment
from accord.sql.normalize import normalized_sql


@pytest.mark.parametrize("a, b, same", [
    ("Qualified Leads", "qualified lead", True),
    ("  Qualified   lead ", "Qualified-Lead", True),
    ("Pipeline", "pipeline.", True),
    ("Pipeline", "Pipelines", True),
    ("ARR", "arr", True),
    ("Business", "business", True),      # 'ss' is not a plural
    ("Pipeline", "Open pipeline", False),
    ("New ARR", "Net new ARR", False),
    ("Lead", "Leads created", False),
])
def test_label_normalization(a, b, same):
    assert (normalize_label(a) == normalize_label(b)) is same


def test_synonyms_are_whole_labels():
    syn = {"pipeline": ["pipe", "open pipeline"]}
    assert normalize_label("Open Pipeline", syn) == normalize_label("pipeline", syn) == normalize_label("Pipe", syn)
    assert normalize_label("pipe dream", syn) == "pipe dream"


@pytest.mark.parametrize("a, b", [
    ("stage in ('x', 'y')", "stage = 'y' or stage = 'x'"),
    ("stage IN ('x','y')", '"stage" in (\'y\', \'x\')'),
    ("a > 1 and b < 2", "(b < 2) AND (a > 1)"),
    ("o.stage = 'x'", "'x' = stage"),
    ("a and (b and c)", "(c and a) and b"),
    ("1000 <= amount", "amount >= 1000"),
    ("5 > x and 'a' <> stage", "x < 5 and stage != 'a'"),
    ("x = 1 or stage in ('a') or stage = 'b'", "stage in ('b', 'a') or x = 1"),
])
def test_equivalent_fragments_normalize_alike(a, b):
    assert normalized_sql(parse_fragment(a)) == normalized_sql(parse_fragment(b))


@pytest.mark.parametrize("a, b", [
    ("not (a or b) and c", "(not a) or (b and c)"),
    ("stage in ('x', 'y')", "stage in ('x', 'z')"),
    ("a > 1", "a >= 1"),
    ("a - (b - c)", "(a - b) - c"),
])
def test_different_fragments_stay_different(a, b):
    assert normalized_sql(parse_fragment(a)) != normalized_sql(parse_fragment(b))


DATA = """id,stage,amount,created_at,expected_close,is_test
1,SQL,100,2026-04-03,2026-05-01,false
2,Proposal,200,2026-04-20,2026-07-01,true
3,Lead,50,2026-05-01,2026-06-01,false
4,SQL,300,2026-06-02,2026-06-20,
5,Proposal,80,2026-03-30,2026-04-02,false
"""

DEFS = """
sources:
  - {name: crm, system: crm, path: data/crm.csv, entity: opportunity, key: id, time: created_at}
  - {name: ma, system: marketing_automation, path: data/ma.csv, entity: opportunity, key: id, time: created_at}
metrics:
  - name: sales_pipeline
    label: Pipeline
    team: sales
    level: function
    confidence: CONFIDENCE
    source: crm
    measure: sum(amount)
    include: [{name: qualified stages, sql: "stage in ('SQL','Proposal')"}]
    exclude: [{name: test accounts, sql: is_test}]
  - name: marketing_pipeline
    label: pipe
    team: marketing
    level: function
    source: ma
    measure: SUM(amount)
    time: expected_close
  - name: sales_pipeline_copy
    team: revops
    level: function
    source: crm
    measure: sum( amount )
    exclude: [{name: tests, sql: "(is_test)"}]
    include: [{name: q, sql: "stage = 'Proposal' or stage = 'SQL'"}]
"""


def _project(tmp_path, confidence="directional", synonyms="{pipeline: [pipe]}", defs=DEFS):
    return load_project(write_project(
        tmp_path, {"defs.yml": defs.replace("CONFIDENCE", confidence), "data/crm.csv": DATA, "data/ma.csv": DATA},
        f"project: c\nsettings: {{as_of: 2026-07-20, synonyms: {synonyms}}}\n"))


def _find(findings, code):
    return [f for f in findings if f.code == code]


def test_fingerprints_ignore_form_and_follow_meaning(tmp_path):
    p = _project(tmp_path)
    fp = {m.name: fingerprint(p, m) for m in p.metrics}
    assert fp["sales_pipeline"] == fp["sales_pipeline_copy"]
    assert fp["sales_pipeline"] != fp["marketing_pipeline"]
    changed = _project(tmp_path / "b", defs=DEFS.replace(
        "    exclude: [{name: tests, sql: \"(is_test)\"}]\n    include: [{name: q, sql: \"stage = 'Proposal' or stage = 'SQL'\"}]",
        "    include: [{name: q, sql: \"stage = 'Proposal' or stage = 'SQL'\"}, {name: tests, sql: \"not is_test\"}]"))
    assert changed.metric("sales_pipeline_copy").exclude is None
    # an exclude that is NULL keeps the row; an include of NOT x drops it: different meanings
    assert fingerprint(changed, changed.metric("sales_pipeline_copy")) != fp["sales_pipeline"]


def test_collision_values_spread_and_words(tmp_path):
    p = _project(tmp_path)
    with open_engine("duckdb", None, sandbox=project_sandbox(p)) as engine:
        found = collisions(p, engine, dt.date(2026, 7, 20))
    [c] = _find(found, "label-collision")
    assert c.metrics == ("marketing_pipeline", "sales_pipeline") and c.teams == ("marketing", "sales")
    path = tmp_path / "data/crm.csv"
    sales, marketing = duckdb.sql(f"""
        select sum(amount) filter (where created_at >= '2026-04-01' and created_at < '2026-07-01'
                                    and stage in ('SQL', 'Proposal') and not coalesce(is_test, false)),
               sum(amount) filter (where expected_close >= '2026-04-01' and expected_close < '2026-07-01')
        from read_csv('{path}')""").fetchall()[0]
    values = {d["metric"]: d["value"] for d in c.evidence["definitions"]}
    assert values == {"sales_pipeline": sales, "marketing_pipeline": marketing}
    assert c.evidence["period"] == "2026-Q2"
    assert c.evidence["spread"] == pytest.approx((max(sales, marketing) - min(sales, marketing)) / max(sales, marketing))
    assert c.severity == "error"  # spread 25% > 10%
    words = c.evidence["differences"]
    assert "marketing dates by expected_close, sales by created_at" in words
    assert any(w.startswith("sales excludes test accounts") and w.endswith("marketing does not") for w in words)
    [d] = _find(found, "duplicate-definition")
    assert d.metrics == ("sales_pipeline", "sales_pipeline_copy") and d.severity == "info"


@pytest.mark.parametrize("confidence, limit, severity", [
    ("directional", 0.10, "error"),       # spread 130/530 = 25% over the limit
    ("directional", 0.30, "warning"),     # under the limit, nobody relies on it for decisions
    ("board-grade", 0.30, "error"),       # under the limit, but a board number
])
def test_collision_severity(tmp_path, confidence, limit, severity):
    root = write_project(tmp_path, {"defs.yml": DEFS.replace("CONFIDENCE", confidence),
                                    "data/crm.csv": DATA, "data/ma.csv": DATA},
                         f"project: c\nsettings: {{as_of: 2026-07-20, synonyms: {{pipeline: [pipe]}}, "
                         f"collision_spread: {limit}}}\n")
    p = load_project(root)
    with open_engine("duckdb", None, sandbox=project_sandbox(p)) as engine:
        [c] = _find(collisions(p, engine, dt.date(2026, 7, 20)), "label-collision")
    assert c.severity == severity


def test_without_the_synonym_there_is_no_collision(tmp_path):
    p = _project(tmp_path, synonyms="{}")
    with open_engine("duckdb", None, sandbox=project_sandbox(p)) as engine:
        assert _find(collisions(p, engine, dt.date(2026, 7, 20)), "label-collision") == []


def test_a_decision_with_matching_fingerprints_turns_the_collision_to_info(tmp_path):
    p = _project(tmp_path)
    fp = {m.name: fingerprint(p, m) for m in p.metrics}
    decision = f"""
decisions:
  - label: Pipeline
    decided_on: 2026-06-01
    owner: revops@x.example
    canonical: [{{metric: sales_pipeline, for: [forecast], fingerprint: {fp['sales_pipeline']}}}]
    alternates: [{{metric: marketing_pipeline, for: [channels], fingerprint: FP}}]
"""
    for recorded, severity in ((fp["marketing_pipeline"], "info"), ("not-the-same", "error")):
        root = tmp_path / severity
        write_project(root, {"defs.yml": DEFS.replace("CONFIDENCE", "directional"), "data/crm.csv": DATA,
                             "data/ma.csv": DATA, "decisions.yml": decision.replace("FP", recorded)},
                      "project: c\nsettings: {as_of: 2026-07-20, synonyms: {pipeline: [pipe]}}\n")
        p = load_project(root)
        with open_engine("duckdb", None, sandbox=project_sandbox(p)) as engine:
            [c] = _find(collisions(p, engine, dt.date(2026, 7, 20)), "label-collision")
        assert c.severity == severity
        assert c.evidence["decision"]["uncovered"] == ([] if severity == "info" else ["marketing_pipeline"])


def test_spread():
    assert spread([100.0, 80.0]) == pytest.approx(0.2)
    assert spread([-50.0, -100.0]) == pytest.approx(1.0)   # (max − min) / |max|
    assert spread([None, 5.0]) is None and spread([0.0, -1.0]) is None
