"""Data that stops before today is stale, not zero.

The story: a CRM export ends in June and the project is checked in December, next to a finance sheet that
is up to date. Every number below is derived from the rows this file writes (brute-force Python) or by
hand-written DuckDB SQL, never from accord's own output.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys

import duckdb
import pytest
from factory import ref_label, write_project

from accord.analyze.tree import build_tree
from accord.check import run_check
from accord.compute.periods import Calendar
from accord.compute.run import compute
from accord.compute.connect import project_sandbox
from accord.engine import open_engine
from accord.project.durations import parse_duration
from accord.project.loader import load_project

ACCORD = [sys.executable, "-m", "accord.cli"]
AS_OF = dt.date(2026, 12, 7)
CRM_LAST = dt.date(2026, 6, 19)        # the CRM export stops here (a Friday)
FIRST_WEEK = dt.date(2025, 1, 6)

DEFS = """
teams:
  - {name: sales, lead: sales-lead@x.example}
  - {name: finance, lead: cfo@x.example}
sources:
  - {name: crm_deals, system: crm, owner: ops@x.example, path: data/deals.csv, entity: deal, key: id, time: closed_at}
  - {name: finance_sheet, system: finance, path: data/finance.csv, entity: deal, key: id, time: booked_at}
metrics:
  - name: bookings
    label: Bookings
    team: sales
    level: company
    owner: ceo@x.example
    decision: Board deck
    unit: usd
    confidence: board-grade
    source: crm_deals
    measure: sum(amount)
    include: [{name: won, sql: "stage = 'won'"}]
    exclude: [{name: tests, sql: "id < 0"}]
    target: {direction: up, value: 1000, period: quarter}
  - name: sales_pipeline
    label: Pipeline
    team: sales
    level: function
    owner: ana@x.example
    decision: Weekly forecast
    unit: usd
    source: crm_deals
    measure: sum(amount)
    include: [{name: open, sql: "stage = 'open'"}]
    exclude: [{name: tests, sql: "id < 0"}]
  - name: finance_pipeline
    label: Pipeline
    team: finance
    level: function
    owner: cfo@x.example
    decision: Cash plan
    unit: usd
    source: finance_sheet
    measure: sum(amount)
    exclude: [{name: tests, sql: "id < 0"}]
  - name: deals_won
    team: sales
    level: role
    owner: ana@x.example
    decision: Weekly review
    source: crm_deals
    measure: count(*)
    include: [{name: won, sql: "stage = 'won'"}]
    exclude: [{name: tests, sql: "id < 0"}]
    parents: [{metric: finance_pipeline, effect: raises, lag: 1w}]
  - name: win_share
    team: sales
    level: role
    owner: ana@x.example
    decision: Weekly review
    ratio: {numerator: deals_won, denominator: finance_deals}
  - name: finance_deals
    team: finance
    level: role
    owner: cfo@x.example
    decision: Cash plan
    source: finance_sheet
    measure: count(*)
    exclude: [{name: tests, sql: "id < 0"}]
"""


def _noise(i: int, k: int, salt: str = "") -> int:
    """A deterministic small number from 0 to k - 1 (a hash, not a random generator)."""
    return int.from_bytes(hashlib.sha256(f"{salt}:{i}".encode()).digest()[:8], "big") % k


def story_rows() -> tuple[list[tuple], list[tuple]]:
    """(crm deals, finance rows): weekly CRM deals until CRM_LAST; a finance row each week until December
    unrelated to the deals, stepping up once the CRM has stopped."""
    deals, finance = [], []
    won_per_week: dict[dt.date, int] = {}
    week, i = FIRST_WEEK, 0
    while week <= CRM_LAST - dt.timedelta(days=4):
        won = 3 + _noise(i, 9, "won")
        won_per_week[week] = won
        for j in range(won):
            deals.append((len(deals) + 1, week + dt.timedelta(days=j % 5), "won", 100 + 10 * _noise(i * 31 + j, 7)))
        for j in range(2 + _noise(i + 7, 3)):
            deals.append((len(deals) + 1, week + dt.timedelta(days=j % 5), "open", 50 + 5 * _noise(i * 17 + j, 9)))
        week += dt.timedelta(days=7)
        i += 1
    deals.append((len(deals) + 1, CRM_LAST, "open", 75))
    week, i = FIRST_WEEK, 0
    while week <= AS_OF - dt.timedelta(days=3):
        before = won_per_week.get(week - dt.timedelta(days=7))
        amount = 5000 + 100 * _noise(i, 40, "finance") if before is not None else 40000 + 200 * _noise(i, 9)
        finance.append((100000 + i, week + dt.timedelta(days=1), amount))
        week += dt.timedelta(days=7)
        i += 1
    return deals, finance


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    deals, finance = story_rows()
    root = write_project(tmp_path_factory.mktemp("story") / "p", {
        "defs.yml": DEFS,
        "data/deals.csv": "id,closed_at,stage,amount\n" + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in deals),
        "data/finance.csv": "id,booked_at,amount\n" + "".join(f"{a},{b},{c}\n" for a, b, c in finance),
    }, f"project: story\nsettings: {{as_of: {AS_OF.isoformat()}}}\n")
    return root, deals, finance


def _engine(project):
    return open_engine("duckdb", None, sandbox=project_sandbox(project))


def _quarter_sum(deals, stage: str, label: str) -> float:
    return float(sum(d[3] for d in deals if d[2] == stage and ref_label(d[1], "quarter") == label))


def test_periods_after_the_last_data_are_stale_not_zero(story):
    root, deals, finance = story
    project = load_project(root)
    with _engine(project) as e:
        result = compute(project, e, ["bookings", "finance_pipeline", "win_share"], "quarter", AS_OF)
    rows = {(r.metric, r.period): r for r in result.rows}
    # by hand: the CRM's last row is CRM_LAST, so 2026-Q3 and Q4 have no data; the finance sheet is current
    assert max(d[1] for d in deals) == CRM_LAST
    for q in ("2026-Q3", "2026-Q4"):
        assert rows[("bookings", q)].value is None and rows[("bookings", q)].stale
        assert rows[("win_share", q)].value is None and rows[("win_share", q)].stale   # stale when any input is
        assert not rows[("finance_pipeline", q)].stale
        assert rows[("finance_pipeline", q)].value == pytest.approx(
            sum(f[2] for f in finance if ref_label(f[1], "quarter") == q))
    assert rows[("bookings", "2026-Q2")].value == pytest.approx(_quarter_sum(deals, "won", "2026-Q2"))
    assert not rows[("bookings", "2026-Q2")].stale
    won_q2 = sum(1 for d in deals if d[2] == "won" and ref_label(d[1], "quarter") == "2026-Q2")
    fin_q2 = sum(1 for f in finance if ref_label(f[1], "quarter") == "2026-Q2")
    assert rows[("win_share", "2026-Q2")].value == pytest.approx(won_q2 / fin_q2)
    last = {(x.source, x.column): x.time for x in result.last_data}
    sql = duckdb.sql(f"select max(booked_at) from read_csv('{root}/data/finance.csv') "
                     f"where booked_at <= date '{AS_OF}'").fetchall()[0][0]
    assert last == {("crm_deals", "closed_at"): dt.datetime.combine(CRM_LAST, dt.time()),
                    ("finance_sheet", "booked_at"): dt.datetime.combine(sql, dt.time())}


def test_compute_cli_says_stale_in_json_and_csv(story):
    root, deals, _ = story
    r = subprocess.run(ACCORD + ["compute", "bookings", "--project", str(root), "--grain", "month", "--format",
                                 "csv"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "metric,period,value,complete,stale"
    by_period = {line.split(",")[1]: line.split(",") for line in lines[1:]}
    june = sum(d[3] for d in deals if d[2] == "won" and ref_label(d[1], "month") == "2026-06")
    assert float(by_period["2026-06"][2]) == pytest.approx(june) and by_period["2026-06"][4] == "false"
    for month in ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"):
        assert by_period[month][2:] == ["", "true" if month != "2026-12" else "false", "true"]
    data = json.loads(subprocess.run(ACCORD + ["compute", "bookings", "--project", str(root), "--format", "json"],
                                     capture_output=True, text=True).stdout)
    july = next(r for r in data["rows"] if r["period"] == "2026-07")
    assert july == {"metric": "bookings", "period": "2026-07", "value": None, "complete": True, "stale": True}


def test_stale_source_is_an_error_when_a_board_grade_metric_reads_it(story):
    root, _, _ = story
    result = run_check(load_project(root), AS_OF)
    stale = [f for f in result.findings if f.code == "stale-source"]
    assert len(stale) == 1     # the finance sheet is 3 days old: within the 7-day default
    f = stale[0]
    assert f.severity == "error" and f.owner == "ops@x.example"
    assert f.evidence["source"] == "crm_deals" and f.evidence["time_column"] == "closed_at"
    assert f.evidence["last_data"] == "2026-06-19T00:00:00"
    assert f.evidence["age_days"] == (AS_OF - CRM_LAST).days == 171
    assert f.evidence["metrics"] == ["bookings", "sales_pipeline", "deals_won", "win_share"]
    assert f.evidence["strict_metrics"] == ["bookings"]
    assert "2026-06-19" in f.title and "171 days" in f.title


def test_no_false_findings_after_the_data_stops(story):
    root, deals, finance = story
    result = run_check(load_project(root), AS_OF)
    codes = [f.code for f in result.findings]
    assert "reversed-contribution" not in codes
    unsupported = next(f for f in result.findings if f.code == "unsupported-contribution")
    assert unsupported.evidence["last_period"] == ref_label(CRM_LAST, "week")     # says which period it used
    # the collision compares 2026-Q2, the latest quarter complete and with data for both, and says so
    collision = next(f for f in result.findings if f.code == "label-collision")
    assert collision.evidence["period"] == "2026-Q2" and "2026-Q2" in collision.title
    assert "'sales_pipeline' stops on 2026-06-19" in collision.evidence["period_chosen"]
    values = {d["metric"]: d["value"] for d in collision.evidence["definitions"]}
    assert values["sales_pipeline"] == pytest.approx(_quarter_sum(deals, "open", "2026-Q2"))
    assert values["finance_pipeline"] == pytest.approx(
        sum(f[2] for f in finance if ref_label(f[1], "quarter") == "2026-Q2"))
    assert "unknown amount" not in collision.title
    bridge = next(f for f in result.findings if f.code == "source-disagreement")
    assert bridge.evidence["period"] == "2026-Q2"


def test_tree_reads_each_series_up_to_its_last_complete_period_with_data(story):
    root, deals, finance = story
    project = load_project(root)
    with _engine(project) as e:
        tree = build_tree(project, e, AS_OF)
    bookings = tree.nodes["bookings"]
    assert bookings.numbers.period == "2026-Q2" and bookings.numbers.previous_period == "2026-Q1"
    assert bookings.numbers.value == pytest.approx(_quarter_sum(deals, "won", "2026-Q2"))
    assert bookings.numbers.previous == pytest.approx(_quarter_sum(deals, "won", "2026-Q1"))
    assert bookings.status == "green"           # judged on 2026-Q2, not on an empty 2026-Q4
    # the trend window ends in the last week with data, 13 weeks of it
    assert bookings.trend.last_period == ref_label(CRM_LAST, "week") and bookings.trend.periods == 13
    assert bookings.recent.labels[-1] == ref_label(CRM_LAST, "week")
    edge = tree.nodes["deals_won"].edge_to("finance_pipeline")
    assert edge.last_period == ref_label(CRM_LAST, "week")
    weeks = {ref_label(d[1], "week") for d in deals}
    assert edge.stats.periods == len(weeks)     # every week from the first deal to the last, none after
    # the finance rows are unrelated to the deals; read as zeros after June, the deals' stop followed by the
    # finance step-up looked like a reversed contribution (adjusted p 0.046 over 100 weeks)
    assert edge.verdict == "unsupported"
    assert tree.nodes["finance_pipeline"].numbers.period == "2026-Q3"   # fresh: the last complete quarter


def test_the_report_shows_the_last_period_with_data_and_stale_since(story, tmp_path):
    root, deals, _ = story
    out = tmp_path / "report.html"
    r = subprocess.run(ACCORD + ["report", "--project", str(root), "--out", str(out)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    card = page[page.index('<article class="card'):page.index("</article>")]
    assert "Bookings" in card and "2026-Q2" in card and "stale since 2026-06-19" in card
    q2 = _quarter_sum(deals, "won", "2026-Q2")
    assert f"${q2:,.0f}" in card
    assert "$0" not in card and "100%" not in card


def test_without_freshness_the_old_reading_would_be_wrong(story):
    """The story is a real trap: read as zeros, the last complete quarter of bookings is empty."""
    _, deals, _ = story
    assert _quarter_sum(deals, "won", "2026-Q3") == 0 and _quarter_sum(deals, "won", "2026-Q2") > 1000


# ---------------------------------------------------------------- bounds: periods never run from as-of alone

@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
def test_compute_as_of_far_future_stays_small_and_counts_what_it_left_out(story, grain):
    root, deals, _ = story
    far = dt.date(9999, 12, 31)
    project = load_project(root)
    with _engine(project) as e:
        result = compute(project, e, ["bookings", "finance_pipeline"], grain, far)
    fin_last = max(dt.date.fromisoformat(line.split(",")[1]) for line in
                   (root / "data/finance.csv").read_text().splitlines()[1:])
    for name, last in (("bookings", CRM_LAST), ("finance_pipeline", fin_last)):
        starts = [r.start for r in result.series(name)]
        cap = last.replace(year=last.year + 1)
        # by hand: periods run to the one holding the day a year after the last data, no further
        assert ref_label(starts[-1], grain) == ref_label(cap, grain)
        assert all(r.stale for r in result.series(name) if r.start > last)
        # the periods left out: from the next one to the one holding 9999-12-31, counted by brute force
        # for the small grains, by calendar arithmetic written here for the others
        first_out = starts[-1]
        if grain == "year":
            expected = 9999 - first_out.year
        elif grain == "quarter":
            expected = (9999 - first_out.year) * 4 + (4 - (first_out.month - 1) // 3) - 1
        elif grain == "month":
            expected = (9999 - first_out.year) * 12 + 12 - first_out.month
        else:
            days = (far - first_out).days
            expected = days if grain == "day" else (days - far.weekday() + first_out.weekday()) // 7
        assert result.left_out[name] == expected, (name, grain)


def test_tree_and_compute_far_in_the_future_finish(story):
    root, _, _ = story
    for args in (["tree", "--as-of", "9000-01-01", "--format", "json"],
                 ["compute", "--as-of", "9999-12-31", "--grain", "day", "--format", "json"],
                 ["check", "--as-of", "9999-12-31", "--format", "json"],
                 ["tree", "--as-of", "0001-01-01", "--format", "json"],
                 ["check", "--as-of", "0001-01-01", "--format", "json"]):
        r = subprocess.run(ACCORD + args + ["--project", str(root)], capture_output=True, text=True, timeout=120)
        assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
        json.loads(r.stdout)
        assert len(r.stdout) < 2_000_000


# ---------------------------------------------------------------- freshness settings

def test_freshness_limits_from_settings_and_source_with_both_duration_forms(tmp_path):
    defs = """
    sources:
      - {name: a, path: data/a.csv, time: t, freshness: {warn_after: {count: 2, period: day}}}
      - {name: b, path: data/b.csv, time: t}
      - {name: c, path: data/c.csv, time: t, freshness: {error_after: 3d}}
    metrics:
      - {name: ma, team: x, level: role, source: a, measure: count(*)}
      - {name: mb, team: x, level: role, source: b, measure: count(*), confidence: decision-grade}
      - {name: mc, team: x, level: role, source: c, measure: count(*)}
    """
    today = dt.date(2026, 5, 20)
    ages = {"a": 3, "b": 5, "c": 4}
    files = {f"data/{s}.csv": f"t\n2026-01-01\n{(today - dt.timedelta(days=n)).isoformat()}\n"
             for s, n in ages.items()}
    root = write_project(tmp_path / "p", {"defs.yml": defs, **files},
                         "project: f\nsettings:\n  freshness: {warn_after: 4d, error_after: 10d}\n")
    found = {f.evidence["source"]: f for f in run_check(load_project(root), today).findings
             if f.code == "stale-source"}
    # a: 3 days > 2 days (its own warn), error after 10d (settings) → warning
    # b: 5 days > 4d (settings warn), a decision-grade metric reads it → error
    # c: 4 days, not past the settings' 4d warn, but past its own error_after of 3d → error
    assert found["a"].severity == "warning" and found["a"].evidence["warn_after"] == "2 days"
    assert found["b"].severity == "error" and found["b"].evidence["strict_metrics"] == ["mb"]
    assert found["c"].severity == "error" and found["c"].evidence["error_after"] == "3d"
    assert parse_duration({"count": 2, "period": "day"}) == parse_duration("2d") == dt.timedelta(days=2)


def test_sources_only_the_contact_policy_reads_are_checked_for_freshness(tmp_path):
    """A touch or case source no metric reads still has a last data time: a survey tool that stopped
    syncing 40 days ago is an error; an email log up to date and a case table that stopped 9 days ago
    (past warn, before error) are as their ages say. Ages are counted here from the rows written."""
    defs = """
    teams: [{name: cx, lead: cx@x.example}, {name: marketing, lead: m@x.example}]
    sources:
      - {name: emails, path: data/emails.csv, key: id, time: sent_at}
      - {name: surveys, path: data/surveys.csv, key: id, time: sent_at}
      - {name: cases, path: data/cases.csv, key: id, time: opened_at}
    metrics:
      - {name: sends, team: marketing, level: company, source: emails, measure: count(*), exclude: []}
    contact_policy:
      customer: customer_id
      touches:
        - {source: emails, team: marketing, time: sent_at}
        - {source: surveys, team: cx, time: sent_at}
      cases: {source: cases, opened: opened_at, resolved: resolved_at}
      rules:
        - {name: at most 3 touches in 48 hours, max_touches: 3, within: 48h}
    """
    today = dt.date(2026, 5, 20)
    last = {"emails": today - dt.timedelta(days=1), "surveys": today - dt.timedelta(days=40),
            "cases": today - dt.timedelta(days=9)}
    files = {
        "data/emails.csv": f"id,customer_id,sent_at\n1,C1,2026-01-05\n2,C1,{last['emails']}T10:00:00\n"
                           f"3,C2,{today + dt.timedelta(days=3)}\n",                    # after as-of: ignored
        "data/surveys.csv": f"id,customer_id,sent_at\n1,C1,2026-01-05\n2,C2,{last['surveys']}T16:30:00\n",
        "data/cases.csv": f"id,customer_id,opened_at,resolved_at\n1,C1,{last['cases']},\n",
    }
    root = write_project(tmp_path / "p", {"defs.yml": defs, **files}, "project: f\n")
    found = {f.evidence["source"]: f for f in run_check(load_project(root), today).findings
             if f.code == "stale-source"}
    assert set(found) == {"surveys", "cases"}
    assert found["surveys"].severity == "error" and found["surveys"].evidence["age_days"] == 40
    assert found["surveys"].evidence["last_data"] == f"{last['surveys']}T16:30:00"
    assert found["surveys"].metrics == () and "contact policy reads it" in found["surveys"].title
    assert found["cases"].severity == "warning" and found["cases"].evidence["age_days"] == 9
    assert found["cases"].evidence["time_column"] == "opened_at"


def test_bad_freshness_is_one_line_per_problem(tmp_path):
    defs = """
    sources:
      - {name: a, path: data/a.csv, time: t, freshness: {warn_after: 2 days}}
    metrics:
      - {name: ma, team: x, level: role, source: a, measure: count(*)}
    """
    root = write_project(tmp_path / "p", {"defs.yml": defs, "data/a.csv": "t\n2026-01-01\n"},
                         "project: f\nsettings:\n  freshness: {warn_after: 9d, error_after: 2d}\n")
    r = subprocess.run(ACCORD + ["validate", "--project", str(root)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("accord.yml:") and "error_after is shorter than warn_after" in lines[0]
    assert lines[1].startswith("defs.yml:2:") and "'2 days' is not a duration" in lines[1]


def test_two_metrics_are_compared_in_their_latest_common_period_with_data():
    from accord.analyze.values import Numbers, Pair, Series
    q = [dt.date(2026, m, 1) for m in (1, 4, 7)]
    up = Series("quarter", tuple(q), ("2026-Q1", "2026-Q2", "2026-Q3"), (10.0, 20.0, 30.0))
    down = Series("quarter", tuple(q[:2]), ("2026-Q1", "2026-Q2"), (5.0, 4.0))      # its data stops in Q2
    own = {"up": Pair("quarter", "2026-Q3", q[2], 30.0, "2026-Q2", 20.0),
           "down": Pair("quarter", "2026-Q2", q[1], 4.0, "2026-Q1", 5.0)}
    pu, pd = Numbers({}, own, own, {"up": up, "down": down}).common_pairs("up", "down")
    assert (pu.period, pu.value, pu.previous_period, pu.previous) == ("2026-Q2", 20.0, "2026-Q1", 10.0)
    assert (pd.period, pd.value, pd.previous_period, pd.previous) == ("2026-Q2", 4.0, "2026-Q1", 5.0)
