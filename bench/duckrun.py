"""Run the queries listed in a JSON file on a fresh in-memory DuckDB, fetching each result as Arrow.

The hand-written contenders of the benchmarks run through this, in their own process, so that they pay
the same start-up and fetch costs as the accord command they are compared with.
"""
from __future__ import annotations

import json
import sys

import duckdb


def main(spec: str) -> None:
    with open(spec) as f:
        queries = json.load(f)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    for q in queries:
        con.sql(q).to_arrow_table()
    con.close()


if __name__ == "__main__":
    main(sys.argv[1])
