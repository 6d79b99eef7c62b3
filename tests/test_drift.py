"""`accord diff` and `definition-drift` on a temporary git repository."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import duckdb
import pytest
from factory import write_project

from accord.check import run_check
from accord.project.loader import load_project

DEFS = """
sources:
  - {name: opps, path: data/opps.csv, entity: opportunity, key: id, time: created_at}
metrics:
  - name: pipeline
    team: sales
    level: company
    confidence: board-grade
    owner: ana@x.example
    source: opps
    measure: sum(amount)
    include: [{name: qualified, sql: "stage in ('SQL', 'Proposal')"}]
  - name: deals
    team: sales
    level: function
    source: opps
    measure: count(*)
  - name: legacy
    team: sales
    level: role
    source: opps
    measure: count(*)
"""
DATA = "id,stage,amount,created_at\n" + "".join(
    f"{i},{['SQL', 'Proposal', 'Lead', 'Negotiation'][i % 4]},{i * 10},2026-{1 + i % 9:02d}-15\n" for i in range(1, 60))


def git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@x", "PATH": "/usr/bin:/bin"})


@pytest.fixture
def repo(tmp_path):
    root = write_project(tmp_path / "repo" / "metrics", {"defs.yml": DEFS, "data/opps.csv": DATA},
                         "project: d\nsettings: {as_of: 2026-10-05, baseline_rev: v1}\n")
    git(tmp_path / "repo", "init", "-q")
    git(tmp_path / "repo", "add", ".")
    git(tmp_path / "repo", "commit", "-qm", "v1")
    git(tmp_path / "repo", "tag", "v1")
    return root


def edit(root, old, new):
    path = root / "defs.yml"
    path.write_text(path.read_text().replace(old, new))


def run(*args):
    return subprocess.run([sys.executable, "-m", "accord.cli", *args], capture_output=True, text=True)


def test_reformatting_is_not_drift(repo):
    edit(repo, "stage in ('SQL', 'Proposal')", "stage = 'Proposal' OR stage = 'SQL'")
    edit(repo, "measure: sum(amount)", "measure: SUM( amount )")
    r = run("diff", "v1", "--project", str(repo), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["added"] == [] and data["removed"] == [] and data["changed"] == []
    assert [f.code for f in run_check(load_project(repo), dt.date(2026, 10, 5)).findings
            if f.code == "definition-drift"] == []


def test_a_quiet_rewrite_shows_in_words_and_numbers(repo):
    edit(repo, "stage in ('SQL', 'Proposal')", "stage in ('SQL', 'Proposal', 'Negotiation')")
    edit(repo, "  - name: legacy\n    team: sales\n    level: role\n    source: opps\n    measure: count(*)\n", "")
    edit(repo, "    measure: count(*)\n", "    measure: count(*)\n  - name: won\n    team: sales\n    level: role\n"
                                           "    source: opps\n    measure: count(*)\n", )
    r = run("diff", "v1", "--project", str(repo), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["added"] == ["won"] and data["removed"] == ["legacy"]
    [c] = data["changed"]
    assert c["metric"] == "pipeline" and c["semantic"]
    assert c["changes"] == ["include clause 'qualified' changed from `stage in ('SQL', 'Proposal')` to "
                            "`stage in ('SQL', 'Proposal', 'Negotiation')`"]
    # impact: old and new on today's data for the complete quarters with data before 2026-10-05
    expected = duckdb.sql(f"""
        select strftime(date_trunc('quarter', created_at), '%Y') || '-Q' || quarter(created_at) q,
               coalesce(sum(amount) filter (where stage in ('SQL', 'Proposal')), 0) old,
               coalesce(sum(amount) filter (where stage in ('SQL', 'Proposal', 'Negotiation')), 0) new
        from read_csv('{repo}/data/opps.csv') group by 1 order by 1""").fetchall()
    got = {i["period"]: (i["old"], i["new"]) for i in c["impact"]}
    # the last (up to) 4 complete quarters with data: none before the first, none after the last data
    assert [i["period"] for i in c["impact"]] == [q for q, _, _ in expected if q < "2026-Q4"][-4:] \
        == ["2026-Q1", "2026-Q2", "2026-Q3"]
    for q, old, new in expected:
        assert got[q] == (old, new)
    text = run("diff", "v1", "--project", str(repo))
    assert "changed  pipeline" in text.stdout and "→" in text.stdout

    [f] = [f for f in run_check(load_project(repo), dt.date(2026, 10, 5)).findings if f.code == "definition-drift"]
    assert f.metrics == ("pipeline",) and f.severity == "error" and f.owner == "ana@x.example"
    assert "Negotiation" in f.title


def test_only_official_metrics_drift_in_check(repo):
    edit(repo, "  - name: deals\n    team: sales\n    level: function\n    source: opps\n    measure: count(*)",
         "  - name: deals\n    team: sales\n    level: function\n    source: opps\n    measure: count(distinct stage)")
    findings = run_check(load_project(repo), dt.date(2026, 10, 5)).findings
    assert [f for f in findings if f.code == "definition-drift"] == []  # deals has no confidence level


def test_bad_revision_and_no_repository(repo, tmp_path):
    r = run("diff", "nope", "--project", str(repo))
    assert r.returncode == 2 and "'nope' is not a revision" in r.stderr
    outside = write_project(tmp_path / "plain", {"defs.yml": DEFS, "data/opps.csv": DATA})
    r = run("diff", "HEAD", "--project", str(outside))
    assert r.returncode == 2 and "not inside a git repository" in r.stderr
