"""`compute --show-sql --dialect D`: the demo's plans written for every dialect, as golden files, each read
back by sqlglot in its own dialect.

The expected SQL lives in tests/golden/dialects/<dialect>/. Run with ACCORD_UPDATE_GOLDEN=1 to rewrite it
after a deliberate change to planning or to an engine's rewrites, then review the diff.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from parity import run

from accord.demo import write_demo
from accord.engine import DIALECTS

GOLDEN = Path(__file__).parent / "golden" / "dialects"
UPDATE = os.environ.get("ACCORD_UPDATE_GOLDEN") == "1"
PLAN = re.compile(r"^-- (\w+): (\w+) plan\n(.*?);\n", re.S | re.M)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("demo") / "northwind")


@pytest.fixture(scope="module")
def computed(demo):
    """The demo's plans, computed once in this process."""
    from accord import app
    project = app.load(demo)
    return demo, app.compute(project, None, "week", app.today(project, None))


def plans(computed, dialect: str) -> dict[str, str]:
    from accord.engine import plan_sql
    demo, result = computed
    root = str(demo.resolve())

    def placeholder(node):   # before writing: the line breaks must not depend on the folder's length
        if isinstance(node, exp.Literal) and node.is_string and root in node.this:
            return exp.Literal.string(node.this.replace(root, "<project>"))
        return node
    return {name: plan_sql(plan.query.transform(placeholder), dialect) for name, plan in result.plans.items()}


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_every_plan_matches_its_golden_file_and_parses_in_its_dialect(computed, dialect):
    got = plans(computed, dialect)
    folder = GOLDEN / dialect
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.sql"):
            old.unlink()
        for name, sql in got.items():
            (folder / f"{name}.sql").write_text(sql + "\n", encoding="utf-8")
    expected = {p.stem: p.read_text(encoding="utf-8").rstrip("\n") for p in sorted(folder.glob("*.sql"))}
    assert expected, f"no golden files for {dialect}; run with ACCORD_UPDATE_GOLDEN=1 and review them"
    assert sorted(got) == sorted(expected)
    for name, sql in expected.items():
        assert got[name] == sql, f"{dialect}/{name}.sql differs; rerun with ACCORD_UPDATE_GOLDEN=1 and review"
        parsed = sqlglot.parse(sql, read=DIALECTS[dialect])
        assert len(parsed) == 1 and isinstance(parsed[0], (sqlglot.exp.Select, sqlglot.exp.Union)), name


def test_an_unknown_dialect_is_one_line(demo):
    r = run(["compute", "--dialect", "oracle"], demo)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "--dialect 'oracle'" in r.stderr


def test_the_warehouses_get_their_own_constructs(computed):
    assert "FILTER" not in "\n".join(plans(computed, "redshift").values())      # Redshift has none
    assert "ISOWEEK" in "\n".join(plans(computed, "bigquery").values())         # weeks start on Monday
    assert "TIMESTAMP_NTZ" in "\n".join(plans(computed, "spark").values())      # wall-clock times stay wall clock


def test_the_command_prints_the_golden_plans(demo):
    r = run(["compute", "--grain", "week", "--format", "json", "--show-sql", "--dialect", "redshift"], demo)
    assert r.returncode == 0, r.stderr
    printed = {m[1]: m[3].replace(str(demo.resolve()), "<project>") for m in PLAN.finditer(r.stderr)}
    expected = {p.stem: p.read_text(encoding="utf-8").rstrip("\n") for p in (GOLDEN / "redshift").glob("*.sql")}
    def words(sql: str) -> str:   # the printed path's length moves line breaks, nothing else
        return re.sub(r"\s+", "", sql)
    assert printed and {k: words(v) for k, v in printed.items()} == {k: words(v) for k, v in expected.items()}
