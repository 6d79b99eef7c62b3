"""Data that is wrong is reported as data: one line naming the source (and a row), exit 2, nothing changed.

Expected lines are written out here by hand; the values named in them (the first bad row, the smallest
duplicated key) are read off the data written in each test.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from factory import snapshot, write_project

ACCORD = [sys.executable, "-m", "accord"]

DEFS = """
teams:
  - {name: sales, lead: lead@x.example}
sources:
  - {name: orders, path: data/orders.csv, key: id, time: ordered_at, entity: order}
  - {name: shipped, path: data/shipped.csv, key: id, time: shipped_at, entity: order}
metrics:
  - name: revenue
    label: Revenue
    team: sales
    level: company
    owner: a@x.example
    decision: Board
    source: orders
    measure: sum(amount)
    exclude: []
  - name: orders_placed
    team: sales
    level: function
    owner: a@x.example
    decision: Weekly review
    source: orders
    measure: count(*)
    exclude: []
    parents: [{metric: revenue, lag: 1w}]
  - name: shipped_value
    team: sales
    level: function
    owner: a@x.example
    decision: Weekly review
    source: shipped
    measure: sum(amount)
    exclude: []
    parents: [{metric: revenue, lag: 1w}]
"""
ORDERS = "id,amount,ordered_at\n1,10.5,2026-01-05\n2,20,2026-01-31\n3,7,2026-02-01\n4,5,2026-02-10\n"
SHIPPED = "id,amount,shipped_at\n1,10.5,2026-01-07\n2,20,2026-02-02\n3,7,2026-02-03\n"


def run(*args):
    return subprocess.run(ACCORD + [str(a) for a in args], capture_output=True, text=True, env=dict(os.environ))


def one_line(r, code: int = 2) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.fixture
def proj(tmp_path):
    return write_project(tmp_path / "p", {"defs.yml": DEFS, "data/orders.csv": ORDERS, "data/shipped.csv": SHIPPED},
                         "project: shop\nsettings: {as_of: 2026-03-10}\n")


def put(proj, rel: str, data: bytes | str) -> None:
    (proj / rel).write_bytes(data.encode() if isinstance(data, str) else data)


COMMANDS = [("validate",), ("compute",), ("check",)]


def refused_everywhere(proj, expected: str) -> None:
    before = snapshot(proj)
    for command in COMMANDS:
        assert one_line(run(*command, "--project", proj)) == expected, command
    assert snapshot(proj) == before


def test_an_empty_csv_is_named(proj):
    put(proj, "data/orders.csv", "")
    refused_everywhere(proj, "defs.yml:4: source 'orders': data/orders.csv is empty: it has not even a header line. "
                             "write the column names on its first line")


def test_a_csv_that_is_not_utf8_is_named_with_its_line_and_none_of_its_text(proj):
    put(proj, "data/orders.csv", b"id,amount,ordered_at\n1,10.5,2026-01-05\n2,secret\xe9\xff,2026-01-31\n")
    refused_everywhere(proj, "defs.yml:4: source 'orders': data/orders.csv is not UTF-8 text (line 3). save it as "
                             "UTF-8")
    assert "secret" not in run("validate", "--project", proj).stderr


@pytest.mark.parametrize("content", [b"id,amount\n1,2\n", b"", b"PAR1 and then not the rest"])
def test_a_file_named_parquet_that_is_not_parquet_is_named(proj, content):
    put(proj, "data/orders.parquet", content)
    (proj / "defs.yml").write_text((proj / "defs.yml").read_text().replace("data/orders.csv", "data/orders.parquet"))
    refused_everywhere(proj, "defs.yml:4: source 'orders': data/orders.parquet is not a Parquet file (it lacks "
                             "Parquet's PAR1 markers). write it as Parquet, or give it the ending of its format "
                             "(.csv, .json)")


def test_a_corrupt_parquet_file_is_one_line(proj, tmp_path):
    import duckdb
    good = tmp_path / "good.parquet"
    con = duckdb.connect()
    con.execute(f"copy (select range as id, range * 1.5 as amount, date '2026-01-01' + range::int as ordered_at "
                f"from range(1000)) to '{good}' (format parquet)")
    con.close()
    data = bytearray(good.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    data[4:len(data) - footer - 8] = b"\x00" * (len(data) - footer - 12)  # the markers and footer stay, no page
    put(proj, "data/orders.parquet", bytes(data))
    (proj / "defs.yml").write_text((proj / "defs.yml").read_text().replace("data/orders.csv", "data/orders.parquet"))
    for command in COMMANDS:
        line = one_line(run(*command, "--project", proj))
        assert line.startswith("defs.yml:4: source 'orders'"), line


def test_a_time_value_that_does_not_parse_is_named_with_an_example_row(proj):
    put(proj, "data/orders.csv", "id,amount,ordered_at\n1,10.5,2026-01-05\n7,20,yesterday\n3,7,2026-02-01\n"
                                 "9,1,soon\n")
    refused_everywhere(proj, "defs.yml:4: source 'orders': time column 'ordered_at' holds 'yesterday' (on the row "
                             "with id '7'), which is not a date or timestamp. fix the data or choose another time "
                             "column")


def test_a_text_column_measured_as_a_number_is_named_at_the_measure(proj):
    put(proj, "data/orders.csv", "id,amount,ordered_at\n1,10.5,2026-01-05\n2,n/a,2026-01-31\n3,7,2026-02-01\n")
    refused_everywhere(proj, "defs.yml:14: metric 'revenue': measure 'sum(amount)' reads column 'amount', which "
                             "holds text in source 'orders', such as 'n/a'. fix the data, or measure a numeric column")


def test_a_source_with_a_header_and_no_rows_is_valid_and_empty(proj):
    put(proj, "data/orders.csv", "id,amount,ordered_at\n")
    r = run("validate", "--project", proj)
    assert r.returncode == 0, r.stderr
    r = run("compute", "revenue", "orders_placed", "--project", proj, "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    # no record anywhere: no period has data, so nothing is counted as 0 and nothing as a value
    assert all(row["value"] in (None, 0) for row in rows), rows
    for command in ("tree", "check", "report"):
        extra = ["--out", proj.parent / "r.html"] if command == "report" else []
        r = run(command, "--project", proj, *extra)
        assert r.returncode in (0, 1) and "Traceback" not in r.stderr, (command, r.stderr)
    r = run("reconcile", "revenue", "shipped_value", "--period", "2026-01", "--project", proj, "--format", "json")
    assert r.returncode == 0, r.stderr
    bridge = json.loads(r.stdout)
    assert (bridge["a"]["value"], bridge["b"]["value"]) == (0, 10.5)   # shipped's one January row: 10.5


def test_a_duplicate_key_stops_reconcile_with_an_example_but_not_compute(proj):
    put(proj, "data/shipped.csv", "id,amount,shipped_at\n1,10.5,2026-01-07\n3,20,2026-01-08\n3,7,2026-02-03\n"
                                  "2,1,2026-01-09\n2,1,2026-01-10\n")
    assert one_line(run("reconcile", "revenue", "shipped_value", "--period", "2026-01", "--project", proj)) == (
        "defs.yml:5: source 'shipped': key 'id' is not unique: '2' appears on 2 rows, so records cannot be matched "
        "one to one. fix the data, or choose a key that is unique per row")
    r = run("compute", "--project", proj, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert one_line(run("validate", "--project", proj)).startswith("defs.yml:5: source 'shipped': key 'id' is not "
                                                                 "unique: '2' appears on 2 rows")


@pytest.mark.parametrize("period,line", [
    ("2020-01", "there is no data in 2020-01: the first record is of 2026-01-05. choose a later --period"),
    ("2027-01", "there is no data in 2027-01: the last record is of 2026-02-10. choose an earlier --period"),
])
def test_reconcile_for_a_period_without_any_data_says_so(proj, period, line):
    assert one_line(run("reconcile", "revenue", "shipped_value", "--period", period, "--project", proj)) == line


def test_reconcile_before_any_data_exists_says_so(proj):
    put(proj, "data/orders.csv", "id,amount,ordered_at\n")
    put(proj, "data/shipped.csv", "id,amount,shipped_at\n")
    assert one_line(run("reconcile", "revenue", "shipped_value", "--period", "2026-01", "--project", proj)) == (
        "there is no data to bridge: 'orders' and 'shipped' have no records with a time. load data first")


def test_a_text_column_compared_inside_a_measure_is_no_problem(proj):
    """`sum(case when status = 'done' then 1 else 0 end)` reads text only to compare it: it computes."""
    put(proj, "data/orders.csv", "id,amount,ordered_at,status\n1,10.5,2026-01-05,done\n2,20,2026-01-31,open\n"
                                 "3,7,2026-02-01,done\n")
    defs = proj / "defs.yml"
    defs.write_text(defs.read_text().replace("measure: count(*)",
                                             "measure: \"sum(case when status = 'done' then 1 else 0 end)\""))
    assert run("validate", "--project", proj).returncode == 0
    r = run("compute", "orders_placed", "--project", proj, "--format", "json", "--grain", "month")
    assert r.returncode == 0, r.stderr
    got = {row["period"]: row["value"] for row in json.loads(r.stdout)["rows"] if row["period"] <= "2026-02"}
    assert got == {"2026-01": 1, "2026-02": 1}      # by hand: one 'done' order in each month
