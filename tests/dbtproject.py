"""A small dbt project on dbt-duckdb, written by the tests: raw data, models, a time spine, semantic models.

Raw tables go straight into the DuckDB file (schema `raw`); dbt builds the models in schema `main` from them,
offline (no packages). The numbers are seeded and small enough to check by hand-written SQL.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
from pathlib import Path

import duckdb

START = dt.date(2025, 1, 1)
DAYS = 181                          # 2025-01-01 … 2025-06-30
AS_OF = dt.date(2025, 7, 15)        # after every row: accord ignores nothing

SEMANTIC = """\
semantic_models:
  - name: orders
    description: One row per order.
    model: ref('orders')
    defaults:
      agg_time_dimension: ordered_at
    entities:
      - {name: order, type: primary, expr: order_id}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - name: ordered_at
        type: time
        type_params: {time_granularity: day}
      - {name: status, type: categorical}
      - {name: channel, type: categorical, expr: "lower(channel)"}
    measures:
      - {name: order_count, agg: count, expr: "1"}
      - {name: order_total, agg: sum, expr: amount}
      - {name: order_amount_avg, agg: average, expr: amount}
      - {name: largest_order, agg: max, expr: amount}
      - {name: buyers, agg: count_distinct, expr: customer_id}
      - name: paid_orders
        agg: sum_boolean
        expr: "status = 'completed'"
      - name: open_balance
        agg: sum
        expr: amount
        non_additive_dimension: {name: ordered_at, window_choice: max}

  - name: customers
    model: ref('customers')
    defaults:
      agg_time_dimension: signed_up_at
    entities:
      - {name: customer, type: primary, expr: customer_id}
    dimensions:
      - name: signed_up_at
        type: time
        type_params: {time_granularity: day}
      - {name: region, type: categorical}
    measures:
      - {name: signups, agg: count, expr: customer_id}

metrics:
  - name: orders_placed
    label: Orders
    description: Every order placed.
    type: simple
    type_params:
      measure: {name: order_count, fill_nulls_with: 0, join_to_timespine: true}
    config:
      meta: {owner: ops@shop.example, team: ops}

  - name: revenue
    label: Revenue
    type: simple
    type_params:
      measure: {name: order_total, fill_nulls_with: 0, join_to_timespine: true}
    meta: {owner: finance@shop.example}

  - name: completed_revenue
    label: Completed revenue
    type: simple
    type_params:
      measure: {name: order_total, fill_nulls_with: 0, join_to_timespine: true}
    filter: |
      {{ Dimension('order__status') }} = 'completed'

  - name: web_orders_since_february
    label: Web orders
    type: simple
    type_params:
      measure: order_count
    filter:
      - "{{ Dimension('order__channel') }} = 'web'"
      - "{{ TimeDimension('order__ordered_at', 'day') }} >= '2025-02-01'"

  - name: refunds
    label: Refunds
    type: simple
    type_params:
      measure: {name: order_total, fill_nulls_with: 0, join_to_timespine: true}
    filter: "{{ Dimension('order__status') }} = 'refunded'"

  - name: average_order_value
    label: Average order value
    type: simple
    type_params: {measure: order_amount_avg}

  - name: largest_order_value
    label: Largest order
    type: simple
    type_params: {measure: largest_order}

  - name: active_buyers
    label: Active buyers
    type: simple
    type_params: {measure: buyers}

  - name: paid_order_count
    label: Paid orders
    type: simple
    type_params: {measure: paid_orders}

  - name: signups
    label: Signups
    type: simple
    type_params:
      measure: {name: signups, fill_nulls_with: 0, join_to_timespine: true}

  - name: completion_share
    label: Completion share
    type: ratio
    type_params: {numerator: completed_revenue, denominator: revenue}

  - name: net_revenue
    label: Net revenue
    type: derived
    type_params:
      expr: gross - refunded
      metrics:
        - {name: revenue, alias: gross}
        - {name: refunds, alias: refunded}

  - name: orders_per_signup
    label: Orders per signup
    type: derived
    type_params:
      expr: orders_placed / nullif(signups, 0)
      metrics: [{name: orders_placed}, {name: signups}]

  # -- refused: each has a reason accord cannot translate exactly
  - name: eu_revenue
    label: EU revenue
    type: simple
    type_params: {measure: order_total}
    filter: "{{ Dimension('customer__region') }} = 'EU'"

  - name: revenue_last_week
    label: Revenue last week
    type: derived
    type_params:
      expr: revenue_prior
      metrics:
        - {name: revenue, alias: revenue_prior, offset_window: 7 days}

  - name: cumulative_revenue
    label: Cumulative revenue
    type: cumulative
    type_params: {measure: order_total}

  - name: balance
    label: Balance
    type: simple
    type_params: {measure: open_balance}

  - name: templated
    label: Templated
    type: simple
    type_params: {measure: order_count}
    filter: "{{ Dimension('order__status') | upper }} = 'X'"
"""

REFUSED = ("eu_revenue", "revenue_last_week", "cumulative_revenue", "balance", "templated")

MODELS = """\
version: 2
models:
  - name: metricflow_time_spine
    time_spine:
      standard_granularity_column: date_day
    columns:
      - name: date_day
        granularity: day
"""

SOURCES = """\
version: 2
sources:
  - name: raw
    schema: raw
    tables: [{name: orders}, {name: customers}]
"""


def raw_rows(seed: int = 7) -> tuple[list[tuple], list[tuple]]:
    """(orders, customers): orders on most but not all days, customers signing up on some days."""
    rng = random.Random(seed)
    customers = []
    for cid in range(1, 41):
        day = START + dt.timedelta(days=rng.randrange(DAYS))
        customers.append((cid, rng.choice(["EU", "US", "APAC"]),
                          dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)))))
    orders = []
    oid = 0
    for d in range(DAYS):
        day = START + dt.timedelta(days=d)
        if rng.random() < 0.15:
            continue                                  # a day without orders
        for _ in range(rng.randrange(1, 4)):
            oid += 1
            amount = round(rng.uniform(5, 500), 2)
            status = rng.choices(["completed", "refunded", "pending"], [6, 1, 2])[0]
            channel = rng.choice(["Web", "WEB", "store", "phone"])
            at = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60)))
            orders.append((oid, rng.randrange(1, 41), at, amount, status, channel))
    return orders, customers


def write_dbt_project(root: Path, semantic: str = SEMANTIC) -> Path:
    """The dbt project folder with its raw data loaded into `warehouse.duckdb`."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        "name: shop\nversion: '1.0.0'\nconfig-version: 2\nprofile: shop\nmodel-paths: [models]\n"
        "flags: {send_anonymous_usage_stats: false}\n"
        "models:\n  shop:\n    +materialized: table\n")
    (root / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {root / 'warehouse.duckdb'}\n      threads: 1\n")
    (root / "models" / "sources.yml").write_text(SOURCES)
    (root / "models" / "time_spine.yml").write_text(MODELS)
    (root / "models" / "semantic.yml").write_text(semantic)
    (root / "models" / "orders.sql").write_text(
        "select order_id, customer_id, ordered_at, amount, status, channel from {{ source('raw', 'orders') }}\n")
    (root / "models" / "customers.sql").write_text(
        "select customer_id, region, signed_up_at from {{ source('raw', 'customers') }}\n")
    (root / "models" / "metricflow_time_spine.sql").write_text(
        "select cast(range as date) as date_day\n"
        "from range(date '2024-01-01', date '2026-12-31', interval 1 day)\n")
    orders, customers = raw_rows()
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("create schema if not exists raw")
    con.execute("create or replace table raw.orders (order_id integer, customer_id integer, ordered_at timestamp, "
                "amount decimal(10, 2), status varchar, channel varchar)")
    con.register("new_orders", _table(orders, ("order_id", "customer_id", "ordered_at", "amount", "status",
                                                "channel")))
    con.execute("insert into raw.orders select * from new_orders")
    con.execute("create or replace table raw.customers (customer_id integer, region varchar, "
                "signed_up_at timestamp)")
    con.register("new_customers", _table(customers, ("customer_id", "region", "signed_up_at")))
    con.execute("insert into raw.customers select * from new_customers")
    con.close()
    return root


def _table(rows: list[tuple], names: tuple[str, ...]):
    import pyarrow as pa
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


def offline_env(root: Path) -> dict:
    """dbt and MetricFlow with no network: no usage statistics, no version check, profiles beside the project."""
    env = dict(os.environ, DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_PROFILES_DIR=str(root),
               DBT_VERSION_CHECK="false", DBT_PARTIAL_PARSE="false")
    return env


def run_tool(root: Path, *args: str) -> str:
    """Run dbt or mf from the virtual environment in the project folder; the output, or a failure with it."""
    exe = Path(sys.executable).parent / args[0]
    done = subprocess.run([str(exe), *args[1:]], cwd=root, env=offline_env(root), capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def build_models_in_duckdb(root: Path) -> None:
    """What `dbt build` makes of this project's two models (plain copies of the raw tables), for the tests of
    the import alone, which need no dbt; the MetricFlow parity test builds them with dbt itself."""
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("create or replace table main.orders as select order_id, customer_id, ordered_at, amount, status, "
                "channel from raw.orders")
    con.execute("create or replace table main.customers as select customer_id, region, signed_up_at "
                "from raw.customers")
    con.close()


def write_accord_project(root: Path, dbt_root: Path, teams: tuple[str, ...] = ("ops",)) -> Path:
    """An accord project on the dbt project's warehouse, as of after every row."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "accord.yml").write_text(f"project: shop\nengine: {{type: duckdb, path: {dbt_root / 'warehouse.duckdb'}}}\n"
                                     f"settings:\n  as_of: {AS_OF.isoformat()}\n  data_paths: [{dbt_root}]\n")
    (root / "teams.yml").write_text("teams:\n" + "".join(f"  - {{name: {t}, lead: {t}@shop.example}}\n"
                                                          for t in teams))
    return root


# ---------------------------------------------------------------- MetricFlow's numbers beside accord's

def period_label(grain: str, start: dt.date) -> str:
    """accord's period label for the period MetricFlow names by its first day."""
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        assert start.weekday() == 0, "MetricFlow's weeks start on Monday, as ISO weeks do"
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def mf_values(dbt_root: Path, metrics: list[str], grain: str, start: dt.date, end: dt.date) -> dict:
    """metric -> accord period label -> MetricFlow's value (None for an empty cell), from `mf query`."""
    import csv
    out_csv = dbt_root / f"mf_{grain}.csv"
    run_tool(dbt_root, "mf", "query", "--metrics", ",".join(metrics), "--group-by", f"metric_time__{grain}",
             "--start-time", start.isoformat(), "--end-time", end.isoformat(), "--csv", str(out_csv))
    values: dict = {}
    with out_csv.open() as f:
        for row in csv.DictReader(f):
            if not row[f"metric_time__{grain}"]:
                continue                 # rows whose time is null: accord drops them (and says how many)
            first = dt.date.fromisoformat(row[f"metric_time__{grain}"][:10])
            for m in metrics:
                values.setdefault(m, {})[period_label(grain, first)] = \
                    float(row[m]) if row[m] not in ("", None) else None
    return values


def accord_values(acc: Path, grain: str, complete_only: bool = False) -> dict:
    """metric -> period -> `accord compute`'s value, or "stale" for a period after a source's last data (accord:
    no data; MetricFlow counts what is there); with complete_only the current period is left out."""
    import json
    from typer.testing import CliRunner
    from accord.cli import app
    r = CliRunner().invoke(app, ["compute", "--project", str(acc), "--grain", grain, "--format", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out: dict = {}
    for row in json.loads(r.output)["rows"]:
        if row.get("complete") or not complete_only:
            out.setdefault(row["metric"], {})[row["period"]] = "stale" if row.get("stale") else row["value"]
    return out


def compare(mine: dict, theirs: dict, zero_when_empty: set, skip_periods: set = frozenset()) -> int:
    """Assert MetricFlow's and accord's values agree in every period under README's conventions; the number of
    periods where both hold a value (and so were compared number to number)."""
    import pytest
    compared = 0
    for m in sorted(mine):
        empty = 0 if m in zero_when_empty else None
        for period in sorted(set(mine[m]) | set(theirs.get(m, {}))):
            if period in skip_periods:
                continue
            a, b = mine[m].get(period, "absent"), theirs.get(m, {}).get(period, "absent")
            if a == "stale":            # accord: no data after the source's last data; not compared
                continue
            if b == "absent":           # MetricFlow leaves a period without rows out
                assert a == empty, (m, period, a)
            elif a == "absent":         # the time spine's periods before the first row or after the last
                assert b in (0, None), (m, period, b)
            elif b is None:             # a row other metrics of the query have: null when this one has none
                assert a == empty, (m, period, a)
            elif a is None:
                assert b is None, (m, period, b)
            else:
                assert a == pytest.approx(b, rel=1e-9, abs=1e-9), (m, period, a, b)
                compared += 1
    return compared


TIME_SPINE_SQL = ("select cast(range as date) as date_day\n"
                  "from range(date '2020-01-01', date '2030-12-31', interval 1 day)\n")


def wrap_in_dbt_project(root: Path, name: str = "exported") -> Path:
    """A dbt project on dbt-duckdb around `root/models/`, with a time spine; the warehouse is root/warehouse.duckdb."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        f"name: {name}\nversion: '1.0.0'\nconfig-version: 2\nprofile: {name}\nmodel-paths: [models]\n"
        f"flags: {{send_anonymous_usage_stats: false}}\nmodels:\n  {name}:\n    +materialized: view\n")
    (root / "profiles.yml").write_text(
        f"{name}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {root / 'warehouse.duckdb'}\n      threads: 1\n")
    (root / "models" / "time_spine.yml").write_text(MODELS)
    (root / "models" / "metricflow_time_spine.sql").write_text(TIME_SPINE_SQL)
    return root
