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
  CAST(MAX(__a3) AS TIMESTAMP) AS __l0,
  CAST(MAX(__a4) AS TIMESTAMP) AS __l1,
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
    COUNT(amount) AS __a2,
    MAX(__t0) AS __a3,
    MAX(__t1) AS __a4
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
