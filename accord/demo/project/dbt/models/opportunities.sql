-- CRM opportunities as the warehouse keeps them; dbt-duckdb writes them to data/warehouse/opportunities.parquet
select opportunity_id, created_at, amount, stage, type, segment
from read_parquet('../data/crm/opportunities.parquet')
