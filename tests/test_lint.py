"""Governance lint: each rule on a project built to trigger it, and not on one built not to."""
from __future__ import annotations

import pytest
from factory import write_project

from accord.project.lint import lint
from accord.project.loader import load_project

DATA = {"data/o.csv": "id,amount,created_at\n1,10,2026-01-01\n"}

SOURCE = """
sources:
  - {name: o, path: data/o.csv, key: id, time: created_at}
"""


def project(tmp_path, metrics: str, extra: str = "", config: str = "project: t\n"):
    files = dict(DATA)
    files["defs.yml"] = SOURCE + metrics + extra
    return load_project(write_project(tmp_path, files, config))


def codes(findings, code):
    return [f for f in findings if f.code == code]


GOOD = """
teams:
  - {name: sales, lead: lead@x.example}
metrics:
  - name: revenue
    team: sales
    level: company
    owner: a@x.example
    decision: Board deck
    source: o
    measure: sum(amount)
    exclude: []
  - name: deals
    team: sales
    level: function
    owner: a@x.example
    decision: Forecast
    source: o
    measure: count(*)
    exclude: []
    parents: [{metric: revenue}]
"""


def test_a_complete_project_has_no_findings(tmp_path):
    assert lint(project(tmp_path, GOOD)) == []


def test_missing_owner_names_the_team_lead_and_the_line(tmp_path):
    p = project(tmp_path, GOOD.replace("    owner: a@x.example\n    decision: Forecast", "    decision: Forecast"))
    [f] = codes(lint(p), "missing-owner")
    assert f.metrics == ("deals",) and f.owner == "lead@x.example" and f.severity == "warning"
    text = (tmp_path / "defs.yml").read_text().splitlines()
    assert text[f.location.line - 1].strip() == "- name: deals"
    assert f.location.file == "defs.yml"


def test_missing_decision_is_about_the_key_not_its_value(tmp_path):
    p = project(tmp_path, GOOD.replace("    decision: Forecast\n", ""))
    assert [f.metrics for f in codes(lint(p), "missing-decision")] == [("deals",)]


def test_no_exclusions_only_when_the_key_is_absent(tmp_path):
    text = GOOD.replace("    measure: count(*)\n    exclude: []\n", "    measure: count(*)\n")
    assert [f.metrics for f in codes(lint(project(tmp_path, text)), "no-exclusions")] == [("deals",)]


def test_too_many_metrics_per_team_and_level_and_for_the_company(tmp_path):
    role = "".join(f"""
  - name: r{i}
    team: sales
    level: role
    owner: a@x.example
    decision: d
    source: o
    measure: count(*)
    exclude: []
    parents: [{{metric: revenue}}]
""" for i in range(4))
    company = "".join(f"""
  - name: c{i}
    team: t{i % 2}
    level: company
    owner: a@x.example
    decision: d
    source: o
    measure: count(*)
    exclude: []
""" for i in range(3))
    p = project(tmp_path, GOOD + role + company, config="project: t\nsettings: {max_metrics_per_level: 3}\n")
    found = codes(lint(p), "too-many-metrics")
    by_level = {f.evidence["level"]: f for f in found}
    assert set(by_level) == {"role", "company"}
    assert by_level["role"].evidence["count"] == 4 and by_level["role"].teams == ("sales",)
    assert by_level["company"].evidence["count"] == 4  # revenue + c0..c2, across teams
    assert by_level["company"].metrics == ("c0", "c1", "c2", "revenue")


def test_orphans_follow_the_whole_path_up(tmp_path):
    extra = """
  - name: calls
    team: sales
    level: role
    owner: a@x.example
    decision: d
    source: o
    measure: count(*)
    exclude: []
    parents: [{metric: deals}]
  - name: legacy
    team: sales
    level: role
    owner: a@x.example
    decision: d
    source: o
    measure: count(*)
    exclude: []
  - name: loop_a
    team: sales
    level: role
    owner: a@x.example
    decision: d
    source: o
    measure: count(*)
    exclude: []
    parents: [{metric: loop_b}]
  - name: loop_b
    team: sales
    level: function
    owner: a@x.example
    decision: d
    source: o
    measure: count(*)
    exclude: []
    parents: [{metric: loop_a}]
"""
    found = lint(project(tmp_path, GOOD + extra))
    assert sorted(f.metrics[0] for f in codes(found, "orphan-metric")) == ["legacy", "loop_a", "loop_b"]
    [c] = codes(found, "cycle")
    assert c.metrics == ("loop_a", "loop_b") and c.severity == "error"
    assert c.evidence["cycle"] == ["loop_a", "loop_b", "loop_a"]


def test_unknown_references_everywhere(tmp_path):
    extra = """
handoffs:
  - {from: sales, to: finanse}
decisions:
  - label: Revenue
    decided_on: 2026-01-05
    owner: cfo@x.example
    canonical: [{metric: revenu}]
accept:
  - {code: no-exclusions, metrics: [ghost], owner: a@x.example, reason: r, until: 2027-01-01}
"""
    text = GOOD.replace("parents: [{metric: revenue}]", "parents: [{metric: revnue}]") + extra
    found = codes(lint(project(tmp_path, text)), "unknown-reference")
    names = sorted(f.evidence["name"] for f in found)
    assert names == ["finanse", "ghost", "revenu", "revnue"]
    parent = next(f for f in found if f.evidence["name"] == "revnue")
    assert "Did you mean 'revenue'?" in parent.title and parent.metrics == ("deals",)
    lines = (tmp_path / "defs.yml").read_text().splitlines()
    assert "revnue" in lines[parent.location.line - 1]


@pytest.mark.parametrize("team", ["sales", "marketing"])
def test_a_metric_of_an_undeclared_team(tmp_path, team):
    text = GOOD.replace("  - name: deals\n    team: sales", f"  - name: deals\n    team: {team}")
    found = codes(lint(project(tmp_path, text)), "unknown-reference")
    assert [f.evidence["name"] for f in found] == ([] if team == "sales" else ["marketing"])


RATIO = """
  - {name: o2, path: ./data/o.csv, key: id, time: created_at}
  - {name: other, path: data/other.csv, key: id, time: created_at}
metrics:
  - name: won
    team: sales
    level: company
    source: o
    measure: count(*)
    include: [{name: won deals, sql: "amount > 5"}]
    exclude: [{name: test accounts, sql: "id = 99"}]
  - name: all_deals
    team: sales
    level: company
    source: SIDE
    measure: count(*)
    exclude: DEN_EXCLUDE
  - name: win_rate
    team: sales
    level: company
    ratio: {numerator: won, denominator: all_deals}
teams:
  - {name: sales, lead: lead@x.example}
"""


def _ratio(tmp_path, den_exclude: str, side: str = "o"):
    files = dict(DATA)
    files["data/other.csv"] = "id,amount,created_at\n1,10,2026-01-01\n"
    files["defs.yml"] = SOURCE + RATIO.replace("DEN_EXCLUDE", den_exclude).replace("SIDE", side)
    return lint(load_project(write_project(tmp_path, files, "project: t\n")))


def test_ratio_mismatch_when_one_side_excludes_what_the_other_counts(tmp_path):
    [f] = codes(_ratio(tmp_path, "[]"), "ratio-mismatch")
    assert f.severity == "warning" and f.metrics == ("win_rate",)
    assert f.evidence["numerator_only_excludes"] == ["test accounts"]
    assert f.evidence["denominator_only_excludes"] == []
    assert "'won' leaves out 'test accounts', which 'all_deals' counts" in f.title
    text = (tmp_path / "defs.yml").read_text().splitlines()
    assert text[f.location.line - 1].strip().startswith("ratio:")


def test_ratio_mismatch_both_ways_and_named_by_each_side(tmp_path):
    [f] = codes(_ratio(tmp_path, "[{name: internal, sql: \"amount = 0\"}]"), "ratio-mismatch")
    assert f.evidence["numerator_only_excludes"] == ["test accounts"]
    assert f.evidence["denominator_only_excludes"] == ["internal"]


@pytest.mark.parametrize("exclude", [
    "[{name: test accounts, sql: \"id = 99\"}]",
    "[{name: tests (other name), sql: \"ID=99\"}]",          # names and formatting do not matter
])
def test_matched_excludes_and_differing_includes_are_silent(tmp_path, exclude):
    assert codes(_ratio(tmp_path, exclude), "ratio-mismatch") == []


def test_a_same_file_under_another_source_name_is_the_same_source(tmp_path):
    assert len(codes(_ratio(tmp_path, "[]", side="o2"), "ratio-mismatch")) == 1


def test_sides_on_different_sources_are_not_compared(tmp_path):
    assert codes(_ratio(tmp_path, "[]", side="other"), "ratio-mismatch") == []
