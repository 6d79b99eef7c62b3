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
        WHEN "created_at" >= CAST('2026-07-21' AS DATE)
        THEN CAST('2026-10-01' AS DATE)
        ELSE CAST(DATE_TRUNC('quarter', CAST("created_at" AS DATE) - INTERVAL '3' MONTH) + INTERVAL '3' MONTH AS DATE)
      END AS __p0,
      CASE
        WHEN "closed_on" >= CAST('2026-07-21' AS DATE)
        THEN CAST('2026-10-01' AS DATE)
        ELSE CAST(DATE_TRUNC('quarter', CAST("closed_on" AS DATE) - INTERVAL '3' MONTH) + INTERVAL '3' MONTH AS DATE)
      END AS __p1
    FROM READ_PARQUET(
      '<project>/data/deals.parquet'
    )
    WHERE
      "created_at" IS NULL
      OR "created_at" < CAST('2026-07-21' AS DATE)
      OR "closed_on" IS NULL
      OR "closed_on" < CAST('2026-07-21' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  GROUPING SETS (
    (__p0),
    (__p1)
  )
