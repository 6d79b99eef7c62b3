"""Northwind Cloud's systems, generated in the order the business happens: leads become deals, won
deals become customers, customers get billed, call support, take surveys and receive emails."""
from __future__ import annotations

import numpy as np

from accord.demo import activities, campaigns, customers, deals, emails, leads, pipeline, product, support
from accord.demo.accounts import AccountBook
from accord.demo.tables import Table
from accord.demo.world import SEED


def generate(seed: int = SEED) -> list[Table]:
    """Every table of the demo company, in a fixed order; the same seed gives the same bytes."""
    rng = np.random.default_rng(seed)
    book = AccountBook(rng)
    lead_book = leads.generate(rng, book)
    new_business = deals.new_business(rng, book, lead_book)
    people = customers.build(rng, book, new_business)
    upsells = deals.expansions(rng, people)
    customers.add_expansions(people, upsells)
    renewals = deals.renewals(rng, people)
    every = deals.Deals.concat([new_business, upsells, renewals])
    opp_ids = pipeline.opportunity_ids(every)
    new_ids, upsell_ids = opp_ids[:len(new_business)], opp_ids[len(new_business):len(new_business) + len(upsells)]

    rel = product.releases(rng)
    cases = support.cases(rng, people, rel)
    onboarding = product.onboarding(rng, people)
    invoices, dunning = customers.invoices(rng, people)
    became = dict(zip(people.id, people.since))
    tables = [
        book.table(became),
        lead_book.crm,
        pipeline.crm(rng, every, opp_ids, book),
        activities.generate(rng, every, opp_ids, people, book),
        lead_book.ma,
        pipeline.marketing_copy(rng, every, opp_ids),
        emails.generate(rng, people, lead_book),
        campaigns.campaigns_table(),
        campaigns.ad_spend(rng),
        pipeline.finance_sheet(rng, every, opp_ids, book),
        cases,
        support.nps(rng, people, cases),
        rel.table,
        onboarding.events,
        onboarding.blockers,
        product.messages(rng, people, rel, onboarding),
        customers.subscriptions(people, new_ids, upsell_ids),
        invoices,
        dunning,
        customers.churn_events(rng, people),
    ]
    return tables + [warehouse_opportunities(tables[2])]


def warehouse_opportunities(crm: Table) -> Table:
    """What the data team's dbt model `opportunities` (dbt/, materialized external) writes: CRM columns."""
    return Table("data/warehouse/opportunities.parquet",
                 {c: crm.columns[c] for c in ("opportunity_id", "created_at", "amount", "stage", "type", "segment")})

