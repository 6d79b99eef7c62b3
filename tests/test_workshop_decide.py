"""`workshop decide`: writes where decisions live, round-trips comments and layout, records fingerprints;
the guided mode asks only for what is missing."""
from __future__ import annotations

import datetime as dt
import os
import pty
import select
import subprocess
import sys
import time

import pytest
from factory import snapshot, write_project
from ruamel.yaml import YAML

from accord.errors import UserError
from accord.project.fingerprint import fingerprint
from accord.project.loader import load_project
from accord.workshop.decide import (DecisionSpec, Use, display_label, guide, parse_alternate, parse_follow_up,
                                    record_decision)
from accord.workshop.record import write_decision

TODAY = dt.date(2026, 7, 10)

DEFS = """
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
  - name: marketing_pipeline
    label: Pipeline
    team: marketing
    level: function
    owner: jo@x.example
    decision: Channel budget
    source: ma
    measure: sum(amount)
  - name: finance_pipeline
    label: pipeline
    team: finance
    level: function
    source: crm
    measure: sum(amount * 0.5)
  - name: leads
    label: Leads
    team: marketing
    level: function
    source: ma
    measure: count(*)
  - name: sales_leads
    label: Leads
    team: sales
    level: function
    source: crm
    measure: count(*)
"""
DATA = "id,stage,amount,created_at\n1,SQL,100,2026-04-03\n"

# A decisions file written by hand: comments everywhere, flow and block styles, another decision around it.
DECISIONS = """\
# Decisions of the April workshop.   Kept by RevOps.
decisions:
  # Leads first: decided before the workshop.
  - label: Leads
    decided_on: 2026-03-01
    owner: jo@x.example      # marketing ops
    canonical: [{metric: leads, for: [funnel review], fingerprint: LEADS_FP}]
    alternates: [{metric: sales_leads, for: [SDR capacity], fingerprint: SALES_LEADS_FP}]

  # Pipeline: the long one.
  - label: Pipeline
    decided_on: 2026-04-06   # the workshop day
    owner: revops@x.example
    # sales won the forecast, marketing keeps channels
    canonical:
      - metric: sales_pipeline
        for: [weekly forecast]   # and the board deck, from Q3
        fingerprint: old
    unresolved:
      - Finance weighting is not agreed
    follow_ups:
      - {task: Remove stage Nurture, owner: ops@x.example, due: 2026-05-01, done: true}

  # Nothing else yet.
other_notes_are_not_allowed_here: false
"""


def _project(tmp_path, extra: dict | None = None):
    files = {"defs.yml": DEFS, "data/crm.csv": DATA, "data/ma.csv": DATA, **(extra or {})}
    return load_project(write_project(tmp_path / "p", files, "project: t\nsettings: {as_of: 2026-07-10}\n"))


def _with_decisions(tmp_path):
    p = _project(tmp_path)
    text = DECISIONS.replace("SALES_LEADS_FP", fingerprint(p, p.metric("sales_leads"))).replace(
        "LEADS_FP", fingerprint(p, p.metric("leads"))).replace(
        "other_notes_are_not_allowed_here: false\n", "")
    (p.root / "decisions.yml").write_text(text)
    return load_project(p.root), text


def test_shorthand_parsing():
    assert parse_alternate("m") == Use("m")
    assert parse_alternate("m|channel analysis; budget |Marketing-sourced pipeline") == \
        Use("m", ("channel analysis", "budget"), "Marketing-sourced pipeline")
    assert parse_alternate("m||New") == Use("m", (), "New")
    f = parse_follow_up("Remove stage Nurture from CRM|sales-ops@x.example|2026-05-01")
    assert (f.task, f.owner, f.due, f.done) == ("Remove stage Nurture from CRM", "sales-ops@x.example",
                                                 dt.date(2026, 5, 1), False)
    with pytest.raises(UserError, match="TASK|OWNER|YYYY-MM-DD"):
        parse_follow_up("just a task")
    with pytest.raises(UserError, match="is not a date"):
        parse_follow_up("t|o|2026-02-30")


def test_a_new_decision_goes_to_its_own_file_with_fingerprints(tmp_path):
    p = _project(tmp_path)
    result = record_decision(p, DecisionSpec(
        "PIPELINES", TODAY, Use("sales_pipeline", ("weekly forecast", "board deck")),
        [parse_alternate("marketing_pipeline|channel analysis|Marketing-sourced pipeline"),
         Use("finance_pipeline", ("cash plan",))],
        "revops@x.example", ["EUR deals use month-start FX"], ["Finance weighting is not agreed"],
        [parse_follow_up("Remove stage Nurture|ops@x.example|2026-08-01")], "quarter"))
    assert result.created and result.path == p.root / "decisions" / "pipeline.yml" and result.notes == []
    reloaded = load_project(p.root)
    [d] = reloaded.decisions
    assert (d.label, d.decided_on, d.owner, d.review_every) == ("Pipeline", TODAY, "revops@x.example", "quarter")
    assert [(c.metric, c.for_, c.fingerprint) for c in d.canonical] == [
        ("sales_pipeline", ("weekly forecast", "board deck"), fingerprint(p, p.metric("sales_pipeline")))]
    assert [(a.metric, a.rename_to, a.fingerprint) for a in d.alternates] == [
        ("marketing_pipeline", "Marketing-sourced pipeline", fingerprint(p, p.metric("marketing_pipeline"))),
        ("finance_pipeline", None, fingerprint(p, p.metric("finance_pipeline")))]
    assert d.caveats == ("EUR deals use month-start FX",) and d.unresolved == ("Finance weighting is not agreed",)
    assert [(f.task, f.owner, f.due, f.done) for f in d.follow_ups] == [
        ("Remove stage Nurture", "ops@x.example", dt.date(2026, 8, 1), False)]
    assert d.location.file == "decisions/pipeline.yml"
    assert display_label(reloaded, "marketing_pipeline") == "Marketing-sourced pipeline"
    assert display_label(reloaded, "sales_pipeline") == "Pipeline"
    assert display_label(reloaded, "leads") == "Leads"


def test_updating_a_decision_keeps_every_other_byte_and_the_comments_inside_it(tmp_path):
    p, before = _with_decisions(tmp_path)
    head, rest = before.split("  - label: Pipeline\n")
    tail = "\n  # Nothing else yet.\n"
    assert rest.endswith(tail)
    result = record_decision(p, DecisionSpec(
        "pipeline", dt.date(2026, 7, 1), alternates=[Use("marketing_pipeline", ("channels",), "Campaign pipeline")],
        follow_ups=[parse_follow_up("Relabel the dashboard|bi@x.example|2026-09-01")]))
    assert not result.created and result.path == p.root / "decisions.yml"
    after = result.path.read_text()
    # every byte outside the decision is as it was
    assert after.startswith(head + "  - label: Pipeline\n") and after.endswith(tail)
    item = after[len(head):-len(tail)]
    # inside it, the comments and the values not given stay; the values given change
    for kept in ("    decided_on: 2026-07-01   # the workshop day\n", "    owner: revops@x.example\n",
                 "    # sales won the forecast, marketing keeps channels\n",
                 "        for: [weekly forecast]   # and the board deck, from Q3\n",
                 "      - Finance weighting is not agreed\n",
                 "      - {task: Remove stage Nurture, owner: ops@x.example, due: 2026-05-01, done: true}\n"):
        assert kept in item, kept
    d = next(d for d in load_project(p.root).decisions if d.label == "Pipeline")
    assert d.canonical[0].fingerprint == fingerprint(p, p.metric("sales_pipeline"))   # refreshed from 'old'
    assert [(a.metric, a.for_, a.rename_to) for a in d.alternates] == [
        ("marketing_pipeline", ("channels",), "Campaign pipeline")]
    assert [(f.task, f.done) for f in d.follow_ups] == [("Remove stage Nurture", True),
                                                         ("Relabel the dashboard", False)]
    assert d.unresolved == ("Finance weighting is not agreed",)
    assert result.notes and "finance_pipeline" in result.notes[0]   # labelled Pipeline, not named


def test_deciding_the_first_of_several_decisions_and_appending_a_new_one(tmp_path):
    p, before = _with_decisions(tmp_path)
    record_decision(p, DecisionSpec("Leads", TODAY, owner="ops@x.example"))
    after = (p.root / "decisions.yml").read_text()
    start = before.index("  # Pipeline: the long one.")
    assert after.endswith(before[start - 1:])                          # the blank line and what follows
    assert after.startswith(before[:before.index("    decided_on: 2026-03-01")])
    assert "    owner: ops@x.example" in after and "# marketing ops\n" in after
    assert "    decided_on: 2026-07-10\n" in after
    # a decision on a label the file does not hold goes to its own file
    q = load_project(p.root)
    q_before = snapshot(p.root)
    result = record_decision(q, DecisionSpec("leads", TODAY, owner="x@x.example"))
    assert result.path == p.root / "decisions.yml" and not result.created   # 'leads' is 'Leads'
    assert set(snapshot(p.root)) == set(q_before)


def test_appending_to_a_file_keeps_what_is_there(tmp_path):
    p = _project(tmp_path)
    path = p.root / "decisions" / "pipeline.yml"
    path.parent.mkdir()
    original = "# hand-made\ndecisions:\n- label: Other thing\n  decided_on: 2026-01-01\n  owner: a@x.example\n"
    path.write_text(original)
    record_decision(p, DecisionSpec("Pipeline", TODAY, Use("sales_pipeline"), [], "revops@x.example"))
    text = path.read_text()
    assert text.startswith(original)
    assert "- label: Pipeline\n  decided_on: 2026-07-10\n" in text      # the file's own indentation
    assert [d.label for d in load_project(p.root).decisions] == ["Other thing", "Pipeline"]


@pytest.mark.parametrize("digits", ["1234567890123456", "1e10", "0012", "123_456"])
def test_fingerprints_that_look_like_numbers_are_written_as_text(tmp_path, digits):
    path = tmp_path / "d.yml"
    write_decision(path, "d.yml", "Pipeline", {}, lambda item: _fill(item, digits))
    doc = YAML(typ="safe").load(path.read_text())
    assert doc["decisions"][0]["canonical"][0]["fingerprint"] == digits
    # and when the file already exists (the update path)
    write_decision(path, "d.yml", "Pipeline", {}, lambda item: _fill(item, digits[::-1]))
    assert YAML(typ="safe").load(path.read_text())["decisions"][0]["canonical"][0]["fingerprint"] == digits[::-1]


def _fill(item, fp):
    from accord.workshop.record import block_map, block_seq
    if item is None:
        item = block_map([("label", "Pipeline"), ("decided_on", TODAY), ("owner", "a@x.example")])
    item["canonical"] = block_seq([block_map([("metric", "sales_pipeline"), ("fingerprint", fp)])])
    return item


def test_refusals_change_nothing(tmp_path):
    p = _project(tmp_path)
    before = snapshot(p.root)
    with pytest.raises(UserError, match="no metric is labelled 'Pipelin'. Did you mean 'Pipeline'?"):
        record_decision(p, DecisionSpec("Pipelin", TODAY, Use("sales_pipeline"), owner="a@x.example"))
    with pytest.raises(UserError, match="metric 'sales_pipelin' is not defined. Did you mean 'sales_pipeline'?"):
        record_decision(p, DecisionSpec("Pipeline", TODAY, Use("sales_pipelin"), owner="a@x.example"))
    with pytest.raises(UserError, match="give --canonical METRIC"):
        record_decision(p, DecisionSpec("Pipeline", TODAY, owner="a@x.example"))
    with pytest.raises(UserError, match="--owner EMAIL"):
        record_decision(p, DecisionSpec("Pipeline", TODAY, Use("sales_pipeline")))
    with pytest.raises(UserError, match="both canonical and alternate"):
        record_decision(p, DecisionSpec("Pipeline", TODAY, Use("sales_pipeline"), [Use("sales_pipeline")], "a@x"))
    assert snapshot(p.root) == before


def test_a_file_outside_paths_is_refused_and_removed(tmp_path):
    root = write_project(tmp_path / "p", {"defs/defs.yml": DEFS, "data/crm.csv": DATA, "data/ma.csv": DATA},
                         "project: t\npaths: [defs/*.yml]\n")
    p = load_project(root)
    before = snapshot(root)
    with pytest.raises(UserError, match="add a glob that matches it, such as decisions/\\*.yml"):
        record_decision(p, DecisionSpec("Pipeline", TODAY, Use("sales_pipeline"), [], "a@x.example"))
    assert snapshot(root) == before and not (root / "decisions").exists()


def test_guided_mode_asks_only_for_what_is_missing(tmp_path):
    p = _project(tmp_path)
    answers = iter(["3",                      # canonical: the third listed, sales_pipeline
                    "",                       # its uses: keep the default (its decision:)
                    "-",                      # finance_pipeline: leave out
                    "channels; budget",       # marketing_pipeline: uses
                    "Campaign pipeline",      # ... and a new label
                    "",                       # owner: keep the default (the canonical metric's owner)
                    "FX at month start", "",  # caveats
                    "", "",                   # unresolved, follow-ups: none
                    "month"])
    asked = []

    def ask(question, default):  # like a terminal prompt: enter alone takes the default
        asked.append((question, default))
        return next(answers) or default

    spec = guide(p, DecisionSpec("Pipeline", TODAY), ask)
    assert spec.canonical == Use("sales_pipeline", ("Weekly forecast",))
    assert spec.alternates == [Use("marketing_pipeline", ("channels", "budget"), "Campaign pipeline")]
    assert (spec.owner, spec.caveats, spec.unresolved, spec.follow_ups, spec.review_every) == \
        ("ana@x.example", ["FX at month start"], [], [], "month")
    assert "1. finance_pipeline (finance); 2. marketing_pipeline (marketing); 3. sales_pipeline (sales)" in asked[0][0]
    assert asked[1][1] == "Weekly forecast" and asked[5][1] == "ana@x.example"
    # given on the command line: nothing is asked about it
    asked.clear()
    answers = iter(["", "", ""])
    spec = guide(p, DecisionSpec("Pipeline", TODAY, Use("sales_pipeline", ("forecast",)), [], "o@x.example", [], [],
                                 [], None), ask)
    assert [q for q, _ in asked] == ["Review it every month, quarter or year?"] and spec.review_every == "quarter"


def _run_in_terminal(args: list[str], answers: str, timeout: float = 60) -> tuple[int, str]:
    """Run the command line with a pseudo-terminal as stdin and stdout, typing `answers`."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "accord.cli", *args], stdin=child, stdout=child, stderr=child,
                            close_fds=True)
    os.close(child)
    os.write(main, answers.encode())
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    os.close(main)
    return proc.returncode, out.decode(errors="replace")


def test_the_command_asks_in_a_terminal_and_never_with_no_input(tmp_path):
    p = _project(tmp_path)
    code, out = _run_in_terminal(["workshop", "decide", "Leads", "--project", str(p.root), "--owner", "o@x.example"],
                                 "leads\nfunnel review\nSDR capacity\n\n\n\n\nyear\n")
    assert code == 0, out
    assert "Which definition of 'Leads' is canonical?" in out and "recorded the decision on 'Leads'" in out
    [d] = load_project(p.root).decisions
    assert [(c.metric, c.for_) for c in d.canonical] == [("leads", ("funnel review",))]
    assert [(a.metric, a.for_) for a in d.alternates] == [("sales_leads", ("SDR capacity",))]
    assert d.review_every == "year" and d.owner == "o@x.example"
    from typer.testing import CliRunner

    from accord.cli import app
    r = CliRunner().invoke(app, ["workshop", "decide", "Pipeline", "--project", str(p.root), "--no-input",
                                 "--owner", "o@x.example"])
    assert r.exit_code == 2 and "--canonical METRIC" in r.stderr
