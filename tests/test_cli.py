"""The command line: exit codes, formats, JSON alone on stdout, one line per problem on stderr."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from factory import snapshot, write_project

ACCORD = [sys.executable, "-m", "accord.cli"]

DEFS = """
teams:
  - {name: sales, lead: lead@x.example}
sources:
  - {name: orders, path: data/orders.csv, key: id, time: ordered_at}
metrics:
  - name: revenue
    team: sales
    level: company
    owner: a@x.example
    decision: Board
    source: orders
    measure: sum(amount)
    include: [{name: paid, sql: "status = 'paid'"}]
    exclude: []
  - name: orders_placed
    team: sales
    level: function
    decision: Weekly review
    source: orders
    measure: count(*)
    exclude: []
    parents: [{metric: revenue}]
"""
ORDERS = """id,status,amount,ordered_at
1,paid,10.5,2026-01-05
2,paid,20,2026-01-31T23:30:00
3,refunded,7,2026-02-01
4,paid,,2026-02-10
5,paid,5,
6,paid,100,2026-03-20
"""


def run(*args, cwd=None):
    return subprocess.run(ACCORD + list(args), capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def proj(tmp_path):
    return write_project(tmp_path / "p", {"defs.yml": DEFS, "data/orders.csv": ORDERS},
                         "project: shop\nsettings: {as_of: 2026-03-10}\n")


def test_compute_json_is_alone_on_stdout_and_matches_sql(proj):
    r = run("compute", "--project", str(proj), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    expected = duckdb.sql(f"""
        select strftime(date_trunc('month', cast(ordered_at as date)), '%Y-%m') p,
               sum(amount) filter (where status = 'paid') revenue, count(*) n
        from read_csv('{proj}/data/orders.csv')
        where ordered_at is not null and cast(ordered_at as timestamp) < date '2026-03-11'
        group by 1 order by 1""").fetchall()
    got = {(r["metric"], r["period"]): r["value"] for r in data["rows"]}
    for period, revenue, n in expected:
        assert got[("revenue", period)] == pytest.approx(float(revenue or 0))
        assert got[("orders_placed", period)] == n
    # March's only row is after the as-of date, so the data stops in February: March has no data (not 0)
    assert len(expected) == 2
    assert got[("revenue", "2026-03")] is None and got[("orders_placed", "2026-03")] is None
    assert [r["stale"] for r in data["rows"] if r["metric"] == "revenue"] == [False, False, True]
    last = duckdb.sql(f"""select max(cast(ordered_at as timestamp)) from read_csv('{proj}/data/orders.csv')
                          where cast(ordered_at as timestamp) < date '2026-03-11'""").fetchall()[0][0]
    assert data["last_data"] == [{"source": "orders", "time_column": "ordered_at", "last_data": last.isoformat(),
                                  "metrics": ["revenue", "orders_placed"]}]
    assert [r["complete"] for r in data["rows"] if r["metric"] == "revenue"] == [True, True, False]
    assert data["dropped"] == {"revenue": {"null_time": 1}, "orders_placed": {"null_time": 1}}


def test_compute_csv_and_metric_selection(proj):
    r = run("compute", "orders_placed", "--project", str(proj), "--format", "csv", "--grain", "quarter")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    # rows 1-4 (row 5 has no time, row 6 is after the as-of date)
    assert rows == [{"metric": "orders_placed", "period": "2026-Q1", "value": "4.0", "complete": "false",
                     "stale": "false"}]


def test_unknown_metric_and_bad_options_exit_2_with_one_line(proj):
    r = run("compute", "revenu", "--project", str(proj))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == ("metric 'revenu' is not defined. Did you mean 'revenue'? "
                                "run `accord validate --verbose` to list metrics")
    r = run("compute", "--project", str(proj), "--grain", "weak")
    assert r.returncode == 2 and "Did you mean 'week'?" in r.stderr and "Traceback" not in r.stderr
    r = run("check", "--project", str(proj), "--as-of", "yesterday")
    assert r.returncode == 2 and "is not a date" in r.stderr


def test_check_exit_codes_follow_fail_on(proj):
    assert run("check", "--project", str(proj)).returncode == 0
    r = run("check", "--project", str(proj), "--fail-on", "warning")
    assert r.returncode == 1 and "missing-owner" in r.stdout
    r = run("check", "--project", str(proj), "--format", "json")
    data = json.loads(r.stdout)
    # the orders stop on 2026-02-10 (row 6 is after as-of 2026-03-10): 28 days, past the default 7d warning
    assert [f["code"] for f in data["findings"]] == ["missing-owner", "stale-source"]
    assert data["findings"][0]["owner"] == "lead@x.example"
    assert data["findings"][0]["location"] == {"file": "defs.yml", "line": 15}
    stale = data["findings"][1]
    assert stale["severity"] == "warning" and stale["location"] == {"file": "defs.yml", "line": 4}
    assert {k: stale["evidence"][k] for k in ("last_data", "age_days", "warn_after", "error_after", "metrics")} == {
        "last_data": "2026-02-10T00:00:00", "age_days": (dt.date(2026, 3, 10) - dt.date(2026, 2, 10)).days,
        "warn_after": "7d", "error_after": "30d", "metrics": ["revenue", "orders_placed"]}


def test_check_and_reconcile_speak_markdown(proj):
    r = run("check", "--project", str(proj), "--format", "md", "--fail-on", "info")
    assert r.stdout.startswith("## accord check\n") and "| severity | code | finding | where | owner |" in r.stdout
    counts = json.loads(run("check", "--project", str(proj), "--format", "json").stdout)["counts"]
    assert f"{counts['warning']} warning" in r.stdout
    assert r.stdout.count("\n| ") - 1 == sum(counts[k] for k in ("error", "warning", "info"))   # a row each
    (proj / "more.yml").write_text("metrics:\n  - {name: revenue_all, team: sales, level: role, source: orders, "
                                   "measure: sum(amount), exclude: []}\n")
    r = run("reconcile", "revenue", "revenue_all", "--period", "2026-02", "--project", str(proj), "--format", "md")
    assert r.returncode == 0, r.stderr
    # February by hand: order 3 (refunded, 7) counts only without the 'paid' clause; order 4 has no amount
    assert r.stdout.startswith("## revenue → revenue_all, 2026-02\n")
    assert "| +7 | 1 " in r.stdout and "left out by sales' rule 'paid'" in r.stdout
    bad = run("tree", "--project", str(proj), "--format", "md")
    assert bad.returncode == 2 and "--format 'md' is not one of" in bad.stderr


def test_sarif_output_is_valid_json_with_locations(proj):
    r = run("check", "--project", str(proj), "--format", "sarif")
    assert r.returncode == 0
    result = json.loads(r.stdout)["runs"][0]["results"][0]
    assert result["ruleId"] == "missing-owner"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 15


def test_load_errors_exit_2_sorted_no_traceback_nothing_changed(proj):
    bad = (proj / "defs.yml").read_text().replace("measure: sum(amount)", "measure: sum(amount); drop table x")
    bad = bad.replace("level: function", "level: ceo")
    (proj / "defs.yml").write_text(bad)
    before = snapshot(proj)
    r = run("validate", "--project", str(proj))
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("defs.yml:12:14:") and "statements" in lines[0]
    assert lines[1].startswith("defs.yml:17:12:") and "level" in lines[1] and "ceo" in lines[1]
    assert snapshot(proj) == before


def test_validate_reports_every_problem_of_one_metric_at_once(proj):
    """A bad level, a measure with two statements and a misspelled column in one metric: three lines."""
    bad = (proj / "defs.yml").read_text().replace("measure: sum(amount)", "measure: sum(amount); drop table x")
    bad = bad.replace("level: company", "level: ceo").replace("sql: \"status = 'paid'\"", "sql: \"stauts = 'paid'\"")
    (proj / "defs.yml").write_text(bad)
    before = snapshot(proj)
    r = run("validate", "--project", str(proj))
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("defs.yml:8:12:") and "level 'ceo'" in lines[0]
    assert lines[1].startswith("defs.yml:12:14:") and "2 statements" in lines[1]
    assert lines[2].startswith("defs.yml:13:") and "'stauts'" in lines[2] and "Did you mean 'status'?" in lines[2]
    assert snapshot(proj) == before


def test_validate_reports_a_duplicate_key_with_an_example(proj):
    (proj / "data/orders.csv").write_text(ORDERS + "3,paid,1,2026-03-01\n")
    r = run("validate", "--project", str(proj))
    assert r.returncode == 2
    assert r.stderr.strip() == ("defs.yml:4: source 'orders': key 'id' is not unique: '3' appears on 2 rows. "
                                "fix the data, or choose a key that is unique per row")


def test_validate_verbose_lists_files_read_and_skipped(proj):
    (proj / "notes.yml").write_text("title: not definitions\n")
    (proj / ".hidden").mkdir()
    (proj / ".hidden" / "x.yml").write_text("metrics: [oops\n")
    r = run("validate", "--project", str(proj), "--verbose")
    assert r.returncode == 0, r.stderr
    assert "read     defs.yml" in r.stdout and "skipped  notes.yml" in r.stdout and ".hidden" not in r.stdout


def test_missing_project_folder_is_a_clear_error(tmp_path):
    r = run("check", "--project", str(tmp_path))
    assert r.returncode == 2 and "no accord.yml" in r.stderr and "accord init" in r.stderr


def test_init_scaffolds_a_working_project_and_never_overwrites(tmp_path):
    target = tmp_path / "mine"
    r = run("init", str(target))
    assert r.returncode == 0 and "Next steps" in r.stdout
    assert run("validate", "--project", str(target)).returncode == 0
    r = run("compute", "--project", str(target), "--format", "json", "--as-of", "2026-04-15")
    assert r.returncode == 0, r.stderr
    revenue = {x["period"]: x["value"] for x in json.loads(r.stdout)["rows"] if x["metric"] == "revenue"}
    # paid orders minus the test order at example.com, by hand from the scaffold's CSV
    assert revenue == {"2026-01": 200.5, "2026-02": 255.25, "2026-03": 405.0, "2026-04": 150.0}
    ignored = (target / ".gitignore").read_text().splitlines()
    assert ".accord/" in ignored and ".venv/" in ignored and "__pycache__/" in ignored
    # the example ratio divides one population: its numerator and denominator exclude the same test orders
    r = run("check", "--project", str(target), "--format", "json", "--as-of", "2026-04-15", "--fail-on", "info")
    assert r.stdout and not [f for f in json.loads(r.stdout)["findings"] if f["code"] == "ratio-mismatch"]
    mine = tmp_path / "repo"
    mine.mkdir()
    (mine / ".gitignore").write_text("node_modules/\n")
    assert run("init", str(mine)).returncode == 0
    assert (mine / ".gitignore").read_text() == "node_modules/\n"        # one already there is kept
    before = snapshot(target)
    r = run("init", str(target))
    assert r.returncode == 2 and "already exists" in r.stderr and snapshot(target) == before


def test_help_does_not_import_the_heavy_modules():
    code = ("import sys, accord.cli; heavy = [m for m in ('duckdb', 'pyarrow', 'sqlglot', 'pydantic', 'scipy') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    assert out == "[]"


def test_compute_does_not_load_arrow_or_numpy(proj):
    """compute fetches its small results as Python rows: a command that loads neither starts faster."""
    code = ("import sys\nfrom accord.cli import app\nsys.argv = ['accord', 'compute', '--project', sys.argv[1], "
            "'--format', 'json']\ntry:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print([m for m in ('pyarrow', 'numpy', 'pandas', 'scipy') if m in sys.modules], file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code, str(proj)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"], r.stdout
    assert r.stderr.strip().splitlines()[-1] == "[]"


def test_main_keeps_exit_codes_and_every_byte_of_output(proj, tmp_path):
    """main() leaves without the interpreter's teardown: what it printed must still all arrive, and the
    exit code must be the command's."""
    r = run("compute", "--project", str(proj), "--grain", "day", "--format", "csv")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "metric,period,value,complete,stale" and len(lines) > 50
    assert r.stdout.endswith("\n") and lines[-1].count(",") == 4
    bad = run("compute", "--project", str(proj), "--grain", "fortnight")
    assert bad.returncode == 2 and bad.stderr.startswith("--grain 'fortnight' is not one of")
    missing = run("compute", "--project", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    helped = run("--help")                            # typer's own exits pass through too
    assert helped.returncode == 0 and "Commands" in helped.stdout


def test_html_goes_to_stdout_or_to_the_out_file_never_into_the_project(proj, tmp_path):
    before = snapshot(proj)
    for args in (["report"], ["tree", "--format", "html"], ["touchpoints", "--format", "html"],
                 ["reconcile", "revenue", "revenue", "--period", "2026-01", "--format", "html"]):
        r = run(*args, "--project", str(proj))
        if args[0] == "touchpoints":          # this project has no contact policy: one line, exit 2
            assert r.returncode == 2 and "contact_policy" in r.stderr
            continue
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("<!doctype html>") and r.stdout.rstrip().endswith("</html>"), args
    for fmt in ("text", "json", "html"):      # --out names a file for every format
        target = tmp_path / f"tree.{fmt}"
        r = run("tree", "--format", fmt, "--project", str(proj), "--out", str(target))
        assert r.returncode == 0 and r.stdout.strip() == f"wrote {target}", r.stderr
        assert target.read_text() == run("tree", "--format", fmt, "--project", str(proj)).stdout
    assert snapshot(proj) == before


def test_report_writes_one_page_where_out_says(proj, tmp_path):
    r = run("report", "--project", str(proj), "--out", str(tmp_path / "report.html"))
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "report.html").read_text()
    assert r.stdout.strip() == f"wrote {tmp_path / 'report.html'}"
    assert "orders_placed" in page or "Orders placed" in page
    assert "<script src" not in page and "<link " not in page


def test_version_and_short_help_and_argument_names():
    import tomllib
    version = run("--version")
    assert version.returncode == 0
    want = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["version"]
    assert version.stdout.strip() == f"accord {want}"
    for args, names in ((["-h"], ["--version", "-h, --help", "compute"]),
                        (["compute", "-h"], ["[METRIC]..."]),
                        (["reconcile", "-h"], ["METRIC_A", "METRIC_B"]),
                        (["diff", "-h"], ["REV"]),
                        (["workshop", "kit", "-h"], ["LABEL"]),
                        (["workshop", "approve", "-h"], ["METRIC"])):
        done = run(*args)
        assert done.returncode == 0, done.stderr
        for name in names:
            assert name in done.stdout, (args, name)
        assert "{a}" not in done.stdout and "{rev}" not in done.stdout and "{labels}" not in done.stdout
        assert "{" not in done.stdout.splitlines()[0] and "<" not in done.stdout, done.stdout
    assert " diff [OPTIONS] REV\n" in run("diff", "-h").stdout
    assert "--as-of DATE" in run("compute", "-h").stdout and "--project DIR" in run("tree", "-h").stdout


def test_sums_of_decimals_carry_no_float_noise(tmp_path):
    """0.1 + 0.2 is 0.3 in JSON and CSV; cents summed over many rows equal the exact decimal sum."""
    import random
    from decimal import Decimal
    rnd = random.Random(7)
    rows, exact = ["id,amount,at", "1,0.1,2026-01-05", "2,0.2,2026-01-06"], {"2026-02": Decimal(0)}
    for i in range(3, 3003):         # signed cents that cancel: a plain sum of doubles drifts here
        cents = Decimal(rnd.randint(-10**7, 10**7)) / 100
        exact["2026-02"] += cents
        rows.append(f"{i},{cents},2026-02-{rnd.randint(1, 28):02d}")
    defs = DEFS.replace("path: data/orders.csv, key: id, time: ordered_at", "path: data/o.csv, key: id, time: at")
    defs = defs.replace('    include: [{name: paid, sql: "status = \'paid\'"}]\n', "")
    p = write_project(tmp_path / "p", {"defs.yml": defs, "data/o.csv": "\n".join(rows) + "\n"},
                      "project: f\nsettings: {as_of: 2026-03-10}\n")
    r = run("compute", "revenue", "--project", str(p), "--format", "json")
    assert r.returncode == 0, r.stderr
    got = {x["period"]: x["value"] for x in json.loads(r.stdout)["rows"]}
    assert got["2026-01"] == 0.3 and "0.30000000000000004" not in r.stdout
    assert got["2026-02"] == float(exact["2026-02"])
    text = run("compute", "revenue", "--project", str(p), "--format", "csv").stdout
    assert "revenue,2026-01,0.3,true,false" in text
    assert f"revenue,2026-02,{float(exact['2026-02'])!r},true,false" in text
