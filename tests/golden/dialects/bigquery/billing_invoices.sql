SELECT
  __p0,
  SUM(IF(NOT __c0, amount_usd, NULL)) AS __m0,
  COUNTIF(NOT __c0) AS __n0,
  SUM(IF(NOT __c0, amount_usd, NULL)) / COUNT(DISTINCT IF(NOT __c0, customer_id, NULL)) AS __m1,
  COUNTIF(NOT __c0) AS __n1,
  COUNT(DISTINCT IF(NOT __c0, customer_id, NULL)) AS __m2,
  COUNTIF(NOT __c0) AS __n2,
  CAST(MAX(__t0) AS DATETIME) AS __l0
FROM (
  SELECT
    *,
    (
      status = 'void'
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC(CAST(__t0 AS DATE), ISOWEEK) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        `invoice_date` AS __t0
      FROM READ_PARQUET('<project>/data/billing/invoices.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
