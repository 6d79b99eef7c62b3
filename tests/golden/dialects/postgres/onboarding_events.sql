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
      CAST(DATE_TRUNC('WEEK', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        CASE
          WHEN "event_at" ~ '\d:\d\d(:\d\d(\.\d*)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$'
          THEN TIMEZONE(
            'America/New_York',
            CASE
              WHEN CAST("event_at" AS TEXT) ~ '^\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?|[A-Za-z][A-Za-z0-9_/+-]*)?\s*$'
              THEN CAST("event_at" AS TIMESTAMPTZ)
              ELSE NULL
            END
          )
          ELSE CASE
            WHEN CAST("event_at" AS TEXT) ~ '^\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?|[A-Za-z][A-Za-z0-9_/+-]*)?\s*$'
            THEN CAST("event_at" AS TIMESTAMP)
            ELSE NULL
          END
        END AS __t0
      FROM READ_PARQUET('<project>/data/product/onboarding_events.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
