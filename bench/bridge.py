"""Bridge benchmark: `accord reconcile` on two 5M-row sources of one entity, against datacompy's
record-level comparison (PolarsCompare) of the same two tables and one hand-written DuckDB bridge query.

Contenders run in fresh processes, timed from outside (start-up, loading and fetching included), best of N:

* accord     — `accord reconcile crm_pipeline marketing_pipeline --period 2026-Q2 --format json`;
* datacompy  — PolarsCompare of the two Parquet files on the key (matches, mismatches, only-in-one):
               a record comparison, without attributing the gap to clauses;
* hand       — one hand-written query: full outer join on the key, clause flags, grouped.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from bench.compute import _accord, _duckdb_command, best_of, Contender

ROWS = 5_000_000
VERSION = "1"

# Both systems hold one row per opportunity; marketing's copy misses some, has extra ones,
# keeps stale amounts for some and its own stage field for others.
_BASE = """
SELECT i AS opportunity_id,
       DATE '2025-01-01' + CAST(hash(i, 1) % 600 AS INTEGER) AS created_at,
       ['Lead', 'MQL', 'SQL', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost'][1 + CAST(hash(i, 2) % 7 AS BIGINT)] AS stage,
       round(500 + (hash(i, 3) % 100000) / 2.0, 2) AS amount,
       ['Paid Search', 'Events', 'Outbound', 'Partner', 'Website'][1 + CAST(hash(i, 4) % 5 AS BIGINT)] AS channel,
       (hash(i, 5) % 50 = 0) AS is_test
FROM range({rows}) t(i)
"""
CRM = "SELECT * FROM ({base}) WHERE hash(opportunity_id, 9) % 100 <> 0"          # 1% missing in CRM
MARKETING = """
SELECT opportunity_id,
       CASE WHEN hash(opportunity_id, 10) % 40 = 0 THEN created_at + 20 ELSE created_at END AS created_at,
       stage,
       CASE WHEN hash(opportunity_id, 11) % 30 = 0 THEN round(amount * 0.8, 2) ELSE amount END AS amount,
       channel, is_test
FROM ({base}) WHERE hash(opportunity_id, 12) % 50 <> 0                              -- 2% missing in marketing
"""

DEFS = """
sources:
  - {name: crm, system: crm, path: data/crm.parquet, entity: opportunity, key: opportunity_id, time: created_at}
  - {name: ma, system: marketing_automation, path: data/ma.parquet, entity: opportunity, key: opportunity_id,
     time: created_at}
metrics:
  - name: crm_pipeline
    label: Pipeline
    team: sales
    level: function
    source: crm
    measure: sum(amount)
    include: [{name: qualified stages, sql: "stage in ('SQL', 'Proposal', 'Negotiation')"}]
    exclude: [{name: test accounts, sql: is_test}]
  - name: marketing_pipeline
    label: Pipeline
    team: marketing
    level: function
    source: ma
    measure: sum(amount)
    include: [{name: sourced channels, sql: "channel in ('Paid Search', 'Events', 'Website')"}]
    exclude: []
"""

PERIOD = ("2026-04-01", "2026-07-01")


def hand_query(folder: Path) -> str:
    """The bridge as an analyst would write it: full outer join, one flag per clause, grouped."""
    a, b = (folder / "data" / "crm.parquet").as_posix(), (folder / "data" / "ma.parquet").as_posix()
    lo, hi = PERIOD
    return f"""
WITH a AS (SELECT opportunity_id::VARCHAR AS k, amount AS v,
                  created_at >= '{lo}' AND created_at < '{hi}' AS a_period,
                  coalesce(stage IN ('SQL', 'Proposal', 'Negotiation'), false) AS a_stage,
                  NOT coalesce(is_test, false) AS a_real
           FROM read_parquet('{a}')),
     b AS (SELECT opportunity_id::VARCHAR AS k, amount AS v,
                  created_at >= '{lo}' AND created_at < '{hi}' AS b_period,
                  coalesce(channel IN ('Paid Search', 'Events', 'Website'), false) AS b_channel
           FROM read_parquet('{b}'))
SELECT a.k IS NOT NULL AS in_a, b.k IS NOT NULL AS in_b, a_period, a_stage, a_real, b_period, b_channel,
       coalesce(a.v, 0) <> coalesce(b.v, 0) AS differs,
       count(*) AS n, sum(a.v) AS sa, sum(b.v) AS sb, min(coalesce(a.k, b.k), 5) AS examples
FROM a FULL OUTER JOIN b ON a.k = b.k
GROUP BY ALL
"""


DATACOMPY = """
import sys, polars as pl
from datacompy import PolarsCompare
a = pl.read_parquet(sys.argv[1]); b = pl.read_parquet(sys.argv[2])
c = PolarsCompare(a, b, join_columns=["opportunity_id"], df1_name="crm", df2_name="ma")
c.report()
"""


def ensure_data(folder: Path, rows: int, log) -> None:
    stamp = folder / "version"
    if stamp.exists() and stamp.read_text() == f"{VERSION} {rows}":
        return
    (folder / "data").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base = _BASE.format(rows=rows)
    con = duckdb.connect()
    for name, query in (("crm", CRM), ("ma", MARKETING)):
        target = (folder / "data" / f"{name}.parquet").as_posix()
        con.execute(f"COPY ({query.format(base=base)}) TO '{target}' (FORMAT parquet)")
    con.close()
    (folder / "accord.yml").write_text("project: bridge-bench\nsettings: {as_of: 2026-10-01}\n")
    (folder / "pipeline.yml").write_text(DEFS)
    (folder / "datacompy_run.py").write_text(DATACOMPY)
    stamp.write_text(f"{VERSION} {rows}")
    log(f"  generated 2 × {rows:,} rows in {time.perf_counter() - started:.1f} s")


def check(folder: Path) -> None:
    """accord's two values and its steps against the hand-written query's totals."""
    done = subprocess.run([_accord(), "reconcile", "crm_pipeline", "marketing_pipeline", "--period", "2026-Q2",
                           "--project", str(folder), "--format", "json"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"accord reconcile failed:\n{done.stderr}")
    got = json.loads(done.stdout)
    rows = duckdb.sql(hand_query(folder)).fetchall()
    total_a = sum(r[9] or 0 for r in rows if r[0] and r[2] and r[3] and r[4])
    total_b = sum(r[10] or 0 for r in rows if r[1] and r[5] and r[6])
    steps = sum(s["delta"] for s in got["steps"])
    ok = (math.isclose(got["a"]["value"], total_a, rel_tol=1e-9) and math.isclose(got["b"]["value"], total_b, rel_tol=1e-9)
          and math.isclose(steps, got["gap"], rel_tol=1e-9, abs_tol=1e-3))
    if not ok:
        raise SystemExit(f"VALUES DIFFER: accord a={got['a']['value']} b={got['b']['value']} steps={steps}; "
                         f"hand-written a={total_a} b={total_b}")
    print(f"  values match: A {total_a:,.2f}, B {total_b:,.2f}, {len(got['steps'])} steps sum to the gap", flush=True)


def run(root: Path, rows: int = ROWS, runs: int = 3, log=print) -> dict[str, float]:
    folder = root / f"bridge-{rows}"
    ensure_data(folder, rows, log)
    check(folder)
    contenders = [
        Contender("accord", "accord reconcile", [_accord(), "reconcile", "crm_pipeline", "marketing_pipeline",
                                                 "--period", "2026-Q2", "--project", str(folder), "--format", "json"]),
        Contender("datacompy", "datacompy PolarsCompare", [sys.executable, str(folder / "datacompy_run.py"),
                                                           str(folder / "data" / "crm.parquet"),
                                                           str(folder / "data" / "ma.parquet")]),
        Contender("hand", "hand-written DuckDB bridge query", _duckdb_command([hand_query(folder)], folder, "hand")),
    ]
    cpu: dict[str, float] = {}
    best = best_of(contenders, runs, log, cpu)
    log("")
    log(f"bridge: 2 × {rows:,} rows (best of {runs}; wall seconds, CPU seconds)")
    for c in contenders:
        log(f"  {c.label:<36} {best[c.name]:7.2f} s  {cpu.get(c.name, math.nan):7.2f} s CPU")
    speedup = best["datacompy"] / best["accord"]
    ratio = best["accord"] / best["hand"]
    log(f"  datacompy / accord   {speedup:6.2f}   goal ≥ 2: {'met' if speedup >= 2 else 'NOT MET'}")
    log(f"  accord / hand-written {ratio:5.2f}   goal ≤ 1.5: {'met' if ratio <= 1.5 else 'NOT MET'}")
    return best


if __name__ == "__main__":
    run(Path(__file__).resolve().parent / "data", int(sys.argv[1]) if len(sys.argv) > 1 else ROWS)
