"""dbt's `filter:` templates read without rendering Jinja.

A filter is SQL holding `{{ Dimension('entity__name') }}`, `{{ TimeDimension('entity__name', 'grain') }}` or
`{{ Entity('name') }}`. Those three calls are the only template text accepted; any other `{{ … }}`, any
`{% … %}` or `{# … #}`, a method (`.grain('month')`), a filter (`| upper`) or a keyword argument is refused,
so the SQL accord gets is exactly the SQL MetricFlow would get around those references.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

GRAINS = ("day", "week", "month", "quarter", "year")
_STRING = r"""\s*(?:'([^'\\{}]*)'|"([^"\\{}]*)")\s*"""
_CALL = re.compile(r"\{\{\s*(Dimension|TimeDimension|Entity)\s*\(" + _STRING + r"(?:," + _STRING + r")?\)\s*\}\}")
_TEMPLATE = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}")


@dataclass(frozen=True)
class Reference:
    """One call in a filter: `kind` Dimension, TimeDimension or Entity; `name` as written; `grain` or None."""

    kind: str
    name: str
    grain: str | None = None

    @property
    def entity_path(self) -> tuple[str, ...]:
        """'customer__region' -> ('customer',), 'region' -> ()."""
        return tuple(self.name.split("__")[:-1])

    @property
    def element(self) -> str:
        return self.name.split("__")[-1]


class FilterRefused(ValueError):
    """The filter holds template text accord does not translate; the message says which and why.

    `template` is True when the text is not one of the three calls (rather than a call accord cannot resolve)."""

    def __init__(self, message: str, template: bool = False):
        super().__init__(message)
        self.template = template


def references(text: str) -> list[Reference]:
    """Every call in the filter, in order; FilterRefused for any other template text."""
    found: list[Reference] = []
    for kind, name, name2, grain, grain2 in _CALL.findall(text):
        found.append(_reference(kind, name or name2, grain or grain2 or None))
    rest = _CALL.sub(" ", text)
    stray = _TEMPLATE.search(rest)
    if stray:
        snippet = _snippet(rest, stray.start())
        raise FilterRefused(f"template text '{snippet}' is not one of Dimension('…'), TimeDimension('…', '…') "
                            "or Entity('…') alone inside {{ }}", template=True)
    return found


def translate(text: str, column: Callable[[Reference], str]) -> str:
    """The filter's SQL with each call replaced by `column(reference)` (an SQL expression, parenthesized).

    `column` raises FilterRefused for a reference it cannot resolve exactly."""
    references(text)  # refuse stray template text before resolving anything

    def swap(match: re.Match) -> str:
        kind, name, name2, grain, grain2 = match.groups()
        return "(" + column(_reference(kind, name or name2, grain or grain2 or None)) + ")"

    return " ".join(_CALL.sub(swap, text).split())


def _reference(kind: str, name: str, grain: str | None) -> Reference:
    if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise FilterRefused(f"{kind}('{name}') does not name an element (letters, digits, '_')", template=True)
    if kind == "TimeDimension":
        if grain is None:
            raise FilterRefused(f"TimeDimension('{name}') has no grain; its grain depends on the query")
        if grain.lower() not in GRAINS:
            raise FilterRefused(f"TimeDimension('{name}', '{grain}') has a grain other than {', '.join(GRAINS)}")
        return Reference(kind, name, grain.lower())
    if grain is not None:
        raise FilterRefused(f"{kind}('{name}', '{grain}') takes one argument")
    return Reference(kind, name)


def _snippet(text: str, at: int) -> str:
    end = text.find("}}", at)
    end = end + 2 if end >= 0 else min(len(text), at + 40)
    return " ".join(text[at:end].split())
