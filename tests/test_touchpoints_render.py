"""Touchpoints on the terminal, as a page and through the command line (formats and exit codes)."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

import pytest
from rich.console import Console

from accord.render.touchpoints_html import write_touchpoints_html
from accord.render.touchpoints_text import touchpoints_text

from test_touchpoints import BASE, RULES, TODAY, random_world, run, write

ACCORD = [sys.executable, "-m", "accord.cli"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    sources, periods = random_world(11)
    rng_outcome = [("C01", (BASE + dt.timedelta(days=3)).date())]
    return write(tmp_path_factory.mktemp("tp") / "p", sources, RULES, periods, outcome=rng_outcome, seed=11)


def cli(*args):
    return subprocess.run(ACCORD + [str(a) for a in args], capture_output=True, text=True)


def text_of(result) -> str:
    out = Console(record=True, width=120, file=open("/dev/null", "w"))
    touchpoints_text(out, result)
    return out.export_text()


def test_text_lists_every_rule_with_its_counts(project):
    result = run(project, TODAY)
    text = text_of(result)
    for r in result.rules:
        assert r.name in text and f"{r.touches:,}" in text
    assert f"{result.customers:,} customers" in text and "What over-contact costs" in text


def test_text_timeline_marks_each_rule_hit(project):
    result = run(project, TODAY, customer="C03")
    text = text_of(result)
    assert "Customer C03" in text and "today:" in text
    hits = sum(len(t.hits) for t in result.timeline.touches)
    assert hits and text.count("✗") == hits
    assert sum(1 for t in result.timeline.touches if t.key and t.key in text) == len(result.timeline.touches)


def test_the_page_is_one_offline_file_with_the_weekly_chart_rules_and_worst_timelines(project, tmp_path):
    result = run(project, TODAY, customer="C03")
    (tmp_path / "out").mkdir()
    path = write_touchpoints_html(result, tmp_path / "out" / "touchpoints.html")
    html = path.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html) and "<script" not in html
    assert html.count("<svg") == 2 + 1 + sum(len(r.worst) for r in result.rules) + 2   # weekly, rules, outcome, …
    for r in result.rules:
        assert r.name in html
    assert "Customer C03" in html and "Touches per customer per week" in html and "What over-contact costs" in html


def test_cli_json_alone_on_stdout_with_a_timeline(project):
    done = cli("touchpoints", "--project", project.root, "--as-of", TODAY, "--format", "json", "--customer", "C03")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"as_of", "timezone", "timeline"}          # the customer's timeline alone
    assert data["timeline"]["customer"] == "C03"
    start = dt.date.fromisoformat(str(TODAY)) - dt.timedelta(days=59)        # the newest 60 days by default
    assert data["timeline"]["since"] == f"{start.isoformat()}T00:00:00"
    assert all(t["time"] >= data["timeline"]["since"] for t in data["timeline"]["log"])
    whole = cli("touchpoints", "--project", project.root, "--as-of", TODAY, "--format", "json")
    summary = json.loads(whole.stdout)
    assert set(summary) >= {"customers", "touches", "by_team", "rules", "outcomes", "stale_states"}
    assert set(summary["rules"][0]) >= {"name", "customers", "touches", "suppressed", "suppressed_by_team", "examples"}


def test_cli_refuses_bad_input_with_exit_2(project, tmp_path):
    unknown = cli("touchpoints", "--project", project.root, "--as-of", TODAY, "--customer", "nobody")
    assert unknown.returncode == 2 and "customer 'nobody'" in unknown.stderr and not unknown.stdout
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "accord.yml").write_text("project: empty\n")
    none = cli("touchpoints", "--project", tmp_path / "empty")
    assert none.returncode == 2 and "no contact_policy" in none.stderr


def test_check_fails_on_touchpoint_errors_and_passes_below_them(project):
    failing = cli("check", "--project", project.root, "--as-of", TODAY, "--format", "json")
    assert failing.returncode == 1
    codes = {f["code"] for f in json.loads(failing.stdout)["findings"]}
    assert {"touchpoint-overload", "contact-during-open-case", "contact-in-quiet-hours"} <= codes
