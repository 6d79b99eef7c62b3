"""Write one decision into a YAML file and leave every other byte of that file as it was.

The decision's own lines are re-emitted by ruamel.yaml round-trip (its comments kept); the rest of the file
is spliced back untouched. A new decision is appended to the file's `decisions:` list, or starts one.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from accord.errors import Problem, UserError
from accord.project.atomic import content_hash, locked, make_folder, read_bytes, write_file
from accord.project.labels import normalize_label
from accord.project.yamlfile import read_yaml

WIDTH = 120


def _yaml(dash: int = 2, content: int = 4) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = WIDTH
    y.indent(mapping=2, sequence=content, offset=dash)
    return y


def _is_blank_or_comment(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith("#")


def _emit_item(item: CommentedMap, dash: int, content: int) -> list[str]:
    """The lines of one `decisions:` item as the file would hold them, without trailing comments."""
    wrapper = CommentedMap()
    wrapper["decisions"] = CommentedSeq([item])
    out = io.StringIO()
    _yaml(dash, content).dump(wrapper, out)
    lines = out.getvalue().splitlines(keepends=True)[1:]
    while lines and _is_blank_or_comment(lines[-1]):
        lines.pop()
    return lines


def block_seq(values, flow: bool = False) -> CommentedSeq:
    seq = CommentedSeq(values)
    if flow:
        seq.fa.set_flow_style()
    else:
        seq.fa.set_block_style()
    return seq


def block_map(pairs) -> CommentedMap:
    m = CommentedMap()
    for k, v in pairs:
        if v is not None:
            m[k] = v
    m.fa.set_block_style()
    return m


ORDER = ("label", "decided_on", "owner", "canonical", "alternates", "caveats", "unresolved", "follow_ups",
         "approvals", "review_every")


def set_key(item: CommentedMap, key: str, value) -> None:
    """Set a key, keeping its place (and comments) when it exists, else in the order DESIGN.md shows."""
    if key in item:
        item[key] = value
        return
    rank = ORDER.index(key)
    position = sum(1 for k in item if k in ORDER and ORDER.index(k) < rank)
    item.insert(position, key, value)


def write_decision(path: Path, rel: str, label: str, synonyms: dict, change: Callable[[CommentedMap | None],
                   CommentedMap], header: str = "") -> bool:
    """Apply `change` to the decision for `label` in `path` (None when there is none; it returns the item to
    write) and write the file back. Returns True when the decision was new.

    The file is read and written under its folder's lock, and written only if it still holds what was read:
    concurrent decisions each land whole, one after the other.
    """
    make_folder(path.parent, str(Path(rel).parent))
    with locked(path, name=rel):
        raw = read_bytes(path)
        return _write_decision(path, rel, raw, label, synonyms, change, header)


def _write_decision(path: Path, rel: str, raw: bytes | None, label: str, synonyms: dict, change: Callable,
                    header: str) -> bool:
    key = normalize_label(label, synonyms)
    out = _Out(path, rel, content_hash(raw), raw is not None and raw.startswith(b"\xef\xbb\xbf"))
    if raw is None:
        item = change(None)
        out.write([header, "decisions:\n"] + _emit_item(item, 2, 4))
        return True
    doc, problems = read_yaml(path, rel)
    if problems:
        raise UserError(problems)
    text = raw.decode("utf-8-sig")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise UserError([Problem(rel, 1, 0, "is not a mapping of top-level keys, so a decision cannot be added "
                                            "to it. fix the file or move it")])
    seq = doc.get("decisions")
    if seq is not None and not isinstance(seq, CommentedSeq):
        line = doc.lc.key("decisions")[0] + 1
        raise UserError([Problem(rel, line, 0, "'decisions' must be a list of items. fix it, then decide again")])
    index = None
    if seq is not None:
        for i, d in enumerate(seq):
            if isinstance(d, dict) and isinstance(d.get("label"), str) and \
                    normalize_label(d["label"], synonyms) == key:
                index = i
                break
    if seq is not None and (seq.fa.flow_style() or any(not isinstance(d, CommentedMap) for d in seq)):
        return _rewrite_whole(out, doc, seq, index, change)
    if seq is None:
        item = change(None)
        body = _emit_item(item, 2, 4)
        sep = "" if not lines or lines[-1].strip() == "" else "\n"
        out.write(lines + [sep, "decisions:\n"] + body)
        return True
    dash, content = _indents(lines, seq)
    if index is None:
        item = change(None)
        end = _end_of_item(lines, doc, seq, len(seq) - 1) if len(seq) else doc.lc.key("decisions")[0] + 1
        body = _emit_item(item, dash, content)
        sep = ["\n"] if len(seq) and end - seq.lc.item(len(seq) - 1)[0] > 1 else []
        out.write(lines[:end] + sep + body + lines[end:])
        return True
    item = seq[index]
    was_flow = item.fa.flow_style()
    item = change(item)
    if was_flow:
        item.fa.set_block_style()
    start = _dash_line(lines, seq.lc.item(index)[0])
    end = _end_of_item(lines, doc, seq, index)
    out.write(lines[:start] + _emit_item(item, dash, content) + lines[end:])
    return False


@dataclass(frozen=True)
class _Out:
    """Where the decision file goes back: its path, its name in messages, the hash read and its BOM."""

    path: Path
    rel: str
    expected_hash: str
    bom: bool

    def write(self, lines: list[str]) -> None:
        if lines and lines[0].endswith("\r\n"):  # a Windows file keeps its line endings
            lines = [x[:-1] + "\r\n" if x.endswith("\n") and not x.endswith("\r\n") else x for x in lines]
        data = "".join(lines).encode("utf-8")
        write_file(self.path, (b"\xef\xbb\xbf" if self.bom else b"") + data, expected_hash=self.expected_hash,
                   name=self.rel)


def _dash_line(lines: list[str], line: int) -> int:
    """The line holding an item's '-' (ruamel gives the line its content starts on)."""
    while line > 0 and not lines[line].lstrip().startswith("-"):
        line -= 1
    return line


def _indents(lines: list[str], seq: CommentedSeq) -> tuple[int, int]:
    """(column of '-', column of the item's content) of the file's `decisions:` items."""
    if not len(seq):
        return 2, 4
    line, col = seq.lc.item(0)
    text = lines[_dash_line(lines, line)]
    dash = len(text) - len(text.lstrip(" "))
    content = col if col > dash else dash + 2
    return dash, max(content, dash + 2)


def _end_of_item(lines: list[str], doc: CommentedMap, seq: CommentedSeq, index: int) -> int:
    """The line after an item's last line of content: blank lines and comments after it stay where they are."""
    if index + 1 < len(seq):
        end = _dash_line(lines, seq.lc.item(index + 1)[0])
    else:
        keys = list(doc.keys())
        after = keys[keys.index("decisions") + 1:]
        end = doc.lc.key(after[0])[0] if after else len(lines)
    start = _dash_line(lines, seq.lc.item(index)[0])
    while end - 1 > start and _is_blank_or_comment(lines[end - 1]):
        end -= 1
    return end


def _rewrite_whole(out: _Out, doc: CommentedMap, seq: CommentedSeq, index: int | None,
                   change: Callable) -> bool:
    """A `decisions:` list written in flow style: the file is re-emitted by round-trip as a whole."""
    if index is None:
        seq.append(change(None))
    else:
        seq[index] = change(seq[index])
    seq.fa.set_block_style()
    text = io.StringIO()
    _yaml().dump(doc, text)
    out.write(text.getvalue().splitlines(keepends=True))
    return index is None
