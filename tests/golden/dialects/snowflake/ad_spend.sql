SELECT
  __p0,
  SUM(__a0) * 1.0 / SUM(__a1) AS __m0,
  SUM(__a2) AS __n0,
  SUM(__a3) / SUM(__a4) AS __m1,
  SUM(__a2) AS __n1,
  SUM(__a4) / SUM(__a0) AS __m2,
  SUM(__a2) AS __n2,
  SUM(__a4) AS __m3,
  SUM(__a2) AS __n3,
  CAST(MAX(__a5) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    __p0,
    SUM(clicks) AS __a0,
    SUM(impressions) AS __a1,
    COUNT(*) AS __a2,
    SUM(attributed_revenue_usd) AS __a3,
    SUM(spend_usd) AS __a4,
    MAX(__t0) AS __a5
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('week', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "spend_date" AS __t0
      FROM READ_PARQUET('<project>/data/marketing/ad_spend.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0
) AS __groups
GROUP BY
  __p0
