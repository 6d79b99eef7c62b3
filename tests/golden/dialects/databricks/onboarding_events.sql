SELECT
  __p0,
  COUNT(DISTINCT customer_id) FILTER(WHERE
    __c0) AS __m0,
  COUNT(*) FILTER(WHERE
    __c0) AS __n0,
  CAST(MAX(__t0) AS TIMESTAMP_NTZ) AS __l0
FROM (
  SELECT
    *,
    (
      step = 'go_live'
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(TRUNC(CAST(__t0 AS DATE), 'WEEK') AS DATE) AS __p0
    FROM (
      SELECT
        *,
        CASE
          WHEN REGEXP_LIKE(
            `event_at`,
            '\\d:\\d\\d(:\\d\\d(\\.\\d*)?)?\\s*([zZ]|[+-]\\d\\d(:?\\d\\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\\s*$'
          )
          THEN CAST(TRY_CAST(`event_at` AS TIMESTAMP) AS TIMESTAMP_NTZ)
          ELSE TRY_CAST(`event_at` AS TIMESTAMP_NTZ)
        END AS __t0
      FROM parquet.`<project>/data/product/onboarding_events.parquet`
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
