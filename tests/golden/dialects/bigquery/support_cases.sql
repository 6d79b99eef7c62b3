SELECT
  __p0,
  COUNTIF(NOT __c0) AS __m0,
  COUNTIF(NOT __c0) AS __n0,
  MEDIAN(IF(NOT __c0, DATE_DIFF(first_response_at, opened_at, MINUTE), NULL)) AS __m1,
  COUNTIF(NOT __c0) AS __n1,
  MEDIAN(IF(NOT __c0, DATE_DIFF(resolved_at, opened_at, HOUR), NULL)) AS __m2,
  COUNTIF(NOT __c0) AS __n2,
  CAST(MAX(__t0) AS DATETIME) AS __l0
FROM (
  SELECT
    *,
    (
      category = 'spam'
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC(CAST(__t0 AS DATE), ISOWEEK) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        `opened_at` AS __t0
      FROM READ_PARQUET('<project>/data/helpdesk/cases.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
