"""The last pass over every HTML page: one minus sign, and column labels for tables stacked on a phone.

* A hyphen before a number in the text a reader sees becomes the minus sign U+2212 ("−$4.45M", "r −0.32"),
  wherever the words came from; dates (2026-07-14), words (re-run), code and styles are left alone.
* Each body cell of a table with a header row gets `data-label="<its column's header>"`, so that at phone
  width, where base.css turns rows into stacked blocks, every value still says what it is.
"""
from __future__ import annotations

import html
import re

_KEEP = re.compile(r"(<(style|code|pre|script)\b.*?</\2\s*>)", re.S | re.I)
_TAG = re.compile(r"(<[^>]*>)")
_MINUS = re.compile(r"(?<![\w.\-−])-(?=[$€£]?\.?\d)")
_TABLE = re.compile(r"<table\b.*?</table>", re.S)
_HEAD = re.compile(r"<thead\b.*?</thead>", re.S)
_CELL = re.compile(r"<t([hd])\b([^>]*)>(.*?)</t\1>", re.S)
_ROW = re.compile(r"<tr\b[^>]*>.*?</tr>", re.S)
_SPAN = re.compile(r'colspan="(\d+)"')


def minus_signs(page: str) -> str:
    """U+2212 for every hyphen-minus before a number in the page's text (not in tags, styles or code)."""
    out, at = [], 0
    for m in _KEEP.finditer(page):
        out.append(_text_minus(page[at:m.start()]))
        out.append(m.group(0))
        at = m.end()
    out.append(_text_minus(page[at:]))
    return "".join(out)


def _text_minus(part: str) -> str:
    return "".join(p if p.startswith("<") else _MINUS.sub("−", p) for p in _TAG.split(part))


def _text(cell: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def _label_table(table: str) -> str:
    head = _HEAD.search(table)
    if head is None:
        return table
    names: list[str] = []
    for kind, attrs, inner in _CELL.findall(head.group(0)):
        span = _SPAN.search(attrs)
        names += [_text(inner)] * (int(span.group(1)) if span else 1)
    if not any(names):
        return table

    def row(m: re.Match) -> str:
        column = 0

        def cell(c: re.Match) -> str:
            nonlocal column
            kind, attrs, inner = c.groups()
            span = _SPAN.search(attrs)
            name = names[column] if column < len(names) else ""
            column += int(span.group(1)) if span else 1
            if kind != "d" or not name or "data-label" in attrs or (span and int(span.group(1)) > 1):
                return c.group(0)
            return f'<td{attrs} data-label="{html.escape(name, quote=True)}">{inner}</td>'
        return _CELL.sub(cell, m.group(0))

    body_start = head.end()
    return table[:body_start] + _ROW.sub(row, table[body_start:])


def column_labels(page: str) -> str:
    return _TABLE.sub(lambda m: _label_table(m.group(0)), page)


def finish(page: str) -> str:
    return minus_signs(column_labels(page))
