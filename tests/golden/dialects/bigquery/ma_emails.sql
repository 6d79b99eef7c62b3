SELECT
  __p0,
  SUM(IF(NOT (
    (
      bounced
    ) IS TRUE
  ), __a0, NULL)) / NULLIF(SUM(IF(NOT (
    (
      bounced
    ) IS TRUE
  ), __a1, NULL)), 0) AS __m0,
  SUM(IF(NOT (
    (
      bounced
    ) IS TRUE
  ), __a2, NULL)) AS __n0,
  SUM(__a2) AS __m1,
  SUM(__a2) AS __n1,
  CAST(MAX(__a3) AS DATETIME) AS __l0
FROM (
  SELECT
    __p0,
    `bounced`,
    SUM(CASE WHEN opened THEN 1.0 ELSE 0.0 END) AS __a0,
    COUNT(CASE WHEN opened THEN 1.0 ELSE 0.0 END) AS __a1,
    COUNT(*) AS __a2,
    MAX(__t0) AS __a3
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC(CAST(__t0 AS DATE), ISOWEEK) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        `sent_at` AS __t0
      FROM READ_PARQUET('<project>/data/marketing/email_sends.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0,
    `bounced`
) AS __groups
GROUP BY
  __p0
