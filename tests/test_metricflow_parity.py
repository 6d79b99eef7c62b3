"""Parity with MetricFlow: a dbt project built with dbt on DuckDB, queried with `mf query`, imported into accord.

Every imported metric at every grain (day, week, month, quarter) and every period has MetricFlow's value. The
conventions (README, "Imports"): accord's weeks are ISO weeks, and MetricFlow's are Monday-start too; a period
MetricFlow leaves out or gives as null (no rows, no `join_to_timespine`) is 0 in accord for counts and sums,
null otherwise; a period before the first row, or after the source's last data (accord: null and stale),
that MetricFlow fills from the time spine is 0 there. Every other period holds the same number on both sides.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app

pytest.importorskip("dbt_semantic_interfaces", reason="the import extra (dbt-semantic-interfaces) is not installed")
if shutil.which("mf", path=str(Path(__import__("sys").executable).parent)) is None:
    pytest.skip("dbt-metricflow is not installed (the dbt test extra)", allow_module_level=True)

from dbtproject import (AS_OF, REFUSED, START, accord_values, compare, mf_values, run_tool,  # noqa: E402
                        write_accord_project, write_dbt_project)

pytestmark = pytest.mark.slow
GRAINS = ("day", "week", "month", "quarter")
ZERO_WHEN_EMPTY = {"orders_placed", "revenue", "completed_revenue", "web_orders_since_february", "refunds",
                   "active_buyers", "paid_order_count", "signups"}


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


@pytest.mark.parametrize("grain", GRAINS)
def test_every_imported_metric_has_metricflows_value_in_every_period(built, grain):
    dbt_root, acc = built
    mine = accord_values(acc, grain)
    metrics = sorted(mine)
    assert len(metrics) == 13 and not set(metrics) & set(REFUSED)
    theirs = mf_values(dbt_root, metrics, grain, START, AS_OF)
    compared = compare(mine, theirs, ZERO_WHEN_EMPTY)
    assert compared > {"day": 1000, "week": 200, "month": 60, "quarter": 20}[grain]
