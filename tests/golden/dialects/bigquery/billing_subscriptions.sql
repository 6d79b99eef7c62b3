SELECT
  __p0,
  SUM(IF((
    kind = 'new'
  ) IS TRUE, __a0, NULL)) AS __m0,
  SUM(IF((
    kind = 'new'
  ) IS TRUE, __a2, NULL)) AS __n0,
  CAST(MAX(__a3) AS DATETIME) AS __l0,
  SUM(__a1) AS __s0
FROM (
  SELECT
    __p0,
    `kind`,
    SUM((
      arr_usd
    ) * CAST((
      NOT __c0
    ) AS INT64)) AS __a0,
    SUM(arr_usd) AS __a1,
    COUNT(*) AS __a2,
    MAX(__t0) AS __a3
  FROM (
    SELECT
      *,
      (
        arr_usd <= 0
      ) IS TRUE AS __c0
    FROM (
      SELECT
        *,
        CAST(DATE_TRUNC(CAST(__t0 AS DATE), ISOWEEK) AS DATE) AS __p0
      FROM (
        SELECT
          *,
          `started_on` AS __t0
        FROM READ_PARQUET('<project>/data/billing/subscriptions.parquet')
      ) AS __timed
      WHERE
        __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
    ) AS __rows
  ) AS __flagged
  GROUP BY
    __p0,
    `kind`
) AS __groups
GROUP BY
  __p0
