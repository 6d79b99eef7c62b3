SELECT
  __p0,
  CASE
    WHEN SUM(__a1) = 0
    THEN CASE
      WHEN CAST(SUM(__a0) * 1.0 AS DOUBLE PRECISION) > 0
      THEN CAST('Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(__a0) * 1.0 AS DOUBLE PRECISION) < 0
      THEN CAST('-Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(__a0) * 1.0 AS DOUBLE PRECISION) = 0
      THEN CAST('NaN' AS DOUBLE PRECISION)
    END
    ELSE CAST(SUM(__a0) * 1.0 AS DOUBLE PRECISION) / SUM(__a1)
  END AS __m0,
  SUM(__a2) AS __n0,
  CASE
    WHEN SUM(__a4) = 0
    THEN CASE
      WHEN CAST(SUM(__a3) AS DOUBLE PRECISION) > 0
      THEN CAST('Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(__a3) AS DOUBLE PRECISION) < 0
      THEN CAST('-Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(__a3) AS DOUBLE PRECISION) = 0
      THEN CAST('NaN' AS DOUBLE PRECISION)
    END
    ELSE CAST(SUM(__a3) AS DOUBLE PRECISION) / SUM(__a4)
  END AS __m1,
  SUM(__a2) AS __n1,
  CASE
    WHEN SUM(__a0) = 0
    THEN CASE
      WHEN CAST(SUM(__a4) AS DOUBLE PRECISION) > 0
      THEN CAST('Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(__a4) AS DOUBLE PRECISION) < 0
      THEN CAST('-Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(__a4) AS DOUBLE PRECISION) = 0
      THEN CAST('NaN' AS DOUBLE PRECISION)
    END
    ELSE CAST(SUM(__a4) AS DOUBLE PRECISION) / SUM(__a0)
  END AS __m2,
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
      CAST(DATE_TRUNC('WEEK', CAST(__t0 AS DATE)) AS DATE) AS __p0
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
