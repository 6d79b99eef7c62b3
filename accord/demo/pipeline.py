"""Three systems' copies of the same opportunities: the CRM, marketing automation's synced copy, and
finance's planning sheet. Same key (opportunity_id), different records, amounts, stages and dates.

Why "Pipeline" disagrees, all planted here and all findable record by record:
* the marketing connector cannot see Strategic deals (a private sharing rule in the CRM), and it was
  down from 2026-08-10 to 2026-08-16 (an expired token): deals created then never reached the copy;
* the connector maps Amount create-only, so the copy keeps the amount a deal was opened with, while
  reps revise most amounts down at qualification;
* finance's sheet is refreshed by hand (last on 2026-09-25): later deals are missing, a few rows were
  deleted, stages and amounts are as of the refresh, and some expected close dates are blank;
* the definitions differ (see metrics/*.yml): stages, campaign attribution, renewals, small deals,
  probability weighting, and created date versus expected close date.
"""
from __future__ import annotations

import numpy as np

from accord.demo.accounts import AccountBook
from accord.demo.deals import Deals
from accord.demo.tables import Table
from accord.demo.world import AS_OF, NEVER, emails, ts

OUTAGE = (ts("2026-08-10T00:00:00"), ts("2026-08-17T00:00:00"))
FINANCE_REFRESH = ts("2026-09-25T17:00:00")
PROBABILITY = {"Discovery": 0.10, "Qualified": 0.20, "Proposal": 0.40, "Negotiation": 0.65,
               "Closed Won": 1.0, "Closed Lost": 0.0, "Nurture": 0.05}


def opportunity_ids(deals: Deals) -> np.ndarray:
    """Ids in creation order, as the CRM hands them out."""
    order = np.argsort(deals.created_at, kind="stable")
    out = np.empty(len(deals), dtype=object)
    out[order] = [f"OPP-{i:06d}" for i in range(100001, 100001 + len(deals))]
    return out


def crm(rng: np.random.Generator, deals: Deals, opp_ids: np.ndarray, book: AccountBook) -> Table:
    now = np.datetime64(AS_OF, "s")
    order = np.argsort(opp_ids)
    d = deals.take(order)
    stage = d.stage_at(now)
    closed = d.closed_by(now)
    qualified = ~np.isnat(d.qualified_at) & (d.qualified_at < now)
    names = np.array([f"{book.name(a)} - {t}" for a, t in zip(d.account_id, d.type)], dtype=object)
    return Table("data/crm/opportunities.parquet", {
        "opportunity_id": ("string", opp_ids[order]),
        "account_id": ("string", d.account_id),
        "name": ("string", names),
        "type": ("string", d.type),
        "segment": ("string", d.segment),
        "stage": ("string", stage),
        "amount": ("float", d.amount_at(now)),
        "lead_source": ("string", d.lead_source),
        "lead_id": ("string", d.lead_id),
        "campaign_id": ("string", d.crm_campaign),
        "owner": ("string", emails(d.owner)),
        "created_at": ("timestamp", d.created_at),
        "qualified_at": ("timestamp", np.where(qualified, d.qualified_at, NEVER)),
        "expected_close": ("date", d.expected_close_at(now, rng)),
        "closed_at": ("timestamp", np.where(closed, d.closed_at, NEVER)),
        "is_closed": ("bool", closed),
        "is_won": ("bool", closed & d.won),
        "loss_reason": ("string", np.where(stage == "Closed Lost", d.loss_reason, None).astype(object)),
    })


def marketing_copy(rng: np.random.Generator, deals: Deals, opp_ids: np.ndarray) -> Table:
    now = np.datetime64(AS_OF, "s")
    synced = ((deals.segment != "Strategic")
              & ~((deals.created_at >= OUTAGE[0]) & (deals.created_at < OUTAGE[1]))
              & (deals.created_at < now - np.timedelta64(6 * 3600, "s")))
    rows = np.flatnonzero(synced)
    rows = rows[np.argsort(opp_ids[rows])]
    d = deals.take(rows)
    kind = {"New Business": "new_business", "Expansion": "expansion", "Renewal": "renewal"}
    last_sync = np.where(d.closed_by(now) & (d.closed_at < now - np.timedelta64(30 * 86400, "s")),
                         d.closed_at + np.timedelta64(3 * 3600, "s"),
                         now - np.timedelta64(5 * 3600, "s") + rng.integers(0, 1800, len(d)).astype("timedelta64[s]"))
    return Table("data/marketing/opportunities_sync.parquet", {
        "opportunity_id": ("string", opp_ids[rows]),
        "crm_account_id": ("string", d.account_id),
        "opportunity_type": ("string", np.array([kind[t] for t in d.type], dtype=object)),
        "stage": ("string", d.stage_at(now)),
        "amount": ("float", d.amount_initial),
        "campaign_id": ("string", d.ma_campaign),
        "created_at": ("iso", d.created_at),
        "last_synced_at": ("iso", last_sync),
    })


def finance_sheet(rng: np.random.Generator, deals: Deals, opp_ids: np.ndarray, book: AccountBook) -> Table:
    at = FINANCE_REFRESH
    rows = np.flatnonzero((deals.created_at < at) & (rng.random(len(deals)) >= 0.03))
    rows = rows[np.argsort(opp_ids[rows])]
    d = deals.take(rows)
    stage = d.stage_at(at)
    expected = d.expected_close_at(at, rng)
    expected = np.where(rng.random(len(d)) < 0.04, np.datetime64("NaT", "D"), expected)
    return Table("data/finance/pipeline_sheet.parquet", {
        "opportunity_id": ("string", opp_ids[rows]),
        "account_name": ("string", np.array([book.name(a) for a in d.account_id], dtype=object)),
        "deal_type": ("string", d.type),
        "segment": ("string", d.segment),
        "stage": ("string", stage),
        "amount_usd": ("float", d.amount_at(at)),
        "probability": ("float", np.array([PROBABILITY[s] for s in stage])),
        "expected_close": ("iso_date", expected),
        "snapshot_date": ("date", np.full(len(d), np.datetime64(at, "D"))),
    })
