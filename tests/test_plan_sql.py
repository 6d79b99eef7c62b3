"""Snapshots of the SQL compute runs for a fixed small project, one file per source and strategy.

The expected SQL lives in tests/golden/sql/. Run with ACCORD_UPDATE_GOLDEN=1 to rewrite it after a
deliberate change to planning, then review the diff: it is the plan a user's warehouse will run.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import accord.compute.plan as plan_module
import accord.compute.run as run_module
from accord.compute.run import compute
from accord.compute.connect import project_sandbox
from accord.engine import open_engine

GOLDEN = Path(__file__).parent / "golden" / "sql"
UPDATE = os.environ.get("ACCORD_UPDATE_GOLDEN") == "1"
TODAY = dt.date(2026, 7, 20)
ROOT = "<project>"

DEALS = pa.table({
    "id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
    "created_at": pa.array([dt.datetime(2026, 1, 5, 23, 30), dt.datetime(2026, 2, 1), None,
                            dt.datetime(2026, 3, 3, 9), dt.datetime(2026, 3, 31, 23, 59), dt.datetime(2026, 8, 1)],
                           pa.timestamp("us")),
    "closed_on": pa.array([dt.date(2026, 2, 1), None, dt.date(2026, 3, 1), dt.date(2026, 4, 2), None,
                           dt.date(2026, 8, 2)], pa.date32()),
    "amount": pa.array([100.0, None, 30.0, 45.5, 12.0, 9.0], pa.float64()),
    "stage": pa.array(["won", "open", "won", None, "lost", "won"], pa.string()),
    "is_closed": pa.array([True, False, True, None, True, True], pa.bool_()),
    "account": pa.array([f"acct-{i}" for i in range(6)], pa.string()),
})
TICKETS = pa.table({
    "opened": pa.array(["2026-01-02 08:00:00", "2026-01-31T23:30:00+00:00", None, "2026-02-14"], pa.string()),
    "customer": pa.array(["acct-0", "acct-3", "acct-0", None], pa.string()),
    "minutes": pa.array([5, 50, 7, None], pa.int64()),
})

DEFINITIONS = {
    "sources": [
        {"name": "deals", "path": "data/deals.parquet", "time": "created_at"},
        {"name": "tickets", "path": "data/tickets.parquet", "time": "opened"},
        {"name": "deal_tickets", "time": "created_at",
         "sql": "select d.created_at, d.amount, t.minutes from deals d join tickets t on t.customer = d.account"},
    ],
    "metrics": [
        {"name": "pipeline", "source": "deals", "measure": "sum(amount)",
         "include": [{"name": "qualified", "sql": "stage in ('won', 'open')"}],
         "exclude": [{"name": "closed", "sql": "is_closed"}]},
        {"name": "deals_created", "source": "deals", "measure": "count(*)"},
        {"name": "average_deal", "source": "deals", "measure": "avg(amount)",
         "include": [{"name": "big accounts", "sql": "account like 'acct-1%'"}]},
        {"name": "won_value", "source": "deals", "measure": "sum(amount)", "time": "closed_on",
         "include": [{"name": "won", "sql": "stage = 'won'"}]},
        {"name": "customers", "source": "tickets", "measure": "count(distinct customer)"},
        {"name": "typical_minutes", "source": "tickets", "measure": "median(minutes)",
         "exclude": [{"name": "quick", "sql": "minutes < 6"}]},
        {"name": "ticket_minutes_on_deals", "source": "deal_tickets", "measure": "max(minutes)"},
        {"name": "win_share", "ratio": {"numerator": "won_value", "denominator": "pipeline"}},
    ],
}


@pytest.fixture
def project(make_project):
    return make_project(DEFINITIONS["sources"], DEFINITIONS["metrics"],
                        {"data/deals.parquet": DEALS, "data/tickets.parquet": TICKETS},
                        settings={"timezone": "Europe/Berlin", "fiscal_year_start": 4})


def plans(project, grain="month", strategy=None, monkeypatch=None):
    if strategy:
        measured = plan_module.choose

        def choose(metrics, distinct):  # grouped only where the measures allow it (not median, not distinct)
            if strategy == "filter" or measured(metrics, distinct)[0] == "filter":
                return "filter", ()
            return "grouped", tuple(sorted(distinct))
        monkeypatch.setattr(plan_module, "choose", choose)
        monkeypatch.setattr(run_module, "choose", choose)
    engine = open_engine("duckdb", None, "Europe/Berlin", project_sandbox(project))
    try:
        return compute(project, engine, grain=grain, today=TODAY).plans
    finally:
        engine.close()


def rendered(project, plan) -> str:
    sql = plan.query.sql(dialect="duckdb", pretty=True).replace(str(project.root), ROOT)
    return f"-- strategy: {plan.strategy}\n{sql}\n"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.sql"
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path.name} is missing: run with ACCORD_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8"), (
        f"the SQL for {name} changed: if that is intended, run with ACCORD_UPDATE_GOLDEN=1 and review the diff")


def runs(project, text: str) -> list[tuple]:
    """The snapshot is SQL DuckDB accepts on the project's data, not only text."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Europe/Berlin'")
    sql = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return con.sql(sql.replace(ROOT, str(project.root))).fetchall()


@pytest.mark.parametrize("grain", ["month", "week"])
def test_plans_match_their_snapshots(project, grain):
    found = plans(project, grain)
    assert {s: p.strategy for s, p in found.items()} == {"deals": "grouped", "tickets": "filter",
                                                         "deal_tickets": "grouped"}
    for source, plan in found.items():
        text = rendered(project, plan)
        assert ROOT in text and str(project.root) not in text
        check_golden(f"{source}.{grain}", text)
        assert runs(project, text)


@pytest.mark.parametrize("strategy", ["filter", "grouped"])
def test_forced_strategies_match_their_snapshots(project, monkeypatch, strategy):
    plan = plans(project, "quarter", strategy, monkeypatch)["deals"]
    assert plan.strategy == strategy
    text = rendered(project, plan)
    check_golden(f"deals.quarter.{strategy}", text)
    assert runs(project, text)


def test_every_snapshot_is_still_produced():
    """A golden file nothing checks any more is stale: remove it."""
    expected = {f"{s}.{g}.sql" for s in ("deals", "tickets", "deal_tickets") for g in ("month", "week")}
    expected |= {"deals.quarter.filter.sql", "deals.quarter.grouped.sql"}
    if not UPDATE:
        assert {p.name for p in GOLDEN.glob("*.sql")} == expected
