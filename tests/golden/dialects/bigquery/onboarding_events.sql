SELECT
  __p0,
  COUNT(DISTINCT IF(__c0, customer_id, NULL)) AS __m0,
  COUNTIF(__c0) AS __n0,
  CAST(MAX(__t0) AS DATETIME) AS __l0
FROM (
  SELECT
    *,
    (
      step = 'go_live'
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC(CAST(__t0 AS DATE), ISOWEEK) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        CASE
          WHEN REGEXP_CONTAINS(
            `event_at`,
            '\\d:\\d\\d(:\\d\\d(\\.\\d*)?)?\\s*([zZ]|[+-]\\d\\d(:?\\d\\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\\s*$'
          )
          THEN TIMEZONE('America/New_York', SAFE_CAST(`event_at` AS TIMESTAMP))
          ELSE SAFE_CAST(`event_at` AS DATETIME)
        END AS __t0
      FROM READ_PARQUET('<project>/data/product/onboarding_events.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
