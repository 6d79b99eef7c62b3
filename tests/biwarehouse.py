"""A small warehouse that hand-written LookML views and Cube cubes describe, and the accord project over it.

The numbers are seeded and checked against SQL written by hand in the tests, never against accord's own output.
"""
from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import duckdb
from typer.testing import CliRunner

AS_OF = dt.date(2025, 7, 1)


def write_warehouse(path: Path, seed: int = 11) -> Path:
    """analytics.orders (one row per order) and analytics.customers in a DuckDB file."""
    rng = random.Random(seed)
    con = duckdb.connect(str(path))
    con.execute("create schema analytics")
    con.execute("create table analytics.orders (order_id integer, customer_id integer, created_at timestamp, "
                "amount decimal(10, 2), status varchar, channel varchar, is_test boolean, items integer)")
    rows = []
    for oid in range(1, 601):
        day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(181))
        at = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)))
        amount = None if rng.random() < 0.05 else round(rng.uniform(1, 400), 2)
        status = rng.choice(["completed", "completed", "completed", "cancelled", "pending", None])
        rows.append((oid, rng.randrange(1, 80), at, amount, status, rng.choice(["web", "store", "phone"]),
                     rng.random() < 0.1, rng.randrange(0, 6)))
    con.executemany("insert into analytics.orders values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("create table analytics.customers (customer_id integer, signed_up_at timestamp, region varchar)")
    con.executemany("insert into analytics.customers values (?, ?, ?)",
                    [(c, dt.datetime(2025, 1, 1) + dt.timedelta(hours=rng.randrange(181 * 24)),
                      rng.choice(["EU", "US"])) for c in range(1, 80)])
    con.close()
    return path


def write_accord_project(root: Path, warehouse: Path, teams=("analytics", "growth")) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "accord.yml").write_text(f"project: bi\nengine: {{type: duckdb, path: {warehouse}}}\n"
                                     f"settings:\n  as_of: {AS_OF.isoformat()}\n  data_paths: [{warehouse.parent}]\n")
    (root / "teams.yml").write_text("teams:\n" + "".join(f"  - {{name: {t}, lead: {t}@shop.example}}\n"
                                                          for t in teams))
    return root


def monthly(acc: Path, metric: str) -> dict[str, float | None]:
    """`accord compute`'s value per month for one metric (periods with data, up to as-of)."""
    from accord.cli import app
    r = CliRunner().invoke(app, ["compute", metric, "--project", str(acc), "--grain", "month", "--format", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return {row["period"]: row["value"] for row in json.loads(r.output)["rows"] if row["metric"] == metric}


def by_month(warehouse: Path, select: str, where: str = "true", time: str = "created_at",
             table: str = "analytics.orders") -> dict[str, float | None]:
    """Hand-written: `select` per calendar month of `time` over the rows where `where` holds."""
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(f"select strftime(date_trunc('month', {time}), '%Y-%m') as m, {select} from {table} "
                       f"where {where} group by 1 order by 1").fetchall()
    con.close()
    return {m: (float(v) if v is not None else None) for m, v in rows}
