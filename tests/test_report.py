"""The HTML report: one self-contained file that shows every metric, owner and open finding, with values that
match hand-written SQL, charts drawn inline, and optional sections only when their data is there."""
from __future__ import annotations

import datetime as dt
import random
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from accord.check import run_check
from accord.compute.connect import project_sandbox
from accord.engine import open_engine
from accord.project.loader import load_project
from accord.render.html import render_report, write_report
from accord.render.text import format_value
from accord.report import (ACTIONS, Contact, CustomerStory, RuleBreach, Section, TouchpointsView, TreeNode,
                           build_report)

TODAY = dt.date(2026, 7, 14)

ACCORD_YML = """\
project: Tiny Shop
settings:
  compare_grain: quarter
"""

TEAMS_YML = """\
teams:
  - {name: finance, function: Finance, lead: cfo@shop.example}
  - {name: sales, function: Sales, lead: sales-lead@shop.example}
  - {name: marketing, function: Marketing, lead: cmo@shop.example}
handoffs:
  - {from: marketing, to: sales, what: orders}
"""

METRICS_YML = """\
sources:
  - name: orders
    system: shop
    owner: data@shop.example
    path: data/orders.csv
    entity: order
    key: order_id
    time: ordered_at

metrics:
  - name: revenue
    label: Revenue
    team: finance
    level: company
    owner: cfo@shop.example
    description: Value of paid orders, test orders excluded.
    decision: Monthly board update
    unit: usd
    source: orders
    measure: sum(amount)
    include: [{name: paid, sql: "status = 'paid'"}]
    exclude: [{name: test orders, sql: "is_test"}]
    confidence: board-grade
    target: {direction: up, value: 40000, period: quarter}

  - name: orders_placed
    label: Orders
    team: sales
    level: function
    decision: Weekly sales review
    unit: count
    source: orders
    measure: count(*)
    exclude: [{name: test orders, sql: "is_test"}]
    target: {direction: up, value: 100, period: month}
    parents: [{metric: revenue, effect: raises}]

  - name: web_orders
    label: Orders
    team: marketing
    level: role
    owner: cmo@shop.example
    decision: Channel budget
    unit: count
    source: orders
    measure: count(*)
    include: [{name: web, sql: "channel = 'web'"}]
    parents: [{metric: orders_placed, effect: raises}]

  - name: average_order_value
    label: Average order value
    team: sales
    level: role
    owner: sales-lead@shop.example
    decision: Pricing experiments
    unit: usd
    ratio: {numerator: revenue, denominator: orders_placed}
    parents: [{metric: revenue, effect: raises}]

accept:
  - {code: no-exclusions, metrics: [web_orders], owner: cmo@shop.example, reason: counts every web order, until: 2027-01-01}
"""


def _orders_csv() -> str:
    rng = random.Random(7)
    lines = ["order_id,ordered_at,status,amount,channel,is_test"]
    day, n = dt.date(2025, 1, 1), 0
    while day < TODAY:
        for _ in range(rng.randint(0, 6)):
            n += 1
            lines.append(f"{n},{day.isoformat()},{rng.choice(['paid', 'paid', 'paid', 'refunded'])},"
                         f"{rng.randint(500, 90000) / 100:.2f},{rng.choice(['web', 'store'])},"
                         f"{'true' if rng.random() < 0.05 else 'false'}")
        day += dt.timedelta(days=1)
    return "\n".join(lines) + "\n"


def _write(root: Path, extra: dict[str, str] | None = None) -> Path:
    files = {"accord.yml": ACCORD_YML, "teams.yml": TEAMS_YML, "metrics/shop.yml": METRICS_YML,
             "data/orders.csv": _orders_csv(), **(extra or {})}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = _write(tmp_path_factory.mktemp("shop"))
    project = load_project(root)
    result = run_check(project, TODAY, lambda: open_engine("duckdb", None, project.settings.timezone, project_sandbox(project)))
    out_dir = tmp_path_factory.mktemp("out")
    path = write_report(project, TODAY, result, out_dir / "report.html")
    return project, result, path, path.read_text(encoding="utf-8")


class _Text(HTMLParser):
    """The words a reader sees: text outside <style> and <svg>, entities decoded."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "svg"):
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in ("style", "svg"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return re.sub(r"\s+", " ", "".join(p.parts))


def _row(html: str, metric: str) -> str:
    m = re.search(rf'<tr id="m-{metric}">(.*?)</tr>', html, re.S)
    assert m, f"no table row for {metric}"
    return visible_text(m.group(1))


def _expected(project_root: Path) -> dict[str, float]:
    """Each metric's last complete period, by hand: Q2 2026 for quarter targets and the compare grain,
    June 2026 for the monthly target."""
    con = duckdb.connect()
    con.execute(f"create view o as select * from read_csv('{project_root / 'data/orders.csv'}', header=true)")
    q2 = "ordered_at >= date '2026-04-01' and ordered_at < date '2026-07-01'"
    june = "ordered_at >= date '2026-06-01' and ordered_at < date '2026-07-01'"
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    revenue = one(f"select sum(amount) from o where {q2} and status = 'paid' and not coalesce(is_test, false)")
    orders_q2 = one(f"select count(*) from o where {q2} and not coalesce(is_test, false)")
    out = {
        "revenue": float(revenue),
        "orders_placed": float(one(f"select count(*) from o where {june} and not coalesce(is_test, false)")),
        "web_orders": float(one(f"select count(*) from o where {q2} and channel = 'web'")),
        "average_order_value": float(revenue) / orders_q2,
    }
    con.close()
    return out


# ---------------------------------------------------------------- one self-contained file

def test_the_report_is_one_file(shop):
    _, _, path, html = shop
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")


def test_nothing_is_loaded_from_elsewhere(shop):
    html = shop[3]
    for pattern in (r"<script", r"<link\b", r"url\(", r"@import", r"\bsrc\s*=", r"<img\b", r"<iframe"):
        assert not re.search(pattern, html, re.I), pattern
    # the only addresses are SVG namespace names, which nothing fetches
    addresses = set(re.findall(r"https?://[^\s\"')]+", html))
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, addresses
    assert not re.search(r"href=\"https?:", html)


def test_charts_are_inline_svg_with_text_as_text(shop):
    project, _, _, html = shop
    svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
    assert len(svgs) >= len(project.metrics)
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert not re.search(r"<path[^>]+id=\"DejaVu", html), "fonts must not be embedded as glyph paths"
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids must be unique across the inline charts"
    for svg in svgs:
        assert 'role="img"' in svg and "aria-label=" in svg


def test_the_report_is_deterministic(shop, tmp_path):
    project, result, _, html = shop
    again = write_report(project, TODAY, result, tmp_path / "again.html").read_text(encoding="utf-8")
    assert again == html


# ---------------------------------------------------------------- what it shows

def test_every_metric_label_and_owner_is_shown(shop):
    project, _, _, html = shop
    text = visible_text(html)
    for m in project.metrics:
        row = _row(html, m.name)
        assert (m.label or m.name) in row
        if m.owner:
            assert m.owner in row
        else:
            assert "No owner" in row
    assert "Tiny Shop" in text and "14 July 2026" in text


def test_every_open_finding_title_is_shown(shop):
    _, result, _, html = shop
    text = visible_text(html)
    assert result.open, "the fixture should produce findings"
    codes = {f.code for f in result.open}
    assert {"missing-owner", "label-collision"} <= codes
    for f in result.open:
        assert re.sub(r"\s+", " ", f.title) in text, f.title


def test_accepted_findings_are_set_apart(shop):
    _, result, _, html = shop
    assert result.accepted
    text = visible_text(html)
    accepted_part = text[text.index("Accepted for now"):]
    for f in result.accepted:
        assert f.title in accepted_part
        assert f.accepted["reason"] in accepted_part


def test_values_for_the_last_complete_period_match_hand_written_sql(shop):
    project, result, _, html = shop
    expected = _expected(project.root)
    report = build_report(project, TODAY, result, sections=())
    views = {m.name: m for m in report.metrics}
    assert views["revenue"].period == "2026-Q2" and views["orders_placed"].period == "2026-06"
    for name, value in expected.items():
        assert views[name].value == pytest.approx(value, rel=1e-9), name
        assert format_value(value, project.metric(name).unit) in _row(html, name), name


def test_target_status_follows_the_last_complete_period(shop):
    project, result, _, html = shop
    expected = _expected(project.root)
    report = build_report(project, TODAY, result, sections=())
    views = {m.name: m for m in report.metrics}
    assert views["revenue"].target_status == ("met" if expected["revenue"] >= 40000 else "missed")
    assert views["orders_placed"].target_status == ("met" if expected["orders_placed"] >= 100 else "missed")
    assert views["web_orders"].target_status is None
    word = {"met": "On target", "missed": "Off target"}[views["revenue"].target_status]
    assert word in _row(html, "revenue")


def test_one_compute_per_grain_never_one_per_metric(shop, monkeypatch):
    import accord.compute.run as run
    project, result, _, _ = shop
    calls = []
    real = run.compute

    def counting(*args, **kwargs):
        calls.append(args[3] if len(args) > 3 else kwargs.get("grain"))
        return real(*args, **kwargs)

    monkeypatch.setattr(run, "compute", counting)
    build_report(project, TODAY, result, sections=())
    assert sorted(calls) == ["month", "quarter"]


def test_findings_land_in_one_action_each():
    seen: dict[str, str] = {}
    for a in ACTIONS:
        for code in a.codes:
            assert code not in seen, f"{code} is in both {seen[code]} and {a.key}"
            seen[code] = a.key
        assert a.who in ("leader", "owners")
    assert {"label-collision", "missing-owner", "orphan-metric", "touchpoint-overload"} <= set(seen)


def test_summary_counts_what_the_page_shows(shop):
    project, result, _, html = shop
    report = build_report(project, TODAY, result, sections=())
    assert report.summary.startswith("4 metrics across 3 teams")
    assert report.leader_count + report.owner_count + report.info_count == len(result.open)
    assert report.summary in visible_text(html)


# ---------------------------------------------------------------- sections come and go with their data

def test_sections_are_left_out_without_data(shop, tmp_path):
    html = shop[3]
    assert 'id="collisions"' in html                  # the fixture has a label collision
    assert 'id="tree"' in html                        # and contribution paths
    for key in ("touchpoints", "decisions"):
        assert f'id="{key}"' not in html
    assert "coming soon" not in html.lower()
    flat = re.sub(r"\n    parents: \[.*?\]", "", METRICS_YML)
    root = _write(tmp_path / "p", {"metrics/shop.yml": flat})
    project = load_project(root)
    result = run_check(project, TODAY, lambda: open_engine("duckdb", None, "UTC", project_sandbox(project)))
    assert 'id="tree"' not in render_report(build_report(project, TODAY, result))


def test_the_tree_shows_every_claimed_contribution_with_its_verdict(shop):
    project, _, _, html = shop
    part = visible_text(html[html.index('id="tree"'):])
    for m in project.metrics:
        assert (m.label or m.name) in part
    assert "claimed contribution" in part
    assert re.search(r"no effect on \w+ found|its changes are followed by|too little history to test|opposite way",
                     part)


def test_decisions_render_when_recorded(tmp_path):
    decisions = """\
decisions:
  - label: Orders
    decided_on: 2026-03-02
    owner: sales-lead@shop.example
    canonical: [{metric: orders_placed, for: [weekly sales review]}]
    alternates: [{metric: web_orders, for: [channel analysis], rename_to: Web orders}]
    unresolved: [Whether store pickups count as web orders]
    follow_ups: [{task: Rename the dashboard tile, owner: cmo@shop.example, due: 2026-05-01, done: false}]
    review_every: quarter
"""
    root = _write(tmp_path / "p", {"decisions.yml": decisions})
    project = load_project(root)
    result = run_check(project, TODAY, lambda: open_engine("duckdb", None, "UTC", project_sandbox(project)))
    text = visible_text(write_report(project, TODAY, result, tmp_path / "r.html").read_text(encoding="utf-8"))
    part = text[text.index("Decisions on record"):]
    for words in ("Web orders", "Whether store pickups count as web orders", "Rename the dashboard tile",
                  "overdue", "2 June 2026"):
        assert words in part, words


def test_later_sections_render_when_the_report_carries_them(shop):
    project, result, _, _ = shop
    report = build_report(project, TODAY, result, sections=())
    leaf = TreeNode("web_orders", "Orders", "marketing", "role", 12.0, "count", verdict="unsupported",
                    verdict_text="no effect found")
    tree = TreeNode("revenue", "Revenue", "finance", "company", 1000.0, "usd", "met",
                    children=(TreeNode("orders_placed", "Orders", "sales", "function", 40.0, "count",
                                       verdict="supported", children=(leaf,)),))
    story = CustomerStory("C-17", "Five contacts in two days while a case was open", (
        Contact(dt.datetime(2026, 6, 2, 9), "marketing", "upsell email", True),
        Contact(dt.datetime(2026, 6, 2, 15), "sales", "follow-up call"),
        Contact(dt.datetime(2026, 6, 3, 21), "sales", "demo reminder", True)))
    touch = TouchpointsView((RuleBreach("at most 3 touches in 48 hours", 41, 57, 0.062, ("marketing", "sales")),),
                            (story,), (("marketing", 900), ("sales", 310)))
    from dataclasses import replace
    full = replace(report, sections={**report.sections,
                                     "tree": Section("tree", "How the numbers connect", "Role to company.", (tree,)),
                                     "touchpoints": Section("touchpoints", "Customers' view", "Contacts.", (touch,))})
    html = render_report(full)
    text = visible_text(html)
    assert 'id="tree"' in html and 'id="touchpoints"' in html
    assert "no effect found" in text and "at most 3 touches in 48 hours" in text and "Customer C-17" in text
    assert html.index('id="defined"') < html.index('id="tree"') < html.index('id="touchpoints"')


def test_numbers_that_cannot_be_computed_leave_a_readable_page(tmp_path):
    broken = METRICS_YML.replace("measure: sum(amount)", "measure: sum(amount_eur)")
    root = _write(tmp_path / "p", {"metrics/shop.yml": broken})
    project = load_project(root)
    result = run_check(project, TODAY, None, diagnostics=())
    text = visible_text(write_report(project, TODAY, result, tmp_path / "r.html").read_text(encoding="utf-8"))
    assert "could not be computed" in text and "amount_eur" in text
    assert "Revenue" in text and "cfo@shop.example" in text


def test_a_source_disagreement_bridges_its_collision(shop):
    from accord.check import CheckResult
    from accord.findings import Finding
    project, result, _, _ = shop
    collision = next(f for f in result.findings if f.code == "label-collision")
    values = {d["metric"]: d["value"] for d in collision.evidence["definitions"]}
    a, b = "orders_placed", "web_orders"
    left_out = values[b] - values[a]
    steps = [{"kind": "clause", "side": "b", "clause": "web", "delta": left_out, "records": int(-left_out),
              "examples": []}]
    bridge = Finding("source-disagreement", "error", "shop and shop disagree on 'Orders'", metrics=(a, b),
                     teams=("marketing", "sales"), owner="cmo@shop.example",
                     evidence={"period": collision.evidence["period"], "gap": left_out,
                               "a": {"metric": a, "value": values[a], "source": "orders", "system": "shop"},
                               "b": {"metric": b, "value": values[b], "source": "orders", "system": "shop"},
                               "steps": steps})
    html = render_report(build_report(project, TODAY, CheckResult(result.findings + [bridge])))
    part = visible_text(html[html.index('id="collisions"'):html.index('id="defined"')])
    assert f"{int(-left_out):,} orders counted by orders_placed are left out by marketing's rule 'web'" in part
    assert format_value(left_out, "count").replace("-", "\u2212") in part   # one minus sign in HTML
    card = re.search(r'<li class="finding sev-error"[^>]*>.*?shop and shop disagree.*?</li>', html, re.S).group(0)
    assert 'href="#collisions"' in card


def _label_findings(shop):
    """The fixture's 'Orders' collision with a hand-built bridge and an open conflict on the same word."""
    from accord.findings import Finding
    project, result, _, _ = shop
    collision = next(f for f in result.findings if f.code == "label-collision")
    values = {d["metric"]: d["value"] for d in collision.evidence["definitions"]}
    a, b = "orders_placed", "web_orders"
    left_out, offset = values[b] - values[a] - 7, 7.0      # the largest step, partly offset by a smaller one
    steps = [{"kind": "clause", "side": "b", "clause": "web", "delta": left_out, "records": int(-left_out)},
             {"kind": "only-in-b", "side": "b", "clause": None, "delta": offset, "records": 7}]
    bridge = Finding("source-disagreement", "error", "shop and shop disagree on 'Orders'", metrics=(a, b),
                     teams=("marketing", "sales"), owner="cmo@shop.example",
                     evidence={"period": collision.evidence["period"], "gap": left_out + offset,
                               "a": {"metric": a, "value": values[a], "source": "orders", "system": "shop"},
                               "b": {"metric": b, "value": values[b], "source": "orders", "system": "shop"},
                               "steps": steps})
    label = collision.evidence["label"]
    conflict = Finding("unresolved-conflict", "error", f"'{label}' has no decision", metrics=collision.metrics,
                       evidence={"label": label, "decision": None})
    return project, result, collision, bridge, conflict, -left_out, offset


def test_a_labels_collision_bridge_and_open_conflict_are_one_decision(shop):
    from accord.check import CheckResult
    project, result, collision, bridge, conflict, largest, offset = _label_findings(shop)
    others = [f for f in result.findings if f.code not in ("label-collision", "unresolved-conflict")]
    report = build_report(project, TODAY, CheckResult(others + [collision, bridge, conflict]))
    label = collision.evidence["label"]
    items = [i for i in report.items if i.headline == f"“{label}”"]
    assert len(items) == 1
    [item] = items
    assert sorted(v.finding.code for v in item.findings) == ["label-collision", "source-disagreement",
                                                             "unresolved-conflict"]
    assert "no decision says which one is official" in item.sentence
    # the bridge in honest words: the largest step, and what ran the other way
    [words] = item.details
    assert f"largest single reason \u2212{largest:,.0f}" in words and f"partly offset by +{offset:,.0f}" in words
    html = render_report(report)
    top = visible_text(html[html.index('id="top"'):html.index('class="fold"')])
    assert top.count(f"“{label}” means") == 1


def test_the_leaders_lines_hold_numbers_and_no_statistics_or_files(shop):
    project, result, _, html = shop
    report = build_report(project, TODAY, result)
    assert 1 <= len(report.top) <= 5
    assert [i.score for i in report.top] == sorted((i.score for i in report.top), reverse=True)
    for i in report.top:
        assert re.search(r"\d", i.sentence), i.sentence
        assert not re.search(r"\.ya?ml|\bp \d|\br -?\d", i.sentence + report.summary), i.sentence
        assert not any(f.code in i.sentence + report.summary for f in result.findings)
        assert i.who and i.how
    assert any(".yml:" in i.how for i in report.items)
    top = html[html.index('id="top"'):html.index('class="fold"')]
    assert all(i.sentence in visible_text(top) for i in report.top)


def test_one_minus_sign_in_the_html_text(shop):
    from accord.check import CheckResult
    project, result, collision, bridge, conflict, _, _ = _label_findings(shop)
    html = render_report(build_report(project, TODAY, CheckResult(result.findings + [bridge, conflict])))
    text = visible_text(re.sub(r"<code>.*?</code>", "", html, flags=re.S))
    assert not re.findall(r"(?<![\w.\-\u2212])-[$€£]?\d", text)
    assert "\u2212" in text


def test_everything_below_the_top_folds(shop):
    html = shop[3]
    below = html[html.index('<details class="fold"'):html.index("</main>")]
    outside = re.sub(r"<details class=\"fold\".*?</details>\s*(?=<details class=\"fold\"|$)", "", below, flags=re.S)
    assert visible_text(outside).strip() == ""
    assert "<script" not in html


def test_touchpoint_findings_fill_the_touchpoints_section(tmp_path):
    """The section is built from check's touchpoint findings: rule counts and the worst timeline as given."""
    import datetime as _dt

    from accord.check import CheckResult
    from accord.findings import Finding
    from accord.render.html import write_report as _write
    timeline = [{"time": "2026-07-01T10:00:00", "team": "marketing", "source": "ma_emails", "breaks": True},
                {"time": "2026-07-01T12:00:00", "team": "sales", "source": "crm_activities", "breaks": False}]
    finding = Finding("contact-during-open-case", "error", "contacted during an open case",
                      evidence={"rule": "no promotion during an open case", "customers": 7, "touches": 19,
                                "customer_share": 0.07, "by_team": {"marketing": 12, "sales": 7, "cx": 0},
                                "suppressed": 19, "worst": [{"customer": "ACC-1", "touches": 5, "timeline": timeline}]})
    from factory import write_project as write_files
    project = load_project(write_files(tmp_path / "p", {"defs.yml": "metrics: []\n"}))
    page = visible_text(_write(project, _dt.date(2026, 7, 14), CheckResult([finding]), tmp_path / "r.html")
                        .read_text(encoding="utf-8"))
    assert "no promotion during an open case" in page and "marketing, sales" in page
    assert "Customer ACC-1" in page and "2 contacts from 2 teams (marketing, sales), 1 of them against the rule" in page


def test_the_touchpoints_section_charts_every_team_per_week(tmp_path):
    """With a contact policy, the weekly chart counts each team's touches per week, as a hand count does."""
    import datetime as _dt

    from factory import write_project as write_files
    touches = "id,customer_id,sent_at\n" + "".join(f"{i},C{i % 3},2026-06-{1 + i % 20:02d}T10:00:00\n" for i in range(40))
    calls = "id,customer_id,called_at\n" + "".join(f"{i},C{i % 2},2026-06-{2 + i % 9:02d}T11:00:00\n" for i in range(12))
    defs = """
sources:
  - {name: emails, path: data/emails.csv, key: id, time: sent_at}
  - {name: calls, path: data/calls.csv, key: id, time: called_at}
contact_policy:
  customer: customer_id
  touches:
    - {source: emails, team: marketing, time: sent_at}
    - {source: calls, team: sales, time: called_at}
  rules:
    - {name: at most 3 touches in 48 hours, max_touches: 3, within: 48h}
"""
    project = load_project(write_files(tmp_path / "p", {"defs.yml": defs, "data/emails.csv": touches,
                                                        "data/calls.csv": calls}))
    today = _dt.date(2026, 7, 14)
    view = build_report(project, today, run_check(project, today)).sections["touchpoints"].items[0]
    assert view.teams == ("marketing", "sales") and view.customers == 3
    by_week: dict = {}
    for table, team in ((touches, "marketing"), (calls, "sales")):
        for line in table.splitlines()[1:]:
            day = _dt.date.fromisoformat(line.split(",")[2][:10])
            week = day - _dt.timedelta(days=day.weekday())
            by_week.setdefault(week, {}).setdefault(team, 0)
            by_week[week][team] += 1
    assert {week: dict(n) for week, n in view.weekly if dict(n)} == \
        {week: n for week, n in by_week.items()}


def test_the_report_reuses_the_tree_and_touchpoints_check_built(tmp_path, monkeypatch):
    """Check's contribution tree and touchpoint analysis feed the report; neither is computed a second time."""
    import datetime as _dt

    import accord.analyze.touchpoints as touchpoint_module
    import accord.analyze.tree as tree_module
    from factory import write_project as write_files
    defs = """
sources:
  - {name: emails, path: data/emails.csv, key: id, time: sent_at}
metrics:
  - {name: revenue, team: t, level: company, source: emails, measure: count(*)}
  - {name: sends, team: t, level: role, source: emails, measure: count(*), parents: [{metric: revenue}]}
contact_policy:
  customer: customer_id
  touches: [{source: emails, team: marketing, time: sent_at}]
  rules: [{name: at most 3 touches in 48 hours, max_touches: 3, within: 48h}]
"""
    emails = "id,customer_id,sent_at\n" + "".join(f"{i},C{i % 4},2026-06-{1 + i % 28:02d}T09:00:00\n" for i in range(60))
    project = load_project(write_files(tmp_path / "p", {"defs.yml": defs, "data/emails.csv": emails}))
    today = _dt.date(2026, 7, 14)
    result = run_check(project, today)
    assert set(result.analyses) == {"tree", "touchpoints"}

    def computed_again(*args, **kwargs):
        raise AssertionError("computed a second time")
    monkeypatch.setattr(tree_module, "build_tree", computed_again)
    monkeypatch.setattr(touchpoint_module, "touchpoints", computed_again)
    report = build_report(project, today, result)
    assert {"tree", "touchpoints"} <= set(report.sections)
    assert report.sections["touchpoints"].items[0].customers == 4
