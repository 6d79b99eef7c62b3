SELECT
  __p0,
  CASE
    WHEN SUM(__a2) = 0
    THEN CASE
      WHEN CAST(100.0 * (
        SUM(__a0) - SUM(__a1)
      ) AS DOUBLE) > 0
      THEN CAST('Infinity' AS DOUBLE)
      WHEN CAST(100.0 * (
        SUM(__a0) - SUM(__a1)
      ) AS DOUBLE) < 0
      THEN CAST('-Infinity' AS DOUBLE)
      WHEN CAST(100.0 * (
        SUM(__a0) - SUM(__a1)
      ) AS DOUBLE) = 0
      THEN CAST('NaN' AS DOUBLE)
    END
    ELSE CAST(100.0 * (
      SUM(__a0) - SUM(__a1)
    ) AS DOUBLE) / SUM(__a2)
  END AS __m0,
  SUM(__a3) AS __n0,
  CAST(MAX(__a4) AS TIMESTAMP_NTZ) AS __l0
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
      CAST(TRUNC(CAST(__t0 AS DATE), 'WEEK') AS DATE) AS __p0
    FROM (
      SELECT
        *,
        `sent_at` AS __t0
      FROM parquet.`<project>/data/cx/nps_responses.parquet`
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0
) AS __groups
GROUP BY
  __p0
