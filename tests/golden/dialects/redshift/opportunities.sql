SELECT
  __p0,
  SUM(CASE WHEN (
    stage <> 'Closed Lost'
  ) IS TRUE THEN __a0 END) AS __m0,
  SUM(CASE WHEN (
    stage <> 'Closed Lost'
  ) IS TRUE THEN __a1 END) AS __n0,
  CAST(MAX(__a2) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    __p0,
    "stage",
    SUM(amount) AS __a0,
    COUNT(*) AS __a1,
    MAX(__t0) AS __a2
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('WEEK', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "created_at" AS __t0
      FROM READ_PARQUET('<project>/data/warehouse/opportunities.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0,
    "stage"
) AS __groups
GROUP BY
  __p0
