"""`accord import lookml`: hand-written views; each translated measure has the value hand-written SQL gives (as
Looker writes it for an explore of the view alone), each other one is listed with its file and line."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from accord.cli import app

pytest.importorskip("lkml", reason="the import extra (lkml) is not installed")

from biwarehouse import by_month, monthly, write_accord_project, write_warehouse  # noqa: E402

ORDERS_VIEW = """\
# Orders, one row per order. Kept by the analytics team.
view: orders {
  sql_table_name: analytics.orders ;;
  description: "Every order placed, test orders included."

  dimension: order_id {
    primary_key: yes
    type: number
    sql: ${TABLE}.order_id ;;
  }
  dimension: status {
    type: string
    sql: ${TABLE}.status ;;
  }
  dimension: channel {
    sql: lower(${TABLE}.channel) ;;
  }
  dimension: amount {
    type: number
    sql: ${TABLE}.amount ;;
  }
  dimension: is_test {
    type: yesno
    sql: ${TABLE}.is_test ;;
  }
  dimension: items { type: number }

  dimension_group: created {
    type: time
    timeframes: [raw, date, week, month, quarter, year]
    sql: ${TABLE}.created_at ;;
  }

  measure: count {
    type: count
    drill_fields: [order_id, status]
  }
  measure: total_revenue {
    label: "Revenue"
    description: "Completed orders' amounts."
    type: sum
    sql: ${amount} ;;
    value_format_name: usd
    filters: [status: "completed", is_test: "no"]
  }
  measure: open_orders {
    type: count
    filters: [status: "-completed,-cancelled"]
  }
  measure: big_orders {
    type: count_distinct
    sql: ${order_id} ;;
    filters: [amount: ">=250"]
  }
  measure: average_basket {
    type: average
    sql: ${TABLE}.items ;;
    filters: [status: "NULL"]
  }
  measure: largest_web_order {
    type: max
    sql: ${amount} ;;
    filters: {
      field: channel
      value: "web"
    }
  }
  measure: customers {
    type: count_distinct
    sql: ${TABLE}.customer_id ;;
    filters: [amount: "NOT NULL"]
  }

  # -- refused, one line each
  measure: revenue_per_order {
    type: number
    sql: ${total_revenue} / NULLIF(${count}, 0) ;;
  }
  measure: median_amount {
    type: median
    sql: ${amount} ;;
  }
  measure: web_like {
    type: count
    filters: [channel: "%web%"]
  }
  measure: eu_orders {
    type: count
    filters: [customers.region: "EU"]
  }
  measure: templated {
    type: sum
    sql: {% if _user_attributes['x'] %} ${amount} {% else %} 0 {% endif %} ;;
  }
}
"""

CUSTOMERS_VIEW = """\
view: customers {
  sql_table_name: analytics.customers ;;
  dimension: customer_id { primary_key: yes type: number }
  dimension: region {}
  dimension_group: signed_up { type: time timeframes: [date, month] sql: ${TABLE}.signed_up_at ;; }
  measure: count { type: count label: "Signups" }
}

view: customer_facts {
  derived_table: { sql: select customer_id, count(*) as n from analytics.orders group by 1 ;; }
  dimension: customer_id {}
  measure: count { type: count }
}
"""

MODEL = """\
connection: "warehouse"
include: "/views/*.view.lkml"
explore: orders {
  join: customers { sql_on: ${orders.order_id} = ${customers.customer_id} ;; relationship: many_to_one }
}
"""

REFUSED = {"orders.revenue_per_order": "type number", "orders.median_amount": "type median",
           "orders.web_like": "wildcards", "orders.eu_orders": "not a dimension of view 'orders'",
           "orders.templated": "Liquid", "customer_facts.count": "derived_table"}

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def bi(tmp_path):
    (tmp_path / "wh").mkdir()
    warehouse = write_warehouse(tmp_path / "wh" / "warehouse.duckdb")
    looker = tmp_path / "looker"
    (looker / "views").mkdir(parents=True)
    (looker / "views" / "orders.view.lkml").write_text(ORDERS_VIEW)
    (looker / "views" / "customers.view.lkml").write_text(CUSTOMERS_VIEW)
    (looker / "shop.model.lkml").write_text(MODEL)
    return write_accord_project(tmp_path / "acc", warehouse), looker, warehouse


def test_each_measure_is_translated_exactly_or_listed_with_its_line(bi):
    acc, looker, _ = bi
    r = run("import", "lookml", str(looker), "--project", str(acc), "--team", "analytics")
    assert r.exit_code == 0, r.output
    assert "wrote imported/lookml/orders.yml: 8 new" in r.output        # 1 source, 7 metrics
    assert "wrote imported/lookml/customers.yml: 2 new" in r.output
    left = [line.strip() for line in r.output.splitlines() if line.startswith("  ")]
    assert len(left) == len(REFUSED)
    lines = ORDERS_VIEW.splitlines()
    for key, why in REFUSED.items():
        hit = [x for x in left if f"measure '{key}'" in x]
        assert len(hit) == 1 and why in hit[0], (key, left)
        if key.startswith("orders."):
            file, line = hit[0].split(":")[0], int(hit[0].split(":")[1])
            assert file.endswith("views/orders.view.lkml")
            assert lines[line - 1].strip() == f"measure: {key.split('.')[1]} {{"
    assert run("validate", "--project", str(acc)).exit_code == 0


def test_translated_measures_give_what_looker_sql_written_by_hand_gives(bi):
    acc, looker, wh = bi
    assert run("import", "lookml", str(looker), "--project", str(acc), "--team", "analytics").exit_code == 0
    # the SQL Looker writes for each measure on an explore of the view alone, written out by hand
    expected = {
        "orders_count": by_month(wh, "count(*)"),
        "orders_total_revenue": by_month(wh, "coalesce(sum(amount), 0)",
                                         "status = 'completed' and not coalesce(is_test, false)"),
        "orders_open_orders": by_month(wh, "count(*)",
                                       "(status not in ('completed', 'cancelled') or status is null)"),
        "orders_big_orders": by_month(wh, "count(distinct order_id)", "amount >= 250"),
        "orders_average_basket": by_month(wh, "avg(items)", "status is null"),
        "orders_largest_web_order": by_month(wh, "max(amount)", "lower(channel) = 'web'"),
        "orders_customers": by_month(wh, "count(distinct customer_id)", "amount is not null"),
        "customers_count": by_month(wh, "count(*)", time="signed_up_at", table="analytics.customers"),
    }
    for metric, want in expected.items():
        got = {p: v for p, v in monthly(acc, metric).items() if p in want}
        assert set(got) == set(want), metric
        for period, value in want.items():
            assert got[period] == pytest.approx(value, rel=1e-9), (metric, period)
    assert expected["orders_open_orders"]["2025-03"] > 0 and expected["orders_average_basket"]["2025-03"]


def test_imported_definitions_keep_labels_keys_and_mark_where_they_came_from(bi):
    acc, looker, _ = bi
    assert run("import", "lookml", str(looker), "--project", str(acc), "--team", "analytics").exit_code == 0
    from accord.project.loader import load_project
    p = load_project(acc)
    src = p.source("orders")
    assert (src.table, src.time, src.entity, src.key, src.imported_from) == \
        ("analytics.orders", "created_at", "orders", "order_id", "lookml:orders")
    m = p.metric("orders_total_revenue")
    assert (m.label, m.team, m.level, m.imported_from) == ("Revenue", "analytics", "function",
                                                          "lookml:orders.total_revenue")
    assert m.description == "Completed orders' amounts."
    assert [c.name for c in m.include] == ["status: completed", "is_test: no"]
    assert p.metric("orders_count").label == "Count" and p.metric("customers_count").label == "Signups"


def test_reimport_keeps_what_a_person_added_and_drift_is_found(bi):
    acc, looker, _ = bi
    assert run("import", "lookml", str(looker), "--project", str(acc), "--team", "analytics").exit_code == 0
    path = acc / "imported" / "lookml" / "orders.yml"
    text = path.read_text().replace("    imported_from: lookml:orders.total_revenue\n",
                                    "    confidence: decision-grade\n    caveats: [Test orders are left out.]\n"
                                    "    imported_from: lookml:orders.total_revenue\n")
    path.write_text(text.replace("team: analytics", "team: growth", 1))
    assert run("check", "--project", str(acc), "--format", "json").exit_code in (0, 1)
    view = looker / "views" / "orders.view.lkml"
    view.write_text(ORDERS_VIEW.replace('filters: [status: "completed", is_test: "no"]',
                                        'filters: [status: "completed"]'))
    r = run("check", "--project", str(acc), "--format", "json")
    import json
    drift = [f for f in json.loads(r.output)["findings"] if f["code"] == "import-drift"]
    assert [f["metrics"] for f in drift] == [["orders_total_revenue"]]
    assert drift[0]["severity"] == "error"              # decision-grade
    assert run("import", "lookml", str(looker), "--project", str(acc), "--team", "analytics").exit_code == 0
    from accord.project.loader import load_project
    m = load_project(acc).metric("orders_total_revenue")
    assert m.confidence == "decision-grade" and m.caveats == ("Test orders are left out.",)
    assert [c.name for c in m.include] == ["status: completed"]
    r = run("check", "--project", str(acc), "--format", "json")
    assert not [f for f in json.loads(r.output)["findings"] if f["code"] == "import-drift"]


def test_without_a_team_each_metric_is_listed_and_nothing_breaks(bi):
    acc, looker, _ = bi
    r = run("import", "lookml", str(looker), "--project", str(acc))
    assert r.exit_code == 0
    assert "names no team. pass --team" in r.output


def test_a_folder_without_lookml_is_one_line(bi, tmp_path):
    acc, _, _ = bi
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("import", "lookml", str(empty), "--project", str(acc), "--team", "analytics")
    assert r.exit_code == 2 and "no .lkml files in this folder" in r.output
