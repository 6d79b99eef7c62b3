SELECT
  __p0,
  SUM(__a0) FILTER(WHERE
    (
      kind = 'feature'
    ) IS TRUE) AS __m0,
  SUM(__a0) FILTER(WHERE
    (
      kind = 'feature'
    ) IS TRUE) AS __n0,
  CAST(MAX(__a1) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    __p0,
    "kind",
    COUNT(*) AS __a0,
    MAX(__t0) AS __a1
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('week', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "shipped_on" AS __t0
      FROM READ_PARQUET('<project>/data/product/releases.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0,
    "kind"
) AS __groups
GROUP BY
  __p0
