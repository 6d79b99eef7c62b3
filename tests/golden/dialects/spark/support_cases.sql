SELECT
  __p0,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __m0,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n0,
  MEDIAN(
    CAST((
      TIMESTAMPDIFF(
        MICROSECOND,
        CAST('1970-01-01 00:00:00' AS TIMESTAMP_NTZ),
        CAST(DATE_TRUNC('MINUTE', CAST(first_response_at AS TIMESTAMP_NTZ)) AS TIMESTAMP_NTZ)
      ) - TIMESTAMPDIFF(
        MICROSECOND,
        CAST('1970-01-01 00:00:00' AS TIMESTAMP_NTZ),
        CAST(DATE_TRUNC('MINUTE', CAST(opened_at AS TIMESTAMP_NTZ)) AS TIMESTAMP_NTZ)
      )
    ) / 60000000 AS BIGINT)
  ) FILTER(WHERE
    NOT __c0) AS __m1,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n1,
  MEDIAN(
    CAST((
      TIMESTAMPDIFF(
        MICROSECOND,
        CAST('1970-01-01 00:00:00' AS TIMESTAMP_NTZ),
        CAST(DATE_TRUNC('HOUR', CAST(resolved_at AS TIMESTAMP_NTZ)) AS TIMESTAMP_NTZ)
      ) - TIMESTAMPDIFF(
        MICROSECOND,
        CAST('1970-01-01 00:00:00' AS TIMESTAMP_NTZ),
        CAST(DATE_TRUNC('HOUR', CAST(opened_at AS TIMESTAMP_NTZ)) AS TIMESTAMP_NTZ)
      )
    ) / 3600000000 AS BIGINT)
  ) FILTER(WHERE
    NOT __c0) AS __m2,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n2,
  CAST(MAX(__t0) AS TIMESTAMP_NTZ) AS __l0
FROM (
  SELECT
    *,
    (
      category = 'spam'
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(TRUNC(CAST(__t0 AS DATE), 'WEEK') AS DATE) AS __p0
    FROM (
      SELECT
        *,
        `opened_at` AS __t0
      FROM parquet.`<project>/data/helpdesk/cases.parquet`
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
