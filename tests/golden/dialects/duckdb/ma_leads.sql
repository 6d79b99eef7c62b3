SELECT
  __p0,
  __p1,
  SUM(__a0) AS __m0,
  SUM(__a0) AS __n0,
  SUM(__a0) FILTER(WHERE
    (
      score >= 60
    ) IS TRUE
    AND NOT (
      (
        lead_type IN ('student', 'competitor')
      ) IS TRUE
    )) AS __m1,
  SUM(__a0) FILTER(WHERE
    (
      score >= 60
    ) IS TRUE
    AND NOT (
      (
        lead_type IN ('student', 'competitor')
      ) IS TRUE
    )) AS __n1,
  SUM(__a1) AS __m2,
  SUM(__a0) AS __n2,
  CAST(MAX(__a2) AS TIMESTAMP) AS __l0,
  CAST(MAX(__a3) AS TIMESTAMP) AS __l1,
  GROUPING(__p0) AS __g0,
  GROUPING(__p1) AS __g1
FROM (
  SELECT
    __p0,
    __p1,
    "lead_type",
    "score",
    COUNT(*) AS __a0,
    SUM(score) AS __a1,
    MAX(__t0) AS __a2,
    MAX(__t1) AS __a3
  FROM (
    SELECT
      *,
      CASE
        WHEN __t0 >= CAST('2026-10-06' AS DATE)
        THEN CAST('2026-10-12' AS DATE)
        ELSE CAST(DATE_TRUNC('week', CAST(__t0 AS DATE)) AS DATE)
      END AS __p0,
      CASE
        WHEN __t1 >= CAST('2026-10-06' AS DATE)
        THEN CAST('2026-10-12' AS DATE)
        ELSE CAST(DATE_TRUNC('week', CAST(__t1 AS DATE)) AS DATE)
      END AS __p1
    FROM (
      SELECT
        *,
        "created_at" AS __t0,
        "mql_at" AS __t1
      FROM READ_PARQUET('<project>/data/marketing/leads.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL
      OR __t0 < CAST('2026-10-06' AS DATE)
      OR __t1 IS NULL
      OR __t1 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0,
    __p1,
    "lead_type",
    "score"
) AS __groups
GROUP BY
  GROUPING SETS (
    (__p0),
    (__p1)
  )
