SELECT
  __p0,
  SUM(__a0) AS __m0,
  SUM(__a1) AS __n0,
  SUM(__a1) AS __m1,
  SUM(__a1) AS __n1,
  CAST(MAX(__a2) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    __p0,
    SUM(arr_lost) AS __a0,
    COUNT(*) AS __a1,
    MAX(__t0) AS __a2
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('WEEK', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "churned_on" AS __t0
      FROM READ_PARQUET('<project>/data/billing/churn_events.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0
) AS __groups
GROUP BY
  __p0
