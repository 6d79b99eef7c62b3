SELECT
  __p0,
  SUM(IF(NOT (
    (
      deal_type = 'Renewal'
    ) IS TRUE
  ), __a0, NULL)) AS __m0,
  SUM(IF(NOT (
    (
      deal_type = 'Renewal'
    ) IS TRUE
  ), __a2, NULL)) AS __n0,
  CAST(MAX(__a3) AS DATETIME) AS __l0,
  SUM(__a1) AS __s0
FROM (
  SELECT
    __p0,
    `deal_type`,
    SUM((
      amount_usd * probability
    ) * CAST((
      NOT __c0
    ) AS INT64)) AS __a0,
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
        CAST(DATE_TRUNC(CAST(__t0 AS DATE), ISOWEEK) AS DATE) AS __p0
      FROM (
        SELECT
          *,
          CASE
            WHEN REGEXP_CONTAINS(
              `expected_close`,
              '\\d:\\d\\d(:\\d\\d(\\.\\d*)?)?\\s*([zZ]|[+-]\\d\\d(:?\\d\\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\\s*$'
            )
            THEN TIMEZONE('America/New_York', SAFE_CAST(`expected_close` AS TIMESTAMP))
            ELSE SAFE_CAST(`expected_close` AS DATETIME)
          END AS __t0
        FROM READ_PARQUET('<project>/data/finance/pipeline_sheet.parquet')
      ) AS __timed
      WHERE
        __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
    ) AS __rows
  ) AS __flagged
  GROUP BY
    __p0,
    `deal_type`
) AS __groups
GROUP BY
  __p0
