"""A fuzz of the SQL floor: generated DuckDB expressions and table functions, over every function DuckDB knows,
aimed at a canary file outside the project. Every fragment the floor accepts is run — inside the sandbox, and
also on a plain DuckDB session with no sandbox at all, so the floor alone is proven — and must not read it."""
from __future__ import annotations

import datetime as dt
import uuid

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from accord.engine import Sandbox, open_engine
from accord.engine.duckdb import EngineQueryError
from accord.errors import UserError
from accord.project.references import parse_fragment_statement
from accord.sql.expressions import FragmentError, parse_fragment

CANARY = f"canary{uuid.uuid4().hex}"
ENV_CANARY = f"envcanary{uuid.uuid4().hex}"


def _duckdb_functions() -> list[str]:
    con = duckdb.connect()
    names = sorted({r[0] for r in con.sql("select function_name from duckdb_functions() "
                                          "where function_name similar to '[a-z_][a-z0-9_]*'").fetchall()})
    con.close()
    return names


FUNCTIONS = _duckdb_functions()
READERS = ["read_csv", "read_text", "read_blob", "read_parquet", "read_json_auto", "sniff_csv", "glob", "getenv",
           "current_setting", "query", "query_table", "sqlite_scan", "parquet_metadata", "read_csv_auto"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    outside = base / "outside"
    outside.mkdir()
    (outside / "canary.csv").write_text(f"secret,n\n{CANARY},1\n")
    (outside / "canary.txt").write_text(CANARY + "\n")
    project = base / "project"
    project.mkdir()
    (project / "crm.csv").write_text("t,amount,stage\n2026-01-05,10,won\n2026-02-07,20,lost\n")
    sandbox = Sandbox(data_folders=(str(project),), threads=1, memory_limit="500MB",
                      timeout=dt.timedelta(seconds=5))
    sandboxed = open_engine("duckdb", None, sandbox=sandbox)
    # no sandbox at all: only what the floor lets through protects this session
    plain = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    yield {"outside": outside, "project": project, "sandboxed": sandboxed, "plain": plain, "accepted": []}
    sandboxed.close()
    plain.close()


def _args(world) -> st.SearchStrategy[str]:
    o = world["outside"]
    paths = [f"'{o}/canary.csv'", f"'{o}/canary.txt'", f"'{o}/*'", f"['{o}/canary.csv']", "'/proc/self/environ'",
             f"'{o}/../outside/canary.txt'", "'ACCORD_CANARY'", "'home_directory'", "'temp_directory'"]
    plain = ["stage", "amount", "t", "1", "0", "'x'", "'%'", "true", "null", "[1, 2]", "'2026-01-01'"]
    return st.sampled_from(paths + plain)


def _expressions(world) -> st.SearchStrategy[str]:
    names = st.one_of(st.sampled_from(FUNCTIONS), st.sampled_from(READERS))

    def call(children):
        args = st.lists(st.one_of(_args(world), children), min_size=0, max_size=3).map(", ".join)
        return st.one_of(
            st.builds(lambda n, a: f"{n}({a})", names, args),
            st.builds(lambda n, a: f'"{n}"({a})', names, args),
            st.builds(lambda s, n, a: f"{s}.{n}({a})", st.sampled_from(["main", "system.main", "pg_catalog"]),
                      names, args),
            st.builds(lambda x, n: f"({x}).{n}()", children, names),
            st.builds(lambda x: f"cast({x} as varchar)", children),
            st.builds(lambda x, y: f"coalesce({x}, {y})", children, children),
        )
    return st.recursive(_args(world), call, max_leaves=4)


def _queries(world) -> st.SearchStrategy[str]:
    o = world["outside"]
    table = st.one_of(
        st.builds(lambda n, a: f"{n}({a})", st.one_of(st.sampled_from(FUNCTIONS), st.sampled_from(READERS)),
                  st.lists(_args(world), max_size=2).map(", ".join)),
        st.sampled_from([f"'{o}/canary.csv'", f'"{o}/canary.csv"', "crm", "duckdb_settings", "pg_settings",
                         "information_schema.tables", f"'{o}/*.csv'"]),
    )
    expr = _expressions(world)
    return st.one_of(
        st.builds(lambda t: f"select * from {t}", table),
        st.builds(lambda e: f"select {e} as v from crm", expr),
        st.builds(lambda t: f"with x as (select * from {t}) select * from x", table),
        st.builds(lambda t: f"select * from crm where stage in (select * from {t})", table),
        st.builds(lambda t: f"select * from crm, lateral (select * from {t})", table),
    )


def _run(world, sql: str) -> str:
    """Everything the sandboxed and the plain session answer, errors included, as text."""
    seen = []
    try:
        seen.append(repr(world["sandboxed"].records(sql)))
    except (EngineQueryError, UserError) as e:
        seen.append(str(e))
    try:
        seen.append(repr(world["plain"].sql(sql).fetchall()))
    except duckdb.Error as e:
        seen.append(str(e))
    return "\n".join(seen)


def _with_crm(world, tree: exp.Expression) -> str:
    """The query as accord runs it: the source `crm` read from its file by accord itself."""
    reader = exp.select("*").from_(exp.Table(this=exp.Anonymous(this="read_csv", expressions=[
        exp.Literal.string(str(world["project"] / "crm.csv"))])))

    def swap(node):
        if isinstance(node, exp.Table) and node.name == "crm" and not node.args.get("db"):
            return exp.Subquery(this=reader.copy(), alias=exp.TableAlias(this=exp.to_identifier("crm")))
        return node
    return tree.transform(swap).sql("duckdb")


def test_no_fragment_the_floor_accepts_reads_outside_the_data(world, monkeypatch):
    monkeypatch.setenv("ACCORD_CANARY", ENV_CANARY)

    @settings(max_examples=400, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(expression=_expressions(world))
    def expressions(expression):
        for text in (f"({expression}) is not null", f"max({expression})"):
            try:
                tree = parse_fragment(text)
            except FragmentError:
                continue
            world["accepted"].append(text)
            seen = _run(world, _with_crm(world, exp.select(exp.Cast(this=tree, to=exp.DataType.build("VARCHAR"))
                                                           .as_("v")).from_("crm")))
            assert CANARY not in seen and ENV_CANARY not in seen, text

    @settings(max_examples=400, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(query=_queries(world))
    def queries(query):
        try:
            tree = parse_fragment_statement(query)
        except FragmentError:
            return
        world["accepted"].append(query)
        seen = _run(world, _with_crm(world, tree))
        assert CANARY not in seen and ENV_CANARY not in seen, query

    expressions()
    queries()
    # the fuzz is not vacuous: many fragments got through the floor and ran
    assert len(world["accepted"]) >= 50, world["accepted"]
    assert not (world["project"] / "outside").exists()
    assert sorted(p.name for p in world["outside"].iterdir()) == ["canary.csv", "canary.txt"]
