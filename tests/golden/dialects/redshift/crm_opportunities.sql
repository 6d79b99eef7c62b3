SELECT
  __p0,
  __p1,
  SUM(
    CASE
      WHEN (
        stage IN ('Qualified', 'Proposal', 'Negotiation', 'Closed Won')
      ) IS TRUE
      AND NOT (
        (
          "type" = 'Renewal'
        ) IS TRUE
      )
      THEN __a0
    END
  ) AS __m0,
  SUM(
    CASE
      WHEN (
        stage IN ('Qualified', 'Proposal', 'Negotiation', 'Closed Won')
      ) IS TRUE
      AND NOT (
        (
          "type" = 'Renewal'
        ) IS TRUE
      )
      THEN __a1
    END
  ) AS __n0,
  CASE
    WHEN NULLIF(
      SUM(
        CASE
          WHEN (
            is_closed
          ) IS TRUE AND NOT (
            (
              "type" = 'Renewal'
            ) IS TRUE
          )
          THEN __a3
        END
      ),
      0
    ) = 0
    THEN CASE
      WHEN CAST(SUM(
        CASE
          WHEN (
            is_closed
          ) IS TRUE AND NOT (
            (
              "type" = 'Renewal'
            ) IS TRUE
          )
          THEN __a2
        END
      ) AS DOUBLE PRECISION) > 0
      THEN CAST('Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(
        CASE
          WHEN (
            is_closed
          ) IS TRUE AND NOT (
            (
              "type" = 'Renewal'
            ) IS TRUE
          )
          THEN __a2
        END
      ) AS DOUBLE PRECISION) < 0
      THEN CAST('-Infinity' AS DOUBLE PRECISION)
      WHEN CAST(SUM(
        CASE
          WHEN (
            is_closed
          ) IS TRUE AND NOT (
            (
              "type" = 'Renewal'
            ) IS TRUE
          )
          THEN __a2
        END
      ) AS DOUBLE PRECISION) = 0
      THEN CAST('NaN' AS DOUBLE PRECISION)
    END
    ELSE CAST(SUM(
      CASE
        WHEN (
          is_closed
        ) IS TRUE AND NOT (
          (
            "type" = 'Renewal'
          ) IS TRUE
        )
        THEN __a2
      END
    ) AS DOUBLE PRECISION) / NULLIF(
      SUM(
        CASE
          WHEN (
            is_closed
          ) IS TRUE AND NOT (
            (
              "type" = 'Renewal'
            ) IS TRUE
          )
          THEN __a3
        END
      ),
      0
    )
  END AS __m1,
  SUM(
    CASE
      WHEN (
        is_closed
      ) IS TRUE AND NOT (
        (
          "type" = 'Renewal'
        ) IS TRUE
      )
      THEN __a1
    END
  ) AS __n1,
  CAST(MAX(__a4) AS TIMESTAMP) AS __l0,
  CAST(MAX(__a5) AS TIMESTAMP) AS __l1,
  GROUPING(__p0) AS __g0,
  GROUPING(__p1) AS __g1
FROM (
  SELECT
    __p0,
    __p1,
    "is_closed",
    "stage",
    "type",
    SUM(amount) AS __a0,
    COUNT(*) AS __a1,
    SUM(CASE WHEN is_won THEN 1.0 ELSE 0.0 END) AS __a2,
    COUNT(CASE WHEN is_won THEN 1.0 ELSE 0.0 END) AS __a3,
    MAX(__t0) AS __a4,
    MAX(__t1) AS __a5
  FROM (
    SELECT
      *,
      CASE
        WHEN __t0 >= CAST('2026-10-06' AS DATE)
        THEN CAST('2026-10-12' AS DATE)
        ELSE CAST(DATE_TRUNC('WEEK', CAST(__t0 AS DATE)) AS DATE)
      END AS __p0,
      CASE
        WHEN __t1 >= CAST('2026-10-06' AS DATE)
        THEN CAST('2026-10-12' AS DATE)
        ELSE CAST(DATE_TRUNC('WEEK', CAST(__t1 AS DATE)) AS DATE)
      END AS __p1
    FROM (
      SELECT
        *,
        "created_at" AS __t0,
        "closed_at" AS __t1
      FROM READ_PARQUET('<project>/data/crm/opportunities.parquet')
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
    "is_closed",
    "stage",
    "type"
) AS __groups
GROUP BY
  GROUPING SETS (
    (
      __p0
    ),
    (
      __p1
    )
  )
