-- strategy: filter
SELECT
  __p0,
  __p1,
  SUM(amount) FILTER(WHERE
    __c0 AND NOT __c1) AS __m0,
  COUNT(*) FILTER(WHERE
    __c0 AND NOT __c1) AS __n0,
  COUNT(*) AS __m1,
  COUNT(*) AS __n1,
  AVG(amount) FILTER(WHERE
    __c2) AS __m2,
  COUNT(*) FILTER(WHERE
    __c2) AS __n2,
  SUM(amount) FILTER(WHERE
    __c3) AS __m3,
  COUNT(*) FILTER(WHERE
    __c3) AS __n3,
  CAST(MAX(__t0) AS TIMESTAMP) AS __l0,
  CAST(MAX(__t1) AS TIMESTAMP) AS __l1,
  GROUPING(__p0) AS __g0,
  GROUPING(__p1) AS __g1
FROM (
  SELECT
    *,
    (
      stage IN ('won', 'open')
    ) IS TRUE AS __c0,
    (
      is_closed
    ) IS TRUE AS __c1,
    (
      account LIKE 'acct-1%'
    ) IS TRUE AS __c2,
    (
      stage = 'won'
    ) IS TRUE AS __c3
  FROM (
    SELECT
      *,
      CASE
        WHEN __t0 >= CAST('2026-07-21' AS DATE)
        THEN CAST('2026-10-01' AS DATE)
        ELSE CAST(DATE_TRUNC('quarter', CAST(__t0 AS DATE) - INTERVAL '3' MONTH) + INTERVAL '3' MONTH AS DATE)
      END AS __p0,
      CASE
        WHEN __t1 >= CAST('2026-07-21' AS DATE)
        THEN CAST('2026-10-01' AS DATE)
        ELSE CAST(DATE_TRUNC('quarter', CAST(__t1 AS DATE) - INTERVAL '3' MONTH) + INTERVAL '3' MONTH AS DATE)
      END AS __p1
    FROM (
      SELECT
        *,
        "created_at" AS __t0,
        "closed_on" AS __t1
      FROM READ_PARQUET(
        '<project>/data/deals.parquet'
      )
    ) AS __timed
    WHERE
      __t0 IS NULL
      OR __t0 < CAST('2026-07-21' AS DATE)
      OR __t1 IS NULL
      OR __t1 < CAST('2026-07-21' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  GROUPING SETS (
    (__p0),
    (__p1)
  )
