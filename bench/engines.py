"""Warehouse benchmarks: the compute benchmark's 30 metrics on PostgreSQL and on Spark.

`python -m bench postgres` starts a throwaway PostgreSQL from the machine's binaries (as the tests do), loads
5M of the generated opportunities into a table and compares, each in a fresh process timed from outside:

* accord  — `accord compute --grain week --format json` with `engine: {type: postgres, dsn_env: …}`;
* (a)     — the hand-written FILTER query of bench/compute.py, run through psycopg;
* (b)     — the hand-written query per metric (30, one after another on one connection).

`python -m bench spark` does the same on a local Spark session (local[2]) over the 20M-row Parquet file,
accord with `engine: {type: spark}` against the same hand-written queries in Spark SQL, each contender
starting its own JVM. Before timing, accord's values are checked against the hand-written query (on
DuckDB, over the same rows) exactly as bench/compute.py does.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from bench import generate
from bench.compute import HAND, WEEK, Contender, _ratio, _table, accord_command, accord_run, best_of, check_values

DATA = Path(__file__).resolve().parent / "data"
PG_ROWS = 5_000_000
SPARK_ROWS = generate.ROWS
TABLE = "bench.crm_opportunities"


def hand_queries(relation: str, week: str = WEEK) -> tuple[str, list[str]]:
    """(a) and (b) of bench/compute.py over `relation`."""
    cols = ", ".join(f"{agg} FILTER (WHERE {cond}) AS {name}" if cond else f"{agg} AS {name}"
                     for name, agg, cond in HAND)
    one = f"SELECT {week} AS week, {cols} FROM {relation} GROUP BY 1 ORDER BY 1"
    each = [f"SELECT {week} AS week, {agg} AS {name} FROM {relation}" + (f" WHERE {cond}" if cond else "")
            + " GROUP BY 1 ORDER BY 1" for name, agg, cond in HAND]
    return one, each


def _project(root: Path, source: str, engine: str) -> Path:
    """The compute benchmark's project with its source reading `source` (a table or a path) on `engine`."""
    generate.write_project(root, "data/crm_opportunities.parquet")
    defs = root / "metrics.yml"
    text = defs.read_text()
    if not source.endswith(".parquet"):
        text = text.replace("path: data/crm_opportunities.parquet", f"table: {source}")
    else:
        text = text.replace("path: data/crm_opportunities.parquet", f"path: {source}")
    defs.write_text(text)
    config = (root / "accord.yml").read_text()
    if source.endswith(".parquet"):       # a file elsewhere: its folder is one of the project's data folders
        config = config.replace("settings: {", f"settings: {{data_paths: ['{Path(source).parent.as_posix()}'], ", 1)
        assert "data_paths" in config, config
    (root / "accord.yml").write_text(config + f"engine: {engine}\n")
    return root


def _runner(kind: str, queries: list[str], folder: Path, name: str) -> list[str]:
    spec = folder / f"{name}.json"
    spec.write_text(json.dumps(queries, indent=1))
    return [sys.executable, "-m", "bench.engines", kind, str(spec)]


def _source(folder: Path, rows: int, log) -> Path:
    path = folder / "crm_opportunities.parquet"
    if generate.ensure_source(path, rows, log):
        log("  generated")
    return path


def _report(best: dict, cpu: dict, contenders: list[Contender], runs: int, log, goals: tuple) -> dict:
    labels = {c.name: c.label for c in contenders}
    log(f"\nbest of {runs}; every run is a fresh process timed from outside:\n")
    log(_table(best, cpu, labels))
    log("")
    ratios = {}
    for key, num, den, goal, met in goals:
        if num in best and den in best:
            ratios[key] = best[num] / best[den]
            log(_ratio(key.replace("/", " / "), ratios[key], cpu[num] / cpu[den], goal, met(ratios[key])))
    return {"seconds": best, "cpu_seconds": cpu, "ratios": ratios}


# ------------------------------------------------------------------ PostgreSQL

def run_postgres(root: Path = DATA, rows: int = PG_ROWS, runs: int = 3, log=print, **_) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    try:
        import psycopg  # noqa: F401
        from servers import READER, Postgres
        server = Postgres()
    except (ImportError, LookupError, RuntimeError, OSError) as e:
        log(f"postgres benchmark skipped: {e}")
        return {}
    try:
        folder = root / f"postgres-{rows}"
        folder.mkdir(parents=True, exist_ok=True)
        source = _source(folder, rows, log)
        started = time.perf_counter()
        _load_postgres(server, source, READER)
        log(f"\npostgres benchmark: {rows:,} rows loaded into {TABLE} in {time.perf_counter() - started:.1f} s, "
            f"{len(HAND)} metrics, weekly grain")
        os.environ["ACCORD_BENCH_PG_DSN"] = server.dsn()
        project = _project(folder / "project", TABLE, "{type: postgres, dsn_env: ACCORD_BENCH_PG_DSN}")
        accord, _, strategy = accord_run(project, folder)
        compared = check_values(accord, source)
        log(f"accord chose the '{strategy}' strategy (its query: {folder / 'accord.sql'})")
        log(f"values match: {compared:,} values (metric × week) equal the hand-written query (DuckDB, same rows)")
        one, each = hand_queries(TABLE)
        contenders = [
            Contender("accord", "accord compute on PostgreSQL (CLI)", accord_command(project)),
            Contender("a", "(a) one hand-written FILTER query", _runner("postgres", [one], folder, "a")),
            Contender("b", f"(b) one query per metric ({len(HAND)})", _runner("postgres", each, folder, "b")),
        ]
        cpu: dict[str, float] = {}
        best = best_of(contenders, runs, log, cpu)
        out = _report(best, cpu, contenders, runs, log, (
            ("accord/(a)", "accord", "a", "<= 1.3", lambda r: r <= 1.3),
            ("accord/(b)", "accord", "b", "<= 0.25", lambda r: r <= 0.25)))
        log("(cpu seconds are this side's only: the server's work is not counted)")
        return {"rows": rows, **out}
    finally:
        server.stop()


def _load_postgres(server, source: Path, reader: str) -> None:
    """The Parquet file into bench.crm_opportunities, typed as Parquet types it, through COPY … CSV."""
    from servers import pg_type
    import pyarrow.parquet as pq
    schema = pq.read_schema(source)
    cols = ", ".join(f'"{f.name}" {pg_type(f.type)}' for f in schema)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "rows.csv"
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"COPY (SELECT * FROM read_parquet('{source.as_posix()}')) TO '{csv.as_posix()}' "
                    "(FORMAT csv, HEADER false)")
        con.close()
        with server.admin() as pg:
            pg.execute("SET TimeZone = 'UTC'")
            pg.execute(f"CREATE ROLE {reader} LOGIN")
            pg.execute("CREATE SCHEMA bench")
            pg.execute(f"GRANT USAGE ON SCHEMA bench TO {reader}")
            pg.execute(f"CREATE TABLE {TABLE} ({cols})")
            with pg.cursor().copy(f"COPY {TABLE} FROM STDIN (FORMAT csv)") as copy, open(csv, "rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            pg.execute(f"GRANT SELECT ON {TABLE} TO {reader}")
            pg.execute(f"VACUUM ANALYZE {TABLE}")


# ------------------------------------------------------------------ Spark

def run_spark(root: Path = DATA, rows: int = SPARK_ROWS, runs: int = 3, log=print, **_) -> dict:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        log("spark benchmark skipped: pyspark is not installed (pip install 'accord[spark]')")
        return {}
    folder = root / f"spark-{rows}"
    folder.mkdir(parents=True, exist_ok=True)
    source = _source(root / f"compute-{rows}" / "project" / "data", rows, log)
    log(f"\nspark benchmark: {rows:,} rows of Parquet read by a local Spark session (local[2]), {len(HAND)} "
        "metrics, weekly grain")
    project = _project(folder / "project", source.as_posix(), '{type: spark, master: "local[2]"}')
    accord, _, strategy = accord_run(project, folder)
    compared = check_values(accord, source)
    log(f"accord chose the '{strategy}' strategy (its query: {folder / 'accord.sql'})")
    log(f"values match: {compared:,} values (metric × week) equal the hand-written query (DuckDB, same rows)")
    relation = f"parquet.`{source.as_posix()}`"
    one, each = hand_queries(relation, "CAST(date_trunc('week', created_at) AS DATE)")
    contenders = [
        Contender("accord", "accord compute on Spark (CLI)", accord_command(project)),
        Contender("a", "(a) one hand-written FILTER query", _runner("spark", [one], folder, "a")),
        Contender("b", f"(b) one query per metric ({len(HAND)})", _runner("spark", each, folder, "b")),
    ]
    cpu: dict[str, float] = {}
    best = best_of(contenders, runs, log, cpu)
    out = _report(best, cpu, contenders, runs, log, (
        ("accord/(a)", "accord", "a", "<= 1.3", lambda r: r <= 1.3),
        ("accord/(b)", "accord", "b", "<= 0.3", lambda r: r <= 0.3)))
    return {"rows": rows, **out}


# ------------------------------------------------------------------ the hand-written contenders' process

def _run_queries(kind: str, spec: str) -> None:
    with open(spec) as f:
        queries = json.load(f)
    if kind == "postgres":
        import psycopg
        with psycopg.connect(os.environ["ACCORD_BENCH_PG_DSN"]) as con:
            for q in queries:
                con.execute(q, binary=True).fetchall()
        return
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[2]").appName("bench").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "4")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for q in queries:
        spark.sql(q).toArrow()
    spark.stop()


if __name__ == "__main__":
    _run_queries(sys.argv[1], sys.argv[2])
