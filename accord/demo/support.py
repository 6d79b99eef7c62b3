"""The helpdesk's cases and the NPS surveys CX sends.

Planted: first response time falls from about six hours to about 1.5 (support hired and automated),
while retention does not move. Ticket volume grows with every feature release, and each release
brings more tickets than the last. Bluefin Logistics (ACC-00427) opens a case about a $12 charge on
2026-09-14; in the next two days five teams contact it.
"""
from __future__ import annotations

import numpy as np

from accord.demo.customers import TWELVE_DOLLARS, Customers
from accord.demo.product import KESTREL, Releases
from accord.demo.tables import Table
from accord.demo.world import (AGENTS, AS_OF, DAYS, NEVER, START, at_hours, emails, fraction_between, ids,
                               null_where, pick, plus_hours, ts, weekday)

CATEGORIES = ["how-to", "billing", "integration", "bug", "onboarding", "account", "feature request"]
CATEGORY_MIX = [0.32, 0.12, 0.16, 0.18, 0.08, 0.10, 0.04]
RESOLVE_HOURS = {"how-to": 10, "billing": 20, "integration": 40, "bug": 60, "onboarding": 30, "account": 8,
                 "feature request": 72, "spam": 0.1}
SUBJECTS = {
    "how-to": ["How do I share a dashboard?", "Filter not applying", "Question about scheduled exports"],
    "billing": ["Invoice question", "Update billing contact", "VAT number on invoice", "Charged twice?"],
    "integration": ["Snowflake connector timing out", "Salesforce sync stuck", "API rate limit"],
    "bug": ["Chart renders blank", "Export drops rows", "Error after latest update", "Dashboard won't load"],
    "onboarding": ["Help setting up SSO", "Import failing", "Invite not received"],
    "account": ["Reset 2FA", "Transfer ownership", "Add an admin"],
    "feature request": ["Request: dark mode", "Request: more chart types"],
    "spam": ["Partnership opportunity!!!", "SEO services"],
}


def _active_counts(customers: Customers, days: np.ndarray) -> np.ndarray:
    starts = np.sort(customers.billing_start)
    ends = np.sort(customers.churn_on[~np.isnat(customers.churn_on)])
    return np.searchsorted(starts, days, side="right") - np.searchsorted(ends, days, side="right")


def cases(rng: np.random.Generator, customers: Customers, rel: Releases) -> Table:
    """Cases in proportion to active customers, plus the ones each feature release brings."""
    weekend = weekday(DAYS) >= 5
    n_day = rng.poisson(0.0085 * _active_counts(customers, DAYS) * np.where(weekend, 0.35, 1.26))
    day = np.repeat(DAYS, n_day)
    category = pick(rng, CATEGORIES, len(day), p=CATEGORY_MIX)
    release = np.full(len(day), None, dtype=object)

    # Every feature release brings tickets over the next two weeks, and from 2026 more each time.
    feat = np.flatnonzero(rel.feature)
    bugs_per = 12 + 12 * fraction_between(rel.shipped[feat], "2026-01-01", "2026-08-01")
    k = rng.poisson(bugs_per)
    src = np.repeat(feat, k)
    rday = rel.shipped[src] + np.minimum(rng.exponential(4, len(src)), 20).astype("timedelta64[D]")
    day = np.concatenate([day, rday])
    category = np.concatenate([category, pick(rng, ["bug", "how-to"], len(src), p=[0.75, 0.25])])
    release = np.concatenate([release, np.where(rng.random(len(src)) < 0.7, rel.id[src], None)])

    who = customers.pick_active(rng, day)
    spam = rng.random(len(day)) < 0.025
    category = np.where(spam, "spam", category).astype(object)
    keep = (day < AS_OF) & (day >= START) & ((who >= 0) | spam)
    day, category, release, who, spam = day[keep], category[keep], release[keep], who[keep], spam[keep]
    n = len(day)
    office = rng.random(n) < 0.75
    opened = np.where(office, at_hours(rng, day, mean=12.5, sd=3.0, lo=7, hi=20),
                      plus_hours(day.astype("datetime64[s]"), rng.uniform(0, 24, n)))
    median = 380 * 0.25 ** fraction_between(day, "2024-10-01", "2026-09-30")
    frt = np.exp(rng.normal(np.log(median), 0.8))
    first = np.where(spam, NEVER, plus_hours(opened, frt / 60))
    hours = np.array([RESOLVE_HOURS[c] for c in category]) * np.exp(rng.normal(0, 1.0, n))
    resolved = plus_hours(opened, np.where(spam, 0.1, hours))
    resolved = np.where(~spam & (resolved < first), plus_hours(first, 0.5), resolved)
    resolved[rng.random(n) < 0.004] = NEVER     # waiting on the customer, forever
    customer = null_where(customers.id[np.maximum(who, 0)], spam)
    subject = np.array([SUBJECTS[c][rng.integers(len(SUBJECTS[c]))] for c in category], dtype=object)
    channel = np.where(spam, "email", pick(rng, ["email", "chat", "web", "phone"], n, p=[0.45, 0.30, 0.15, 0.10]))
    priority = np.where(category == "bug", pick(rng, ["normal", "high", "urgent"], n, p=[0.5, 0.38, 0.12]),
                        pick(rng, ["low", "normal", "high", "urgent"], n, p=[0.3, 0.5, 0.15, 0.05]))

    planted = [
        (TWELVE_DOLLARS, "2026-09-14T09:12:00", "2026-09-15T16:47:00", "2026-09-17T11:30:00", "billing",
         "Charged $12 twice for one extra seat", "email", "normal"),
        (KESTREL, "2026-08-06T11:45:00", "2026-08-06T13:40:00", "2026-08-27T15:30:00", "onboarding",
         "SSO setup fails: metadata rejected", "web", "high"),
    ]
    for c, o, f, r, cat, subj, ch, pr in planted:
        customer = np.append(customer, c)
        opened, first, resolved = np.append(opened, ts(o)), np.append(first, ts(f)), np.append(resolved, ts(r))
        category, subject = np.append(category, cat), np.append(subject, subj)
        channel, priority, release = np.append(channel, ch), np.append(priority, pr), np.append(release, None)
    first = np.where(first < AS_OF, first, NEVER)
    resolved = np.where(resolved < AS_OF, resolved, NEVER)
    order = np.argsort(opened, kind="stable")
    m = len(order)
    return Table("data/helpdesk/cases.parquet", {
        "case_id": ("string", ids("CS-", m, width=6)),
        "customer_id": ("string", customer[order]),
        "opened_at": ("timestamp", opened[order]),
        "first_response_at": ("timestamp", first[order]),
        "resolved_at": ("timestamp", resolved[order]),
        "channel": ("string", channel[order].astype(object)),
        "category": ("string", category[order].astype(object)),
        "priority": ("string", priority[order].astype(object)),
        "related_release": ("string", release[order].astype(object)),
        "subject": ("string", subject[order]),
        "assignee": ("string", emails(pick(rng, AGENTS, m))),
    })


def nps(rng: np.random.Generator, customers: Customers, case_table: Table) -> Table:
    """Quarterly relationship waves to two contacts per customer, and a survey after some closed cases."""
    acct, contact, trigger, sent = [], [], [], []
    for month in ("2024-12", "2025-03", "2025-06", "2025-09", "2025-12", "2026-03", "2026-06", "2026-09"):
        day = np.datetime64(f"{month}-15", "D")
        pool = np.flatnonzero(customers.active_mask(day))
        for c in ("C1", "C2"):
            n = len(pool)
            when = day + rng.integers(0, 3, n).astype("timedelta64[D]")
            at = plus_hours(when.astype("datetime64[s]"), rng.uniform(16, 19, n))
            if month == "2026-09" and c == "C1":     # the NPS bot reaches Bluefin on day two of its case
                at[customers.id[pool] == TWELVE_DOLLARS] = ts("2026-09-15T17:40:00")
            acct.append(customers.id[pool])
            contact.append(np.char.add(customers.id[pool], f"-{c}"))
            trigger.append(np.full(n, "relationship"))
            sent.append(at)
    cust = case_table.columns["customer_id"][1]
    resolved = case_table.columns["resolved_at"][1]
    pick_ = np.flatnonzero((cust != None) & ~np.isnat(resolved) & (rng.random(len(cust)) < 0.15))  # noqa: E711
    at = plus_hours(resolved[pick_].astype("datetime64[D]").astype("datetime64[s]") + np.timedelta64(1, "D"),
                    rng.uniform(10, 11, len(pick_)))
    acct.append(cust[pick_].astype(str))
    contact.append(np.char.add(cust[pick_].astype(str), "-C1"))
    trigger.append(np.full(len(pick_), "case_closed"))
    sent.append(at)
    acct, contact, trigger, sent = (np.concatenate(x) for x in (acct, contact, trigger, sent))
    keep = sent < AS_OF
    acct, contact, trigger, sent = acct[keep], contact[keep], trigger[keep], sent[keep]
    order = np.argsort(sent, kind="stable")
    acct, contact, trigger, sent = acct[order], contact[order], trigger[order], sent[order]
    n = len(sent)
    responded = plus_hours(sent, rng.exponential(20, n))
    answered = (rng.random(n) < 0.3) & (responded < AS_OF)
    score = rng.choice(11, n, p=[0.02, 0.01, 0.02, 0.02, 0.03, 0.05, 0.07, 0.13, 0.18, 0.22, 0.25])
    return Table("data/cx/nps_responses.parquet", {
        "survey_id": ("string", ids("NPS-", n, width=6)),
        "account_id": ("string", acct),
        "contact_id": ("string", contact),
        "trigger": ("string", trigger),
        "sent_at": ("timestamp", sent),
        "responded_at": ("timestamp", np.where(answered, responded, NEVER)),
        "score": ("int", null_where(score, ~answered)),
    })
