"""The loader: every load problem as a golden error file, file discovery, and robustness on any YAML.

Each folder under tests/golden/load/ is a small project whose `expected.txt` holds the exact error lines
`load_project` must raise, one per line. Run with ACCORD_UPDATE_GOLDEN=1 to rewrite them, then read
every changed line in the diff: these lines are the first thing a user sees.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import UserError
from accord.project.loader import load_project
from accord.project.model import SECTIONS

GOLDEN = Path(__file__).parent / "golden" / "load"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "accord.yml").exists() or (p / "expected.txt").exists())
UPDATE = os.environ.get("ACCORD_UPDATE_GOLDEN") == "1"


def _load_error_lines(root: Path) -> list[str]:
    try:
        load_project(root)
    except UserError as e:
        return e.lines()
    return []


def _snapshot(root: Path) -> dict[str, str]:
    """Every file under root (expected.txt aside) with the hash of its bytes."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "expected.txt"}


# ---------------------------------------------------------------- golden error files

def test_there_are_golden_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_load_errors_match_golden(case):
    root = GOLDEN / case
    before = _snapshot(root)
    got = _load_error_lines(root)
    assert _snapshot(root) == before, "a failed load changed the project folder"
    expected_file = root / "expected.txt"
    text = "".join(line + "\n" for line in got)
    if UPDATE:
        expected_file.write_text(text, encoding="utf-8")
    assert got, f"{case}: the project loaded, but every golden case must fail to load"
    assert expected_file.exists(), f"{case}: no expected.txt; run with ACCORD_UPDATE_GOLDEN=1 and review it"
    assert text == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_golden_lines_say_where_and_what_to_do(case):
    """Every line names a relative file and a line, and holds a sentence on what to do after the problem."""
    for line in (GOLDEN / case / "expected.txt").read_text(encoding="utf-8").splitlines():
        where, _, message = line.partition(": ")
        file, _, pos = where.partition(":")
        assert file and not file.startswith("/") and "\\" not in file, line
        assert pos and all(part.isdigit() and int(part) > 0 for part in pos.split(":")), line
        assert ". " in message.rstrip("."), f"no 'what to do' after the problem: {line}"
        assert str(GOLDEN) not in line and str(Path.home()) not in line, line


def test_golden_lines_are_sorted_and_unique():
    for case in CASES:
        lines = (GOLDEN / case / "expected.txt").read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(set(lines)), case


# ---------------------------------------------------------------- nothing is changed

def _copy_case(case: str, tmp_path: Path) -> Path:
    root = tmp_path / case
    shutil.copytree(GOLDEN / case, root)
    (root / "expected.txt").unlink()
    return root


@pytest.mark.parametrize("case", ["many_problems_many_files", "clause_is_statement", "yaml_syntax_error"])
def test_failed_load_leaves_every_byte_and_file_in_place(case, tmp_path):
    root = _copy_case(case, tmp_path)
    before = _snapshot(root)
    names_before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    with pytest.raises(UserError):
        load_project(root)
    assert _snapshot(root) == before
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == names_before


# ---------------------------------------------------------------- which files are read

VALID_METRICS = """\
sources:
  - {name: crm, path: data/crm.csv, time: created_at}
metrics:
  - {name: pipeline, team: sales, level: function, source: crm, measure: sum(amount)}
"""


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


def test_yaml_without_definition_keys_is_skipped_and_listed(tmp_path):
    root = _project(tmp_path, {
        "accord.yml": "project: acme\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "metrics/sales.yml": VALID_METRICS,
        "notes.yml": "owner: someone\nlist: [1, 2]\n",
        "empty.yaml": "",
        "comment_only.yml": "# nothing here yet\n",
        "scalar.yml": "just a sentence\n",
        "list.yml": "- a\n- b\n",
    })
    project = load_project(root)
    assert project.files_read == ("metrics/sales.yml",)
    assert project.files_skipped == ("comment_only.yml", "empty.yaml", "list.yml", "notes.yml", "scalar.yml")
    assert [m.name for m in project.metrics] == ["pipeline"]


@pytest.mark.parametrize("folder", [".hidden", "defs/.cache", "prework", "target", "dbt_packages",
                                    "node_modules", "sub/node_modules"])
def test_skipped_folders_are_not_read(tmp_path, folder):
    broken = "metrics: [this is: [not valid\n"
    root = _project(tmp_path, {
        "accord.yml": "project: acme\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "metrics/sales.yml": VALID_METRICS,
        f"{folder}/broken.yml": broken,
        f"{folder}/more/broken.yaml": broken,
    })
    project = load_project(root)
    assert project.files_read == ("metrics/sales.yml",)
    assert project.files_skipped == ()


def test_a_folder_named_like_a_skipped_one_only_deeper_in_its_name_is_read(tmp_path):
    root = _project(tmp_path, {
        "accord.yml": "project: acme\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "targets/sales.yml": VALID_METRICS,
    })
    assert load_project(root).files_read == ("targets/sales.yml",)


def test_paths_globs_select_exactly_those_files(tmp_path):
    root = _project(tmp_path, {
        "accord.yml": "project: acme\npaths: ['definitions/**/*.yml']\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "definitions/sales.yml": VALID_METRICS,
        "definitions/deep/teams.yml": "teams:\n  - {name: sales}\n",
        "definitions/deep/other.yaml": "metrics: [broken\n",      # .yaml: not matched by the glob
        "elsewhere/broken.yml": "metrics: [broken\n",
        "broken.yml": "metrics: [broken\n",
    })
    project = load_project(root)
    assert project.files_read == ("definitions/deep/teams.yml", "definitions/sales.yml")
    assert [t.name for t in project.teams] == ["sales"]


def test_paths_globs_may_read_skipped_folders_when_named(tmp_path):
    root = _project(tmp_path, {
        "accord.yml": "project: acme\npaths: ['target/*.yml']\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "target/sales.yml": VALID_METRICS,
    })
    assert load_project(root).files_read == ("target/sales.yml",)


def test_accord_yml_is_never_a_definitions_file(tmp_path):
    root = _project(tmp_path, {
        "accord.yml": "project: acme\npaths: ['*.yml']\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "sales.yml": VALID_METRICS,
    })
    project = load_project(root)
    assert project.files_read == ("sales.yml",)
    assert "accord.yml" not in project.files_skipped


def test_a_valid_project_loads_frozen(tmp_path):
    root = _project(tmp_path, {
        "accord.yml": "project: acme\nsettings: {compare_grain: month, synonyms: {pipeline: [pipe]}}\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "metrics/sales.yml": VALID_METRICS,
    })
    project = load_project(root)
    assert project.settings.compare_grain == "month"
    with pytest.raises(Exception):
        project.metrics[0].name = "other"  # type: ignore[misc]


def test_missing_project_folder_and_missing_accord_yml_are_user_errors(tmp_path):
    with pytest.raises(UserError) as e:
        load_project(tmp_path / "nowhere")
    assert "does not exist" in e.value.lines()[0]
    with pytest.raises(UserError) as e:
        load_project(tmp_path)
    assert "no accord.yml" in e.value.lines()[0]


# ---------------------------------------------------------------- robustness: only UserError, ever

_KEYS = sorted({"name", "team", "level", "source", "measure", "ratio", "formula", "include", "exclude", "sql",
                "path", "table", "time", "target", "parents", "label", "owner", "customer", "touches", "rules",
                "numerator", "denominator", "direction", "value", "period", "metric", "lag", "from", "to",
                "until", "decided_on", "code", "reason", "max_touches", "within", "quiet", "block_teams",
                "while", "canonical", "follow_ups", "due", "done", "x"})
# Raw YAML values, written unquoted: each is a way a definition goes wrong (or right).
_RAW = ["sum(amount)", "count(*)", "amount", "drop table x", "'1=1; drop table x'", "select * from crm",
        "select * from", "delete from crm", "'select ''open'", "with a as (select 1) insert into y select 1",
        "crm", "pipeline", "new_arr - churned", "round(a)", "a ->", "12", "-1", "0", "1e999", ".nan", "true",
        "null", "~", "''", "company", "ceo", "up", "6w", "abc", "2026-01-01", "2026-02-30", "2026-13-45",
        "2026-01-01T25:00:00", "!!int x", "!!bool x", "!!binary x", "!!python/object:os.system x",
        "!!set {a}", "[a, b]", "[a, [b, {c: d}]]", "{numerator: a, denominator: b}", "{numerator: a}",
        "{direction: up, value: lots}", "[{metric: a, lag: abc}]", "[{name: q, sql: 'sum(a)'}]",
        "[{name: q, sql: 'drop table x'}]", "[{name: q}]", "{from: '8pm', to: 08:00}", "&a [*a]", "*nope",
        "[", "{", "}", "'", '"', ":", "- x", "@x", "`x`", "%x", "|", ">", "data/crm.csv", "../../x.csv",
        "/etc/passwd", "data/x.xlsx", "\t", "x: y", "Europe/Berln"]
_raw_item = st.lists(st.tuples(st.sampled_from(_KEYS), st.sampled_from(_RAW)), min_size=1, max_size=6)
_raw_document = st.lists(
    st.tuples(st.sampled_from(sorted(SECTIONS) + ["other", "metric"]), st.lists(_raw_item, max_size=3)),
    min_size=1, max_size=3,
).map(lambda sections: "".join(
    f"{section}:\n" + "".join("  - " + "\n    ".join(f"{k}: {v}" for k, v in item) + "\n" for item in items)
    for section, items in sections))

_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
            | st.text(string.printable, max_size=12) | st.sampled_from(_RAW))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4), max_leaves=12)
_documents = st.dictionaries(st.sampled_from(sorted(SECTIONS)), _values, min_size=1, max_size=3)


def _dump(value) -> str:
    import io

    from ruamel.yaml import YAML
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump(value, buf)
    return buf.getvalue()


_file_bodies = (
    _raw_document
    | _documents.map(_dump)
    | st.text(max_size=200)
    | st.binary(max_size=200)
    | st.lists(st.sampled_from(["metrics:", "sources:", "teams: [", "  - name: a", "    sql: drop", "- x", ": :",
                                "{a: 1, a: 2}", "\t- tab", "&x [*x]", "? [a]", "? {a: &k [*k]}", "  team: 12",
                                "%YAML 1.1", "---", "...", "a: &a [1, 1]", "b: [*a, *a, *a]"]),
               max_size=8).map("\n".join)
)
_configs = st.one_of(
    st.just("project: acme\n"),
    st.lists(st.tuples(st.sampled_from(["project", "engine", "paths", "settings", "projet"]),
                       st.sampled_from(_RAW + ["['*.yml']", "['.']", "['**a']", "['']", "{path: nowhere.db}",
                                               "{type: postgres}", "{alpha: 2, timezone: Mars/Base}",
                                               "{synonyms: {a: b}}", "{as_of: 2026-02-30}"])),
             max_size=4).map(lambda pairs: "project: acme\n" + "".join(f"{k}: {v}\n" for k, v in pairs)),
    _values.map(lambda v: _dump({"project": "acme", "settings": v})),
    st.text(max_size=60),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(body=_file_bodies, config=_configs)
def test_loading_any_yaml_raises_only_user_error(tmp_path_factory, body, config):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "accord.yml").write_text(config, encoding="utf-8")
    (root / "data").mkdir()
    (root / "data" / "crm.csv").write_text("id,created_at,amount\n1,2026-01-05,10\n", encoding="utf-8")
    p = root / "defs.yml"
    if isinstance(body, bytes):
        p.write_bytes(body)
    else:
        p.write_text(body, encoding="utf-8")
    before = _snapshot(root)
    try:
        load_project(root)
    except UserError as e:
        assert e.lines() and all(line and "\n" not in line for line in e.lines())
    assert _snapshot(root) == before
