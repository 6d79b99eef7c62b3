SELECT
  __p0,
  CASE
    WHEN NULLIF(SUM(CASE WHEN NOT (
      (
        bounced
      ) IS TRUE
    ) THEN __a1 END), 0) = 0
    THEN CASE
      WHEN CAST(SUM(CASE WHEN NOT (
        (
          bounced
        ) IS TRUE
      ) THEN __a0 END) AS DOUBLE PRECISION) > 0
      THEN CAST('Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(CASE WHEN NOT (
        (
          bounced
        ) IS TRUE
      ) THEN __a0 END) AS DOUBLE PRECISION) < 0
      THEN CAST('-Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(CASE WHEN NOT (
        (
          bounced
        ) IS TRUE
      ) THEN __a0 END) AS DOUBLE PRECISION) = 0
      THEN CAST('NaN' AS DOUBLE PRECISION)
    END
    ELSE CAST(SUM(CASE WHEN NOT (
      (
        bounced
      ) IS TRUE
    ) THEN __a0 END) AS DOUBLE PRECISION) / NULLIF(SUM(CASE WHEN NOT (
      (
        bounced
      ) IS TRUE
    ) THEN __a1 END), 0)
  END AS __m0,
  SUM(CASE WHEN NOT (
    (
      bounced
    ) IS TRUE
  ) THEN __a2 END) AS __n0,
  SUM(__a2) AS __m1,
  SUM(__a2) AS __n1,
  CAST(MAX(__a3) AS TIMESTAMP) AS __l0
FROM (
  SELECT
    __p0,
    "bounced",
    SUM(CASE WHEN opened THEN 1.0 ELSE 0.0 END) AS __a0,
    COUNT(CASE WHEN opened THEN 1.0 ELSE 0.0 END) AS __a1,
    COUNT(*) AS __a2,
    MAX(__t0) AS __a3
  FROM (
    SELECT
      *,
      CAST(DATE_TRUNC('WEEK', CAST(__t0 AS DATE)) AS DATE) AS __p0
    FROM (
      SELECT
        *,
        "sent_at" AS __t0
      FROM READ_PARQUET('<project>/data/marketing/email_sends.parquet')
    ) AS __timed
    WHERE
      __t0 IS NULL OR __t0 < CAST('2026-10-06' AS DATE)
  ) AS __rows
  GROUP BY
    __p0,
    "bounced"
) AS __groups
GROUP BY
  __p0
