"""The SQL floor on its own: one expression, never a statement, whatever class sqlglot gives it."""
from __future__ import annotations

import pytest

from accord.sql.expressions import FragmentError, parse_fragment

STATEMENTS = ["drop table x", "alter table x add column y int", "attach 'x.db'", "detach x", "truncate x",
              "insert into x values (1)", "delete from x", "update x set a = 1", "create table y as select 1",
              "copy x to 'f.csv'", "pragma version", "install httpfs", "load httpfs", "set threads = 1",
              "vacuum", "call f()", "select 1", "1 = 1; drop table x", "sum(x) as y"]


@pytest.mark.parametrize("text", STATEMENTS)
def test_statements_are_refused_before_anything_runs(text):
    with pytest.raises(FragmentError):
        parse_fragment(text)


@pytest.mark.parametrize("text", ["stage in ('SQL', 'Proposal')", "sum(amount * probability)", "not is_test",
                                  "count(distinct opportunity_id)", "coalesce(a, 0) > 10 and b like '%x%'"])
def test_expressions_pass(text):
    assert parse_fragment(text) is not None
