"""What an import produces: accord sources and metrics per output file, and one line per thing refused."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from accord.errors import Problem, UserError
from accord.sql.expressions import DIALECT, FragmentError, parse_fragment

INSTALL = "pip install 'accord[import]'"
TOOLS = ("dbt", "lookml", "cube")


class Refused(ValueError):
    """One definition accord cannot translate exactly; the message says why and what to do."""


@dataclass
class Translation:
    """Sources and metrics (plain dicts in accord's key order) per output file slug, and the refusals."""

    tool: str
    files: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    refused: list[Problem] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)   # imported name -> fingerprint, refused too
    origins: dict[str, tuple[str, int]] = field(default_factory=dict)  # metric name -> (file, line) in the tool

    def add(self, slug: str, section: str, item: dict) -> None:
        self.files.setdefault(slug, {"sources": [], "metrics": []})[section].append(item)

    def refuse(self, file: str, line: int, what: str, reason: str) -> None:
        self.refused.append(Problem(file, line, 0, f"{what}: {reason}"))

    def metrics(self) -> list[dict]:
        return [m for f in self.files.values() for m in f["metrics"]]


def slug(name: str) -> str:
    """A file name from any name: lower case letters, digits and '_'."""
    out = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    return out or "unnamed"


def fingerprint(*parts: Any) -> str:
    """A short hash of definitions as the tool wrote them (keys sorted, so layout and order do not count)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def one_expression(text: str, what: str) -> exp.Expression:
    """`text` as one SQL expression, or Refused saying what it is."""
    try:
        return parse_fragment(str(text))
    except FragmentError as e:
        raise Refused(f"{what} '{' '.join(str(text).split())}' {e}") from None


def plain_column(text: str | None, what: str) -> str:
    """A column name, or Refused (accord's time columns are columns, not expressions)."""
    tree = one_expression(text, what)
    if isinstance(tree, exp.Column) and not tree.table:
        return tree.name
    raise Refused(f"{what} '{text}' is an expression, not a column. accord reads time from a column: expose "
                  "it as a column of the model")


def sql(tree: exp.Expression) -> str:
    return tree.sql(DIALECT)


def no_extra(tool: str) -> UserError:
    return UserError(f"accord import {tool} needs the import extra, which is not installed. run: {INSTALL}")
