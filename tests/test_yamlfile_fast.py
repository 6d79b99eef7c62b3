"""read_yaml's libyaml path builds what ruamel's round-trip reader builds, or steps aside for it.

Every test compares the two independent readers, `_read_fast` (libyaml's nodes, ruamel's round-trip
constructor) and `_read_rt` (ruamel's pure-Python reader): on every YAML file the project ships or tests with,
and on generated documents. Where `_read_fast` answers, the round-trip reader must read the file and give the
same values of the same types, at the same positions, quoted the same; with keep_layout it must also write the
document back byte for byte the same.
"""
from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import (DoubleQuotedScalarString, FoldedScalarString, LiteralScalarString,
                                      SingleQuotedScalarString)

from accord.demo import DEFINITIONS, write_demo
from accord.project import yamlfile
from accord.project.yamlfile import _UNSURE, _read_fast, _read_rt, is_quoted, plain, position, read_yaml, \
    value_positions

REPO = Path(__file__).parent.parent


# ---------------------------------------------------------------- comparing two documents

def _same_plain(a, b, where="doc") -> None:
    assert type(a) is type(b), f"{where}: {type(a).__name__} against {type(b).__name__}"
    if isinstance(b, dict):
        assert list(a) == list(b), where
        for k in b:
            _same_plain(a[k], b[k], f"{where}.{k}")
    elif isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same_plain(x, y, f"{where}.{i}")
    elif isinstance(b, float) and math.isnan(b):
        assert math.isnan(a), where
    else:
        assert a == b, f"{where}: {a!r} against {b!r}"


def _same_nodes(a, b, where="doc") -> None:
    """The round-trip objects themselves: classes, line/column records, flow style, every key and leaf."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} against {type(b).__name__}"
    assert is_quoted(a) == is_quoted(b), where
    if isinstance(b, (CommentedMap, CommentedSeq)):
        assert (a.lc.line, a.lc.col) == (b.lc.line, b.lc.col), where
        assert a.lc.data == b.lc.data, where
        assert a.fa.flow_style() == b.fa.flow_style(), where
    if isinstance(b, CommentedMap):
        assert [(type(k), k) for k in a] == [(type(k), k) for k in b], where
        for k in b:
            _same_nodes(a[k], b[k], f"{where}.{k}")
    elif isinstance(b, CommentedSeq):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same_nodes(x, y, f"{where}.{i}")
    elif isinstance(b, float) and math.isnan(b):
        assert math.isnan(a), where
    else:
        assert a == b, f"{where}: {a!r} against {b!r}"


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _dump(doc) -> str:
    out = io.StringIO()
    YAML(typ="rt").dump(doc, out)
    return out.getvalue()


def assert_equivalent(fast, rt, layout: bool) -> None:
    """What callers read from a document is the same in both; with `layout`, what a writer writes too."""
    _same_plain(plain(fast), plain(rt))
    assert value_positions(fast) == value_positions(rt)
    for path in _paths(rt):
        for tail in ((), ("no such key",), (10**6,)):
            assert position(fast, path + tail) == position(rt, path + tail), path + tail
            assert position(fast, path + tail, value=True) == position(rt, path + tail, value=True), path + tail
    _same_nodes(fast, rt)
    if layout:
        assert _dump(fast) == _dump(rt)


def check_text(text: str) -> int:
    """Compare the readers on one text; returns how many of the two layouts the fast path read."""
    rt, problems = _read_rt(text, "file.yml")
    fast_reads = 0
    for layout in (True, False):
        fast = _read_fast(text, keep_layout=layout)
        if fast is _UNSURE:
            continue
        assert problems == [], f"the fast path read a file the round-trip reader refuses: {problems}"
        assert_equivalent(fast, rt, layout)
        fast_reads += 1
    return fast_reads


def check_file(path: Path, rel: str) -> int:
    """read_yaml against the round-trip reader, problems included, in both layouts."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return 0  # read_yaml reports these before either reader runs
    rt, problems = _read_rt(text, rel)
    for layout in (True, False):
        doc, got = read_yaml(path, rel, keep_layout=layout)
        assert got == problems
        if not problems:
            assert_equivalent(doc, rt, layout)
    return check_text(text)


# ---------------------------------------------------------------- every YAML file at hand

def _shipped() -> list[str]:
    found = [p for pattern in ("tests/**/*.yml", "tests/**/*.yaml", "accord/scaffold_files/*.yml",
                               "bench/data/*/project/**/*.yml", "bench/data/*/project/**/*.yaml")
             for p in REPO.glob(pattern)]
    return sorted(p.relative_to(REPO).as_posix() for p in found)


SHIPPED = _shipped()
DEMO = sorted(p.relative_to(DEFINITIONS).as_posix() for p in DEFINITIONS.rglob("*.yml"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return write_demo(tmp_path_factory.mktemp("demo"))


def test_there_are_files_to_compare():
    assert len(SHIPPED) >= 60 and len(DEMO) >= 10


@pytest.mark.parametrize("rel", SHIPPED)
def test_a_shipped_file_reads_the_same(rel):
    check_file(REPO / rel, rel)


@pytest.mark.parametrize("rel", DEMO)
def test_a_demo_file_reads_the_same(demo, rel):
    check_file(demo / rel, rel)


def test_the_fast_path_reads_the_demo_when_the_layout_is_not_kept(demo):
    assert sorted(p.relative_to(demo).as_posix() for p in demo.rglob("*.yml")) == DEMO
    # every demo file has comments, so keep_layout=True leaves them all to the round-trip reader
    for rel in DEMO:
        text = (demo / rel).read_text(encoding="utf-8")
        assert _read_fast(text, keep_layout=True) is _UNSURE, rel
        assert _read_fast(text, keep_layout=False) is not _UNSURE, rel


def test_the_fast_path_reads_a_file_without_comments_or_blank_lines_in_full():
    text = ("teams:\n- {name: sales, lead: 'a@x.example'}\nmetrics:\n- name: pipeline\n  team: sales\n"
            "  measure: sum(amount)\n  since: 2026-01-01\n  target: {value: 1.50, by: 2026-12-31}\n"
            "  include:\n  - sql: |\n      stage in ('a', 'b')\n        and not is_test\n  decided: yes\n")
    assert check_text(text) == 2
    doc = _read_fast(text)
    assert type(doc["metrics"][0]["include"][0]["sql"]) is LiteralScalarString
    assert type(doc["teams"][0]["lead"]) is SingleQuotedScalarString
    assert doc["metrics"][0]["since"] == dt.date(2026, 1, 1) and doc["metrics"][0]["decided"] == "yes"


@pytest.mark.parametrize("text", [
    "a: &x [1, 2]\nb: *x\n",                   # anchors and aliases: _count's protections stay in force
    "a: &x [*x]\n",
    "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",
    "a: !!str 12\n", "a: !custom x\n", "? [a]\n: 1\n", "%YAML 1.1\n---\na: yes\n", "a: 1\n...\n",
    "a: 1\na: 2\n",                             # duplicate keys: the round-trip reader words the problem
    "a: 2026-02-30\n",                          # no such date
    "a: 1\n---\nb: 2\n",                        # two documents
    "a:\n\tb: 1\n", "a: [1, 2\n", "a: 'x\n",    # syntax errors
    "a: >\n  folded\n  text\n",                 # fold positions are layout
    "a: 1 # note\n", "a: 1\n\nb: 2\n",          # comments and blank lines are layout
    "a:\nb: 1\n",                              # an empty value: its position differs between the two
    "just text\n", "|\n# text\n",               # a lone value
    "a: x\ty\n",                               # a tab in plain text: libyaml reads it, ruamel refuses it
    "a: =\n",                                  # YAML 1.1's value key: ruamel builds a TaggedScalar
    "a: |\n  \n   x\n", "a: >-\n \n  \n  x\n",  # a first line of spaces, then one indented further
])
def test_what_the_fast_path_leaves_to_the_round_trip_reader(text):
    assert _read_fast(text, keep_layout=True) is _UNSURE
    check_text(text)


def test_the_round_trip_reader_still_refuses_alias_bombs_and_deep_nesting(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6))
    for name, text, words in (("bomb.yml", bomb, "expands to more than"),
                              ("deep.yml", "[" * 600 + "]" * 600, "nests lists and mappings")):
        (tmp_path / name).write_text(text)
        doc, problems = read_yaml(tmp_path / name, name, keep_layout=False)
        assert doc is None and len(problems) == 1 and words in problems[0].message
    # libyaml would overflow the C stack composing this; the fast path must step aside before it tries
    assert _read_fast("[" * 100_000 + "]" * 100_000, keep_layout=False) is _UNSURE
    assert check_text("[" * 150 + "]" * 150) == 0   # deeper than the fast path goes, but read
    assert check_text("[" * 50 + "]" * 50) == 2


def test_without_libyaml_read_yaml_uses_the_round_trip_reader(tmp_path, monkeypatch):
    path = tmp_path / "a.yml"
    path.write_text("a: [1, 'b']\n")
    monkeypatch.setattr(yamlfile, "CParser", None)
    monkeypatch.setattr(yamlfile, "_read_fast", lambda *a, **k: pytest.fail("the fast path ran"))
    doc, problems = read_yaml(path, "a.yml")
    assert problems == [] and plain(doc) == {"a": [1, "b"]} and is_quoted(doc["a"][1])


# ---------------------------------------------------------------- generated documents

# plain tokens the resolver reads as numbers, booleans, nulls, dates or strings that look like them
LOOKALIKES = [
    "0", "-12", "+5", "0x1F", "0o17", "017", "0b101", "1_000", "-0", "1.5", "-0.25", "1e3", "1.0e-3", ".5", "1.",
    "+.5", "6.0E+2", "1_0.0_1", ".inf", "-.Inf", ".NaN", "true", "False", "TRUE", "yes", "No", "on", "off", "y",
    "~", "null", "Null", "NULL", "2024-01-02", "2024-1-2", "2024-01-02T10:00:00Z", "2024-01-02 10:00:00.5 +01:00",
    "2024-01-02t10:00:00", "2024-01-02 10:00:00", "12:30:00", "1:20", "1,000", "-", "--", "a#b", "@x", "`x",
    "%x", "http://x.example/a#b", "é", "😀", "中文", "a  b", "a'b", "?x", "<<", "=",
]
# tokens that are something else, or nothing valid, where a value goes
ODD = ["2024-02-30", "---", "a: b", "- a", "x\ty", "'", '"', "[x]", "{x}", "!x", "&x", "*x", "|", ">", "#x",
       "[x", "x]", "{x: [y}", "? x", "!!str 1", "&a x", "*a"]
_word = st.from_regex(r"[a-z][a-z0-9_]{0,6}( [a-z0-9_().,'*=<>-]{1,8}){0,4}", fullmatch=True)
_chars = st.characters(codec="utf-8", exclude_categories=("Cs",))
_text = st.text(_chars, max_size=16)
_lines = st.lists(st.sampled_from(["x", "select 1", "  indented", "", " ", "# not a comment", "a: b", "- c", "é😀",
                                   "'q'", "\\n"]), min_size=0, max_size=5)


class Raw(str):
    """A token written into the text as it is, in place of the placeholder the emitter wrote."""


_common = st.one_of(
    st.sampled_from(LOOKALIKES).map(Raw), _word, st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)), st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1)),
    _text.map(SingleQuotedScalarString), _text.map(DoubleQuotedScalarString),
    _lines.map(lambda ls: LiteralScalarString("\n".join(ls) + "\n")),
)
_rare = st.one_of(st.sampled_from(ODD).map(Raw), st.none(), _text,
                  _lines.map(lambda ls: FoldedScalarString("\n".join(ls) + "\n")))
_leaf = st.one_of(_common, _common, _common, _rare)  # one leaf in four is odd, empty or folded
_key = st.one_of(_word, st.sampled_from(LOOKALIKES).map(Raw), st.integers(-99, 99), _text,
                 _text.map(SingleQuotedScalarString), _text.map(DoubleQuotedScalarString))


def _collection(children):
    def build(pairs_or_items, flow):
        if isinstance(pairs_or_items, dict):
            node = CommentedMap(pairs_or_items)
        else:
            node = CommentedSeq(pairs_or_items)
        node.fa.set_flow_style() if flow else node.fa.set_block_style()
        return node
    return st.builds(build, st.one_of(st.dictionaries(_key, children, max_size=5),
                                      st.lists(children, max_size=5)), st.booleans())


_tree = st.recursive(_leaf, _collection, max_leaves=25)


@st.composite
def documents(draw) -> str:
    """YAML text: a generated tree written by ruamel in a drawn layout, then edited the way people edit."""
    tree = draw(_collection(_tree) | _tree)
    raws: dict[str, str] = {}

    def placeholders(node):
        """A copy of `node` with a placeholder in place of each Raw token (the drawn tree stays as drawn)."""
        if isinstance(node, Raw):
            raws[f"ph{len(raws)}x"] = str(node)
            return f"ph{len(raws) - 1}x"
        if isinstance(node, (CommentedMap, CommentedSeq)):
            copy = (CommentedMap((placeholders(k), placeholders(v)) for k, v in node.items())
                    if isinstance(node, CommentedMap) else CommentedSeq(placeholders(v) for v in node))
            copy.fa.set_flow_style() if node.fa.flow_style() else copy.fa.set_block_style()
            return copy
        return node

    tree = placeholders(tree)
    yaml = YAML(typ="rt")
    offset = draw(st.integers(0, 2))
    yaml.indent(mapping=draw(st.integers(2, 4)), sequence=offset + draw(st.integers(2, 3)), offset=offset)
    yaml.width = draw(st.integers(20, 100))
    yaml.explicit_start = draw(st.booleans())
    out = io.StringIO()
    yaml.dump(tree, out)
    text = out.getvalue()
    for ph, raw in raws.items():
        text = text.replace(ph, raw)
    lines = text.split("\n")
    edits = draw(st.booleans())
    for _ in range(draw(st.integers(0, 3)) if edits else 0):
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] += draw(st.sampled_from([" # note", "  #", " ", "\t", "#x", ":", ","]))
    for _ in range(draw(st.integers(0, 2)) if edits else 0):
        i = draw(st.integers(0, len(lines)))
        lines.insert(i, draw(st.sampled_from(["", "  ", "# note", "    # note", "---"])))
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text


def test_generated_documents_read_the_same():
    fast_reads = []

    @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(documents())
    # a block whose first line holds only spaces, with a later line indented further: libyaml reads it,
    # ruamel refuses it ("more indented follow up line than first in a block scalar")
    @example("---\nfxp7lgz x0oxn4< xb_ v h: >\n  \n   \\n\n\n   # not a comment\n\n   'q'\n\n   select 1\n"
             "     indented\ngz60v8s 4 o bcea.xk6 9l-u: \"\"\n")
    @example("a: |\n  \n   x\n")
    @example("a:\n- |-\n \r\n  x\r\n")
    def compare(text):
        fast_reads.append(check_text(text))

    compare()
    # else this could pass by leaving every document to the round-trip reader
    assert fast_reads.count(2) >= 60, fast_reads.count(2)


# pieces of YAML joined at random: text mostly broken, or valid in odd ways, where the two readers could part
FRAGMENTS = ["a", "b1", "é", "😀", " ", "  ", "\n", "\r\n", "\r", ":", ": ", "k: ", "- ", "-", "[", "]", "{", "}", ",",
             ", ", "'", '"', "\\", "\\x41", "\\u00e9", "#", " #c", "#c\n", "|", "|-", "|+", "|2", ">", ">-", "\t",
             "&a ", "*a", "!!str ", "? ", "---\n", "...\n", "1", "0x1", "1.5", "2024-01-02", "true", "null", "~",
             "\n ", "\n  ", "\n    ", "\n- ", "\n  - ", "<<: "]


def test_any_text_reads_the_same():
    fast_reads = []

    @settings(max_examples=1500, deadline=None)
    @given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
    @example("k: |\n  \n    a\n")
    @example("- |\n \n  a\n")
    def compare(text):
        fast_reads.append(check_text(text))

    compare()
    assert sum(1 for n in fast_reads if n) >= 30  # most such texts are not valid YAML; some must be read fast
