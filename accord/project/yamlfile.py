"""Read YAML keeping line numbers, and turn a path inside a document into a file position."""
from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path
from typing import Any, Callable

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedOrderedMap, CommentedSeq, CommentedSet, TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import Reader
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from accord.errors import Problem

try:
    from _ruamel_yaml import CParser  # libyaml, from ruamel.yaml.clib; the same import ruamel.yaml itself tries
except ImportError:  # pragma: no cover - the package is a dependency, but the pure-Python reader still works
    CParser = None

# Aliases let a short file expand to billions of values ("billion laughs"); no definitions file needs this many.
MAX_VALUES = 200_000

# A definitions file larger than this is refused before it is read; one larger than SLOW_BYTES is read only
# the fast way (ruamel's pure-Python reader takes ten seconds or more per megabyte).
MAX_BYTES = 5_000_000
SLOW_BYTES = 1_000_000

# The fast path composes with libyaml, which recurses in C: a file that could nest deeper than this (see
# _nesting_bound) could overflow the C stack, so it is read the pure-Python way, which raises instead.
_MAX_INDICATORS = 10_000
# ruamel's pure-Python composer gives up (RecursionError) a few hundred levels down; well below that, both agree.
_MAX_FAST_DEPTH = 100
_UNSURE = object()
_TOO_MANY = object()   # more than MAX_VALUES values, without aliases
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp"))
# Between its scalars a document read the fast way holds only indentation and YAML punctuation; anything else
# (a comment, &anchor, *alias, !tag, ? key, %directive, '...', a tab) is left to the round-trip reader.
_BETWEEN_SCALARS = re.compile(r"[ \r\n:,\[\]{}-]*")
_COMMENT = re.compile(r"(?<=[ \n])#[^\r\n]*")  # a '#' after a space or line break
# The round-trip reader keeps blank lines (with comments) to write them back; libyaml does not see them.
_BLANK_LINE = re.compile(r"\n[ \r]*\n|\n[ \r]+\Z")
_BLOCK_HEADER = re.compile(r"[|>](?:[1-9][-+]?|[-+][1-9]?)? *\r?")
# Line breaks and characters where libyaml and ruamel's reader are not known to agree (a lone \r is a break).
# A line of spaces only, right after a block scalar's header (where ruamel's and libyaml's indentation rules part)
_SPACES_LINE = re.compile(r" +\r?(?:\n|\Z)")
_UNUSUAL = re.compile("[\x85\u2028\u2029\ufeff]|\r(?!\n)")


class _TooLarge(Exception):
    pass


class _Recursive(Exception):
    pass


def read_yaml(path: Path, rel: str, *, keep_layout: bool = True) -> tuple[Any, list[Problem]]:
    """The document (ruamel round-trip nodes, which remember lines), or the problems that stop reading it.

    libyaml builds the document when it gives exactly what ruamel's pure-Python round-trip reader gives, and
    that reader builds it otherwise. libyaml does not see comments and blank lines, which the round-trip reader
    keeps so that the document can be written back: a caller that never writes it back can pass
    keep_layout=False to read such files fast too (without their comments, blank lines and fold positions).
    """
    try:
        size = path.stat().st_size
    except OSError as e:
        return None, [Problem(rel, 0, 0, f"cannot be read ({e.strerror or e}). check that the file is readable")]
    if size > MAX_BYTES:
        return None, [Problem(rel, 0, 0, f"is {size / 1e6:.1f} MB; a YAML file accord reads holds at most "
                                         f"{MAX_BYTES // 1_000_000} MB. split it into several files")]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        return None, [Problem(rel, line, 0, "is not UTF-8 text. save the file as UTF-8")]
    except OSError as e:
        return None, [Problem(rel, 0, 0, f"cannot be read ({e.strerror or e}). check that the file is readable")]
    if CParser is not None:
        doc = _read_fast(text, keep_layout)
        if doc is _TOO_MANY:
            return None, [_too_many(rel)]
        if doc is not _UNSURE:
            return doc, []
        if len(text) > SLOW_BYTES:
            return None, [_too_large_to_read_slowly(text, rel)]
    return _read_rt(text, rel)


def _too_many(rel: str) -> Problem:
    return Problem(rel, 0, 0, f"holds more than {MAX_VALUES:,} values (keys, items and texts). split it into "
                              "several files")


def _too_large_to_read_slowly(text: str, rel: str) -> Problem:
    """A file over SLOW_BYTES that libyaml cannot read as plain YAML: its syntax error, else the size."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            YAML(typ="safe", pure=False).compose(text)
    except MarkedYAMLError as e:
        return _syntax_problem(rel, e)
    except Exception:  # noqa: BLE001 - whatever it is, the size is the answer
        pass
    return Problem(rel, 0, 0, f"is {len(text) / 1e6:.1f} MB and uses YAML that accord reads only in files under "
                              f"{SLOW_BYTES // 1_000_000} MB (anchors and aliases, tags, comments kept for writing "
                              "back). split it into smaller files, or write it as plain YAML")


def _read_fast(text: str, keep_layout: bool = True) -> Any:
    """The document built by ruamel's round-trip constructor from libyaml's nodes, or _UNSURE.

    _UNSURE whenever the result could differ from _read_rt's: libyaml fails, the file holds something only
    the round-trip reader keeps (comments and blank lines unless keep_layout is False, anchors and aliases,
    tags, folded '>' text, keys that are not scalars), or it nests or grows past what _read_rt would refuse.
    A file with errors is always _UNSURE, so every problem and its position come from _read_rt.
    """
    if keep_layout and ("#" in text or _BLANK_LINE.search("\n" + text)):
        return _UNSURE  # comments and blank lines: the round-trip reader keeps them to write them back
    if (_UNUSUAL.search(text) or Reader.NON_PRINTABLE.search(text)
            or _nesting_bound(text) > _MAX_INDICATORS):
        return _UNSURE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            root = YAML(typ="safe", pure=False).compose(text)
    except Exception:  # noqa: BLE001 - libyaml's errors are reported by the round-trip reader instead
        return _UNSURE
    if root is not None and not isinstance(root, (MappingNode, SequenceNode)):
        return _UNSURE  # a lone value: ruamel's indentation rules for it differ from libyaml's
    spans = _scalar_spans(root, text, folded=not keep_layout)
    if spans is _TOO_MANY:
        return _TOO_MANY
    if spans is None:
        return _UNSURE
    pos = 0
    for start, end in sorted(spans) + [(len(text), len(text))]:
        if not _only_punctuation(text, pos, start):
            return _UNSURE
        pos = end
    if root is None:
        return None
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return yaml.constructor.construct_document(root)
    except Exception:  # noqa: BLE001 - duplicate keys, impossible dates ...: _read_rt words the problem
        return _UNSURE


_FLOW = re.compile(r"[\[\]{}]")
_LINE_NESTING = re.compile(r"^( *)(.*)$", re.MULTILINE)


def _nesting_bound(text: str) -> int:
    """At least how deep the document could nest: the deepest run of open brackets, plus the most that one
    line could open (its indentation and its block indicators). Every extra level of block nesting indents
    further or adds an indicator on its line, so libyaml's recursion stays below this."""
    depth = deepest = 0
    if "[" in text or "{" in text:
        for m in _FLOW.finditer(text):
            depth += 1 if m.group() in "[{" else -1
            deepest = max(deepest, depth)
    line_most = 0
    for m in _LINE_NESTING.finditer(text):
        rest = m.group(2)
        line_most = max(line_most, len(m.group(1)) + rest.count("-") + rest.count(":") + rest.count("?"))
    return deepest + line_most


def _only_punctuation(text: str, start: int, end: int) -> bool:
    """Whether text[start:end], between two scalars, holds only indentation, punctuation and comments."""
    gap = text[start:end]
    if start == 0 or text[start - 1] == "\n":
        gap = "\n" + gap  # so that a comment starting the gap is seen as one
    return bool(_BETWEEN_SCALARS.fullmatch(_COMMENT.sub("", gap)))


def _scalar_spans(root: Any, text: str, folded: bool) -> list[tuple[int, int]] | None:
    """(start, end) in `text` of each scalar under `root`, or None when a node needs the round-trip reader.

    Plain scalars get the style ruamel's own parser gives them (None, where libyaml says ''). Folded ('>')
    text is read only when `folded`: ruamel's scanner marks where it folded lines (fold_pos), libyaml does not.
    """
    spans: list[tuple[int, int]] = []
    seen: set[int] = set()
    stack = [(root, 0)] if root is not None else []
    while stack:
        node, depth = stack.pop()
        if id(node) in seen or depth > _MAX_FAST_DEPTH:
            return None  # a node met twice is an alias
        if len(seen) >= MAX_VALUES:
            # no alias met so far: unless one follows (the round-trip reader words that), too many values
            return _TOO_MANY if not _has_alias(root) else None
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            start, end = node.start_mark.index, node.end_mark.index
            if start == end:  # a value left empty: ruamel marks it where the next token starts, libyaml does not
                return None
            if node.tag not in _SCALAR_TAGS:  # e.g. '=' (YAML 1.1's value key): an object of its own in ruamel
                return None
            first = text[start]
            if node.style == "":
                node.style = None
                if first in ("!", "&"):  # a tag or an anchor: the node's text starts with it
                    return None
                if "\t" in text[start:end]:  # libyaml reads a tab inside plain text; ruamel refuses it
                    return None
            elif node.style in ("'", '"'):
                if first != node.style:
                    return None
            elif node.style == "|" or (node.style == ">" and folded):
                line_end = text.find("\n", start)
                header = _COMMENT.sub("", text[start:line_end if line_end >= 0 else len(text)])
                if not _BLOCK_HEADER.fullmatch(header):
                    return None
                if line_end >= 0 and not any(c.isdigit() for c in header) and _SPACES_LINE.match(text, line_end + 1):
                    # ruamel refuses ("more indented follow up line than first in a block scalar") a block
                    # whose first line holds only spaces when a later leading line is indented further;
                    # libyaml reads it
                    return None
            else:
                return None
            spans.append((start, end))
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                if not isinstance(key, ScalarNode):  # (a '<<' merge key is a scalar not in _SCALAR_TAGS)
                    return None
                stack += [(key, depth + 1), (value, depth + 1)]
        else:
            stack += [(item, depth + 1) for item in node.value]
    return spans


def _has_alias(root: Any) -> bool:
    """Whether a node appears twice under root (an alias), walking each node once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for k, v in node.value:
                stack += [k, v]
        elif isinstance(node, SequenceNode):
            stack += node.value
    return False


def _read_rt(text: str, rel: str) -> tuple[Any, list[Problem]]:
    """The document as ruamel's pure-Python round-trip reader builds it, or the problems that stop it."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True  # to know that a quoted value's text starts one column after its quote
    try:
        with warnings.catch_warnings():  # a reused anchor is valid YAML; its warning would only be noise
            warnings.simplefilter("ignore")
            doc = yaml.load(text)
    except DuplicateKeyError as e:
        mark = e.problem_mark
        found = re.search(r'duplicate key "(.*?)" with value', str(e.problem or ""))
        key = found.group(1) if found else "a key"
        return None, [Problem(rel, mark.line + 1, mark.column + 1,
                              f"key '{key}' appears twice in one mapping. keep one of them")]
    except MarkedYAMLError as e:
        return None, [_syntax_problem(rel, e)]
    except YAMLError as e:
        return None, [Problem(rel, 0, 0, f"YAML syntax error: {_first_line(e)}. fix the YAML syntax")]
    except RecursionError:
        return None, [Problem(rel, 0, 0, "nests lists and mappings too deeply to read. flatten the file")]
    except Exception as e:  # noqa: BLE001 - ruamel raises ValueError, KeyError ... for values it cannot build
        return None, [_value_problem(rel, text, e)]
    try:
        _count(doc)
    except _TooLarge:
        if "*" not in text:
            return None, [_too_many(rel)]
        return None, [Problem(rel, 0, 0, f"expands to more than {MAX_VALUES:,} values through its anchors and "
                                         "aliases (&, *). write the definitions out without nested aliases")]
    except _Recursive as e:
        line, col = e.args[0]
        return None, [Problem(rel, line, col, "an alias (*) refers to the collection that holds it, so the "
                                              "value never ends. remove the alias or point it elsewhere")]
    tagged = _first_tagged(doc)
    if tagged is not None:
        (line, col), tag = tagged
        if tag == "!!value":
            return None, [Problem(rel, line, col, "'=' alone is a special value in YAML. put it in quotes: '='")]
        return None, [Problem(rel, line, col, f"the YAML tag '{tag}' is not allowed in definitions. remove the "
                                              "tag (quote the value to keep it as text)")]
    return doc, []


_PLAIN_TYPES = (str, int, float, bool, type(None), dt.date)
_STANDARD = "tag:yaml.org,2002:"


def _first_tagged(doc: Any) -> tuple[tuple[int, int], str] | None:
    """The 1-based position and name of the first value written with a YAML tag (`!foo x`, `!!set`,
    `!!python/object/apply:...`), which the round-trip reader keeps as an object of its own (it never builds
    Python objects from tags); None when every value is a plain mapping, list or scalar."""
    return first_value(doc, _tag_of)


def first_value(doc: Any, what: Callable[[Any], str | None]) -> tuple[tuple[int, int], str] | None:
    """The 1-based position of the first node, key or value, in file order, for which `what` says something,
    with what it said; None when it says nothing of any."""
    stack: list[tuple[Any, tuple[int, int]]] = [(doc, _own_position(doc, (0, 0), one_based=True))]
    while stack:
        node, at = stack.pop()
        said = what(node)
        if said is not None:
            return at, said
        if isinstance(node, CommentedMap):
            for k, v in reversed(list(node.items())):
                lc = (node.lc.data or {}).get(k)  # a key merged in with '<<' has none: the mapping's own place
                k_at, v_at = ((lc[0] + 1, lc[1] + 1), (lc[2] + 1, lc[3] + 1)) if lc else (at, at)
                stack += [(v, v_at), (k, k_at)]
        elif isinstance(node, CommentedSeq):
            for i, v in reversed(list(enumerate(node))):
                lc = (node.lc.data or {}).get(i)
                stack.append((v, (lc[0] + 1, lc[1] + 1) if lc else at))
    return None


def _tag_of(node: Any) -> str | None:
    if type(node) in (CommentedMap, CommentedSeq):
        tag = getattr(getattr(node, "tag", None), "value", None)
    elif isinstance(node, _PLAIN_TYPES) and not isinstance(node, TaggedScalar):
        return None
    else:  # a TaggedScalar, a set, an ordered map, bytes ...
        tag = getattr(getattr(node, "tag", None), "value", None) or {
            CommentedSet: "!!set", CommentedOrderedMap: "!!omap", bytes: "!!binary"}.get(type(node), "!!" + type(node).__name__)
    if tag is None:
        return None
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0].rstrip(".")


def _syntax_problem(rel: str, e: MarkedYAMLError) -> Problem:
    """A YAML syntax error in words a YAML beginner can act on, at the most useful mark."""
    problem = (e.problem or "").strip()
    context = (e.context or "").strip()
    at, ctx = e.problem_mark, e.context_mark

    def say(mark, what: str) -> Problem:
        if mark is None:
            mark = at or ctx
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        return Problem(rel, line, col, f"YAML syntax error: {what}")

    opened = re.search(r"while parsing a flow (sequence|mapping)", context)
    if opened and "<stream end>" in problem:
        open_, close = ("[", "]") if opened.group(1) == "sequence" else ("{", "}")
        return say(ctx, f"the '{open_}' opened here is never closed. add the closing '{close}'")
    if opened or context.startswith("while parsing a flow node"):
        found = re.search(r"(?:found|got) (.*)$", problem)
        return say(at, f"unexpected {found.group(1) if found else 'text'} inside [ ] or {{ }}. "
                       "separate items with one comma and close every bracket")
    if "quoted scalar" in context and "end of stream" in problem:
        return say(ctx, "the quoted text that starts here is never closed. add the closing quote")
    if problem.startswith("expected <block end>"):
        return say(at, "this line is not indented like the lines around it. line up the keys of one item "
                       "under each other")
    if problem.startswith("mapping values are not allowed here"):
        return say(at, "a ':' here starts a second key on one line, or the line is indented too far. "
                       "put a value that holds ': ' in quotes, or fix the indentation")
    if context.startswith("more indented follow up line"):
        return say(at, "a line at the start of this | or > block holds only spaces, fewer than the lines after "
                       "it. make that line empty or indent it like the text below it")
    if "found character '\\t'" in problem:
        return say(at, "a tab is used for indentation. indent with spaces")
    bad_start = (re.search(r"found character '(.+)' that cannot start any token", problem)
                 or re.search(r"expected the node content, but found '(.+)'", problem))
    if bad_start:
        return say(at, f"a value cannot start with '{bad_start.group(1)}'. put the value in quotes")
    if problem.startswith("could not find expected ':'"):
        return say(ctx, "this line is neither a key with ':' nor part of the value above it. "
                        "add ':' after the key, or indent the line under its key")
    alias = re.search(r"found undefined alias '(.*?)'", problem)
    if alias:
        return say(at, f"the alias '*{alias.group(1)}' names no anchor. define '&{alias.group(1)}' before it, "
                       "or quote the value if '*' is meant as text")
    if "another document" in problem:
        return say(at, "the file holds several YAML documents (---). keep one document per file")
    what = problem or context or "invalid YAML"
    if context and problem:
        what = f"{problem} ({context})"
    return say(at, f"{what.rstrip('.')}. fix the YAML syntax here")


def _value_problem(rel: str, text: str, error: Exception) -> Problem:
    """A scalar ruamel cannot build (a date like 2026-02-30, `!!int x`), found by building each one alone."""
    yaml = YAML(typ="rt")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            root = yaml.compose(text)
    except Exception:  # noqa: BLE001
        root = None
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            try:
                yaml.constructor.construct_object(node, deep=True)
            except Exception as e:  # noqa: BLE001
                line, col = node.start_mark.line + 1, node.start_mark.column + 1
                tag = str(node.tag)
                if tag.endswith(":timestamp"):
                    return Problem(rel, line, col, f"'{node.value}' is not a real date or time ({_first_line(e)}). "
                                                   "write an existing date as YYYY-MM-DD")
                kind = tag.rsplit(":", 1)[-1]
                return Problem(rel, line, col, f"'{node.value}' cannot be read as {kind}. fix the value or "
                                               "remove the tag")
        elif isinstance(node, MappingNode):
            for k, v in reversed(node.value):
                stack += [v, k]
        elif isinstance(node, SequenceNode):
            stack += reversed(node.value)
    return Problem(rel, 0, 0, f"a value cannot be read ({_first_line(error)}). fix the YAML")


def _count(doc: Any) -> None:
    """Refuse documents that alias themselves or expand past MAX_VALUES (both hang `plain`)."""
    total = 0
    stack: list[tuple[Any, frozenset]] = [(doc, frozenset())]
    while stack:
        node, holders = stack.pop()
        total += 1
        if total > MAX_VALUES:
            raise _TooLarge()
        if isinstance(node, (dict, list)):
            if id(node) in holders:
                raise _Recursive(_own_position(node, default=(0, 0), one_based=True))
            inner = holders | {id(node)}
            children = node.values() if isinstance(node, dict) else node
            if isinstance(node, dict):
                stack += [(k, inner) for k in node.keys() if isinstance(k, (dict, list))]
            stack += [(v, inner) for v in children]


def position(node: Any, path: tuple, value: bool = False) -> tuple[int, int]:
    """1-based (line, col) of the deepest part of `path` present in `node` (0, 0 when unknown).

    With value=True the position of the value rather than its key.
    """
    line, col = _own_position(node)
    for step in path:
        if isinstance(node, CommentedMap) and _has_key(node, step):
            k_line, k_col = node.lc.key(step)
            v_line, v_col = node.lc.value(step)
            line, col = (v_line, v_col) if value else (k_line, k_col)
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            line, col = node.lc.item(step)
            node = node[step]
        else:
            break
    return (line + 1, col + 1) if line >= 0 else (0, 0)


def _has_key(node: CommentedMap, step: Any) -> bool:
    try:
        return step in node
    except TypeError:
        return False


def _own_position(node: Any, default: tuple[int, int] = (-1, -1), one_based: bool = False) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is not None and getattr(lc, "line", None) is not None:
        return (lc.line + 1, lc.col + 1) if one_based else (lc.line, lc.col)
    return default


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
