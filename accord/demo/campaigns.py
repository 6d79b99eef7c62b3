"""The campaign catalogue and the daily ad-platform export (impressions, clicks, spend, platform ROAS)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accord.demo.tables import Table
from accord.demo.world import DAYS, fraction_between, ids, round_to, weekday


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    channel: str
    start: str
    end: str | None = None
    impressions: int = 0            # ads only: a typical weekday
    ctr: float = 0.0
    cpc: float = 0.0
    platform_roas: float = 0.0      # what the ad platform reports, not what billing sees


AD_CAMPAIGNS = (
    Campaign("CMP-0101", "Search - Brand", "paid_search", "2024-10-01", None, 3500, 0.060, 3.20, 5.2),
    Campaign("CMP-0102", "Search - Competitor terms", "paid_search", "2024-10-01", None, 3000, 0.028, 9.50, 2.1),
    Campaign("CMP-0103", "Search - Data pipelines", "paid_search", "2024-10-01", None, 4500, 0.032, 7.10, 2.9),
    Campaign("CMP-0104", "Search - Embedded dashboards", "paid_search", "2024-10-01", None, 4000, 0.030, 6.80, 3.0),
    Campaign("CMP-0201", "Display - Retargeting", "display", "2024-10-01", None, 55000, 0.0030, 1.60, 2.5),
    Campaign("CMP-0202", "Display - Industry sites", "display", "2024-10-01", "2025-12-31", 70000, 0.0018, 2.10,
             1.3),
    Campaign("CMP-0301", "LinkedIn - Finance leaders", "paid_social", "2024-10-01", None, 18000, 0.0055, 8.50, 2.3),
    # The 2026 lead push: cheap clicks, generous platform attribution, leads sales does not want.
    Campaign("CMP-0311", "LinkedIn - Lead gen forms", "paid_social", "2026-04-01", None, 52000, 0.0125, 4.20, 6.4),
    Campaign("CMP-0312", "Meta - Free dashboard templates", "paid_social", "2026-04-20", None, 60000, 0.0140, 1.90,
             6.0),
)

OTHER_CAMPAIGNS = (
    Campaign("CMP-0401", "Webinar - Metrics that matter", "webinar", "2024-10-01", "2024-12-31"),
    Campaign("CMP-0402", "Webinar - Dashboards for finance teams", "webinar", "2025-01-01", "2025-03-31"),
    Campaign("CMP-0403", "Webinar - From spreadsheet to warehouse", "webinar", "2025-04-01", "2025-06-30"),
    Campaign("CMP-0404", "Webinar - Embedded analytics 101", "webinar", "2025-07-01", "2025-09-30"),
    Campaign("CMP-0405", "Webinar - Board-ready reporting", "webinar", "2025-10-01", "2025-12-31"),
    Campaign("CMP-0406", "Webinar - Forecasting with Northwind", "webinar", "2026-01-01", "2026-03-31"),
    Campaign("CMP-0407", "Webinar - AI assistant preview", "webinar", "2026-04-01", "2026-06-30"),
    Campaign("CMP-0408", "Webinar - Data contracts in practice", "webinar", "2026-07-01", "2026-09-30"),
    Campaign("CMP-0409", "Webinar - Q4 planning clinic", "webinar", "2026-10-01", "2026-12-31"),
    Campaign("CMP-0501", "Event - Data Council 2025", "event", "2025-03-01", "2025-04-15"),
    Campaign("CMP-0502", "Event - SaaS Finance Summit 2025", "event", "2025-05-15", "2025-07-01"),
    Campaign("CMP-0503", "Event - Analytics Week 2025", "event", "2025-09-15", "2025-11-01"),
    Campaign("CMP-0504", "Event - Data Council 2026", "event", "2026-03-01", "2026-04-15"),
    Campaign("CMP-0505", "Event - SaaS Finance Summit 2026", "event", "2026-05-15", "2026-07-01"),
    Campaign("CMP-0506", "Event - Analytics Week 2026", "event", "2026-09-10", "2026-10-31"),
    Campaign("CMP-0601", "Newsletter - Northwind Notes", "email", "2024-10-01"),
    Campaign("CMP-0602", "Nurture - New lead track", "email", "2024-10-01"),
    Campaign("CMP-0603", "Offer - Annual plan upgrade", "email", "2024-10-01"),
    Campaign("CMP-0604", "Offer - Add-on: Analytics Pro", "email", "2025-03-01"),
    Campaign("CMP-0612", "Offer - Fall seats offer", "email", "2026-09-01", "2026-09-30"),
)

CAMPAIGNS = AD_CAMPAIGNS + OTHER_CAMPAIGNS
FALL_OFFER = "CMP-0612"


def active(campaign: Campaign, days: np.ndarray) -> np.ndarray:
    days = days.astype("datetime64[D]")
    on = days >= np.datetime64(campaign.start, "D")
    if campaign.end:
        on &= days <= np.datetime64(campaign.end, "D")
    return on


def assign(rng: np.random.Generator, channels: np.ndarray, days: np.ndarray,
           only: dict[str, tuple[str, ...]] | None = None) -> np.ndarray:
    """A campaign for each lead: one of its channel's campaigns running that day, else None."""
    out = np.full(len(channels), None, dtype=object)
    for channel in np.unique(channels):
        rows = np.flatnonzero(channels == channel)
        pool = [c for c in CAMPAIGNS if c.channel == channel]
        if only and channel in only:
            pool = [c for c in pool if c.id in only[channel]]
        if not pool:
            continue
        on = np.stack([active(c, days[rows]) for c in pool], axis=1).astype(float)
        running = on.sum(axis=1) > 0
        p = on[running] / on[running].sum(axis=1, keepdims=True)
        choice = (rng.random(int(running.sum()))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
        out[rows[running]] = np.array([c.id for c in pool], dtype=object)[np.minimum(choice, len(pool) - 1)]
    return out


def campaigns_table() -> Table:
    c = CAMPAIGNS
    return Table("data/marketing/campaigns.parquet", {
        "campaign_id": ("string", np.array([x.id for x in c], dtype=object)),
        "name": ("string", np.array([x.name for x in c], dtype=object)),
        "channel": ("string", np.array([x.channel for x in c], dtype=object)),
        "started_on": ("date", np.array([np.datetime64(x.start, "D") for x in c])),
        "ended_on": ("date", np.array([np.datetime64(x.end, "D") if x.end else np.datetime64("NaT", "D")
                                       for x in c])),
    })


def ad_spend(rng: np.random.Generator) -> Table:
    """One row per ad campaign per day, as the ad platforms' daily export lands in the warehouse."""
    days, camp, impressions, clicks, spend, revenue = [], [], [], [], [], []
    for c in AD_CAMPAIGNS:
        d = DAYS[active(c, DAYS)]
        n = len(d)
        weekend = weekday(d) >= 5
        imp = c.impressions * np.exp(rng.normal(0, 0.15, n)) * np.where(weekend, 0.55, 1.0)
        ctr = c.ctr * np.exp(rng.normal(0, 0.10, n))
        if c.channel == "paid_social":        # new creative, every quarter a little better at getting clicks
            ctr *= 1 + 0.35 * fraction_between(d, "2025-04-01", "2026-07-01")
        if c.channel == "display":            # budget moved to social in 2026
            imp *= 1 - 0.45 * fraction_between(d, "2025-12-01", "2026-02-01")
        imp = np.round(imp).astype(np.int64)
        clk = rng.binomial(imp, np.clip(ctr, 0, 1))
        cost = round_to(clk * c.cpc * np.exp(rng.normal(0, 0.08, n)), 0.01)
        rev = round_to(cost * c.platform_roas * np.exp(rng.normal(0, 0.25, n)), 0.01)
        days.append(d)
        camp.append(np.full(n, c.id, dtype=object))
        impressions.append(imp)
        clicks.append(clk)
        spend.append(cost)
        revenue.append(rev)
    d = np.concatenate(days)
    order = np.lexsort((np.concatenate(camp), d))
    cid = np.concatenate(camp)[order]
    channel = {c.id: c.channel for c in AD_CAMPAIGNS}
    return Table("data/marketing/ad_spend.parquet", {
        "row_id": ("string", ids("ADS-", len(d), width=6)),
        "spend_date": ("date", d[order]),
        "campaign_id": ("string", cid),
        "channel": ("string", np.array([channel[x] for x in cid], dtype=object)),
        "impressions": ("int", np.concatenate(impressions)[order]),
        "clicks": ("int", np.concatenate(clicks)[order]),
        "spend_usd": ("float", np.concatenate(spend)[order]),
        "attributed_revenue_usd": ("float", np.concatenate(revenue)[order]),
    })

