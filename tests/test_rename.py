"""One word, one meaning: once a decision renames an alternate, the tree and the report show the new label."""
from __future__ import annotations

import datetime as dt

from factory import write_project

from accord.analyze.tree import build_tree
from accord.check import run_check
from accord.compute.connect import project_engine
from accord.project.loader import load_project
from accord.render.html import write_report

DEFS = """
sources:
  - {name: crm, system: crm, path: data/crm.csv, entity: opportunity, key: id, time: created_at}
metrics:
  - {name: sales_pipeline, label: Pipeline, team: sales, level: company, source: crm, measure: sum(amount)}
  - {name: marketing_pipeline, label: Pipeline, team: marketing, level: function, source: crm, measure: count(*),
     parents: [{metric: sales_pipeline}]}
"""
DECISION = """
decisions:
  - label: Pipeline
    decided_on: 2026-06-01
    owner: revops@x.example
    canonical: [{metric: sales_pipeline, for: [forecast]}]
    alternates: [{metric: marketing_pipeline, for: [channel analysis], rename_to: Marketing-sourced pipeline}]
"""
DATA = "id,amount,created_at\n1,10,2026-04-01\n2,20,2026-05-02\n"


def test_renamed_alternates_show_under_their_new_label(tmp_path):
    root = write_project(tmp_path, {"defs.yml": DEFS + DECISION, "data/crm.csv": DATA},
                         "project: r\nsettings: {as_of: 2026-07-10}\n")
    project = load_project(root)
    assert project.label_of("marketing_pipeline") == "Marketing-sourced pipeline"
    assert project.label_of("sales_pipeline") == "Pipeline"
    with project_engine(project) as engine:
        tree = build_tree(project, engine, dt.date(2026, 7, 10))
    labels = {n["metric"]: n["label"] for n in tree.as_dict()["metrics"]}
    assert labels["marketing_pipeline"] == "Marketing-sourced pipeline"
    page = write_report(project, dt.date(2026, 7, 10), run_check(project, dt.date(2026, 7, 10)),
                        tmp_path / "r.html").read_text()
    assert "Marketing-sourced pipeline" in page
