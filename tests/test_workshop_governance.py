"""Governance findings on temporary projects with an injected as-of, approvals, and what check makes of them."""
from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from factory import snapshot, write_project

from accord.check import DIAGNOSTICS, decision_governance, label_collisions, run_check
from accord.errors import UserError
from accord.project.fingerprint import fingerprint
from accord.project.loader import load_project
from accord.workshop.approve import approve
from accord.workshop.governance import governance_findings, next_review

DEFS = """
teams:
  - {name: sales, lead: lead@x.example}
  - {name: marketing, lead: jo@x.example}
sources:
  - {name: crm, system: crm, path: data/crm.csv, entity: opportunity, key: id, time: created_at}
  - {name: ma, system: marketing_automation, path: data/ma.csv, entity: opportunity, key: id, time: created_at}
metrics:
  - name: sales_pipeline
    label: Pipeline
    team: sales
    level: function
    owner: ana@x.example
    decision: Weekly forecast
    source: crm
    measure: sum(amount)
    include: [{name: qualified, sql: "stage in ('SQL', 'Proposal')"}]
    exclude: []
  - name: marketing_pipeline
    label: Pipeline
    team: marketing
    level: function
    decision: Channel budget
    source: ma
    measure: sum(amount)
    exclude: []
"""
DATA = "id,stage,amount,created_at\n1,SQL,100,2026-04-03\n2,Lead,50,2026-05-03\n"

DECISION = """
decisions:
  - label: pipeline
    decided_on: 2026-01-15
    owner: revops@x.example
    canonical: [{metric: sales_pipeline, for: [forecast], fingerprint: SALES}]
    alternates: [{metric: marketing_pipeline, for: [channels], fingerprint: MARKETING}]
    review_every: quarter
    follow_ups:
      - {task: Clean the stages, owner: ops@x.example, due: 2026-05-01, done: false}
      - {task: Relabel the dashboard, due: 2026-03-01, done: true}
"""

FAST = (label_collisions, decision_governance)   # what these tests look at, without the statistics


def _project(tmp_path, decision: str | None = None, defs: str = DEFS):
    files = {"defs.yml": defs, "data/crm.csv": DATA, "data/ma.csv": DATA}
    root = write_project(tmp_path / "p", files, "project: t\nsettings: {as_of: 2026-07-10}\n")
    if decision is not None:
        p = load_project(root)
        (root / "decisions.yml").write_text(decision.replace("SALES", fingerprint(p, p.metric("sales_pipeline")))
                                            .replace("MARKETING", fingerprint(p, p.metric("marketing_pipeline"))))
    return load_project(root)


def _codes(findings, code):
    return [f for f in findings if f.code == code]


def test_the_check_runs_the_governance_findings():
    assert "decision_governance" in [d.__name__ for d in DIAGNOSTICS]


def test_a_collision_without_a_decision_is_an_unresolved_conflict(tmp_path):
    p = _project(tmp_path)
    [f] = governance_findings(p, dt.date(2026, 7, 10))
    assert (f.code, f.severity) == ("unresolved-conflict", "error")
    assert f.metrics == ("marketing_pipeline", "sales_pipeline") and f.teams == ("marketing", "sales")
    assert f.owner == "jo@x.example"                              # first metric named: no owner, so its team lead
    assert (f.location.file, f.location.line) == ("defs.yml", 18)  # the first metric's line
    assert "accord workshop kit 'Pipeline'" in f.title


def test_a_decision_covering_every_metric_settles_it_and_turns_the_collision_to_info(tmp_path):
    p = _project(tmp_path, DECISION.split("    follow_ups:\n")[0])
    assert governance_findings(p, dt.date(2026, 4, 15)) == []     # review due on the day: not overdue yet
    result = run_check(p, dt.date(2026, 4, 15), diagnostics=FAST)
    [c] = _codes(result.findings, "label-collision")
    assert c.severity == "info" and _codes(result.findings, "unresolved-conflict") == []


def test_unresolved_items_and_unnamed_metrics_keep_the_conflict_open(tmp_path):
    decision = DECISION.replace("    review_every: quarter\n", "    unresolved: [Finance weighting is not agreed]\n")
    p = _project(tmp_path, decision)
    [f] = _codes(governance_findings(p, dt.date(2026, 4, 1)), "unresolved-conflict")
    assert f.severity == "error" and "Finance weighting is not agreed" in f.title
    assert (f.location.file, f.location.line) == ("decisions.yml", 3) and f.owner == "revops@x.example"
    assert f.evidence["unresolved"] == ["Finance weighting is not agreed"]
    [c] = _codes(run_check(p, dt.date(2026, 4, 1), diagnostics=FAST).findings, "label-collision")
    assert c.severity != "info"
    # a decision that leaves one of the label's metrics out
    lean = DECISION.replace("    alternates: [{metric: marketing_pipeline, for: [channels], fingerprint: MARKETING}]\n",
                            "")
    [f] = _codes(governance_findings(_project(tmp_path / "b", lean), dt.date(2026, 4, 1)), "unresolved-conflict")
    assert f.evidence["unnamed"] == ["marketing_pipeline"] and "marketing_pipeline (marketing)" in f.title
    assert f.metrics == ("marketing_pipeline", "sales_pipeline")


@pytest.mark.parametrize("today, overdue", [(dt.date(2026, 4, 15), False), (dt.date(2026, 4, 16), True)])
def test_review_overdue_after_the_review_period(tmp_path, today, overdue):
    p = _project(tmp_path, DECISION)
    assert next_review(p.decisions[0]) == dt.date(2026, 4, 15)
    found = _codes(governance_findings(p, today), "review-overdue")
    assert bool(found) is overdue
    if overdue:
        [f] = found
        assert f.severity == "warning" and f.owner == "revops@x.example" and f.location.line == 3
        assert f.metrics == ("marketing_pipeline", "sales_pipeline") and f.evidence["review_due"] == "2026-04-15"


def test_next_review_clamps_to_the_end_of_the_month(tmp_path):
    p = _project(tmp_path, DECISION.replace("2026-01-15", "2026-01-31").replace("quarter", "month"))
    assert next_review(p.decisions[0]) == dt.date(2026, 2, 28)


@pytest.mark.parametrize("today, tasks", [
    (dt.date(2026, 5, 1), []),                              # due today: not overdue yet
    (dt.date(2026, 5, 2), ["Clean the stages"]),            # the done one never is
])
def test_follow_up_overdue_after_its_due_date_unless_done(tmp_path, today, tasks):
    p = _project(tmp_path, DECISION.replace("review_every: quarter", "review_every: year"))
    found = _codes(governance_findings(p, today), "follow-up-overdue")
    assert [f.evidence["task"] for f in found] == tasks
    for f in found:
        assert f.severity == "warning" and f.owner == "ops@x.example" and f.location.line == 3


def test_a_changed_definition_is_an_unapproved_change_until_approved(tmp_path):
    p = _project(tmp_path, DECISION)
    defs = p.root / "defs.yml"
    defs.write_text(defs.read_text().replace("stage in ('SQL', 'Proposal')", "stage = 'SQL'"))
    p = load_project(p.root)
    [f] = _codes(governance_findings(p, dt.date(2026, 2, 1)), "unapproved-change")
    assert (f.severity, f.metrics, f.owner) == ("error", ("sales_pipeline",), "ana@x.example")
    assert (f.location.file, f.location.line) == ("decisions.yml", 3)
    assert f.evidence["fingerprint"] == fingerprint(p, p.metric("sales_pipeline"))
    assert f.evidence["recorded_fingerprint"] in f.title                # no history: the fingerprints
    assert "accord workshop approve sales_pipeline --by EMAIL" in f.title
    assert f.evidence["approvers"] == ["ana@x.example", "revops@x.example"]
    [c] = _codes(run_check(p, dt.date(2026, 2, 1), diagnostics=FAST).findings, "label-collision")
    assert c.severity != "info"

    before = snapshot(p.root)
    with pytest.raises(UserError, match="only ana@x.example or revops@x.example may"):
        approve(p, "sales_pipeline", "jo@x.example", dt.date(2026, 2, 2))
    with pytest.raises(UserError, match="metric 'sales_pipelin' is not defined. Did you mean 'sales_pipeline'"):
        approve(p, "sales_pipelin", "ana@x.example", dt.date(2026, 2, 2))
    assert snapshot(p.root) == before
    [a] = approve(p, "sales_pipeline", "Ana@X.example", dt.date(2026, 2, 2))    # the metric's owner, any case
    assert a.changed and a.fingerprint == fingerprint(p, p.metric("sales_pipeline"))
    p = load_project(p.root)
    assert _codes(governance_findings(p, dt.date(2026, 2, 2)), "unapproved-change") == []
    [d] = p.decisions
    assert [(x.metric, x.by, x.on, x.fingerprint) for x in d.approvals] == [
        ("sales_pipeline", "Ana@X.example", dt.date(2026, 2, 2), a.fingerprint)]
    assert d.canonical[0].fingerprint == a.fingerprint
    # approving what already matches writes nothing; the decision's owner may approve too
    before = snapshot(p.root)
    [again] = approve(p, "sales_pipeline", "revops@x.example", dt.date(2026, 2, 3))
    assert not again.changed and snapshot(p.root) == before


def test_a_decision_without_fingerprints_cannot_be_checked(tmp_path):
    p = _project(tmp_path, DECISION.replace(", fingerprint: MARKETING", ""))
    [f] = _codes(governance_findings(p, dt.date(2026, 2, 1)), "unapproved-change")
    assert f.metrics == ("marketing_pipeline",) and "no fingerprint" in f.title
    assert f.owner == "jo@x.example"    # the metric has no owner: its team's lead


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@x.example", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


def test_with_git_history_the_change_is_said_in_words(tmp_path):
    p = _project(tmp_path, DECISION)
    _git(p.root, "init", "-q")
    _git(p.root, "add", "-A")
    _git(p.root, "commit", "-qm", "decided")
    defs = p.root / "defs.yml"
    before, after = "    exclude: []\n  - name: marketing_pipeline", "    exclude: [{name: tests, sql: is_test}]\n"
    defs.write_text(defs.read_text().replace(before, after + "  - name: marketing_pipeline"))
    [f] = _codes(governance_findings(load_project(p.root), dt.date(2026, 2, 1)), "unapproved-change")
    assert f.evidence["changes"] == ["exclude clause 'tests' added: `is_test`"]
    assert "exclude clause 'tests' added" in f.title


def test_approve_command_refuses_others_with_exit_2(tmp_path):
    from typer.testing import CliRunner

    from accord.cli import app
    p = _project(tmp_path, DECISION)
    before = snapshot(p.root)
    r = CliRunner().invoke(app, ["workshop", "approve", "sales_pipeline", "--by", "mallory@x.example",
                                 "--project", str(p.root)])
    assert r.exit_code == 2 and "may not approve" in r.stderr
    assert snapshot(p.root) == before
