"""Fingerprints recorded by decisions: the same under any rewriting of a definition, different for any change
of meaning — so `unapproved-change` fires exactly when the number would change."""
from __future__ import annotations

import pytest
from factory import write_project

from accord.project.fingerprint import fingerprint
from accord.project.loader import load_project

SOURCES = """
sources:
  - {name: crm, path: data/crm.csv, key: id, time: created_at}
  - {name: crm_copy, path: data/crm.csv, key: id, time: created_at}
  - {name: sheet, path: data/sheet.csv, key: id, time: created_at}
"""

BASE = """
metrics:
  - name: pipeline
    label: Pipeline
    team: sales
    level: function
    owner: ana@x.example
    description: Qualified pipeline.
    source: crm
    measure: sum(amount)
    include:
      - {name: qualified stages, sql: "stage in ('SQL', 'Proposal')"}
      - {name: big deals, sql: "amount >= 1000"}
    exclude:
      - {name: test accounts, sql: is_test}
      - {name: renewals, sql: "type = 'Renewal'"}
"""

SAME = {
    "flow style and quoting": """
metrics:
  - {name: pipeline, label: 'Pipeline', team: sales, level: function, source: crm, measure: "SUM( amount )",
     include: [{name: q, sql: "stage IN ('Proposal','SQL')"}, {name: b, sql: "amount>=1000"}],
     exclude: [{name: r, sql: "type='Renewal'"}, {name: t, sql: "(is_test)"}]}
""",
    "clauses reordered and renamed": """
metrics:
  - name: pipeline
    team: sales
    level: function
    source: crm
    measure: sum(amount)
    exclude:
      - {name: no renewals, sql: "type = 'Renewal'"}
      - {name: no tests, sql: is_test}
    include:
      - {name: size, sql: "amount >= 1000"}
      - {name: stage, sql: "stage = 'Proposal' or stage = 'SQL'"}
""",
    "includes joined into one clause": """
metrics:
  - name: pipeline
    team: sales
    level: function
    source: crm
    measure: sum(amount)
    include: [{name: all, sql: "amount >= 1000 and stage in ('SQL', 'Proposal')"}]
    exclude: [{name: t, sql: is_test}, {name: r, sql: "type = 'Renewal'"}]
""",
    "owner, label, description, team and status": """
metrics:
  - name: pipeline
    label: Qualified pipeline
    team: revops
    level: company
    owner: someone.else@x.example
    description: Something else entirely.
    status: canonical
    confidence: board-grade
    source: crm
    measure: sum(amount)
    time: created_at
    include: [{name: a, sql: "stage in ('SQL', 'Proposal')"}, {name: b, sql: "amount >= 1000"}]
    exclude: [{name: c, sql: is_test}, {name: d, sql: "type = 'Renewal'"}]
""",
    "another source name for the same data": BASE.replace("source: crm\n", "source: crm_copy\n"),
}

CHANGED = {
    "measure": ("measure: sum(amount)", "measure: count(*)"),
    "measure argument": ("measure: sum(amount)", "measure: sum(amount * 0.5)"),
    "time column": ("measure: sum(amount)\n", "measure: sum(amount)\n    time: closed_at\n"),
    "source data": ("source: crm\n", "source: sheet\n"),
    "an include value": ("'SQL', 'Proposal'", "'SQL', 'Negotiation'"),
    "an include bound": ("amount >= 1000", "amount > 1000"),
    "an include removed": ("      - {name: big deals, sql: \"amount >= 1000\"}\n", ""),
    "an exclude removed": ("      - {name: test accounts, sql: is_test}\n", ""),
    "an exclude made an include": ("      - {name: big deals, sql: \"amount >= 1000\"}\n",
                                   "      - {name: big deals, sql: \"amount >= 1000\"}\n"
                                   "      - {name: no tests, sql: \"not is_test\"}\n"),
    "an exclude added": ("      - {name: renewals, sql: \"type = 'Renewal'\"}\n",
                         "      - {name: renewals, sql: \"type = 'Renewal'\"}\n"
                         "      - {name: partners, sql: \"channel = 'partner'\"}\n"),
}


def _fp(tmp_path, metrics: str) -> str:
    root = write_project(tmp_path, {"defs.yml": SOURCES + metrics, "data/crm.csv": "id\n1\n",
                                    "data/sheet.csv": "id\n1\n"})
    p = load_project(root)
    return fingerprint(p, p.metric("pipeline"))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return _fp(tmp_path_factory.mktemp("base"), BASE)


@pytest.mark.parametrize("case", sorted(SAME))
def test_rewriting_a_definition_keeps_its_fingerprint(tmp_path, base, case):
    assert _fp(tmp_path, SAME[case]) == base


@pytest.mark.parametrize("case", sorted(CHANGED))
def test_any_change_of_meaning_changes_it(tmp_path, base, case):
    old, new = CHANGED[case]
    assert old in BASE
    assert _fp(tmp_path, BASE.replace(old, new)) != base


def test_a_flipped_comparison_keeps_the_fingerprint(tmp_path, base):
    assert _fp(tmp_path, BASE.replace("amount >= 1000", "1000 <= amount")) == base


def test_a_ratio_follows_the_metrics_it_divides(tmp_path):
    ratio = """
  - {name: won, team: sales, level: role, source: crm, measure: count(*), include: [{name: w, sql: "stage = 'Won'"}]}
  - {name: share, team: sales, level: role, ratio: {numerator: won, denominator: pipeline}}
"""
    root = write_project(tmp_path / "a", {"defs.yml": SOURCES + BASE + ratio, "data/crm.csv": "id\n1\n",
                                          "data/sheet.csv": "id\n1\n"})
    p = load_project(root)
    changed = load_project(write_project(tmp_path / "b", {
        "defs.yml": SOURCES + BASE.replace("amount >= 1000", "amount >= 2000") + ratio,
        "data/crm.csv": "id\n1\n", "data/sheet.csv": "id\n1\n"}))
    assert fingerprint(p, p.metric("share")) != fingerprint(changed, changed.metric("share"))
    assert fingerprint(p, p.metric("won")) == fingerprint(changed, changed.metric("won"))
