-- strategy: grouped
SELECT
  __p0,
  MAX(__a0) AS __m0,
  SUM(__a1) AS __n0,
  CAST(MAX(__a2) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    __p0,
    MAX(minutes) AS __a0,
    COUNT(*) AS __a1,
    MAX(__t0) AS __a2
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('month', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "created_at" AS __t0
      FROM (
        SELECT
          d.created_at,
          d.amount,
          t.minutes
        FROM (
          SELECT
            *
          FROM READ_PARQUET(
            '<project>/data/deals.parquet'
          )
        ) AS d
        JOIN (
          SELECT
            *
          FROM READ_PARQUET(
            '<project>/data/tickets.parquet'
          )
        ) AS t
          ON t.customer = d.account
      ) AS __src
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-07-21' AS DATE)
  ) AS __rows
  GROUP BY
    __p0
) AS __groups
GROUP BY
  __p0
