"""Plurals and possessives in generated English: "1 row", "2 touches", "sales' rule"."""
from __future__ import annotations

import subprocess
import sys

import pytest
from factory import write_project

from accord.analyze.bridge_words import sentence
from accord.words import plural, possessive


@pytest.mark.parametrize("n, word, want", [
    (1, "row", "1 row"), (0, "row", "0 rows"), (2, "touch", "2 touches"), (1609, "record", "1,609 records"),
    (1, "open case", "1 open case"), (3, "open case", "3 open cases"), (2, "activity", "2 activities"),
    (2, "day", "2 days"), (2, "person", "2 people"), (1.0, "customer", "1 customer"),
])
def test_plural(n, word, want):
    assert plural(n, word) == want


@pytest.mark.parametrize("name, want", [("sales", "sales'"), ("Ana", "Ana's"), ("cx", "cx's"), ("ops", "ops'")])
def test_possessive(name, want):
    assert possessive(name) == want


def test_a_bridge_step_says_sales_rule_not_saless():
    a = {"metric": "m_a", "system": "crm", "source": "s"}
    b = {"metric": "m_b", "system": "crm", "source": "s"}
    step = {"kind": "clause", "side": "b", "clause": "closed deals", "records": 1}
    text = sentence(step, a, b, "deal", {"m_a": "marketing", "m_b": "sales"})
    assert "by sales' rule 'closed deals'" in text and "sales's" not in text
    assert text.startswith("1 deal counted by m_a is left out"), text


def test_validate_counts_in_the_singular(tmp_path):
    p = write_project(tmp_path / "p", {
        "defs.yml": "teams: [{name: sales, lead: a@x.example}]\nsources:\n  - {name: o, path: o.csv, key: id, "
                    "time: at}\nmetrics:\n  - {name: n, team: sales, level: company, source: o, measure: count(*)}\n",
        "o.csv": "id,at\n1,2026-01-01\n"}, "project: one\n")
    r = subprocess.run([sys.executable, "-m", "accord.cli", "validate", "--project", str(p)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "1 metric over 1 source, 1 team — valid" in r.stdout
