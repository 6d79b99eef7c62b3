"""The compute benchmark's data: a CRM opportunities table in Parquet and an accord project of 30 metrics over it.

The rows come from hash-based pseudo-random columns in one DuckDB `COPY (SELECT … FROM range(n))`:
deterministic, and written in seconds rather than minutes. The Parquet file is rewritten only when it is
missing or the generator changed (its SQL and row count are stamped next to it); the project files are
small and rewritten on every run so that they always match the metrics below.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
from ruamel.yaml import YAML

ROWS = 20_000_000
START = "2024-01-01"          # a Monday; the rows span two years of creation times
SECONDS = 2 * 365 * 86_400
AS_OF = "2026-01-01"          # pinned "today": every row is in the past, the last week is current

STAGES = ("Lead", "MQL", "SQL", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
REGIONS = ("NA East", "NA West", "EMEA", "APAC", "LATAM", "ANZ")
CHANNELS = ("Paid Search", "Paid Social", "Organic", "Website", "Outbound SDR", "Partner Referral",
            "Partner Resell", "Events", "Webinar", "Email")
SEGMENTS = ("SMB", "Mid-Market", "Enterprise", "Strategic")
CURRENCIES = ("USD", "EUR", "GBP")


def _pick(values: tuple[str, ...], bits: str) -> str:
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"([{listed}])[1 + (({bits}) % {len(values)})::INTEGER]"


def source_sql(rows: int) -> str:
    """The SELECT that generates the rows: three 64-bit hashes per row, sliced into independent columns.

    Keys grow with creation time (as in a real CRM), so the file is in time order without a sort.
    """
    return f"""
SELECT i + 1 AS opportunity_id,
       TIMESTAMP '{START}' + to_seconds((i * {SECONDS} // {rows} + h1 % 600)::BIGINT) AS created_at,
       {_pick(STAGES, "h1 >> 10")} AS stage,
       CASE WHEN (h1 >> 13) % 100 = 0 THEN NULL ELSE {_pick(REGIONS, "h1 >> 20")} END AS region,
       {_pick(CHANNELS, "h1 >> 24")} AS channel,
       {_pick(SEGMENTS, "h1 >> 31")} AS segment,
       {_pick(CURRENCIES, "h1 >> 34")} AS currency,
       CASE WHEN (h1 >> 37) % 100 < 2 THEN NULL WHEN (h1 >> 37) % 100 < 6 THEN TRUE ELSE FALSE END AS is_test,
       round(exp(5 + 6 * (h2 % 1000003) / 1000003.0), 2) AS amount,
       CASE WHEN (h2 >> 20) % 50 = 0 THEN NULL ELSE round((h2 >> 26) % 1000 / 1000.0, 3) END AS probability,
       round((h2 >> 36) % 400 / 1000.0, 3) AS discount,
       (1 + h3 % 50000)::INTEGER AS owner_id,
       (1 + (h3 >> 16) % 2000000)::BIGINT AS account_id
FROM (SELECT i, hash(i) AS h1, hash(i + 1000000000000) AS h2, hash(i + 2000000000000) AS h3
      FROM range({rows}) AS r(i))
"""


OPEN = "stage in ('SQL', 'Discovery', 'Proposal', 'Negotiation')"
WON = {"name": "won", "sql": "stage = 'Closed Won'"}
TEST = {"name": "test records", "sql": "is_test"}
CLOSED = {"name": "closed", "sql": "stage like 'Closed%'"}

# (name, team, level, unit, measure, includes, excludes): realistic definitions, several teams' views.
METRICS: tuple[tuple, ...] = (
    ("pipeline_created", "sales", "company", "usd", "sum(amount)", [{"name": "open stages", "sql": OPEN}], [TEST]),
    ("opportunities_created", "sales", "function", "count", "count(*)", [], [TEST]),
    ("opportunity_rows", "revops", "role", "count", "count(*)", [], []),
    ("won_revenue", "finance", "company", "usd", "sum(amount)", [WON], [TEST]),
    ("won_deals", "sales", "function", "count", "count(*)", [WON], [TEST]),
    ("lost_deals", "sales", "role", "count", "count(*)", [{"name": "lost", "sql": "stage = 'Closed Lost'"}], [TEST]),
    ("weighted_pipeline", "finance", "function", "usd", "sum(amount * probability)", [], [CLOSED, TEST]),
    ("emea_pipeline", "sales", "role", "usd", "sum(amount)",
     [{"name": "emea", "sql": "region = 'EMEA'"}, {"name": "open stages", "sql": OPEN}], [TEST]),
    ("north_america_pipeline", "sales", "role", "usd", "sum(amount)",
     [{"name": "north america", "sql": "region in ('NA East', 'NA West')"}, {"name": "open stages", "sql": OPEN}],
     [TEST]),
    ("apac_won_revenue", "sales", "role", "usd", "sum(amount)",
     [{"name": "asia pacific", "sql": "region in ('APAC', 'ANZ')"}, WON], [TEST]),
    ("enterprise_pipeline", "sales", "function", "usd", "sum(amount)",
     [{"name": "enterprise", "sql": "segment in ('Enterprise', 'Strategic')"}, {"name": "open stages", "sql": OPEN}],
     [TEST]),
    ("smb_opportunities", "sales", "role", "count", "count(*)", [{"name": "smb", "sql": "segment = 'SMB'"}],
     [TEST, {"name": "latam partner desk", "sql": "region = 'LATAM'"}]),
    ("paid_sourced_pipeline", "marketing", "function", "usd", "sum(amount)",
     [{"name": "paid", "sql": "channel in ('Paid Search', 'Paid Social')"}],
     [TEST, {"name": "unqualified", "sql": "stage = 'Lead'"}]),
    ("partner_sourced_pipeline", "partnerships", "function", "usd", "sum(amount)",
     [{"name": "partner", "sql": "channel like 'Partner%'"}], [TEST]),
    ("outbound_opportunities", "sdr", "role", "count", "count(*)", [{"name": "outbound", "sql": "channel = 'Outbound SDR'"}],
     [{"name": "not yet qualified", "sql": "stage in ('Lead', 'MQL')"}]),
    ("large_deals", "sales", "role", "count", "count(*)", [{"name": "large", "sql": "amount > 10000"}], [TEST]),
    ("large_deal_pipeline", "sales", "role", "usd", "sum(amount)",
     [{"name": "very large", "sql": "amount >= 50000"}, {"name": "open stages", "sql": OPEN}], [TEST]),
    ("average_deal_size", "finance", "function", "usd", "avg(amount)", [WON], [TEST]),
    ("average_win_probability", "sales", "role", "percent", "avg(probability)", [], [CLOSED, TEST]),
    ("audit_sample_pipeline", "revops", "role", "usd", "sum(amount)", [{"name": "audit sample", "sql": "owner_id % 7 = 0"}],
     [TEST]),
    ("high_probability_pipeline", "sales", "role", "usd", "sum(amount)",
     [{"name": "likely", "sql": "probability >= 0.7"}], [CLOSED]),
    ("commit_forecast", "finance", "company", "usd", "sum(amount * probability)",
     [{"name": "late stages", "sql": "stage in ('Proposal', 'Negotiation')"}, {"name": "committed", "sql": "probability >= 0.5"}],
     [TEST]),
    ("discounted_wins", "finance", "role", "count", "count(*)", [{"name": "discounted", "sql": "discount > 0.2"}, WON], []),
    ("largest_won_deal", "sales", "role", "usd", "max(amount)", [WON], [TEST]),
    ("smallest_won_deal", "finance", "role", "usd", "min(amount)", [WON], [TEST, {"name": "tiny", "sql": "amount < 500"}]),
    ("self_serve_revenue", "growth", "function", "usd", "sum(amount)",
     [{"name": "website", "sql": "channel = 'Website'"}, {"name": "smb", "sql": "segment = 'SMB'"}, WON,
      {"name": "usd", "sql": "currency = 'USD'"}], []),
    ("mid_market_wins", "sales", "role", "count", "count(*)", [{"name": "mid-market", "sql": "segment = 'Mid-Market'"}, WON],
     [TEST]),
    ("test_opportunities", "revops", "role", "count", "count(*)", [TEST], []),
    ("unflagged_opportunities", "revops", "role", "count", "count(*)", [{"name": "no test flag", "sql": "is_test is null"}], []),
    ("emea_large_deals", "sales", "role", "count", "count(*)",
     [{"name": "emea", "sql": "region = 'EMEA'"}, {"name": "large", "sql": "amount > 10000"}], [TEST]),
)

TEAMS = ("sales", "finance", "marketing", "revops", "partnerships", "sdr", "growth")


def stamp(rows: int) -> str:
    return hashlib.sha256(f"{rows}\n{source_sql(rows)}".encode()).hexdigest()[:16]


def ensure_source(path: Path, rows: int, log=print) -> bool:
    """Write the Parquet source unless an up-to-date one exists; True when it was (re)written."""
    marker = path.with_suffix(".stamp")
    if path.is_file() and marker.is_file() and marker.read_text().strip() == stamp(rows):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"generating {rows:,} rows into {path.name} …")
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        tmp = path.with_suffix(".tmp.parquet")
        con.execute(f"COPY ({source_sql(rows)}) TO '{tmp.as_posix()}' (FORMAT parquet)")
        tmp.replace(path)
    finally:
        con.close()
    marker.write_text(stamp(rows) + "\n")
    return True


def write_project(root: Path, source_file: str) -> None:
    """accord.yml and one definitions file with the 30 metrics (always rewritten: cheap and deterministic)."""
    root.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.default_flow_style = None
    yaml.width = 120
    config = {"project": "bench", "settings": {"as_of": AS_OF, "timezone": "UTC"}}
    teams = [{"name": t, "function": t.title(), "lead": f"{t}-lead@bench.example"} for t in TEAMS]
    source = {"name": "crm_opportunities", "system": "crm", "owner": "sales-ops@bench.example",
              "path": source_file, "entity": "opportunity", "key": "opportunity_id", "time": "created_at"}
    metrics = []
    for name, team, level, unit, measure, includes, excludes in METRICS:
        m = {"name": name, "team": team, "level": level, "owner": f"{team}-lead@bench.example",
             "decision": "Weekly business review", "unit": unit, "source": "crm_opportunities",
             "measure": measure}
        if includes:
            m["include"] = [dict(c) for c in includes]
        m["exclude"] = [dict(c) for c in excludes]
        metrics.append(m)
    with open(root / "accord.yml", "w") as f:
        yaml.dump(config, f)
    with open(root / "metrics.yml", "w") as f:
        yaml.dump({"teams": teams, "sources": [source], "metrics": metrics}, f)
