"""Read YAML keeping line numbers, and turn a path inside a document into a file position."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from accord.errors import Problem


def read_yaml(path: Path, rel: str) -> tuple[Any, list[Problem]]:
    """The document (ruamel round-trip nodes, which remember lines), or the syntax problems."""
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(rel, 0, 0, "is not UTF-8 text. save it as UTF-8")]
    try:
        return yaml.load(text), []
    except DuplicateKeyError as e:
        mark = e.problem_mark
        key = str(e.problem).split('"')[1] if '"' in str(e.problem) else "a key"
        return None, [Problem(rel, mark.line + 1, mark.column + 1,
                              f"key '{key}' appears twice in one mapping. keep one of them")]
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = (e.problem or e.context or "invalid YAML").strip()
        return None, [Problem(rel, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0,
                              f"YAML syntax error: {what}. fix the YAML syntax")]
    except YAMLError as e:
        return None, [Problem(rel, 0, 0, f"YAML syntax error: {str(e).splitlines()[0]}. fix the YAML syntax")]


def position(node: Any, path: tuple, value: bool = False) -> tuple[int, int]:
    """1-based (line, col) of the deepest part of `path` present in `node` (0, 0 when unknown).

    With value=True the position of the value rather than its key.
    """
    line, col = _own_position(node)
    for step in path:
        if isinstance(node, CommentedMap) and step in node:
            k_line, k_col = node.lc.key(step)
            v_line, v_col = node.lc.value(step)
            line, col = (v_line, v_col) if value else (k_line, k_col)
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            line, col = node.lc.item(step)
            node = node[step]
        else:
            break
    return line + 1, col + 1


def _own_position(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is not None and getattr(lc, "line", None) is not None:
        return lc.line, lc.col
    return -1, -1


def is_quoted(node: Any) -> bool:
    return isinstance(node, (DoubleQuotedScalarString, SingleQuotedScalarString))


def plain(node: Any) -> Any:
    """Nodes as plain dicts, lists and scalars (for pydantic)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def value_positions(node: Any, prefix: str = "") -> dict[str, tuple[int, int]]:
    """1-based (line, col) where each scalar value's text starts, keyed by dotted path ('include.0.sql')."""
    out: dict[str, tuple[int, int]] = {}
    if isinstance(node, CommentedMap):
        for k, v in node.items():
            key = f"{prefix}{k}"
            line, col = node.lc.value(k)
            out[key] = (line + 1, col + 1 + (1 if is_quoted(v) else 0))
            out.update(value_positions(v, key + "."))
    elif isinstance(node, CommentedSeq):
        for i, v in enumerate(node):
            key = f"{prefix}{i}"
            line, col = node.lc.item(i)
            out[key] = (line + 1, col + 1 + (1 if is_quoted(v) else 0))
            out.update(value_positions(v, key + "."))
    return out
