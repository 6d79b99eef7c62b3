SELECT
  __p0,
  SUM(CASE WHEN NOT __c0 THEN amount_usd END) AS __m0,
  COUNT(CASE WHEN NOT __c0 THEN 1 END) AS __n0,
  CASE
    WHEN COUNT(DISTINCT CASE WHEN NOT __c0 THEN customer_id END) = 0
    THEN CASE
      WHEN CAST(SUM(CASE WHEN NOT __c0 THEN amount_usd END) AS DOUBLE PRECISION) > 0
      THEN CAST('Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(CASE WHEN NOT __c0 THEN amount_usd END) AS DOUBLE PRECISION) < 0
      THEN CAST('-Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(CASE WHEN NOT __c0 THEN amount_usd END) AS DOUBLE PRECISION) = 0
      THEN CAST('NaN' AS DOUBLE PRECISION)
    END
    ELSE CAST(SUM(CASE WHEN NOT __c0 THEN amount_usd END) AS DOUBLE PRECISION) / COUNT(DISTINCT CASE WHEN NOT __c0 THEN customer_id END)
  END AS __m1,
  COUNT(CASE WHEN NOT __c0 THEN 1 END) AS __n1,
  COUNT(DISTINCT CASE WHEN NOT __c0 THEN customer_id END) AS __m2,
  COUNT(CASE WHEN NOT __c0 THEN 1 END) AS __n2,
  CAST(MAX(__t0) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    *,
    (
      status = 'void'
    ) IS TRUE AS __c0
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('WEEK', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "invoice_date" AS __t0
      FROM READ_PARQUET('<project>/data/billing/invoices.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
) AS __flagged
GROUP BY
  __p0
