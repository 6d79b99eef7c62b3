SELECT
  __p0,
  100.0 * (
    SUM(__a0) - SUM(__a1)
  ) / SUM(__a2) AS __m0,
  SUM(__a3) AS __n0,
  CAST(MAX(__a4) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    __p0,
    COUNT(CASE WHEN score >= 9 THEN 1 END) AS __a0,
    COUNT(CASE WHEN score <= 6 THEN 1 END) AS __a1,
    COUNT(score) AS __a2,
    COUNT(*) AS __a3,
    MAX(__t0) AS __a4
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('week', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "sent_at" AS __t0
      FROM READ_PARQUET('<project>/data/cx/nps_responses.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0
) AS __groups
GROUP BY
  __p0
