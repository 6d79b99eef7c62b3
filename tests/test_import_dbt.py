"""`accord import dbt`: exact translations or one-line refusals, re-import keeping accord's fields, import-drift.

The numbers of the imported metrics are checked against SQL written here by hand on the same warehouse."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.imports.jinja_filter import FilterRefused, Reference, references, translate

pytest.importorskip("dbt_semantic_interfaces", reason="the import extra (dbt-semantic-interfaces) is not installed")

from dbtproject import (REFUSED, build_models_in_duckdb, write_accord_project,  # noqa: E402
                        write_dbt_project)

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def shop(tmp_path):
    dbt_root = write_dbt_project(tmp_path / "dbt")
    build_models_in_duckdb(dbt_root)
    return write_accord_project(tmp_path / "acc", dbt_root), dbt_root


# ---------------------------------------------------------------- the filter parser

def test_filter_parser_reads_the_three_calls_and_nothing_else():
    text = "{{ Dimension('order__status') }} = 'x' and {{TimeDimension(\"metric_time\", 'Month')}} > '2025-01-01'" \
           " and {{ Entity('customer') }} is not null"
    assert references(text) == [Reference("Dimension", "order__status"),
                                Reference("TimeDimension", "metric_time", "month"), Reference("Entity", "customer")]
    assert translate(text, lambda r: r.element.upper()) == \
        "(STATUS) = 'x' and (METRIC_TIME) > '2025-01-01' and (CUSTOMER) is not null"
    for bad in ("{{ Dimension('order__status') | upper }} = 'X'",
                "{{ Dimension('order__status').grain('month') }} = 'x'",
                "{% if true %}status = 'x'{% endif %}",
                "{# note #} status = 'x'",
                "{{ Dimension(name='order__status') }} = 'x'",
                "{{ TimeDimension('metric_time') }} > '2025-01-01'",
                "{{ TimeDimension('metric_time', 'fortnight') }} > '2025-01-01'",
                "{{ Dimension('order__status', 'day') }} = 'x'",
                "{{ var('x') }} = 1",
                "status = '}}'"):
        with pytest.raises(FilterRefused):
            references(bad)


# ---------------------------------------------------------------- import

def _imported(root: Path) -> dict:
    from ruamel.yaml import YAML
    out = {}
    for path in sorted((root / "imported" / "dbt").glob("*.yml")):
        doc = YAML(typ="safe").load(path.read_text())
        for m in doc.get("metrics") or []:
            out[m["name"]] = m
    return out


def test_import_translates_exactly_and_lists_each_refusal_with_its_dbt_line(shop):
    root, dbt_root = shop
    r = run("import", "dbt", str(dbt_root), "--project", str(root), "--team", "ops")
    assert r.exit_code == 0, r.output
    assert "wrote imported/dbt/orders.yml" in r.output and "wrote imported/dbt/customers.yml" in r.output
    text = (dbt_root / "models" / "semantic.yml").read_text().splitlines()
    for name in REFUSED:
        line = next(i for i, t in enumerate(text, 1) if t.strip() == f"- name: {name}")
        assert f"models/semantic.yml:{line}: metric '{name}': " in r.output
    assert "offset" in r.output and "cumulative" in r.output and "non_additive_dimension" in r.output
    assert "join across semantic models" in r.output and "never renders Jinja" in r.output
    metrics = _imported(root)
    assert set(metrics) & set(REFUSED) == set()
    assert metrics["orders_placed"]["imported_from"] == "dbt:orders_placed"
    assert len(metrics["orders_placed"]["imported_fingerprint"]) == 16
    assert metrics["orders_placed"]["owner"] == "ops@shop.example"      # config.meta.owner
    assert metrics["revenue"]["owner"] == "finance@shop.example"        # meta.owner
    assert metrics["completion_share"]["ratio"] == {"numerator": "completed_revenue", "denominator": "revenue"}
    assert metrics["net_revenue"]["formula"] == "revenue - refunds"
    assert metrics["orders_per_signup"]["formula"] == "orders_placed / signups"
    assert [c["name"] for c in metrics["web_orders_since_february"]["include"]] == \
        ["{{ Dimension('order__channel') }} = 'web'", "{{ TimeDimension('order__ordered_at', 'day') }} >= '2025-02-01'"]
    config = (root / "accord.yml").read_text()
    assert "imports:" in config and f"dbt: {Path('..') / 'dbt'}" in config


# Each imported metric, written again by hand over the warehouse: (SQL per month, value of an empty month)
BY_HAND = {
    "orders_placed": ("count(*)", "orders", "ordered_at", "true"),
    "revenue": ("sum(amount)", "orders", "ordered_at", "true"),
    "completed_revenue": ("sum(amount)", "orders", "ordered_at", "status = 'completed'"),
    "web_orders_since_february": ("count(*)", "orders", "ordered_at",
                                  "lower(channel) = 'web' and ordered_at >= date '2025-02-01'"),
    "refunds": ("sum(amount)", "orders", "ordered_at", "status = 'refunded'"),
    "average_order_value": ("avg(amount)", "orders", "ordered_at", "true"),
    "largest_order_value": ("max(amount)", "orders", "ordered_at", "true"),
    "active_buyers": ("count(distinct customer_id)", "orders", "ordered_at", "true"),
    "paid_order_count": ("count(*) filter (where status = 'completed')", "orders", "ordered_at", "true"),
    "signups": ("count(customer_id)", "customers", "signed_up_at", "true"),
}


def test_imported_metrics_compute_what_hand_written_sql_gives(shop):
    root, dbt_root = shop
    assert run("import", "dbt", str(dbt_root), "--project", str(root), "--team", "ops").exit_code == 0
    r = run("compute", "--project", str(root), "--grain", "month", "--format", "json")
    assert r.exit_code == 0, r.output
    got: dict = {}
    for row in json.loads(r.output)["rows"]:
        got.setdefault(row["metric"], {})[row["period"]] = row["value"]
    con = duckdb.connect(str(dbt_root / "warehouse.duckdb"), read_only=True)
    want: dict = {}
    for name, (agg, table, time, where) in BY_HAND.items():
        rows = con.execute(f"select strftime({time}, '%Y-%m'), {agg} from main.{table} where {where} "
                           "group by 1").fetchall()
        want[name] = {p: float(v) for p, v in rows}
    con.close()
    for name, months in want.items():
        for period, value in months.items():
            assert got[name][period] == pytest.approx(value, abs=1e-9), (name, period)
        for period, value in got[name].items():      # months without rows: 0 for counts and sums
            if period not in months:
                assert value in (0, None), (name, period, value)
    for period in want["revenue"]:
        rev, ref = want["revenue"][period], want["refunds"].get(period, 0.0)
        assert got["net_revenue"][period] == pytest.approx(rev - ref)
        comp = want["completed_revenue"].get(period, 0.0)
        assert got["completion_share"][period] == pytest.approx(comp / rev)


def test_reimport_keeps_what_a_person_added_and_takes_dbt_changes(shop):
    root, dbt_root = shop
    assert run("import", "dbt", str(dbt_root), "--project", str(root), "--team", "ops").exit_code == 0
    path = root / "imported" / "dbt" / "orders.yml"
    text = path.read_text()
    text = text.replace("    owner: ops@shop.example\n",
                        "    owner: ana@shop.example   # she owns it since May\n"
                        "    decision: Weekly staffing\n    confidence: decision-grade\n"
                        "    caveats: [Test orders included]\n"
                        "    target: {direction: up, value: 60, period: month}\n"
                        "    parents:\n      - {metric: revenue, effect: raises, lag: 1w}\n", 1)
    text = text.replace("    level: function\n", "    level: company\n", 1)
    path.write_text(text)
    assert run("check", "--project", str(root), "--format", "json").exit_code in (0, 1)
    semantic = dbt_root / "models" / "semantic.yml"
    semantic.write_text(semantic.read_text().replace(
        "      - {name: order_count, agg: count, expr: \"1\"}",
        "      - {name: order_count, agg: count, expr: order_id}").replace(
        "    description: Every order placed.\n", "    description: Every order placed, returns too.\n"))
    r = run("check", "--project", str(root), "--format", "json")
    drift = [f for f in json.loads(r.output)["findings"] if f["code"] == "import-drift"]
    by_metric = {f["metrics"][0]: f for f in drift}
    # the measure feeds three metrics; the one a person marked decision-grade is an error
    assert set(by_metric) == {"orders_placed", "web_orders_since_february"}
    assert by_metric["orders_placed"]["severity"] == "error"
    assert by_metric["web_orders_since_february"]["severity"] == "warning"
    assert by_metric["orders_placed"]["location"]["file"] == "imported/dbt/orders.yml"
    r = run("import", "dbt", str(dbt_root), "--project", str(root))     # no --team: the kept team serves
    assert r.exit_code == 0, r.output
    assert "orders.yml: 2 updated" in r.output
    after = path.read_text()
    for kept in ("owner: ana@shop.example   # she owns it since May", "decision: Weekly staffing",
                 "confidence: decision-grade", "caveats: [Test orders included]", "level: company",
                 "target: {direction: up, value: 60, period: month}", "- {metric: revenue, effect: raises, lag: 1w}"):
        assert kept in after
    m = _imported(root)["orders_placed"]
    assert m["measure"] == "count(order_id)" and m["description"] == "Every order placed, returns too."
    r = run("check", "--project", str(root), "--format", "json")
    assert not [f for f in json.loads(r.output)["findings"] if f["code"] == "import-drift"]


def test_a_metric_removed_from_dbt_is_drift_then_removed_by_the_next_import(shop):
    root, dbt_root = shop
    assert run("import", "dbt", str(dbt_root), "--project", str(root), "--team", "ops").exit_code == 0
    semantic = dbt_root / "models" / "semantic.yml"
    text = semantic.read_text()
    start = text.index("  - name: largest_order_value")
    semantic.write_text(text[:start] + text[text.index("  - name: active_buyers"):])
    r = run("check", "--project", str(root), "--format", "json")
    drift = [f for f in json.loads(r.output)["findings"] if f["code"] == "import-drift"]
    assert [f["metrics"] for f in drift] == [["largest_order_value"]]
    assert "no longer defined in dbt" in drift[0]["title"]
    r = run("import", "dbt", str(dbt_root), "--project", str(root))
    assert "removed dbt:largest_order_value" in r.output
    assert "largest_order_value" not in _imported(root)


def test_unknown_team_is_refused_with_the_line_to_add_and_nothing_is_written(shop):
    root, dbt_root = shop
    r = run("import", "dbt", str(dbt_root), "--project", str(root), "--team", "growth")
    assert r.exit_code == 2
    assert "teams.yml: team 'growth' is not defined. add this line under teams: " \
           "`- {name: growth, lead: someone@example.com}`, then import again" in r.output
    assert "team 'ops'" not in r.output          # config.meta.team: ops is known
    assert not (root / "imported").exists()
    assert "imports" not in (root / "accord.yml").read_text()


def test_dry_run_writes_nothing(shop):
    root, dbt_root = shop
    before = (root / "accord.yml").read_text()
    r = run("import", "dbt", str(dbt_root), "--project", str(root), "--team", "ops", "--dry-run")
    assert r.exit_code == 0 and "would write imported/dbt/orders.yml" in r.output
    assert not (root / "imported").exists() and (root / "accord.yml").read_text() == before


def test_a_file_changed_while_importing_is_left_alone_and_the_import_stops(shop):
    """Every write is atomic and guarded: a file someone saved after the import read it is not overwritten."""
    from accord import app as app_api
    from accord.imports.tools import translate
    from accord.imports.write import apply_write, plan_write
    from accord.errors import UserError
    root, dbt_root = shop
    assert run("import", "dbt", str(dbt_root), "--project", str(root), "--team", "ops").exit_code == 0
    project = app_api.load(root)
    plan = plan_write(project, translate("dbt", dbt_root, str(dbt_root), "ops"), str(dbt_root))
    target = root / "imported" / "dbt" / "orders.yml"
    edited = target.read_text() + "# a person's note, saved meanwhile\n"
    target.write_text(edited)
    with pytest.raises(UserError, match="changed while accord was writing it"):
        apply_write(project, plan, dbt_root)
    assert target.read_text() == edited
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]     # no temporary file left


def test_a_name_already_defined_by_hand_is_not_overwritten(shop):
    root, dbt_root = shop
    (root / "mine.yml").write_text("sources:\n  - {name: mine, table: main.orders, time: ordered_at}\n"
                                   "metrics:\n  - {name: revenue, team: ops, level: role, source: mine, "
                                   "measure: sum(amount)}\n")
    r = run("import", "dbt", str(dbt_root), "--project", str(root), "--team", "ops")
    assert r.exit_code == 0
    assert "mine.yml:4: metric 'revenue' from dbt is not imported: this name is already defined here" in r.output
    assert "revenue" not in _imported(root)
    assert run("validate", "--project", str(root)).exit_code == 0      # the ratio over it reads the one here


def test_without_the_import_extra_the_command_says_the_one_install_line(shop, tmp_path):
    root, dbt_root = shop
    code = ("import sys; sys.modules['dbt_semantic_interfaces'] = None; sys.argv = ['accord', 'import', 'dbt', "
            f"{str(dbt_root)!r}, '--project', {str(root)!r}, '--team', 'ops']\n"
            "from accord.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == ("accord import dbt needs the import extra, which is not installed. "
                                   "run: pip install 'accord[import]'")
    assert not (root / "imported").exists()


# ---------------------------------------------------------------- the demo's dbt project

def test_the_demos_imported_file_is_what_the_import_writes(tmp_path):
    """imported/dbt/ ships as `accord import dbt dbt` writes it: importing again changes nothing."""
    from accord.demo import write_demo
    demo = write_demo(tmp_path / "demo")
    shipped = (demo / "imported" / "dbt" / "opportunities.yml").read_text()
    r = run("import", "dbt", str(demo / "dbt"), "--project", str(demo))
    assert r.exit_code == 0, r.output
    assert r.output.startswith("wrote imported/dbt/opportunities.yml: 2 unchanged")
    assert (demo / "imported" / "dbt" / "opportunities.yml").read_text() == shipped


@pytest.mark.slow
def test_dbt_builds_the_demos_warehouse_file_with_the_rows_shipped(tmp_path):
    """`dbt build` of dbt/ writes data/warehouse/opportunities.parquet (external): the rows the demo ships."""
    import shutil
    if shutil.which("dbt", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("dbt is not installed (the dbt test extra)")
    from accord.demo import write_demo
    from dbtproject import run_tool
    demo = write_demo(tmp_path / "demo")
    shipped = demo / "data" / "warehouse" / "opportunities.parquet"
    kept = tmp_path / "shipped.parquet"
    shutil.copy(shipped, kept)
    run_tool(demo / "dbt", "dbt", "build")
    con = duckdb.connect()
    diff = con.execute(f"select count(*) from (select * from '{kept}' except all select * from '{shipped}') "
                       f"union all select count(*) from (select * from '{shipped}' except all select * from "
                       f"'{kept}')").fetchall()
    assert diff == [(0,), (0,)] and con.execute(f"select count(*) from '{shipped}'").fetchone()[0] > 1000
