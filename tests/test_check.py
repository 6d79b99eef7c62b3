"""`check`: accepted findings, expiry, ordering, fail-on thresholds, SARIF."""
from __future__ import annotations

import datetime as dt

from factory import write_project

from accord.check import run_check
from accord.findings import Finding, Location, sort_findings
from accord.project.loader import load_project
from accord.render.sarif import to_sarif

DEFS = """
sources:
  - {name: o, path: data/o.csv, key: id, time: created_at, freshness: {warn_after: 400d, error_after: 400d}}
metrics:
  - name: leads_created
    team: marketing
    level: company
    source: o
    measure: count(*)
accept:
  - {code: no-exclusions, metrics: [leads_created], owner: jo@x.example, reason: counts every lead by design, until: 2027-01-01}
  - {code: missing-owner, metrics: [leads_created], owner: jo@x.example, reason: hiring, until: 2026-03-01}
"""


def _project(tmp_path):
    return load_project(write_project(tmp_path, {"defs.yml": DEFS,
                                                 "data/o.csv": "id,created_at\n1,2026-01-01\n"}))


def test_accepts_apply_until_they_expire(tmp_path):
    p = _project(tmp_path)
    before = run_check(p, dt.date(2026, 2, 1))
    accepted = {f.code: f.accepted for f in before.accepted}
    assert accepted == {
        "no-exclusions": {"owner": "jo@x.example", "reason": "counts every lead by design", "until": "2027-01-01"},
        "missing-owner": {"owner": "jo@x.example", "reason": "hiring", "until": "2026-03-01"},
    }
    assert [f.code for f in before.open] == ["missing-decision"]

    after = run_check(p, dt.date(2026, 3, 2))
    assert sorted(f.code for f in after.open) == ["accepted-expired", "missing-decision", "missing-owner"]
    expired = next(f for f in after.open if f.code == "accepted-expired")
    assert expired.evidence["code"] == "missing-owner" and expired.owner == "jo@x.example"
    assert expired.location.line == 11  # the accept entry's line
    # the last day of an acceptance still counts
    assert "missing-owner" in {f.code for f in run_check(p, dt.date(2026, 3, 1)).accepted}


def test_failing_counts_only_open_findings_at_or_above_the_threshold(tmp_path):
    result = run_check(_project(tmp_path), dt.date(2026, 2, 1))
    assert result.failing("error") == []
    assert [f.code for f in result.failing("warning")] == ["missing-decision"]
    assert result.counts() == {"error": 0, "warning": 1, "info": 0, "accepted": 2}


def test_findings_sort_by_severity_code_then_metrics():
    f = lambda sev, code, *m: Finding(code, sev, "t", metrics=m)  # noqa: E731
    mixed = [f("info", "a", "x"), f("warning", "b", "z"), f("error", "z", "a"), f("warning", "b", "a"),
             f("warning", "a", "q")]
    assert [(x.severity, x.code, x.metrics) for x in sort_findings(mixed)] == [
        ("error", "z", ("a",)), ("warning", "a", ("q",)), ("warning", "b", ("a",)), ("warning", "b", ("z",)),
        ("info", "a", ("x",))]


def test_sarif_points_at_yaml_lines_and_marks_accepted_as_suppressed():
    findings = [Finding("missing-owner", "warning", "no owner", metrics=("m",), owner="lead@x",
                        location=Location("metrics/sales.yml", 12)),
                Finding("cycle", "error", "loop", metrics=("a", "b"), location=Location("m.yml", 3),
                        accepted={"owner": "o", "reason": "r", "until": "2027-01-01"}),
                Finding("duplicate-definition", "info", "dup")]
    sarif = to_sarif(findings, "analytics/metrics")
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["cycle", "duplicate-definition", "missing-owner"]
    first, second, third = run["results"]
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "analytics/metrics/metrics/sales.yml"
    assert loc["region"]["startLine"] == 12 and first["level"] == "warning"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "missing-owner"
    assert second["suppressions"][0]["kind"] == "external" and second["level"] == "error"
    assert third["level"] == "note" and "locations" not in third
