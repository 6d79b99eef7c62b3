"""Spark: a table source computes what hand-written Spark SQL gives; only SELECT plans are submitted, in the
project's time zone; every failure is one line pointing at the YAML."""
from __future__ import annotations

import pytest
import sqlglot
from factory import write_project
from parity import run_here

from accord.engine import EngineQueryError, EngineSpec, open_engine

pytestmark = pytest.mark.xdist_group("spark")


def engine(**kw):
    return open_engine(EngineSpec("spark", master="local[2]", timezone="America/New_York", **kw))


def test_the_session_reads_times_in_the_projects_zone(spark):
    with engine() as e:
        row = e.records(sqlglot.parse_one("select current_timezone() as z"))[0]
        assert row == {"z": "America/New_York"}
        # 12:00 UTC is 08:00 in New York in summer (EDT), 07:00 in winter (EST)
        q = sqlglot.parse_one("select timezone('America/New_York', cast('2026-07-01 12:00:00+00' as timestamptz)) s,"
                              " timezone('America/New_York', cast('2026-01-01 12:00:00+00' as timestamptz)) w",
                              read="duckdb")
        got = e.records(q)[0]
    assert (got["s"].hour, got["w"].hour) == (8, 7)


def test_only_select_plans_are_submitted(spark):
    with engine() as e:
        for sql in ("create table t (a int)", "drop table t", "insert into t values (1)"):
            with pytest.raises(EngineQueryError, match="only SELECT"):
                e.records(sqlglot.parse_one(sql, read="spark"))
        assert e.records(sqlglot.parse_one("select 1 + 1 as two"))[0]["two"] == 2


DEFS = """
sources:
  - {name: orders, table: shop.orders, time: ordered_at}
metrics:
  - {name: revenue, team: sales, level: company, source: orders, measure: sum(amount)}
"""


@pytest.fixture(scope="module")
def orders(spark):
    import datetime as dt
    spark.sql("CREATE DATABASE IF NOT EXISTS shop")
    spark.createDataFrame([(10, dt.date(2026, 1, 5)), (20, dt.date(2026, 1, 20)), (5, dt.date(2026, 2, 2))],
                          "amount long, ordered_at date").write.mode("overwrite").saveAsTable("shop.orders")
    return spark


def shop(tmp_path, defs: str = DEFS, engine: str = '{type: spark, master: "local[2]"}'):
    return write_project(tmp_path / "p", {"defs.yml": defs},
                         f"project: shop\nsettings: {{as_of: 2026-03-01}}\nengine: {engine}\n")


def test_a_table_source_matches_hand_written_spark_sql(orders, tmp_path):
    import json
    r = run_here(["compute", "--format", "json"], shop(tmp_path))
    assert r.returncode == 0, r.stderr
    got = {row["period"]: row["value"] for row in json.loads(r.stdout)["rows"]}
    want = {row["p"]: float(row["v"]) for row in orders.sql(
        "select date_format(ordered_at, 'yyyy-MM') p, sum(amount) v from shop.orders "
        "group by 1").collect()}
    assert got == {**want, "2026-03": None}      # after the source's last data: no data, not 0


@pytest.mark.parametrize("defs, line, words", [
    (DEFS.replace("shop.orders", "shop.missing_table"), 2, "source 'orders' cannot be read"),
    (DEFS.replace("sum(amount)", "sum(amount_usd)"), 4, "reads column 'amount_usd'"),
])
def test_each_failure_is_one_line_at_its_yaml_line(orders, tmp_path, defs, line, words):
    r = run_here(["compute"], shop(tmp_path, defs))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"defs.yml:{line}:") and words in lines[0], r.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from accord.demo import write_demo
    return write_demo(tmp_path_factory.mktemp("demo") / "northwind")


@pytest.fixture(scope="module")
def spark_demo(spark, demo, tmp_path_factory):
    """The demo's definitions with Spark reading its Parquet files (the same files DuckDB reads)."""
    from parity import copy_demo
    return copy_demo(demo, tmp_path_factory.mktemp("spark") / "northwind", '{type: spark, master: "local[2]"}')


@pytest.fixture(scope="module")
def duck_demo(demo, tmp_path_factory):
    """The same definitions on DuckDB: only the engine line differs, so fingerprints agree."""
    from parity import copy_demo
    return copy_demo(demo, tmp_path_factory.mktemp("duck") / "northwind", "{type: duckdb}")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["validate", "compute", "check", "tree", "touchpoints", "reconcile"])
def test_every_command_gives_duckdbs_json(command, duck_demo, spark_demo):
    from parity import same_json
    same_json(command, duck_demo, spark_demo, here=True)


@pytest.mark.slow
def test_spark_connect_gives_duckdbs_numbers_and_one_line_failures(spark_connect, demo, duck_demo, tmp_path):
    """engine.remote: the same commands through a Spark Connect server, run as a user runs them (a process)."""
    import json

    from parity import copy_demo, differences, run
    engine = f'{{type: spark, remote: "{spark_connect.url()}"}}'
    remote = copy_demo(demo, tmp_path / "northwind", engine)
    args = ["compute", "--format", "json", "--grain", "month"]
    a, b = run(args, duck_demo), run(args, remote)
    assert a.returncode == b.returncode == 0, b.stderr
    assert b.stderr.strip() == "", b.stderr            # no warnings of pyspark's on the way
    found = differences(json.loads(a.stdout), json.loads(b.stdout))
    assert not found, f"{len(found)} differences, first: " + "; ".join(found[:5])
    r = run(["compute"], shop(tmp_path, DEFS.replace("shop.orders", "shop.missing_table"), engine))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("defs.yml:2:") \
        and "source 'orders' cannot be read" in lines[0], r.stderr
