SELECT
  __p0,
  COUNT(DISTINCT customer_id) FILTER(WHERE
    __c0) AS __m0,
  COUNT(*) FILTER(WHERE
    __c0) AS __n0,
  CAST(MAX(__t0) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    *,
    (
      step = 'go_live'
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('week', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        CASE
          WHEN REGEXP_MATCHES(
            "event_at",
            '\d:\d\d(:\d\d(\.\d*)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$'
          )
          THEN TIMEZONE('America/New_York', TRY_CAST("event_at" AS TIMESTAMPTZ))
          ELSE TRY_CAST("event_at" AS TIMESTAMP)
        END AS __t0
      FROM READ_PARQUET('<project>/data/product/onboarding_events.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
