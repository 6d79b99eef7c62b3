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


def test_an_unreadable_yaml_file_without_definition_keys_is_skipped_not_an_error(tmp_path):
    root = _project(tmp_path, {
        "accord.yml": "project: acme\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "metrics/sales.yml": VALID_METRICS,
        "charts/values.yaml": "image: {{ .Values.image }}\nports: [80\n",
        "compose.yml": "services:\n\tweb: {}\n",
    })
    project = load_project(root)
    assert project.files_read == ("metrics/sales.yml",)
    assert project.files_skipped == ("charts/values.yaml", "compose.yml")


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


def test_a_dbt_project_inside_the_project_is_not_read(tmp_path):
    """Its `metrics:` are dbt's (imported with `accord import dbt`), not accord definitions."""
    root = _project(tmp_path, {
        "accord.yml": "project: acme\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "metrics/sales.yml": VALID_METRICS,
        "dbt/dbt_project.yml": "name: shop\n",
        "dbt/models/semantic.yml": "metrics:\n  - {name: x, type: simple, type_params: {measure: y}}\n",
    })
    assert load_project(root).files_read == ("metrics/sales.yml",)


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


# ---------------------------------------------------------------- statements are refused before anything runs

STATEMENTS = ["drop table crm", "delete from crm", "insert into crm values (1)", "update crm set amount = 0",
              "create table y as select 1", "alter table crm add column z int", "truncate table crm",
              "attach 'other.db'", "detach other", "copy crm to 'out.csv'", "install httpfs", "load httpfs",
              "pragma version", "set threads = 1", "call f()", "vacuum", "grant select on crm to x",
              "use other", "describe crm", "show tables", "begin", "commit", "summarize crm",
              "1=1; drop table crm", "amount > 0; delete from crm", "(delete from crm)",
              "amount in (select amount from crm)", "exists (select 1)"]


def _with_clause(tmp_path: Path, sql: str, where: str = "include") -> Path:
    quoted = sql.replace("'", "''")
    return _project(tmp_path, {
        "accord.yml": "project: acme\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "defs.yml": "sources:\n  - {name: crm, path: data/crm.csv, time: created_at}\n"
                    "metrics:\n  - name: pipeline\n    team: sales\n    level: function\n    source: crm\n"
                    + (f"    measure: '{quoted}'\n" if where == "measure" else
                       f"    measure: sum(amount)\n    {where}:\n      - name: clause\n        sql: '{quoted}'\n"),
    })


@pytest.mark.parametrize("sql", STATEMENTS)
@pytest.mark.parametrize("where", ["include", "exclude", "measure"])
def test_a_statement_in_a_clause_or_measure_is_refused(tmp_path, sql, where):
    root = _with_clause(tmp_path, sql, where)
    with pytest.raises(UserError) as e:
        load_project(root)
    (line,) = e.value.lines()
    assert line.startswith(f"defs.yml:{11 if where != 'measure' else 8}:"), line
    assert "COMMAND" not in line and "an USE" not in line, line
    assert "metric 'pipeline'" in line


def test_a_plain_clause_still_loads(tmp_path):
    project = load_project(_with_clause(tmp_path, "amount > 0 and created_at is not null"))
    assert project.metrics[0].include[0].sql == "amount > 0 and created_at is not null"


@pytest.mark.parametrize("sql", ["delete from crm", "select 1; drop table crm", "drop table crm",
                                 "with x as (select 1) delete from crm", "create table y as select 1",
                                 "insert into crm select * from crm", "copy (select 1) to 'out.csv'",
                                 "attach 'other.db'", "select * from crm where id in (select 1); vacuum",
                                 "select 'unterminated", "", "   "])
def test_a_sql_source_that_writes_or_is_not_one_select_is_refused(tmp_path, sql):
    quoted = sql.replace("'", "''")
    root = _project(tmp_path, {
        "accord.yml": "project: acme\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "defs.yml": "sources:\n  - {name: crm, path: data/crm.csv, time: created_at}\n"
                    f"  - name: derived\n    sql: '{quoted}'\n    time: created_at\n",
    })
    with pytest.raises(UserError) as e:
        load_project(root)
    assert any(line.startswith("defs.yml:4:") and "source 'derived'" in line for line in e.value.lines()), \
        e.value.lines()


def test_a_sql_source_over_other_sources_loads(tmp_path):
    root = _project(tmp_path, {
        "accord.yml": "project: acme\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "defs.yml": "sources:\n  - {name: crm, path: data/crm.csv, time: created_at}\n"
                    "  - name: big_deals\n    sql: |\n      with b as (select * from crm where amount > 5)\n"
                    "      select * from b\n    time: created_at\n"
                    "metrics:\n  - {name: n, team: sales, level: role, source: big_deals, measure: count(*)}\n",
    })
    assert [s.name for s in load_project(root).sources] == ["crm", "big_deals"]


def test_a_column_inside_a_multi_line_value_is_not_guessed(tmp_path):
    root = _project(tmp_path, {
        "accord.yml": "project: acme\n",
        "data/crm.csv": "id,created_at,amount\n1,2026-01-05,10\n",
        "defs.yml": "sources:\n  - {name: crm, path: data/crm.csv, time: created_at}\n"
                    "metrics:\n  - name: pipeline\n    team: sales\n    level: function\n    source: crm\n"
                    "    measure: |\n      sum(amount)\n        + amount\n",
    })
    with pytest.raises(UserError) as e:
        load_project(root)
    assert e.value.lines() == ["defs.yml:8:14: metric 'pipeline': measure reads column 'amount' outside any "
                               "aggregate. wrap it in an aggregate"]


# ---------------------------------------------------------------- YAML that would hang or recurse

def test_an_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
    root = _project(tmp_path, {"accord.yml": "project: acme\n", "metrics.yml": "\n".join(lines) + "\nmetrics: []\n"})
    with pytest.raises(UserError) as e:
        load_project(root)
    assert e.value.lines() == ["metrics.yml: expands to more than 200,000 values through its anchors and aliases "
                               "(&, *). write the definitions out without nested aliases"]


def test_an_alias_inside_itself_is_refused(tmp_path):
    root = _project(tmp_path, {"accord.yml": "project: acme\n", "metrics.yml": "&m {metrics: [*m]}\n"})
    with pytest.raises(UserError) as e:
        load_project(root)
    (line,) = e.value.lines()
    assert line.startswith("metrics.yml:1:") and "refers to the collection that holds it" in line


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
