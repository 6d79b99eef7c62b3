SELECT
  __p0,
  SUM(__a0) FILTER(WHERE
    (
      NOT campaign_id IS NULL
    ) IS TRUE
    AND NOT (
      (
        stage = 'Closed Lost'
      ) IS TRUE
    )) AS __m0,
  SUM(__a1) FILTER(WHERE
    (
      NOT campaign_id IS NULL
    ) IS TRUE
    AND NOT (
      (
        stage = 'Closed Lost'
      ) IS TRUE
    )) AS __n0,
  CAST(MAX(__a2) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    __p0,
    "campaign_id",
    "stage",
    SUM(amount) AS __a0,
    COUNT(*) AS __a1,
    MAX(__t0) AS __a2
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('week', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        CASE
          WHEN REGEXP_MATCHES(
            "created_at",
            '\d:\d\d(:\d\d(\.\d*)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$'
          )
          THEN TIMEZONE('America/New_York', TRY_CAST("created_at" AS TIMESTAMPTZ))
          ELSE TRY_CAST("created_at" AS TIMESTAMP)
        END AS __t0
      FROM READ_PARQUET('<project>/data/marketing/opportunities_sync.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0,
    "campaign_id",
    "stage"
) AS __groups
GROUP BY
  __p0
