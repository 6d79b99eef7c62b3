"""Normalize SQL fragments so that formatting, clause order, quoting and `IN` versus `OR =` do not count.

Two definitions that differ only in such ways normalize to the same text, and so to the same fingerprint.
"""
from __future__ import annotations

from sqlglot import exp

DIALECT = "duckdb"

# `1000 <= amount` is `amount >= 1000`: comparisons are written with the value on the right.
_MIRROR = {exp.EQ: exp.EQ, exp.NEQ: exp.NEQ, exp.LT: exp.GT, exp.GT: exp.LT, exp.LTE: exp.GTE, exp.GTE: exp.LTE}


def normalize(tree: exp.Expression) -> exp.Expression:
    """A canonical copy: unqualified lower-case columns, sorted AND/OR operands, `col = x OR col = y` as IN."""
    return _parenthesize(_canonical(tree.copy()))


def normalized_sql(tree: exp.Expression | None) -> str:
    return "" if tree is None else normalize(tree).sql(DIALECT)


def _canonical(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Paren):
        return _canonical(node.this)
    if isinstance(node, exp.Column):
        return exp.column(node.name.lower())
    for key, child in list(node.args.items()):
        if isinstance(child, exp.Expression):
            node.set(key, _canonical(child))
        elif isinstance(child, list):
            node.set(key, [_canonical(c) if isinstance(c, exp.Expression) else c for c in child])
    if isinstance(node, tuple(_MIRROR)) and _is_value(node.this) and not _is_value(node.expression):
        node = _MIRROR[type(node)](this=node.expression, expression=node.this)
    if isinstance(node, exp.In) and node.expressions and not node.args.get("query"):
        return _in_or_eq(node.this, node.expressions, negated=False)
    if isinstance(node, exp.Or):
        return _or(_flatten(node, exp.Or))
    if isinstance(node, exp.And):
        return _join(exp.And, _unique_sorted(_flatten(node, exp.And)))
    return node


def _is_value(node: exp.Expression) -> bool:
    return isinstance(node, (exp.Literal, exp.Boolean, exp.Null)) or (
        isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal))


def _flatten(node: exp.Expression, kind: type) -> list[exp.Expression]:
    if isinstance(node, kind):
        return _flatten(node.this, kind) + _flatten(node.expression, kind)
    return [node]


def _unique_sorted(parts: list[exp.Expression]) -> list[exp.Expression]:
    seen: dict[str, exp.Expression] = {}
    for p in parts:
        seen.setdefault(p.sql(DIALECT), p)
    return [seen[k] for k in sorted(seen)]


def _join(kind: type, parts: list[exp.Expression]) -> exp.Expression:
    out = parts[0]
    for p in parts[1:]:
        out = kind(this=out, expression=p)
    return out


def _in_or_eq(column: exp.Expression, values: list[exp.Expression], negated: bool) -> exp.Expression:
    unique = _unique_sorted(values)
    if len(unique) == 1:
        return exp.EQ(this=column, expression=unique[0])
    return exp.In(this=column, expressions=unique)


def _or(parts: list[exp.Expression]) -> exp.Expression:
    """Merge equalities and IN lists on the same column into one IN; sort what remains."""
    by_column: dict[str, tuple[exp.Expression, list[exp.Expression]]] = {}
    rest: list[exp.Expression] = []
    for p in parts:
        if isinstance(p, exp.EQ) and isinstance(p.this, exp.Column) and _is_value(p.expression):
            by_column.setdefault(p.this.sql(DIALECT), (p.this, []))[1].append(p.expression)
        elif isinstance(p, exp.In) and isinstance(p.this, exp.Column) and p.expressions:
            by_column.setdefault(p.this.sql(DIALECT), (p.this, []))[1].extend(p.expressions)
        else:
            rest.append(p)
    merged = [_in_or_eq(col, values, False) for col, values in by_column.values()]
    return _join(exp.Or, _unique_sorted(merged + rest))


def _parenthesize(node: exp.Expression) -> exp.Expression:
    """Put brackets back where an operator sits inside another, so the text keeps the tree's meaning."""
    for key, child in list(node.args.items()):
        if isinstance(child, exp.Expression):
            node.set(key, _wrap(node, _parenthesize(child)))
        elif isinstance(child, list):
            node.set(key, [_wrap(node, _parenthesize(c)) if isinstance(c, exp.Expression) else c for c in child])
    return node


def _wrap(parent: exp.Expression, child: exp.Expression) -> exp.Expression:
    operator = isinstance(child, (exp.Binary, exp.Not, exp.Neg)) and not isinstance(child, exp.Dot)
    associative = type(parent) is type(child) and isinstance(child, (exp.And, exp.Or, exp.Add, exp.Mul))
    if operator and isinstance(parent, (exp.Binary, exp.Not, exp.Neg, exp.In, exp.Is)) and not associative:
        return exp.Paren(this=child)
    return child
