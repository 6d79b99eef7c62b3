-- strategy: grouped
SELECT
  __p0,
  MAX(__a0) AS __m0,
  SUM(__a1) AS __n0
FROM (
  SELECT
    __p0,
    MAX(minutes) AS __a0,
    COUNT(*) AS __a1
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('week', CAST("created_at" AS DATE)) AS DATE) AS __p0
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
    WHERE
      "created_at" IS NULL OR "created_at" < CAST('2026-07-21' AS DATE)
  ) AS __rows
  GROUP BY
    __p0
) AS __groups
GROUP BY
  __p0
