SELECT
  __p0,
  SUM(amount_usd) FILTER(WHERE
    NOT __c0) AS __m0,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n0,
  CASE
    WHEN COUNT(DISTINCT customer_id) FILTER(WHERE
      NOT __c0) = 0
    THEN CASE
      WHEN CAST(SUM(amount_usd) FILTER(WHERE
        NOT __c0) AS DOUBLE) > 0
      THEN CAST('Infinity' AS DOUBLE)
      WHEN CAST(SUM(amount_usd) FILTER(WHERE
        NOT __c0) AS DOUBLE) < 0
      THEN CAST('-Infinity' AS DOUBLE)
      WHEN CAST(SUM(amount_usd) FILTER(WHERE
        NOT __c0) AS DOUBLE) = 0
      THEN CAST('NaN' AS DOUBLE)
    END
    ELSE CAST(SUM(amount_usd) FILTER(WHERE
      NOT __c0) AS DOUBLE) / COUNT(DISTINCT customer_id) FILTER(WHERE
      NOT __c0)
  END AS __m1,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n1,
  COUNT(DISTINCT customer_id) FILTER(WHERE
    NOT __c0) AS __m2,
  COUNT(*) FILTER(WHERE
    NOT __c0) AS __n2,
  CAST(MAX(__t0) AS TIMESTAMP_NTZ) AS __l0
FROM (
  SELECT
    *,
    (
      status = 'void'
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(TRUNC(CAST(__t0 AS DATE), 'WEEK') AS DATE) AS __p0
    FROM (
      SELECT
        *,
        `invoice_date` AS __t0
      FROM parquet.`<project>/data/billing/invoices.parquet`
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
