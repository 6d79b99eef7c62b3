SELECT
  __p0,
  COUNT(CASE WHEN NOT __c0 THEN 1 END) AS __m0,
  COUNT(CASE WHEN NOT __c0 THEN 1 END) AS __n0,
  MEDIAN(CASE WHEN NOT __c0 THEN DATEDIFF(MINUTE, opened_at, first_response_at) END) AS __m1,
  COUNT(CASE WHEN NOT __c0 THEN 1 END) AS __n1,
  MEDIAN(CASE WHEN NOT __c0 THEN DATEDIFF(HOUR, opened_at, resolved_at) END) AS __m2,
  COUNT(CASE WHEN NOT __c0 THEN 1 END) AS __n2,
  CAST(MAX(__t0) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    *,
    (
      category = 'spam'
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('WEEK', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "opened_at" AS __t0
      FROM READ_PARQUET('<project>/data/helpdesk/cases.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
