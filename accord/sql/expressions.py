"""Parse a user's SQL fragment into exactly one sqlglot expression, or say precisely why not.

Every clause and measure goes through here once; nothing downstream sees text again.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from accord.sql.allowlist import check_reads
from accord.sql.errors import FragmentError

DIALECT = "duckdb"

# Nodes that make a fragment a statement (or smuggle one in) rather than an expression.
_STATEMENTS = (exp.Query, exp.DDL, exp.DML, exp.Command, exp.Transaction, exp.Commit,
               exp.Rollback, exp.Set, exp.Use, exp.Pragma, exp.Copy, exp.Describe)
_DECOMPOSABLE = (exp.Sum, exp.Count, exp.Min, exp.Max, exp.Avg)


def parse_fragment(text: str) -> exp.Expression:
    """Exactly one SQL expression (never a statement, never several), as an AST."""
    if not isinstance(text, str) or not text.strip():
        raise FragmentError("is empty. write one SQL expression")
    try:
        trees = sqlglot.parse(text, read=DIALECT)
    except ParseError as e:
        err = e.errors[0] if e.errors else {}
        desc = str(err.get("description") or e).split("\n")[0].rstrip(".")
        raise FragmentError(f"is not valid SQL ({desc}). write one SQL expression", int(err.get("col") or 0))
    except TokenError as e:
        raise FragmentError(f"is not valid SQL ({str(e).splitlines()[0]}). check quotes and brackets")
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise FragmentError(f"holds {len(trees)} statements. write exactly one SQL expression, no ';'")
    tree = trees[0]
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            kind = node.key.upper()
            where = "is" if node is tree else "contains"
            raise FragmentError(f"{where} a {kind} statement, not an expression. "
                                "write one expression; use a `sql:` source for queries")
    # sqlglot gives some statements (DROP, ALTER, ATTACH, ...) classes of their own: whatever the class,
    # an expression must also parse as a plain condition, or it is refused.
    try:
        sqlglot.parse_one(text, read=DIALECT, into=exp.Condition)
    except (ParseError, TokenError):
        if isinstance(tree, exp.Alias):
            raise FragmentError("names its result with AS. remove the alias: the metric's name is its name")
        raise FragmentError(f"is a {tree.key.upper()} statement, not an expression. a definition only reads "
                            "data: write one expression over the source's columns")
    check_reads(tree, DIALECT)
    return tree


def holds(clause: exp.Expression) -> exp.Expression:
    """`(clause) IS TRUE`: a clause holds only when TRUE, never NULL.

    The same as `COALESCE(clause, FALSE)`, and in DuckDB a third cheaper per row.
    """
    return exp.Is(this=exp.Paren(this=clause.copy()), expression=exp.true())


def fails(clause: exp.Expression) -> exp.Expression:
    """`NOT ((clause) IS TRUE)`: FALSE or NULL."""
    return exp.Not(this=exp.Paren(this=holds(clause)))


def aggregates(tree: exp.Expression) -> list[exp.AggFunc]:
    return [n for n in tree.walk() if isinstance(n, exp.AggFunc)]


def check_clause(tree: exp.Expression) -> None:
    """A clause is evaluated per row: no aggregates, no window functions."""
    if aggregates(tree):
        raise FragmentError("uses an aggregate function. a clause is evaluated on each row; "
                            "move the aggregate into `measure:`")
    if any(isinstance(n, exp.Window) for n in tree.walk()):
        raise FragmentError("uses a window function. a clause is evaluated on each row")


def check_measure(tree: exp.Expression) -> None:
    """A measure aggregates rows: every column it reads sits inside an aggregate."""
    aggs = aggregates(tree)
    if not aggs:
        raise FragmentError("has no aggregate function. write one aggregate, such as sum(amount) or count(*)")
    if any(isinstance(n, exp.Window) for n in tree.walk()):
        raise FragmentError("uses a window function. write a plain aggregate")
    for col in tree.find_all(exp.Column):
        if not any(isinstance(p, exp.AggFunc) for p in _ancestors(col)):
            raise FragmentError(f"reads column '{col.sql(DIALECT)}' outside any aggregate. "
                                "wrap it in an aggregate")
    for agg in aggs:
        if any(isinstance(p, exp.AggFunc) for p in _ancestors(agg)):
            raise FragmentError("nests one aggregate inside another. write one level of aggregation")


def _ancestors(node: exp.Expression):
    p = node.parent
    while p is not None:
        yield p
        p = p.parent


def columns(tree: exp.Expression) -> tuple[str, ...]:
    """Column names a fragment reads, sorted, unqualified."""
    return tuple(sorted({c.name for c in tree.find_all(exp.Column)}))


def is_decomposable(tree: exp.Expression) -> bool:
    """True when every aggregate can be computed from per-group partials (no DISTINCT, no median...)."""
    for agg in aggregates(tree):
        if type(agg) not in _DECOMPOSABLE:
            return False
        if any(isinstance(n, exp.Distinct) for n in agg.walk()):
            return False
    return True


@dataclass(frozen=True)
class Additivity:
    """Whether a measure can be bridged record by record, and how one record contributes."""

    kind: str | None          # 'sum', 'count', 'count_distinct' or None
    argument: exp.Expression | None


def additivity(tree: exp.Expression) -> Additivity:
    if isinstance(tree, exp.Sum):
        return Additivity("sum", tree.this)
    if isinstance(tree, exp.Count):
        arg = tree.this
        if isinstance(arg, exp.Distinct):
            inner = arg.expressions
            return Additivity("count_distinct", inner[0] if len(inner) == 1 else None)
        if arg is None or isinstance(arg, exp.Star):
            return Additivity("count", None)
        return Additivity("count", arg)
    return Additivity(None, None)


# Formula metrics: arithmetic over other metrics' per-period values.
_FORMULA_NODES = (exp.Column, exp.Identifier, exp.Literal, exp.Add, exp.Sub, exp.Mul, exp.Div,
                  exp.Paren, exp.Neg)


def check_formula(tree: exp.Expression) -> tuple[str, ...]:
    """The metric names a formula reads; only + - * / and parentheses over names and numbers."""
    for node in tree.walk():
        if not isinstance(node, _FORMULA_NODES):
            raise FragmentError(f"uses '{node.sql(DIALECT)}'. a formula is arithmetic (+ - * /) "
                                "over other metrics and numbers")
        if isinstance(node, exp.Column) and node.table:
            raise FragmentError(f"names '{node.sql(DIALECT)}'. name metrics without a prefix")
    return columns(tree)


def evaluate_formula(tree: exp.Expression, values: dict[str, float | None]) -> float | None:
    """Evaluate a formula for one period; any null operand or a division by zero gives null."""
    if isinstance(tree, exp.Paren):
        return evaluate_formula(tree.this, values)
    if isinstance(tree, exp.Column):
        v = values.get(tree.name)
        return None if v is None else float(v)
    if isinstance(tree, exp.Literal):
        return float(tree.this)
    if isinstance(tree, exp.Neg):
        v = evaluate_formula(tree.this, values)
        return None if v is None else -v
    left = evaluate_formula(tree.left, values)
    right = evaluate_formula(tree.right, values)
    if left is None or right is None:
        return None
    if isinstance(tree, exp.Add):
        return left + right
    if isinstance(tree, exp.Sub):
        return left - right
    if isinstance(tree, exp.Mul):
        return left * right
    if isinstance(tree, exp.Div):
        return None if right == 0 else left / right
    raise ValueError(f"unexpected formula node {tree.key}")
