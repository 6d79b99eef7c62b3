"""The loader under fuzz: YAML tags, aliases, huge and odd values put anywhere in a valid project. Every
outcome is a loaded project or a UserError of one-line problems (file:line: what. what to do); never another
exception, never a Python object built from a tag, and alias bombs and huge files are refused fast in bounded
memory."""
from __future__ import annotations

import re
import sys
import time
import tracemalloc

import pytest
from factory import write_project
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accord.errors import UserError
from accord.project.loader import load_project

DEFS = """\
teams:
  - name: sales
    lead: lead@x.example
sources:
  - name: orders
    path: data/orders.csv
    key: id
    time: ordered_at
    freshness: {warn_after: 7d, error_after: 30d}
metrics:
  - name: revenue
    label: Revenue
    team: sales
    level: company
    owner: a@x.example
    decision: Board
    source: orders
    measure: sum(amount)
    exclude: []
    since: 2026-01-01
    target: {direction: up, value: 100, period: month}
  - name: orders_placed
    team: sales
    level: function
    owner: a@x.example
    decision: Weekly review
    source: orders
    measure: count(*)
    exclude: []
    parents: [{metric: revenue, lag: 1w}]
"""
CONFIG = "project: shop\nsettings: {as_of: 2026-03-10, trend_window: 13w, alpha: 0.05}\n"
ORDERS = "id,amount,ordered_at\n1,10.5,2026-01-05\n"

ODD_VALUES = [
    "!!python/object/apply:os.system ['touch PWNED']", "!!python/object/new:os.system [x]", "!!python/name:os.system",
    "!!python/object:os.X {a: 1}", "!custom x", "!!set {a, b}", "!!omap [{a: 1}]", "!!binary aGVsbG8=", "!!str 12",
    "!!int x", "!!float y", "!!timestamp 2026-02-30", "!<tag:x.example,2026:a> b", "&a x", "*a", "*undefined",
    "1e999", "-1e999", ".inf", "-.Inf", ".nan", "1e308", "-1.7e308", "5e-324", "1" + "0" * 400, "-" + "9" * 60,
    "0x" + "f" * 80, "99999999999999999999w", "999999999w", "0w", "-1w", "1.5w", "9999-12-31", "0001-01-01",
    "10000-01-01", "2026-02-30", "2026-13-01", "'" + "x" * 5000 + "'", "[" * 60 + "]" * 60, "{a: {b: {c: [1]}}}",
    "", "~", "null", "[]", "{}", "'\\x00'", '"\\0\\x01"', "'\u202e'", "é😀", "yes", "=", "<<", "? x",
    "|\n  text", ">-\n  folded", "[a, *undefined]",
]
_LINES = DEFS.splitlines()
_VALUE_LINES = [i for i, line in enumerate(_LINES) if re.match(r"^\s*-? ?[a-z_]+: \S", line)]


@st.composite
def mutated(draw) -> tuple[str, str]:
    """(definitions text, accord.yml text) with a few values replaced by odd ones, maybe an alias bomb."""
    lines = list(_LINES)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.sampled_from(_VALUE_LINES))
        key, _, _ = lines[i].partition(": ")
        value = draw(st.sampled_from(ODD_VALUES) | st.text(max_size=20).map(repr))
        if "\n" in value:
            indent = len(key) - len(key.lstrip(" -")) + 2
            value = value.replace("\n", "\n" + " " * indent)
        lines[i] = f"{key}: {value}"
    config = CONFIG
    if draw(st.booleans()):
        setting = draw(st.sampled_from(["trend_window", "alpha", "as_of"]))
        value = draw(st.sampled_from(ODD_VALUES))
        replacement = f"{setting}: {value}".replace("\n", " ")
        config = re.sub(rf"{setting}: [^,}}]*", lambda _: replacement, config)
    text = "\n".join(lines) + "\n"
    if draw(st.integers(0, 9)) == 0:
        text = "x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n" + "".join(
            f"x{i}: &x{i} [{', '.join(['*x' + str(i - 1)] * 10)}]\n" for i in range(1, 9)) + text
    return text, config


def assert_loads_or_refuses(root) -> None:
    try:
        project = load_project(root)
    except UserError as e:
        lines = e.lines()
        assert lines, "a refusal says what is wrong"
        for line in lines:
            assert "\n" not in line and "Traceback" not in line, line
            assert line.strip(), lines
    else:
        assert project.metrics is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated())
@example(("sources:\n  - name: !!python/object/apply:os.system ['touch PWNED']\n", CONFIG))
@example((DEFS.replace("value: 100", "value: 1e999"), CONFIG))
@example((DEFS.replace("lag: 1w", "lag: 99999999999999999999w"), CONFIG))
@example((DEFS.replace("decision: Board", "decision: ="), CONFIG))
def test_the_loader_loads_or_refuses_in_one_line_each(tmp_path_factory, case):
    text, config = case
    root = write_project(tmp_path_factory.mktemp("p"), {"defs.yml": "", "data/orders.csv": ORDERS}, config)
    (root / "defs.yml").write_text(text, encoding="utf-8")
    assert_loads_or_refuses(root)
    assert not (root / "PWNED").exists() and not any(root.parent.glob("**/PWNED"))


def _bomb(levels: int) -> str:
    return "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 10)}]\n" for i in range(1, levels)) + \
        f"metrics: *a{levels - 1}\n"


@pytest.mark.parametrize("levels", [6, 9, 12])
def test_an_alias_bomb_is_refused_fast_in_bounded_memory(tmp_path, levels):
    root = write_project(tmp_path / "p", {"defs.yml": _bomb(levels), "data/orders.csv": ORDERS}, CONFIG)
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(UserError) as refused:
        load_project(root)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert refused.value.lines() == ["defs.yml: expands to more than 200,000 values through its anchors and aliases "
                                     "(&, *). write the definitions out without nested aliases"]
    assert peak < 100 * 2**20, peak          # 10**levels values would take gigabytes
    assert seconds < 30, seconds             # generous for a loaded machine: it takes well under a second


def test_a_file_past_the_size_limit_is_refused_before_it_is_read(tmp_path):
    root = write_project(tmp_path / "p", {"data/orders.csv": ORDERS}, CONFIG)
    with open(root / "huge.yml", "w") as f:
        f.write("metrics:\n")
        block = "".join(f"  - {{name: m{i}, team: sales, level: role, source: orders, measure: count(*)}}\n"
                        for i in range(1000))
        while f.tell() < 6_000_000:
            f.write(block)
    tracemalloc.start()
    with pytest.raises(UserError) as refused:
        load_project(root)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = (root / "huge.yml").stat().st_size
    assert refused.value.lines() == [f"huge.yml: is {size / 1e6:.1f} MB; a YAML file accord reads holds at most 5 MB. "
                                     "split it into several files"]
    assert peak < 20 * 2**20, peak           # never read into memory


def test_a_plain_file_with_too_many_values_is_refused_for_that_and_not_for_anchors(tmp_path):
    root = write_project(tmp_path / "p", {"data/orders.csv": ORDERS}, CONFIG)
    items = "".join(f"  - {{name: m{i}, team: sales, level: role, source: orders, measure: count(*)}}\n"
                    for i in range(40_000))   # 40,000 × (1 mapping + 10 keys and values) values
    (root / "many.yml").write_text("metrics:\n" + items)
    with pytest.raises(UserError) as refused:
        load_project(root)
    assert refused.value.lines() == ["many.yml: holds more than 200,000 values (keys, items and texts). split it into "
                                     "several files"]


def test_a_large_file_only_the_slow_reader_takes_is_refused_with_the_reason(tmp_path):
    root = write_project(tmp_path / "p", {"data/orders.csv": ORDERS}, CONFIG)
    items = "".join(f"  - {{name: m{i}, team: sales, level: role, source: orders, measure: count(*)}}\n"
                    for i in range(15_000))
    (root / "big.yml").write_text("base: &b {team: sales}\nmetrics:\n" + items)
    size = (root / "big.yml").stat().st_size
    assert size > 1_000_000
    with pytest.raises(UserError) as refused:
        load_project(root)
    assert refused.value.lines() == [f"big.yml: is {size / 1e6:.1f} MB and uses YAML that accord reads only in files "
                                     "under 1 MB (anchors and aliases, tags, comments kept for writing back). split "
                                     "it into smaller files, or write it as plain YAML"]
