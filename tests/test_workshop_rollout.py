"""The rollout message: what a decision says, in the words the company reads; nothing before a decision."""
from __future__ import annotations

import datetime as dt

import pytest
from factory import write_project

from accord.errors import UserError
from accord.project.loader import load_project
from accord.workshop.decide import DecisionSpec, Use, record_decision
from accord.render.workshop import rollout_html, rollout_markdown
from accord.workshop.rollout import decided_rollout

DEFS = """
sources:
  - {name: crm, system: crm, path: data/crm.csv, key: id, time: created_at}
metrics:
  - name: sales_pipeline
    label: Pipeline
    team: sales
    level: function
    owner: ana@x.example
    description: Qualified opportunity value.
    caveats: [Amounts are the rep's current number.]
    source: crm
    measure: sum(amount)
  - name: marketing_pipeline
    label: Pipeline
    team: marketing
    level: function
    source: crm
    measure: sum(amount * 2)
"""


@pytest.fixture
def project(tmp_path):
    return load_project(write_project(tmp_path / "p", {"defs.yml": DEFS, "data/crm.csv": "id,amount,created_at\n"}))


def test_nothing_to_roll_out_before_a_decision(project):
    with pytest.raises(UserError, match="no decision on 'Pipeline' is recorded"):
        decided_rollout(project, "pipeline")


def test_the_message_says_what_the_decision_says(project):
    record_decision(project, DecisionSpec(
        "Pipeline", dt.date(2026, 4, 6), Use("sales_pipeline", ("weekly forecast", "board deck")),
        [Use("marketing_pipeline", ("channel analysis",), "Marketing-sourced pipeline")], "revops@x.example",
        ["EUR deals use month-start FX"], ["Finance weighting is not agreed"], None, "quarter"))
    project = load_project(project.root)
    r = decided_rollout(project, "Pipeline")
    md = rollout_markdown(r)
    for words in ("# 'Pipeline': what we decided", "Decided 2026-04-06",
                  "**Official:** Pipeline is `sales_pipeline` (sales): Qualified opportunity value.",
                  "**Use it for:** weekly forecast, board deck",
                  "**Source of truth:** crm, source crm (data/crm.csv); defined in `defs.yml:4`",
                  "**Still valid for other uses:** Marketing-sourced pipeline (`marketing_pipeline`, marketing), "
                  "for channel analysis",
                  "  - EUR deals use month-start FX", "  - Amounts are the rep's current number.",
                  "**Still unresolved:** Finance weighting is not agreed",
                  "**Who owns future changes:** revops@x.example, with ana@x.example for `sales_pipeline`",
                  "**Next review:** 2026-07-06"):
        assert words in md, words
    html = rollout_html(r)
    assert "Marketing-sourced pipeline" in html and "6 July 2026" in html
    # a canonical metric whose definition changed since is flagged in the message
    defs = project.root / "defs.yml"
    defs.write_text(defs.read_text().replace("measure: sum(amount)\n", "measure: sum(amount) + 1\n", 1))
    assert "awaits approval" in rollout_markdown(decided_rollout(load_project(project.root), "Pipeline"))


def test_a_former_alternate_made_canonical_leaves_the_alternates(project):
    record_decision(project, DecisionSpec("Pipeline", dt.date(2026, 4, 6), Use("sales_pipeline"),
                                          [Use("marketing_pipeline")], "revops@x.example"))
    record_decision(load_project(project.root), DecisionSpec("Pipeline", dt.date(2026, 5, 6),
                                                             Use("marketing_pipeline")))
    [d] = load_project(project.root).decisions
    assert [c.metric for c in d.canonical] == ["marketing_pipeline"] and d.alternates == ()
