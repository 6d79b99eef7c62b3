"""The workshop kit and pre-work: sections present, values equal to the YAML, the data and the answers."""
from __future__ import annotations

import datetime as dt
import duckdb
import pytest
from factory import snapshot, write_project
from ruamel.yaml import YAML

from accord.compute.connect import project_sandbox
from accord.engine import open_engine
from accord.errors import UserError
from accord.project.loader import load_project
from accord.render.workshop import kit_html, kit_markdown, prework_markdown
from accord.workshop.kit import build_kit
from accord.workshop.prework import read_answers, requests, write_prework
from accord.workshop.topic import topic

TODAY = dt.date(2026, 7, 10)

DEFS = """
teams:
  - {name: sales, lead: lead@x.example}
  - {name: marketing, lead: jo@x.example}
sources:
  - {name: crm, system: crm, path: data/crm.csv, entity: opportunity, key: id, time: created_at}
  - {name: ma, system: marketing_automation, path: data/ma.csv, entity: opportunity, key: id, time: created_at}
metrics:
  - name: sales_pipeline
    label: pipelines
    team: sales
    level: function
    owner: ana@x.example
    description: Qualified opportunity value, by created date.
    decision: Weekly forecast
    confidence: decision-grade
    unit: usd
    source: crm
    measure: sum(amount)
    include: [{name: qualified stages, sql: "stage in ('SQL', 'Proposal')"}]
    exclude: [{name: test accounts, sql: is_test}]
  - name: marketing_pipeline
    label: Pipeline
    team: marketing
    level: function
    description: Opportunity value with a campaign touch.
    unit: usd
    source: ma
    measure: sum(amount)
    include: [{name: campaign touched, sql: "campaign is not null"}]
  - name: leads_created
    label: Leads
    team: marketing
    level: function
    source: ma
    measure: count(*)
  - name: qualified_leads
    label: Qualified leads
    team: marketing
    level: function
    source: ma
    measure: count(*)
  - name: sales_leads
    label: Qualified lead
    team: sales
    level: function
    source: crm
    measure: count(*)
  - name: arr
    label: ARR
    team: sales
    level: company
    source: crm
    measure: sum(amount)
  - name: arr_finance
    label: ARR
    team: marketing
    level: company
    source: ma
    measure: sum(amount)
"""
CRM = """id,stage,amount,created_at,is_test
1,SQL,100,2026-04-03,false
2,Proposal,200,2026-04-20,true
3,Lead,50,2026-05-01,false
4,SQL,300,2026-06-02,
5,Proposal,80,2026-03-30,false
6,Proposal,40,2026-07-02,false
"""
MA = """id,campaign,amount,created_at
1,spring,100,2026-04-03
2,,200,2026-04-20
3,spring,55,2026-05-01
7,summer,500,2026-06-11
"""


@pytest.fixture
def project(tmp_path):
    root = write_project(tmp_path / "p", {"defs.yml": DEFS, "data/crm.csv": CRM, "data/ma.csv": MA},
                         "project: shop\nsettings: {as_of: 2026-07-10}\n")
    return load_project(root)


def _kit(project, labels=("Pipeline",)):
    with open_engine("duckdb", None, sandbox=project_sandbox(project)) as engine:
        return build_kit(project, list(labels), TODAY, engine)


def _answer(project, team: str, edit) -> None:
    """Fill in a team's answer template the way a person would: load, change, save."""
    path = project.root / "prework" / "pipeline" / f"{team}.yml"
    y = YAML()
    doc = y.load(path.read_text())
    edit(doc)
    with path.open("w") as f:
        y.dump(doc, f)


def test_prework_asks_each_team_four_things_and_one_sharper_question(project):
    t = topic(project, "PIPELINES")
    assert t.label == "Pipeline" and [m.name for m in t.metrics] == ["marketing_pipeline", "sales_pipeline"]
    written, kept = write_prework(project, t, project.root / "prework", prework_markdown)
    assert sorted(p.name for p in written) == ["marketing.md", "marketing.yml", "sales.md", "sales.yml"]
    md = (project.root / "prework/pipeline/sales.md").read_text()
    for words in ("current definition, in one sentence", "report or dashboard you trust most",
                  "source system or logic path", "main decision your team uses this number to support",
                  "wrong or incomplete about the other teams' versions", "lead@x.example"):
        assert words in md
    assert "Qualified opportunity value, by created date." in md       # pre-filled from description
    assert "marketing, `marketing_pipeline`" in md                     # the others' versions to comment on
    template = YAML(typ="safe").load((project.root / "prework/pipeline/sales.yml").read_text())
    assert template["answers"]["sales_pipeline"] == {
        "definition": "Qualified opportunity value, by created date.", "trusted_report": None,
        "source": "crm (crm): sum(amount) by created_at, only qualified stages, excluding test accounts",
        "decision": "Weekly forecast"}
    # answers already given are never overwritten
    _answer(project, "sales", lambda d: d["answers"]["sales_pipeline"].update(trusted_report="Forecast board"))
    before = (project.root / "prework/pipeline/sales.yml").read_bytes()
    written, kept = write_prework(project, t, project.root / "prework", prework_markdown)
    assert [p.name for p in kept] == ["marketing.yml", "sales.yml"]
    assert (project.root / "prework/pipeline/sales.yml").read_bytes() == before


def test_kit_sections_and_values_equal_the_yaml_the_data_and_the_answers(project):
    t = topic(project, "Pipeline")
    write_prework(project, t, project.root / "prework", prework_markdown)
    _answer(project, "sales", lambda d: (d["answers"]["sales_pipeline"].update(
        trusted_report="Salesforce forecast board", decision="Weekly forecast call"),
        d.update(others_wrong="Marketing counts unqualified deals.", answered_by="ana@x.example")))
    kit = _kit(project)
    [tp] = kit.topics
    assert tp.period == "2026-Q2" and tp.prework_missing == ["marketing"]
    crm, ma = project.root / "data/crm.csv", project.root / "data/ma.csv"
    sales = duckdb.sql(f"""select sum(amount) from read_csv('{crm}') where created_at >= '2026-04-01'
        and created_at < '2026-07-01' and stage in ('SQL', 'Proposal')
        and not coalesce(is_test, false)""").fetchall()[0][0]
    marketing = duckdb.sql(f"""select sum(amount) from read_csv('{ma}') where created_at >= '2026-04-01'
        and created_at < '2026-07-01' and campaign is not null""").fetchall()[0][0]
    v = {x.metric: x for x in tp.versions}
    assert (v["sales_pipeline"].value, v["marketing_pipeline"].value) == (sales, marketing) == (400, 655)
    assert v["sales_pipeline"].trusted_report == "Salesforce forecast board"
    assert v["sales_pipeline"].others_wrong == "Marketing counts unqualified deals."
    assert v["sales_pipeline"].serves == "Weekly forecast call"       # the team's own answer
    assert v["marketing_pipeline"].serves is None                      # nothing on record, no answer
    assert v["sales_pipeline"].system == "crm" and v["sales_pipeline"].owner == "ana@x.example"
    assert "only: qualified stages (stage in ('SQL', 'Proposal'))" in v["sales_pipeline"].exact
    # the decision table: one column per definition, pre-filled, blanks marked
    table = {r.key: r.cells for r in tp.table}
    assert [c.text for c in table["confidence"]] == [None, "decision-grade"]
    assert table["decision"][1].text == "Weekly forecast call (YAML: Weekly forecast)"
    assert table["decision"][0].blank
    assert table["excludes"][1].text == "test accounts (is_test)" and table["excludes"][0].blank
    assert table["owner"][0].text == "jo@x.example (team lead; no owner named)"
    assert "crm (crm)" in table["calculated"][1].text
    # answers left as pre-filled are the YAML speaking, not the team
    assert [c.origin for c in table["calculated"]] == ["yaml", "yaml"]
    # the bridge between the two numbers adds up to the gap
    [b] = tp.bridges
    assert (b.start, b.end) == (655, 400) and b.gap == pytest.approx(sum(d for d, _ in b.steps))

    md = kit_markdown(kit)
    for heading in ("## The 90-minute agenda", "### 0–10 min · Frame the decision",
                    "### 10–25 min · Show the competing definitions side by side",
                    "### 25–45 min · Build the metric decision table",
                    "### 45–65 min · Force the highest-cost decisions",
                    "### 65–80 min · Assign owners and follow-up fixes", "### 80–90 min · Lock the rollout message",
                    "## 'Pipeline': the definitions side by side", "### The bridge between the numbers",
                    "## 'Pipeline': the metric decision table", "## The conflict checklist", "## The rollout note",
                    "## The follow-up ownership tracker"):
        assert heading in md, heading
    assert "we decide" not in md and "We are here to decide which definition belongs to which business decision" in md
    for words in ("What decision are we trying to improve?", "Is this number useful, universal, or both?",
                  "What is hidden in the exclusions?", "What confidence level do we actually need?",
                  "Who has authority to approve future changes?"):
        assert words in md
    assert "| Current value (2026-Q2) | $655 | $400 |" in md
    assert "| Report trusted most | BLANK | Salesforce forecast board |" in md
    assert "| **What confidence level is required?** | BLANK | decision-grade |" in md

    html = kit_html(kit)
    assert html.startswith("<!doctype html>")
    assert not any(x in html for x in ("<script", "<link", 'src="http', "url(http"))   # self-contained
    for words in ("The 90-minute agenda", "the definitions side by side", "the metric decision table",
                  "The conflict checklist", "The rollout note", "The follow-up ownership tracker",
                  "Salesforce forecast board", "$655", "$400", "@media print", "<svg"):
        assert words in html, words


def test_a_decided_label_fills_the_rollout_note_and_the_tracker(project):
    from accord.workshop.decide import DecisionSpec, Use, parse_follow_up, record_decision
    record_decision(project, DecisionSpec(
        "Pipeline", TODAY, Use("sales_pipeline", ("weekly forecast",)), [Use("marketing_pipeline", ("channels",),
                                                                             "Campaign pipeline")],
        "revops@x.example", ["FX at month start"], [], [parse_follow_up("Clean stages|ops@x.example|2026-08-01")],
        "quarter"))
    kit = _kit(load_project(project.root))
    r = kit.topics[0].rollout
    assert r.decided and r.owner == "revops@x.example" and r.next_review == dt.date(2026, 10, 10)
    assert [(o.metric, o.uses) for o in r.official] == [("sales_pipeline", ("weekly forecast",))]
    assert [(o.label, o.uses) for o in r.alternates] == [("Campaign pipeline", ("channels",))]
    assert [(f.task, f.owner, f.due) for f in kit.tracker] == [("Clean stages", "ops@x.example", dt.date(2026, 8, 1))]
    md = kit_markdown(kit)
    assert "**Official:** Pipeline is `sales_pipeline` (sales)" in md
    assert "| Pipeline | Clean stages | ops@x.example | 2026-08-01 | no |" in md


def test_up_to_three_labels_and_unknown_ones_are_refused(project):
    kit = _kit(project, ["Pipeline", "qualified leads", "ARR"])
    assert [t.label for t in kit.topics] == ["Pipeline", "Qualified leads", "ARR"]
    with pytest.raises(UserError, match="4 labels given; a workshop settles one to three"):
        _kit(project, ["Pipeline", "Qualified leads", "ARR", "Leads"])
    with pytest.raises(UserError, match="no metric is labelled 'Pipline'. Did you mean 'Pipeline'?"):
        _kit(project, ["Pipline"])


def test_kit_command_refuses_with_exit_2_and_writes_nothing(project):
    from typer.testing import CliRunner

    from accord.cli import app
    before = snapshot(project.root)
    run = ["workshop", "kit", "--project", str(project.root)]
    r = CliRunner().invoke(app, run + ["Pipeline", "Qualified leads", "ARR", "Leads"])
    assert r.exit_code == 2 and "one to three" in r.stderr
    r = CliRunner().invoke(app, run + ["pipline"])
    assert r.exit_code == 2 and "Did you mean 'Pipeline'?" in r.stderr
    assert snapshot(project.root) == before
    r = CliRunner().invoke(app, run + ["Pipeline", "--format", "md"])      # to stdout: nothing written
    assert r.exit_code == 0, r.output
    assert "## 'Pipeline': the metric decision table" in r.stdout and snapshot(project.root) == before
    out = project.root.parent / "kits"
    r = CliRunner().invoke(app, run + ["Pipeline", "--format", "md", "--out", str(out)])   # --out is a folder
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"wrote {out / 'workshop-kit-pipeline.md'}"
    assert "## 'Pipeline': the metric decision table" in (out / "workshop-kit-pipeline.md").read_text()


def test_answers_that_are_not_yaml_are_reported_with_file_and_line(project):
    t = topic(project, "Pipeline")
    write_prework(project, t, project.root / "prework", prework_markdown)
    (project.root / "prework/pipeline/sales.yml").write_text("team: sales\nanswers: [unclosed\n")
    with pytest.raises(UserError, match=r"prework/pipeline/sales.yml:2"):
        read_answers(project, t)


def test_requests_name_only_the_teams_using_the_label(project):
    assert [r.team for r in requests(project, topic(project, "Qualified leads"))] == ["marketing", "sales"]
