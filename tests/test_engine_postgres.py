"""PostgreSQL: the demo on a throwaway server gives DuckDB's JSON for every command; sessions are read-only
and bounded; every failure is one line pointing at the YAML."""
from __future__ import annotations

import pytest
import sqlglot
from factory import write_project
from parity import COMMANDS, copy_demo, duckdb_twin, run, same_json
from servers import READER, load_postgres

from accord.demo import write_demo
from accord.engine import EngineQueryError, EngineSpec, open_engine
from accord.project.loader import load_project

pytestmark = pytest.mark.xdist_group("postgres")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("demo") / "northwind")


@pytest.fixture(scope="module")
def tables(demo):
    return {s.name: f"demo.{s.name}" for s in load_project(demo).sources}


@pytest.fixture(scope="module")
def pg_demo(postgres, demo, tables, tmp_path_factory):
    """The demo's typed Parquet files loaded into schema `demo`, and a copy of the project reading them."""
    load_postgres(postgres, "demo", {s.name: demo / s.path for s in load_project(demo).sources})
    target = tmp_path_factory.mktemp("pg") / "northwind"
    return copy_demo(demo, target, "{type: postgres, dsn_env: ACCORD_TEST_PG_DSN}", tables)


@pytest.fixture(scope="module")
def duck_demo(demo, tables, tmp_path_factory):
    return duckdb_twin(demo, tmp_path_factory.mktemp("duck") / "northwind", tables)


@pytest.fixture
def env(postgres):
    return {"ACCORD_TEST_PG_DSN": postgres.dsn()}


@pytest.mark.slow
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_gives_duckdbs_json(command, duck_demo, pg_demo, env):
    same_json(command, duck_demo, pg_demo, env)


def reader(postgres, **kw):
    return open_engine(EngineSpec("postgres", dsn=postgres.dsn(), timezone="America/New_York", **kw))


def test_the_session_is_read_only_bounded_and_in_the_projects_zone(postgres):
    with reader(postgres, timeout=7) as engine:
        row = engine.records(sqlglot.parse_one(
            "select current_setting('transaction_read_only') ro, current_setting('default_transaction_read_only') d,"
            " current_setting('statement_timeout') t, current_setting('application_name') a,"
            " current_setting('TimeZone') z, current_user u", read="postgres"))[0]
    assert row == {"ro": "on", "d": "on", "t": "7s", "a": "accord", "z": "America/New_York", "u": READER}


def test_the_server_refuses_reading_files_and_writing_for_the_select_only_role(postgres):
    with postgres.admin() as con:
        con.execute("CREATE SEQUENCE IF NOT EXISTS public.counter")
        con.execute(f"GRANT USAGE ON SEQUENCE public.counter TO {READER}")
    with reader(postgres) as engine:
        for sql in ("select pg_read_file('/etc/passwd')", "select pg_ls_dir('.')",
                    "select lo_import('/etc/passwd')"):
            with pytest.raises(EngineQueryError, match="permission denied"):
                engine.records(sqlglot.parse_one(sql, read="postgres"))
        with pytest.raises(EngineQueryError, match="read-only transaction"):
            engine.records(sqlglot.parse_one("select nextval('public.counter')", read="postgres"))
        # the session goes on after a refusal
        assert engine.records(sqlglot.parse_one("select 1 + 1 as two"))[0]["two"] == 2


DEFS = """
sources:
  - {name: orders, table: shop.orders, time: ordered_at}
metrics:
  - {name: revenue, team: sales, level: company, source: orders, measure: sum(amount)}
"""


@pytest.fixture(scope="module")
def shop(postgres):
    import pyarrow as pa
    load_postgres(postgres, "shop", {"orders": pa.table({
        "amount": pa.array([10, 20, 5], pa.int64()),
        "ordered_at": pa.array(["2026-01-05", "2026-01-20", "2026-02-02"]).cast(pa.date32())})})
    return postgres


def shop_project(tmp_path, engine: str, defs: str = DEFS):
    return write_project(tmp_path / "p", {"defs.yml": defs, "data/orders.csv": "amount,ordered_at\n1,2026-01-01\n"},
                         f"project: shop\nsettings: {{as_of: 2026-03-01}}\nengine: {engine}\n")


def test_a_table_source_computes_and_matches_hand_written_sql(shop, tmp_path):
    import json
    root = shop_project(tmp_path, "{type: postgres, dsn_env: PG}")
    r = run(["compute", "--format", "json"], root, {"PG": shop.dsn()})
    assert r.returncode == 0, r.stderr
    got = {row["period"]: row["value"] for row in json.loads(r.stdout)["rows"]}
    import psycopg
    with psycopg.connect(shop.dsn()) as con:
        want = dict(con.execute("select to_char(date_trunc('month', ordered_at), 'YYYY-MM'), sum(amount)::float8 "
                                "from shop.orders group by 1").fetchall())
    assert got == {**want, "2026-03": None}      # after the source's last data: no data, not 0


@pytest.mark.parametrize("defs, line, words", [
    (DEFS.replace("shop.orders", "shop.missing"), 2, "source 'orders' cannot be read"),
    (DEFS.replace("sum(amount)", "sum(amount_usd)"), 4, "reads column 'amount_usd'"),
    (DEFS.replace("table: shop.orders", "path: data/orders.csv"), 2, "PostgreSQL cannot read"),
])
def test_each_failure_is_one_line_at_its_yaml_line(shop, tmp_path, defs, line, words):
    root = shop_project(tmp_path, "{type: postgres, dsn_env: PG}", defs)
    r = run(["compute"], root, {"PG": shop.dsn()})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"defs.yml:{line}:") and words in lines[0], r.stderr


def test_a_table_without_select_permission_is_one_line(shop, tmp_path):
    with shop.admin() as con:
        con.execute("CREATE TABLE shop.secret (amount bigint, ordered_at date)")
    root = shop_project(tmp_path, "{type: postgres, dsn_env: PG}", DEFS.replace("shop.orders", "shop.secret"))
    r = run(["compute"], root, {"PG": shop.dsn()})
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("defs.yml:2:") and "permission denied" in r.stderr


def test_a_query_past_the_timeout_is_one_line(shop, tmp_path):
    slow = """
    sources:
      - {name: base, table: shop.orders}
      - {name: big, table: shop.big}
      - {name: orders, sql: "select o.amount, o.ordered_at from base o, big b, big c", time: ordered_at}
    metrics:
      - {name: revenue, team: sales, level: company, source: orders, measure: sum(amount)}
    """
    with shop.admin() as con:
        con.execute("CREATE TABLE IF NOT EXISTS shop.big AS SELECT g AS n FROM generate_series(1, 3000) g")
        con.execute(f"GRANT SELECT ON shop.big TO {READER}")
    root = shop_project(tmp_path, "{type: postgres, dsn_env: PG, timeout: 1s}", slow)
    r = run(["compute"], root, {"PG": shop.dsn()})
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("defs.yml:4:") and "engine.timeout" in r.stderr


@pytest.mark.parametrize("engine, words", [
    ("{type: postgres, dsn: 'host=db user=accord password=hunter2'}", "holds a password"),
    ("{type: postgres, dsn: 'postgresql://accord:hunter2@db/analytics'}", "holds a password"),
    ("{type: postgres, dsn_env: NOT_SET_ANYWHERE}", "NOT_SET_ANYWHERE"),
    ("{type: postgres, dsn: 'host=/nonexistent port=1 user=accord'}", "cannot connect to PostgreSQL"),
])
def test_bad_engine_settings_are_one_line_at_the_engine(tmp_path, engine, words):
    root = shop_project(tmp_path, engine)
    r = run(["compute"], root)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accord.yml:3") and words in lines[0], r.stderr
    assert "hunter2" not in r.stderr


@pytest.mark.parametrize("measure", ["sum(length(pg_read_file('/etc/passwd')))", "count(pg_ls_dir('.'))",
                                     "sum(lo_import('/etc/passwd'))"])
def test_reading_files_is_refused_before_anything_is_sent(tmp_path, measure):
    """The SQL floor refuses it at load: the engine (a server that does not exist) is never reached."""
    defs = DEFS.replace("sum(amount)", f'"{measure}"')
    root = shop_project(tmp_path, "{type: postgres, dsn: 'host=/nonexistent port=1 user=accord'}", defs)
    r = run(["compute"], root)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("defs.yml:4") and "not allowed" in lines[0], r.stderr
    assert "cannot connect" not in r.stderr
