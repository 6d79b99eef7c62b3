SELECT
  __p0,
  SUM(__a0) FILTER(WHERE
    (
      stage <> 'Closed Lost'
    ) IS TRUE) AS __m0,
  SUM(__a1) FILTER(WHERE
    (
      stage <> 'Closed Lost'
    ) IS TRUE) AS __n0,
  CAST(MAX(__a2) AS TIMESTAMP_NTZ) AS __l0
FROM (
  SELECT
    __p0,
    `stage`,
    SUM(amount) AS __a0,
    COUNT(*) AS __a1,
    MAX(__t0) AS __a2
  FROM (
    SELECT
      *,
      CAST(TRUNC(CAST(__t0 AS DATE), 'WEEK') AS DATE) AS __p0
    FROM (
      SELECT
        *,
        `created_at` AS __t0
      FROM parquet.`<project>/data/warehouse/opportunities.parquet`
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0,
    `stage`
) AS __groups
GROUP BY
  __p0
