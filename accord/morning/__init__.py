"""The morning digest's content: each person's numbers with period comparisons, the KPIs they feed, what
changed since their last digest and what is theirs to do, built from the same analyses as the report.

Plain data, no rendering and no sending here: `accord.render.digest` writes the email, `accord.morning.send`
delivers it at most once per person per day.
"""
