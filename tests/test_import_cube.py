"""`accord import cube`: a hand-written Cube model folder; each translated measure has the value hand-written SQL
gives, each other one (and each JavaScript model) is listed with its file and line."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.project.loader import load_project
from biwarehouse import by_month, monthly, write_accord_project, write_warehouse

ORDERS = """\
cubes:
  - name: orders
    sql_table: analytics.orders
    description: One row per order.

    dimensions:
      - name: order_id
        sql: order_id
        type: number
        primary_key: true
      - name: status
        sql: "{CUBE}.status"
        type: string
      - name: channel
        sql: lower({CUBE}.channel)
        type: string
      - name: created_at
        sql: created_at
        type: time

    measures:
      - name: count
        type: count
        meta:
          team: growth
          owner: mia@shop.example

      - name: revenue
        title: Revenue
        description: Completed orders' amounts.
        sql: amount
        type: sum
        filters:
          - sql: "{CUBE}.status = 'completed'"
          - sql: "{CUBE}.is_test is not true"

      - name: web_customers
        sql: customer_id
        type: count_distinct
        filters:
          - sql: "{channel} = 'web'"

      - name: average_items
        sql: "{CUBE}.items"
        type: avg

      - name: smallest_order
        sql: amount
        type: min

      - name: paid_orders
        sql: "{order_id}"
        type: countDistinct
        filters:
          - sql: "${CUBE}.amount > 0"

      # -- refused, one line each
      - name: revenue_per_order
        sql: "{revenue} / {count}"
        type: number

      - name: rolling_revenue
        sql: amount
        type: sum
        rolling_window:
          trailing: 7 day

      - name: eu_orders
        type: count
        filters:
          - sql: "{customers.region} = 'EU'"

      - name: approx_customers
        sql: customer_id
        type: count_distinct_approx
"""

CUSTOMERS = """\
cubes:
  - name: customers
    sql: SELECT * FROM analytics.customers
    dimensions:
      - {name: customer_id, sql: customer_id, type: number, primary_key: true}
      - {name: signed_up_at, sql: signed_up_at, type: time}
      - {name: region, sql: region, type: string}
    measures:
      - name: signups
        type: count

  - name: big_spenders
    sql: >
      SELECT customer_id, sum(amount) AS total FROM analytics.orders GROUP BY 1
    dimensions:
      - {name: customer_id, sql: customer_id, type: number, primary_key: true}
    measures:
      - {name: count, type: count}

views:
  - name: sales
    cubes:
      - join_path: orders
        includes: "*"
"""

LEGACY_JS = """\
cube(`Payments`, {
  sql_table: `analytics.payments`,
  measures: { count: { type: `count` } },
});
"""

REFUSED = {"orders.revenue_per_order": "type number", "orders.rolling_revenue": "rolling_window",
           "orders.eu_orders": "reads another cube", "orders.approx_customers": "type count_distinct_approx",
           "big_spenders.count": "more than SELECT * FROM a table"}

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def bi(tmp_path):
    (tmp_path / "wh").mkdir()
    warehouse = write_warehouse(tmp_path / "wh" / "warehouse.duckdb")
    model = tmp_path / "cube" / "model"
    (model / "cubes").mkdir(parents=True)
    (model / "cubes" / "orders.yml").write_text(ORDERS)
    (model / "cubes" / "customers.yaml").write_text(CUSTOMERS)
    (model / "payments.js").write_text(LEGACY_JS)
    return write_accord_project(tmp_path / "acc", warehouse), model, warehouse


def test_each_measure_is_translated_exactly_or_listed_with_its_line(bi):
    acc, model, _ = bi
    r = run("import", "cube", str(model), "--project", str(acc), "--team", "analytics")
    assert r.exit_code == 0, r.output
    assert "wrote imported/cube/orders.yml: 7 new" in r.output       # 1 source, 6 metrics
    assert "wrote imported/cube/customers.yml: 2 new" in r.output
    left = [line.strip() for line in r.output.splitlines() if line.startswith("  ")]
    assert len(left) == len(REFUSED) + 1
    assert any(x.endswith("payments.js:1: file: a JavaScript model is not translated (it is code, run by Cube). "
                          "write the cubes in YAML, or define them in accord by hand") for x in left), left
    lines = ORDERS.splitlines()
    for key, why in REFUSED.items():
        hit = [x for x in left if f"measure '{key}'" in x]
        assert len(hit) == 1 and why in hit[0], (key, left)
        if key.startswith("orders."):
            line = int(hit[0].split(":")[1])
            assert lines[line - 1].strip() == f"- name: {key.split('.')[1]}"
    assert run("validate", "--project", str(acc)).exit_code == 0


def test_translated_measures_give_what_sql_written_by_hand_gives(bi):
    acc, model, wh = bi
    assert run("import", "cube", str(model), "--project", str(acc), "--team", "analytics").exit_code == 0
    expected = {
        "orders_count": by_month(wh, "count(*)"),
        "orders_revenue": by_month(wh, "sum(amount)", "status = 'completed' and is_test is not true"),
        "orders_web_customers": by_month(wh, "count(distinct customer_id)", "lower(channel) = 'web'"),
        "orders_average_items": by_month(wh, "avg(items)"),
        "orders_smallest_order": by_month(wh, "min(amount)"),
        "orders_paid_orders": by_month(wh, "count(distinct order_id)", "amount > 0"),
        "customers_signups": by_month(wh, "count(*)", time="signed_up_at", table="analytics.customers"),
    }
    for metric, want in expected.items():
        got = {p: v for p, v in monthly(acc, metric).items() if p in want}
        assert set(got) == set(want), metric
        for period, value in want.items():
            assert got[period] == pytest.approx(value, rel=1e-9), (metric, period)


def test_meta_gives_team_and_owner_and_imported_from_marks_each(bi):
    acc, model, _ = bi
    assert run("import", "cube", str(model), "--project", str(acc), "--team", "analytics").exit_code == 0
    p = load_project(acc)
    count = p.metric("orders_count")
    assert (count.team, count.owner, count.label, count.imported_from) == \
        ("growth", "mia@shop.example", "Count", "cube:orders.count")
    revenue = p.metric("orders_revenue")
    assert (revenue.team, revenue.label, revenue.description) == ("analytics", "Revenue", "Completed orders' amounts.")
    assert [c.name for c in revenue.include] == ["{CUBE}.status = 'completed'", "{CUBE}.is_test is not true"]
    src = p.source("customers")
    assert (src.table, src.time, src.key, src.imported_from) == \
        ("analytics.customers", "signed_up_at", "customer_id", "cube:customers")


def test_reimport_keeps_what_a_person_added_and_drift_is_found(bi):
    acc, model, _ = bi
    assert run("import", "cube", str(model), "--project", str(acc), "--team", "analytics").exit_code == 0
    path = acc / "imported" / "cube" / "orders.yml"
    path.write_text(path.read_text().replace(
        "    imported_from: cube:orders.revenue\n",
        "    decision: Weekly revenue review  # agreed in March\n    imported_from: cube:orders.revenue\n"))
    cubes = model / "cubes" / "orders.yml"
    cubes.write_text(ORDERS.replace("        sql: amount\n        type: sum\n        filters:",
                                    "        sql: amount * 1.0\n        type: sum\n        filters:"))
    r = run("check", "--project", str(acc), "--format", "json")
    drift = [f for f in json.loads(r.output)["findings"] if f["code"] == "import-drift"]
    assert [f["metrics"] for f in drift] == [["orders_revenue"]] and drift[0]["severity"] == "warning"
    assert run("import", "cube", str(model), "--project", str(acc), "--team", "analytics").exit_code == 0
    text = path.read_text()
    assert "decision: Weekly revenue review  # agreed in March" in text
    assert load_project(acc).metric("orders_revenue").measure == "sum(amount * 1.0)"
    r = run("check", "--project", str(acc), "--format", "json")
    assert not [f for f in json.loads(r.output)["findings"] if f["code"] == "import-drift"]


def test_a_team_teams_yml_lacks_stops_the_import_with_the_line_to_add(bi):
    acc, model, _ = bi
    (model / "cubes" / "orders.yml").write_text(ORDERS.replace("team: growth", "team: finance"))
    r = run("import", "cube", str(model), "--project", str(acc), "--team", "analytics")
    assert r.exit_code == 2
    assert "team 'finance' is not defined. add this line under teams: `- {name: finance" in r.output
    assert not (acc / "imported").exists()
