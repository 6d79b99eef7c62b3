SELECT
  __p0,
  SUM(IFF((
    type = 'Demo'
  ), __a0, NULL)) AS __m0,
  SUM(IFF((
    type = 'Demo'
  ), __a0, NULL)) AS __n0,
  SUM(IFF((
    type = 'Call' AND direction = 'Outbound'
  ), __a0, NULL)) AS __m1,
  SUM(IFF((
    type = 'Call' AND direction = 'Outbound'
  ), __a0, NULL)) AS __n1,
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
      CAST(DATE_TRUNC('week', CAST(__t0 AS DATE)) AS DATE) AS __p0
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
