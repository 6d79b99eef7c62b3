SELECT
  __p0,
  SUM(__a0) FILTER(WHERE
    (
      type = 'Demo'
    ) IS TRUE) AS __m0,
  SUM(__a0) FILTER(WHERE
    (
      type = 'Demo'
    ) IS TRUE) AS __n0,
  SUM(__a0) FILTER(WHERE
    (
      type = 'Call' AND direction = 'Outbound'
    ) IS TRUE) AS __m1,
  SUM(__a0) FILTER(WHERE
    (
      type = 'Call' AND direction = 'Outbound'
    ) IS TRUE) AS __n1,
  CAST(MAX(__a1) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    __p0,
    "direction",
    "type",
    COUNT(*) AS __a0,
    MAX(__t0) AS __a1
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('WEEK', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "activity_at" AS __t0
      FROM READ_PARQUET('<project>/data/crm/activities.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0,
    "direction",
    "type"
) AS __groups
GROUP BY
  __p0
