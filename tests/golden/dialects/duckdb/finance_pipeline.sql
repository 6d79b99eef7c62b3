SELECT
  __p0,
  SUM(__a0) FILTER(WHERE
    NOT (
      (
        deal_type = 'Renewal'
      ) IS TRUE
    )) AS __m0,
  SUM(__a2) FILTER(WHERE
    NOT (
      (
        deal_type = 'Renewal'
      ) IS TRUE
    )) AS __n0,
  CAST(MAX(__a3) AS TIMESTAMP) AS __l0,
  SUM(__a1) AS __s0
FROM (
  SELECT
    __p0,
    "deal_type",
    SUM((
      amount_usd * probability
    ) * CAST((
      NOT __c0
    ) AS INT)) AS __a0,
    SUM(amount_usd * probability) AS __a1,
    COUNT(*) AS __a2,
    MAX(__t0) AS __a3
  FROM (
    SELECT
      *,
      (
        amount_usd < 5000
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
              "expected_close",
              '\d:\d\d(:\d\d(\.\d*)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$'
            )
            THEN TIMEZONE('America/New_York', TRY_CAST("expected_close" AS TIMESTAMPTZ))
            ELSE TRY_CAST("expected_close" AS TIMESTAMP)
          END AS __t0
        FROM READ_PARQUET('<project>/data/finance/pipeline_sheet.parquet')
      ) AS __timed
      WHERE
        __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
    ) AS __rows
  ) AS __flagged
  GROUP BY
    __p0,
    "deal_type"
) AS __groups
GROUP BY
  __p0
