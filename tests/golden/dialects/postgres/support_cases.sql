SELECT
  __p0,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __m0,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n0,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    CAST(EXTRACT(epoch FROM DATE_TRUNC('MINUTE', CAST(first_response_at AS TIMESTAMP)) - DATE_TRUNC('MINUTE', CAST(opened_at AS TIMESTAMP))) / 60 AS BIGINT)) FILTER(WHERE
    NOT __c0) AS __m1,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n1,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    CAST(EXTRACT(epoch FROM DATE_TRUNC('HOUR', CAST(resolved_at AS TIMESTAMP)) - DATE_TRUNC('HOUR', CAST(opened_at AS TIMESTAMP))) / 3600 AS BIGINT)) FILTER(WHERE
    NOT __c0) AS __m2,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n2,
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
