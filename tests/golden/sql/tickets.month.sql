-- strategy: filter
SELECT
  __p0,
  COUNT(DISTINCT customer) AS __m0,
  COUNT(*) AS __n0,
  MEDIAN(minutes) FILTER(WHERE
    NOT __c0) AS __m1,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n1,
  CAST(MAX(__t0) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    *,
    (
      minutes < 6
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('month', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        CASE
          WHEN REGEXP_MATCHES(
            "opened",
            '\d:\d\d(:\d\d(\.\d*)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$'
          )
          THEN TIMEZONE('Europe/Berlin', TRY_CAST("opened" AS TIMESTAMPTZ))
          ELSE TRY_CAST("opened" AS TIMESTAMP)
        END AS __t0
      FROM READ_PARQUET(
        '<project>/data/tickets.parquet'
      )
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-07-21' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
