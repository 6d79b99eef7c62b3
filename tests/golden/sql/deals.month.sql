-- strategy: grouped
SELECT
  __p0,
  __p1,
  SUM(__a0) FILTER(WHERE
    (
      stage IN ('won', 'open')
    ) IS TRUE AND NOT (
      (
        is_closed
      ) IS TRUE
    )) AS __m0,
  SUM(__a1) FILTER(WHERE
    (
      stage IN ('won', 'open')
    ) IS TRUE AND NOT (
      (
        is_closed
      ) IS TRUE
    )) AS __n0,
  SUM(__a1) AS __m1,
  SUM(__a1) AS __n1,
  SUM(__a0) FILTER(WHERE
    (
      account LIKE 'acct-1%'
    ) IS TRUE) / NULLIF(SUM(__a2) FILTER(WHERE
    (
      account LIKE 'acct-1%'
    ) IS TRUE), 0) AS __m2,
  SUM(__a1) FILTER(WHERE
    (
      account LIKE 'acct-1%'
    ) IS TRUE) AS __n2,
  SUM(__a0) FILTER(WHERE
    (
      stage = 'won'
    ) IS TRUE) AS __m3,
  SUM(__a1) FILTER(WHERE
    (
      stage = 'won'
    ) IS TRUE) AS __n3,
  GROUPING(__p0) AS __g0,
  GROUPING(__p1) AS __g1
FROM (
  SELECT
    __p0,
    __p1,
    "account",
    "is_closed",
    "stage",
    SUM(amount) AS __a0,
    COUNT(*) AS __a1,
    COUNT(amount) AS __a2
  FROM (
    SELECT
      *,
      CASE
        WHEN "created_at" >= CAST('2026-07-21' AS DATE)
        THEN CAST('2026-08-01' AS DATE)
        ELSE CAST(DATE_TRUNC('month', CAST("created_at" AS DATE)) AS DATE)
      END AS __p0,
      CASE
        WHEN "closed_on" >= CAST('2026-07-21' AS DATE)
        THEN CAST('2026-08-01' AS DATE)
        ELSE CAST(DATE_TRUNC('month', CAST("closed_on" AS DATE)) AS DATE)
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
  GROUP BY
    __p0,
    __p1,
    "account",
    "is_closed",
    "stage"
) AS __groups
GROUP BY
  GROUPING SETS (
    (__p0),
    (__p1)
  )
