"""The SQL floor's allow-list: what a measure, a clause or a `sql:` source may call and read, per dialect."""
from __future__ import annotations

import duckdb
import pytest
import sqlglot

from accord.errors import UserError
from accord.project.loader import load_project
from accord.project.references import parse_fragment_statement
from accord.sql.allowlist import ALLOWED, check_functions, check_reads, check_table_name
from accord.sql.expressions import FragmentError, parse_fragment
from factory import write_project

# Each reads a file, the environment, a setting, the network or runs SQL given as text.
REFUSED_EXPRESSIONS = [
    "read_text('/etc/passwd')", "getenv('HOME')", "current_setting('temp_directory')", "sniff_csv('x.csv')",
    "length(read_blob('/etc/hostname'))", "sum(len(getenv('PATH')))", "upper(main.read_text('x'))",
    "count(*) filter (where current_setting('threads') = '1')", "getvariable('x') = 1", "version() = 'x'",
    "json_execute_serialized_sql('x')", "sleep_ms(100000) is null", "setseed(0.5) is null",
    "nextval('s') > 0", "current_query() like '%x%'", "\"read_text\"('x')", "system.main.sum(x)",
]

REFUSED_QUERIES = [
    "select * from read_csv('/etc/passwd')", "select * from read_text('/proc/self/environ')",
    "select * from read_blob('/etc/passwd')", "select * from sniff_csv('/etc/passwd')", "select * from glob('/*')",
    "select * from '/etc/passwd'", "select * from \"/etc/passwd\"", "select * from 'data/../../x.csv'",
    "select * from 'https://example.com/x.csv'", "select * from sqlite_scan('x.db', 't')",
    "select * from query('select 1')", "select * from query_table('t')", "select * from duckdb_settings()",
    "select * from duckdb_secrets()", "select * from parquet_metadata('x.parquet')",
    "select * from read_parquet(['a.parquet'])", "select * from read_json_auto('x.json')",
    "with x as (select * from read_csv('/etc/passwd')) select * from x",
    "select * from crm where id in (select id from read_csv('/etc/passwd'))",
    "select (select max(content) from read_text('/etc/passwd')) as c from crm",
    "select * from crm, lateral read_text('/etc/passwd')",
    "select * from crm join 'other.csv' on true", "select * from pg_catalog.pg_settings",
    "select * from information_schema.tables", "select * from duckdb_tables", "select * from system.main.x",
    "select * from main.read_text('x')", "select getenv('HOME') from crm",
    "select * from crm union all select * from read_csv('x.csv')", "from 'x.csv'",
    "select * from (from read_text('x'))",
]


@pytest.mark.parametrize("text", REFUSED_EXPRESSIONS)
def test_a_measure_or_clause_that_reads_outside_its_source_is_refused(text):
    with pytest.raises(FragmentError):
        parse_fragment(text)


@pytest.mark.parametrize("text", REFUSED_QUERIES)
def test_a_sql_source_that_reads_a_file_a_setting_or_a_catalog_is_refused(text):
    with pytest.raises(FragmentError):
        parse_fragment_statement(text)


@pytest.mark.parametrize("text", [
    "sum(amount)", "count(distinct opportunity_id)", "median(days)", "avg(date_diff('day', a, b))",
    "sum(amount) filter (where stage = 'won')", "count(*) / nullif(count(distinct owner), 0)",
    "string_agg(x, ',') is not null", "approx_count_distinct(x)", "quantile_cont(x, 0.9)",
    "coalesce(a, 0) > 10 and b like '%x%'", "lower(trim(stage)) in ('won', 'lost')",
    "date_trunc('month', created_at) >= date '2026-01-01'", "strptime(t, '%Y-%m-%d') < now()",
    "extract(year from created_at) = 2026", "cast(x as double) > 1.5", "try_cast(x as date) is null",
    "if(a, 1, 0) = 1", "regexp_matches(email, '@acme')", "list_contains([1, 2], x)", "x::date = current_date",
    "case when a then 1 else 0 end = 1", "abs(round(x, 2)) > 0", "epoch_ms(t) > 0", "hash(id) % 10 = 0",
    "json_extract_string(payload, '$.kind') = 'a'", "greatest(a, b) > least(c, d)", "x ^ 2 > 1",
])
def test_expressions_that_read_only_their_row_pass(text):
    assert parse_fragment(text) is not None


@pytest.mark.parametrize("text", [
    "select * from crm", "select a.id, b.x from crm a join billing b on a.id = b.id",
    "with w as (select * from crm where amount > 5) select * from w",
    "select * from analytics.orders", "select * from range(10) t(x)", "select unnest([1, 2]) as x",
    "select id, row_number() over (partition by owner order by t) as n from crm",
    "select * from crm where exists (select 1 from billing where billing.id = crm.id)",
])
def test_queries_over_sources_and_tables_pass(text):
    assert parse_fragment_statement(text) is not None


def test_the_refusal_points_at_the_function_and_says_why():
    with pytest.raises(FragmentError) as e:
        parse_fragment("sum(amount) + length(read_text('/etc/passwd'))")
    assert e.value.col == len("sum(amount) + length(") + 1
    assert "read_text()" in str(e.value) and "not allowed" in str(e.value) and "`path:`" in str(e.value)
    with pytest.raises(FragmentError) as e:
        parse_fragment_statement("select *\nfrom crm, 'secret.csv'")
    assert (e.value.line, e.value.col) == (2, len("from crm, ") + 1)
    assert "path" in str(e.value)


@pytest.mark.parametrize("dialect,text", [
    ("postgres", "pg_read_file('/etc/passwd')"), ("postgres", "pg_ls_dir('/')"), ("postgres", "lo_import('/x')"),
    ("postgres", "dblink('host=x', 'select 1')"), ("postgres", "current_setting('data_directory')"),
    ("postgres", "pg_read_binary_file('/x')"), ("postgres", "inet_server_addr()"), ("postgres", "version()"),
    ("spark", "reflect('java.lang.Runtime', 'getRuntime')"), ("spark", "java_method('java.lang.System', 'getenv')"),
    ("spark", "input_file_name()"), ("spark", "current_user()"), ("spark", "read_files('/x')"),
    ("duckdb", "read_text('x')"),
])
def test_each_dialect_refuses_its_own_readers(dialect, text):
    tree = sqlglot.parse_one(text, read="duckdb")
    with pytest.raises(FragmentError):
        check_functions(tree, dialect)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
@pytest.mark.parametrize("text", ["sum(amount)", "count(distinct id)", "coalesce(a, 0) > 1", "lower(x) = 'a'",
                                  "avg(x) filter (where y > 0)", "max(t) - min(t)", "abs(x) > round(y, 2)"])
def test_common_aggregates_and_functions_pass_in_every_dialect(dialect, text):
    check_reads(sqlglot.parse_one(text, read="duckdb"), dialect)


def test_copy_program_is_a_statement_and_refused():
    with pytest.raises(FragmentError):
        parse_fragment_statement("copy t to program 'curl x'")


@pytest.mark.parametrize("name", ["orders", "analytics.orders", "Orders_2026"])
def test_a_plain_table_name_passes(name):
    check_table_name(name)


@pytest.mark.parametrize("name", ["read_text('/etc/passwd')", "'/etc/passwd'", "data/x.csv", "a.b.c",
                                  "orders where 1=1", "duckdb_settings", "pg_catalog.pg_settings",
                                  "information_schema.tables", "x; drop table y", "system.t"])
def test_a_table_source_that_is_not_a_plain_name_is_refused(name):
    with pytest.raises(FragmentError):
        check_table_name(name)


def test_every_duckdb_name_on_the_list_is_a_function_duckdb_knows():
    """A typo on the list would allow nothing, but hide a gap; and no allowed name is a file reader."""
    con = duckdb.connect()
    known = {r[0].lower(): r[1] for r in con.sql(
        "select function_name, any_value(function_type) from duckdb_functions() group by 1").fetchall()}
    syntax = {"cast", "try_cast", "safe_cast", "extract", "coalesce", "nullif", "ifnull", "nvl", "case", "exists",
              "any", "all", "some", "in", "not", "interval", "position", "substring", "trim", "overlay",
              "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp", "grouping",
              "grouping_id", "iif", "filter", "struct", "row", "array", "map", "every", "percentile_cont",
              "percentile_disc"}
    unknown = sorted(n for n in ALLOWED["duckdb"] - syntax if n not in known)
    assert unknown == []
    tables = {n for n, kind in known.items() if kind in ("table", "table_macro")}
    assert ALLOWED["duckdb"] & tables <= {"range", "generate_series", "unnest", "repeat", "json_each",
                                          "json_tree"}


def test_a_project_whose_definitions_read_a_file_does_not_load_and_each_line_says_where(tmp_path):
    root = write_project(tmp_path / "p", {"defs.yml": """
        sources:
          - {name: crm, path: data/crm.csv, time: t}
          - name: leak
            sql: "select * from read_text('/etc/passwd')"
          - {name: env, table: "read_text('/proc/self/environ')"}
        metrics:
          - {name: m, team: a, level: role, source: crm, measure: "sum(length(getenv('HOME')))"}
          - name: c
            team: a
            level: role
            source: crm
            measure: count(*)
            include: [{name: x, sql: "current_setting('threads') = '2'"}]
        """, "data/crm.csv": "t\n2026-01-01\n"})
    with pytest.raises(UserError) as e:
        load_project(root)
    lines = e.value.lines()
    assert any(line.startswith("defs.yml:4:") and "read_text()" in line for line in lines), lines
    assert any(line.startswith("defs.yml:5:") and "not a table name" in line for line in lines), lines
    assert any(line.startswith("defs.yml:7:") and "getenv()" in line for line in lines), lines
    assert any(line.startswith("defs.yml:13:") and "current_setting()" in line for line in lines), lines
    assert len(lines) == 4


def test_a_refusal_inside_a_multi_line_query_names_its_line_and_column_in_the_query(tmp_path):
    root = write_project(tmp_path / "p", {"defs.yml": """
        sources:
          - name: leak
            sql: |
              select *
              from read_text('/etc/passwd')
        """})
    with pytest.raises(UserError) as e:
        load_project(root)
    assert e.value.lines()[0].startswith("defs.yml:3:")
    assert "sql (its line 2, column 6) calls read_text()" in e.value.lines()[0]


def test_on_another_engine_the_functions_of_its_dialect_are_checked_too(tmp_path):
    from accord.project.model import Config, EngineConfig
    from accord.project.references import cross_check
    root = write_project(tmp_path / "p", {"defs.yml": """
        sources:
          - {name: crm, table: crm, time: t}
          - {name: wide, sql: "select *, list_sum(xs) as s from crm"}
        metrics:
          - {name: m, team: a, level: role, source: crm, measure: "sum(x)",
             include: [{name: near, sql: "isodow(t) < 6"}]}
        """})
    project = load_project(root)  # on DuckDB every function is allowed
    on_postgres = project.model_copy(update={"config": Config.model_construct(
        project="p", engine=EngineConfig.model_construct(type="postgres"), paths=None,
        settings=project.config.settings)})
    lines = sorted(str(p) for p in cross_check(on_postgres))
    assert len(lines) == 2, lines
    assert lines[0].startswith("defs.yml:3:") and "list_sum()," in lines[0] and "on postgres" in lines[0]
    assert lines[1].startswith("defs.yml:6:") and "isodow() (dayofweek_iso() on postgres)," in lines[1]


DBT_DEFS = {"defs.yml": """
    sources:
      - {name: crm, table: crm.deals, time: t}
    metrics:
      - {name: m, team: a, level: role, source: crm, measure: "sum(x)",
         include: [{name: weekdays, sql: "isodow(t) < 6"}]}
    """}


@pytest.mark.parametrize("adapter, refused", [("postgres", True), ("duckdb", False)])
def test_a_dbt_profile_is_checked_against_its_adapters_list(tmp_path, adapter, refused):
    """type: dbt runs on the profile's adapter, so its fragments pass that dialect's list at load."""
    root = write_project(tmp_path / "p", {**DBT_DEFS, "profiles/profiles.yml": f"""
        shop:
          target: dev
          outputs:
            dev: {{type: {adapter}, host: localhost, dbname: shop, user: reader, path: shop.duckdb}}
        """}, "project: p\nengine: {type: dbt, profile: shop, profiles_dir: profiles}\n")
    if not refused:
        load_project(root)
        return
    with pytest.raises(UserError) as e:
        load_project(root)
    lines = [str(p) for p in e.value.problems]
    assert len(lines) == 1 and lines[0].startswith("defs.yml:5:") and \
        "isodow() (dayofweek_iso() on postgres)," in lines[0], lines


def test_a_profile_cannot_reach_pythons_internals(tmp_path):
    """profiles.yml is rendered in Jinja's sandbox: a template reaching for classes is refused in one line."""
    root = write_project(tmp_path / "p", {**DBT_DEFS, "profiles/profiles.yml": """
        shop:
          target: dev
          outputs:
            dev: {type: postgres, host: "{{ ''.__class__.__mro__[1].__subclasses__() }}", dbname: shop}
        """}, "project: p\nengine: {type: dbt, profile: shop, profiles_dir: profiles}\n")
    from accord.compute.connect import engine_spec
    project = load_project(root)   # the profile is not readable: the allow-list check waits for the engine
    with pytest.raises(UserError) as e:
        engine_spec(project)
    lines = [str(p) for p in e.value.problems]
    assert len(lines) == 1 and lines[0].startswith("accord.yml:2:") and "cannot read" in lines[0] \
        and "unsafe" in lines[0], lines
