"""What a digest says beyond the numbers: what is yours to do (approvals, overdue follow-ups and reviews,
acceptances expiring within 14 days, pre-work not sent) and what changed since your last digest (new and
resolved findings, decisions recorded, a definition changed with its numeric impact, counted by hand here).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess

import pytest

from accord import app
from accord.morning.content import finding_key
from accord.store import digests as sent_store
from test_digest_send import ORDERS

DAY = dt.date(2026, 3, 2)

CONFIG = f"""project: shop
settings: {{as_of: {DAY.isoformat()}, compare_grain: month}}
digest: {{from: metrics@x.example, allowed_domains: [x.example]}}
"""
DEFS = """
sources:
  - {name: orders, system: shop, path: orders.csv, entity: order, key: id, time: ordered_at}
metrics:
  - {name: revenue, label: Revenue, team: sales, level: company, owner: ana@x.example, source: orders,
     measure: sum(amount), decision: Budget}
  - {name: orders_count, label: Orders, team: marketing, level: function, owner: jo@x.example, source: orders,
     measure: count(*), decision: Campaigns, parents: [{metric: revenue}]}
  - {name: sales_orders, label: Orders, team: sales, level: function, owner: ana@x.example, source: orders,
     measure: count(*), decision: Quota, include: [{name: big, sql: amount >= 14}], parents: [{metric: revenue}]}
teams:
  - {name: sales, lead: ana@x.example}
  - {name: marketing, lead: jo@x.example, members: [kim@x.example]}
decisions:
  - label: Revenue
    decided_on: 2026-01-15
    owner: ana@x.example
    canonical: [{metric: revenue, fingerprint: "0000000000000000"}]
    review_every: month
    follow_ups:
      - {task: Add refunds, owner: jo@x.example, due: 2026-02-20}
      - {task: Done already, owner: jo@x.example, due: 2026-02-01, done: true}
accept:
  - {code: too-many-metrics, teams: [marketing], owner: jo@x.example, reason: a test, until: 2026-03-10}
  - {code: too-many-metrics, teams: [sales], owner: ana@x.example, reason: a test, until: 2026-04-30}
"""


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@x.example", "-c", "user.name=t", *args], check=True,
                   capture_output=True)


@pytest.fixture
def shop(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCORD_STORE", f"sqlite:///{tmp_path / 'store.db'}")
    root = tmp_path / "shop"
    root.mkdir()
    (root / "accord.yml").write_text(CONFIG)
    (root / "defs.yml").write_text(DEFS)
    (root / "orders.csv").write_text(ORDERS)
    (root / "prework" / "orders").mkdir(parents=True)      # pre-work on 'Orders' was asked for
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "start")
    return root


def _digest(root, person, day):
    project = app.load(root)
    db = app.store(project)
    built = app.digests(project, day, [person], db)
    return project, db, next(d for d in built.digests if d.person == person)


def test_yours_to_do(shop):
    _, _, jo = _digest(shop, "jo@x.example", DAY)
    assert sorted((t.kind, t.text) for t in jo.todo) == sorted([
        ("follow-up", "Follow-up overdue since 2026-02-20: Add refunds (decision on 'Revenue')"),
        ("expiring", "Your acceptance of 'too-many-metrics' on marketing expires on 2026-03-10: fix the finding or "
                     "renew it with a reason"),
        ("prework", "Pre-work on 'Orders' not yet submitted for marketing"),
    ])
    _, _, ana = _digest(shop, "ana@x.example", DAY)
    assert sorted((t.kind, t.text) for t in ana.todo) == sorted([
        ("approve", "Approve or roll back the changed definition of Revenue (revenue) under the decision on "
                    "'Revenue'"),
        ("review", "Review of the decision on 'Revenue' overdue since 2026-02-15"),
        ("prework", "Pre-work on 'Orders' not yet submitted for sales"),
    ])                                  # her acceptance expires on 30 April: more than 14 days away
    _, _, kim = _digest(shop, "kim@x.example", DAY)     # a member: her team's pre-work, nobody's follow-ups
    assert [(t.kind, t.text) for t in kim.todo] == [("prework", "Pre-work on 'Orders' not yet submitted for marketing")]


def _count(day_from: dt.date, day_to: dt.date, smallest: float | None = None) -> int:
    rows = csv.DictReader(io.StringIO(ORDERS))
    return sum(1 for r in rows if day_from <= dt.date.fromisoformat(r["ordered_at"]) < day_to
               and (smallest is None or float(r["amount"]) >= smallest))


def test_what_changed_since_the_last_digest(shop):
    project, db, first = _digest(shop, "jo@x.example", DAY)
    assert first.first and first.since is None
    no_exclusions = [f for f in app.check(project, DAY).open if f.code == "no-exclusions" and
                     f.metrics == ("orders_count",)]
    assert len(no_exclusions) == 1 and finding_key(no_exclusions[0]) in first.memo["findings"]
    # the first digest was sent (recorded as the sender records it)
    assert sent_store.claim(db, "jo@x.example", DAY.isoformat(), "<1@x>", first.memo)[0]
    sent_store.finish(db, "jo@x.example", DAY.isoformat())

    # overnight: orders_count leaves out small orders (committed), and a decision on 'Orders' is recorded
    text = (shop / "defs.yml").read_text().replace(
        "measure: count(*), decision: Campaigns,", "measure: count(*), decision: Campaigns, "
                                                   "exclude: [{name: small, sql: amount < 12}],")
    text = text.replace("accept:\n", """  - label: Orders
    decided_on: 2026-03-02
    owner: jo@x.example
    canonical: [{metric: orders_count, for: [Campaigns]}]
    alternates: [{metric: sales_orders, rename_to: Big orders}]
accept:
""")
    (shop / "defs.yml").write_text(text)
    _git(shop, "commit", "-qam", "orders without small ones")
    day2 = DAY + dt.timedelta(days=1)
    _, _, second = _digest(shop, "jo@x.example", day2)
    assert not second.first and second.since == DAY.isoformat()
    kinds = {}
    for c in second.changes:
        kinds.setdefault(c.kind, []).append(c)
    assert no_exclusions[0].title in [c.text for c in kinds["resolved"]]
    assert [c.text for c in kinds["decision"]] == ["Decision on 'Orders' recorded on 2026-03-02 by jo@x.example"]
    (definition,) = kinds["definition"]
    assert definition.text == "The definition of Orders (orders_count) changed since your last digest"
    (impact,) = definition.impact
    feb = (dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    assert impact["period"] == "2026-02"
    assert impact["old"] == _count(*feb) and impact["new"] == _count(*feb, smallest=12)
    assert impact["new"] < impact["old"]
    # nothing new that was already there yesterday
    assert all(c.text != no_exclusions[0].title for c in kinds.get("new", []))
