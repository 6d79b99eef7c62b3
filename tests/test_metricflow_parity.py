"""Parity with MetricFlow: a dbt project built with dbt on DuckDB, queried with `mf query`, imported into accord.

Every imported metric at every grain (day, week, month, quarter) and every period has MetricFlow's value. The
conventions (README, "Imports"): accord's weeks are ISO weeks, and MetricFlow's are Monday-start too; a period
MetricFlow leaves out or gives as null (no rows, no `join_to_timespine`) is 0 in accord for counts and sums,
null otherwise; a period before the first row, or after the source's last data (accord: null and stale),
that MetricFlow fills from the time spine is 0 there. Every other period holds the same number on both sides.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app

pytest.importorskip("dbt_semantic_interfaces", reason="the import extra (dbt-semantic-interfaces) is not installed")
if shutil.which("mf", path=str(Path(__import__("sys").executable).parent)) is None:
    pytest.skip("dbt-metricflow is not installed (the dbt test extra)", allow_module_level=True)

from dbtproject import AS_OF, START, REFUSED, run_tool, write_accord_project, write_dbt_project  # noqa: E402

pytestmark = pytest.mark.slow
GRAINS = ("day", "week", "month", "quarter")
ZERO_WHEN_EMPTY = {"orders_placed", "revenue", "completed_revenue", "web_orders_since_february", "refunds",
                   "active_buyers", "paid_order_count", "signups"}


def label(grain: str, start: dt.date) -> str:
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


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    dbt_root = write_dbt_project(root / "dbt")
    run_tool(dbt_root, "dbt", "build")
    run_tool(dbt_root, "dbt", "parse")          # target/semantic_manifest.json, which mf reads
    acc = write_accord_project(root / "acc", dbt_root)
    r = CliRunner().invoke(app, ["import", "dbt", str(dbt_root), "--project", str(acc), "--team", "ops"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return dbt_root, acc


def mf_values(dbt_root: Path, metrics: list[str], grain: str) -> dict:
    out_csv = dbt_root / f"mf_{grain}.csv"
    run_tool(dbt_root, "mf", "query", "--metrics", ",".join(metrics), "--group-by", f"metric_time__{grain}",
             "--start-time", START.isoformat(), "--end-time", AS_OF.isoformat(), "--csv", str(out_csv))
    values: dict = {}
    with out_csv.open() as f:
        for row in csv.DictReader(f):
            start = dt.date.fromisoformat(row[f"metric_time__{grain}"][:10])
            for m in metrics:
                values.setdefault(m, {})[label(grain, start)] = float(row[m]) if row[m] not in ("", None) else None
    return values


def accord_values(acc: Path, grain: str) -> dict:
    r = CliRunner().invoke(app, ["compute", "--project", str(acc), "--grain", grain, "--format", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out: dict = {}
    for row in json.loads(r.output)["rows"]:
        # a period after the source's last data is 'no data' (stale) in accord: compared as absent
        if not row.get("stale"):
            out.setdefault(row["metric"], {})[row["period"]] = row["value"]
    return out


@pytest.mark.parametrize("grain", GRAINS)
def test_every_imported_metric_has_metricflows_value_in_every_period(built, grain):
    dbt_root, acc = built
    mine = accord_values(acc, grain)
    metrics = sorted(mine)
    assert len(metrics) == 13 and not set(metrics) & set(REFUSED)
    theirs = mf_values(dbt_root, metrics, grain)
    compared = 0
    for m in metrics:
        empty = 0 if m in ZERO_WHEN_EMPTY else None
        for period in sorted(set(mine[m]) | set(theirs.get(m, {}))):
            a, b = mine[m].get(period, "absent"), theirs.get(m, {}).get(period, "absent")
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
    assert compared > {"day": 1000, "week": 200, "month": 60, "quarter": 20}[grain]
