"""The sandbox, tried as an attacker would: every read attempt of the issue runs against a canary file outside
the project and a canary environment variable; neither may appear in any output, and nothing may be written
outside the project (nor in $HOME, where DuckDB would install extensions)."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from factory import snapshot
from typer.testing import CliRunner

from accord.cli import app
from accord.engine import Sandbox, open_engine
from accord.engine.duckdb import EngineQueryError
from accord.errors import UserError

CANARY = f"canary{uuid.uuid4().hex}"          # inside every file outside the project, and one file's name
ENV_CANARY = f"envcanary{uuid.uuid4().hex}"   # the value of ACCORD_CANARY

CRM = "t,amount,stage\n2026-01-05,10,won\n2026-02-07,20,lost\n2026-03-09,30,won\n"


@dataclass
class World:
    base: Path
    root: Path       # the project
    outside: Path    # a folder beside it, holding the canaries

    def outside_state(self) -> dict[str, dict[str, bytes]]:
        """Every file outside the project that a command could write: the canaries' folder, $HOME, the
        temporary folder."""
        return {name: snapshot(self.base / name) for name in ("outside", "home", "tmp")}


@pytest.fixture
def world(tmp_path, monkeypatch) -> World:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary.csv").write_text(f"secret,n\n{CANARY},1\n")
    (outside / "canary.txt").write_text(CANARY + "\n")
    (outside / f"{CANARY}.name").write_text("a file whose name is the canary: a listing would show it\n")
    con = duckdb.connect(str(outside / "canary.duckdb"))
    con.execute(f"create table secrets as select '{CANARY}' as secret, date '2026-01-05' as t")
    con.close()
    for name in ("home", "tmp", "mpl"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ACCORD_CANARY", ENV_CANARY)
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))  # plotting caches are not the engine's
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "data" / "crm.csv").write_text(CRM)
    return World(tmp_path, root, outside)


def write(world: World, defs: str, config: str = "", settings: str = "") -> None:
    text = textwrap.dedent(defs).replace("OUTSIDE", str(world.outside))
    (world.root / "defs.yml").write_text(text)
    (world.root / "accord.yml").write_text(f"project: p\nsettings: {{as_of: 2026-04-01{settings}}}\n"
                                           + textwrap.dedent(config).replace("OUTSIDE", str(world.outside)))


COMMANDS = (["validate"], ["compute", "--format", "json"], ["check", "--format", "json"],
            ["tree", "--format", "json"], ["report", "--out", "PROJECT/report.html"])


def run_all(world: World) -> tuple[list[int], str]:
    """Every command on the project: exit codes, and everything they printed or wrote, as one text."""
    before = world.outside_state()
    codes, seen = [], []
    runner = CliRunner()
    for command in COMMANDS:
        args = [a.replace("PROJECT", str(world.root)) for a in command]
        result = runner.invoke(app, [*args, "--project", str(world.root)], catch_exceptions=False)
        codes.append(result.exit_code)
        seen += [result.stdout, result.stderr]
    for written in world.root.rglob("*.html"):
        seen.append(written.read_text(errors="replace"))
    assert world.outside_state() == before, "a command wrote outside the project"
    assert not (world.base / "home" / ".duckdb").exists()
    return codes, "\n".join(seen)


def assert_no_canary(text: str) -> None:
    assert CANARY not in text
    assert ENV_CANARY not in text


def crm_source() -> str:
    return "  - {name: crm, path: data/crm.csv, time: t}\n"


def metric(source: str = "crm", measure: str = "count(*)", extra: str = "") -> str:
    return (f"  - {{name: m, team: a, level: role, source: {source}, measure: \"{measure}\"{extra}}}\n")


# ---------------------------------------------------------------- reads refused at load

LOAD_ATTACKS = {
    "read_csv": "select * from read_csv('OUTSIDE/canary.csv')",
    "read_text": "select content as secret, date '2026-01-05' as t from read_text('OUTSIDE/canary.txt')",
    "read_blob": "select content as secret, date '2026-01-05' as t from read_blob('OUTSIDE/canary.txt')",
    "sniff_csv": "select *, date '2026-01-05' as t from sniff_csv('OUTSIDE/canary.csv')",
    "glob": "select file as secret, date '2026-01-05' as t from glob('OUTSIDE/*')",
    "glob_root": "select file as secret, date '2026-01-05' as t from glob('/*')",
    "quoted_path": "select *, date '2026-01-05' as t from 'OUTSIDE/canary.csv'",
    "quoted_identifier": "select *, date '2026-01-05' as t from \\\"OUTSIDE/canary.csv\\\"",
    "cte": "with x as (select * from read_csv('OUTSIDE/canary.csv')) select *, date '2026-01-05' as t from x",
    "subquery": "select * from crm where stage in (select secret from 'OUTSIDE/canary.csv')",
    "scalar_subquery": "select *, (select max(content) from read_text('OUTSIDE/canary.txt')) as s from crm",
    "environ": "select content as secret, date '2026-01-05' as t from read_text('/proc/self/environ')",
    "https": "select *, date '2026-01-05' as t from 'https://example.invalid/x.csv'",
    "s3": "select *, date '2026-01-05' as t from read_parquet('s3://bucket/x.parquet')",
    "sqlite_scan": "select * from sqlite_scan('OUTSIDE/canary.duckdb', 'secrets')",
    "query": "select * from query('select * from read_csv(''OUTSIDE/canary.csv'')')",
    "settings": "select value as secret, date '2026-01-05' as t from duckdb_settings()",
    "union": "select t, stage from crm union all select '2026-01-05', secret from 'OUTSIDE/canary.csv'",
}


@pytest.mark.parametrize("attack", sorted(LOAD_ATTACKS))
def test_a_sql_source_that_reads_outside_the_data_is_refused_and_shows_nothing(world, attack):
    write(world, "sources:\n" + crm_source() + f"  - name: evil\n    sql: \"{LOAD_ATTACKS[attack]}\"\n"
          "    time: t\nmetrics:\n" + metric("evil", "count(*)"))
    codes, seen = run_all(world)
    assert codes == [2] * len(COMMANDS)
    assert "defs.yml:4:" in seen
    assert_no_canary(seen)


MEASURE_ATTACKS = ["max(getenv('ACCORD_CANARY'))", "max(length(read_text('OUTSIDE/canary.txt')))",
                   "max(current_setting('home_directory'))", "count(*) filter (where getenv('HOME') is null)",
                   "max(main.read_text('OUTSIDE/canary.txt'))"]


@pytest.mark.parametrize("measure", MEASURE_ATTACKS)
def test_a_measure_that_reads_the_environment_or_a_file_does_not_pass_validate(world, measure):
    write(world, "sources:\n" + crm_source() + "metrics:\n" + metric("crm", measure))
    codes, seen = run_all(world)
    assert codes == [2] * len(COMMANDS)
    assert "defs.yml:4:" in seen and "not allowed" in seen
    assert_no_canary(seen)


@pytest.mark.parametrize("clause", ["read_text('OUTSIDE/canary.txt') is not null", "getenv('ACCORD_CANARY') = 'x'",
                                    "stage in (select secret from 'OUTSIDE/canary.csv')"])
def test_a_clause_that_reads_the_environment_or_a_file_does_not_pass_validate(world, clause):
    write(world, "sources:\n" + crm_source() + "metrics:\n"
          + metric("crm", "count(*)", f", include: [{{name: x, sql: \"{clause}\"}}]"))
    codes, seen = run_all(world)
    assert codes == [2] * len(COMMANDS)
    assert_no_canary(seen)


def test_a_table_source_that_is_an_expression_is_refused(world):
    write(world, "sources:\n" + crm_source()
          + "  - {name: evil, table: \"read_text('OUTSIDE/canary.txt')\", time: t}\nmetrics:\n" + metric("evil"))
    codes, seen = run_all(world)
    assert codes == [2] * len(COMMANDS)
    assert "defs.yml:3:" in seen and "not a table name" in seen
    assert_no_canary(seen)


@pytest.mark.parametrize("path", ["../outside/canary.csv", "data/../../outside/canary.csv", "OUTSIDE/canary.csv",
                                  "data/link.csv", "lake/canary.csv", ".accord/secret.csv", ".git/secret.csv",
                                  "data/.hidden/secret.csv"])
def test_a_path_outside_the_data_folders_is_refused_at_its_line(world, path):
    (world.root / "data" / "link.csv").symlink_to(world.outside / "canary.csv")
    (world.root / "lake").symlink_to(world.outside)
    for hidden in (".accord", ".git", "data/.hidden"):
        (world.root / hidden).mkdir(parents=True)
        (world.root / hidden / "secret.csv").write_text(f"secret,t\n{CANARY},2026-01-05\n")
    write(world, "sources:\n" + f"  - {{name: evil, path: {path}, time: t}}\n" + "metrics:\n" + metric("evil"))
    codes, seen = run_all(world)
    assert codes == [2] * len(COMMANDS)
    assert "defs.yml:2:" in seen
    assert ("is outside the project's data folders" in seen) != ("hidden folder" in seen)
    assert_no_canary(seen)


@pytest.mark.parametrize("engine_path", ["../outside/canary.duckdb", "OUTSIDE/canary.duckdb", "link.duckdb"])
def test_an_engine_database_outside_the_data_folders_is_refused(world, engine_path):
    (world.root / "link.duckdb").symlink_to(world.outside / "canary.duckdb")
    write(world, "sources:\n  - {name: evil, table: secrets, time: t}\nmetrics:\n" + metric("evil", "max(secret)"),
          f"engine: {{type: duckdb, path: {engine_path}}}\n")
    codes, seen = run_all(world)
    assert codes == [2] * len(COMMANDS)
    assert "accord.yml:" in seen and "engine path" in seen and "outside the project's data folders" in seen
    assert_no_canary(seen)


# ---------------------------------------------------------------- reads the engine itself refuses

def test_a_view_in_the_engine_database_cannot_read_outside_the_data_folders(world):
    (world.root / ".accord").mkdir()
    (world.root / ".accord" / "secret.csv").write_text(f"secret,t\n{CANARY},2026-01-05\n")
    con = duckdb.connect(str(world.root / "warehouse.duckdb"))
    con.execute(f"create view outside_view as select * from read_csv('{world.outside}/canary.csv')")
    con.execute(f"create view store_view as select * from read_csv('{world.root}/.accord/secret.csv')")
    con.execute(f"create view data_view as select * from read_csv('{world.root}/data/crm.csv')")
    con.close()
    for view in ("outside_view", "store_view"):
        write(world, f"sources:\n  - {{name: evil, table: {view}, time: t}}\nmetrics:\n"
              + metric("evil", "max(length(secret))"), "engine: {type: duckdb, path: warehouse.duckdb}\n")
        codes, seen = run_all(world)
        assert codes[0] == 2 and codes[1] == 2, seen  # validate and compute say the source cannot be read
        assert "source 'evil' cannot be read" in seen
        assert_no_canary(seen)
    write(world, "sources:\n  - {name: ok, table: data_view, time: t}\nmetrics:\n" + metric("ok", "sum(amount)"),
          "engine: {type: duckdb, path: warehouse.duckdb}\n")
    result = CliRunner().invoke(app, ["compute", "--format", "json", "--grain", "quarter", "--project",
                                      str(world.root)])
    assert result.exit_code == 0, result.stderr
    assert '"value": 60.0' in result.stdout.replace(" ", "").replace('"value":60.0', '"value": 60.0')


def test_the_harness_sees_a_canary_when_its_folder_is_listed_as_data(world):
    """The control: with the canaries' folder listed in settings.data_paths, the same commands read it; so
    the tests above would see a leak."""
    write(world, "sources:\n  - {name: lake, path: ../outside/canary.csv, time: t}\nmetrics:\n"
          + "  - {name: m, team: a, level: role, source: lake, measure: count(*), "
            "include: [{name: x, sql: \"secret like 'canary%'\"}]}\n"
          + "  - {name: leak, team: a, level: role, source: lake, measure: \"sum(secret::double)\"}\n",
          settings=", data_paths: [../outside]")
    (world.outside / "canary.csv").write_text(f"secret,t\n{CANARY},2026-01-05\n")
    result = CliRunner().invoke(app, ["compute", "--format", "json", "--project", str(world.root)])
    assert CANARY in result.stdout + result.stderr


# ---------------------------------------------------------------- the process environment

def test_the_environment_is_out_of_reach_in_a_real_process(world):
    write(world, "sources:\n" + crm_source()
          + "  - {name: env, sql: \"select content as s, date '2026-01-05' as t from read_text('/proc/self/environ')\"}\n"
          + "metrics:\n" + metric("crm", "max(getenv('ACCORD_CANARY'))"))
    env = {**os.environ, "ACCORD_CANARY": ENV_CANARY}
    for command in (["validate"], ["compute", "--format", "json"]):
        done = subprocess.run([sys.executable, "-m", "accord.cli", *command, "--project", str(world.root)],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 2
        assert_no_canary(done.stdout + done.stderr)


# ---------------------------------------------------------------- old revisions

def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@x.example", *args],
                   check=True, capture_output=True, timeout=60)


EVIL_REVISION = """
sources:
  - {name: crm, path: data/crm.csv, time: t}
  - name: evil
    sql: "select secret as stage, 10 as amount, date '2026-01-05' as t from read_csv('OUTSIDE/canary.csv')"
metrics:
  - {name: m, team: a, level: role, source: evil, measure: "max(stage)"}
"""


def test_diff_refuses_an_old_revision_that_reads_outside_before_running_anything(world):
    write(world, EVIL_REVISION)
    _git(world.root, "init", "-q")
    _git(world.root, "add", "-A")
    _git(world.root, "commit", "-qm", "evil")
    write(world, "sources:\n" + crm_source() + "metrics:\n" + metric("crm", "sum(amount)"))
    _git(world.root, "commit", "-qam", "good")
    result = CliRunner().invoke(app, ["diff", "HEAD~1", "--format", "json", "--project", str(world.root)])
    assert result.exit_code == 2
    assert "at revision HEAD~1" in result.stderr and "read_csv()" in result.stderr
    assert_no_canary(result.stdout + result.stderr)


def test_unapproved_change_never_runs_an_old_revision_that_reads_outside(world):
    from accord.project.fingerprint import fingerprint
    from accord.project.loader import load_project
    decided = EVIL_REVISION + "decisions:\n  - {label: m, decided_on: 2026-01-01, owner: a@x.example, " \
                              "canonical: [{metric: m, for: [x], fingerprint: FP}]}\n"
    write(world, decided.replace("FP", "'" + "0" * 12 + "'"))
    _git(world.root, "init", "-q")
    _git(world.root, "add", "-A")
    _git(world.root, "commit", "-qm", "evil")
    good = ("sources:\n" + crm_source() + "metrics:\n" + metric("crm", "max(stage)")
            + "decisions:\n  - {label: m, decided_on: 2026-01-01, owner: a@x.example, "
              "canonical: [{metric: m, for: [x], fingerprint: FP}]}\n")
    write(world, good.replace("FP", "'" + "0" * 12 + "'"))
    _git(world.root, "commit", "-qam", "good")
    assert fingerprint(load_project(world.root), load_project(world.root).metric("m")) != "0" * 12
    result = CliRunner().invoke(app, ["check", "--format", "json", "--project", str(world.root)])
    assert "unapproved-change" in result.stdout
    assert_no_canary(result.stdout + result.stderr)


# ---------------------------------------------------------------- the engine session itself

def test_the_session_reads_only_the_data_folders_and_never_their_hidden_folders(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / ".git").mkdir()
    (tmp_path / "elsewhere").mkdir()
    for path in (data / "a.csv", data / "sub" / "b.csv", data / ".git" / "c.csv", tmp_path / "elsewhere" / "d.csv"):
        path.write_text("x\n1\n")
    (data / "out.csv").symlink_to(tmp_path / "elsewhere" / "d.csv")
    with open_engine("duckdb", None, sandbox=Sandbox(data_folders=(str(data),))) as engine:
        for readable in (data / "a.csv", data / "sub" / "b.csv"):
            assert engine.records(f"select x from read_csv('{readable}')") == [{"x": 1}]
        for unreadable in (data / ".git" / "c.csv", tmp_path / "elsewhere" / "d.csv", data / "out.csv",
                           data / "sub" / ".." / ".." / "elsewhere" / "d.csv", "https://example.invalid/x.csv"):
            with pytest.raises(EngineQueryError, match="outside the data folders"):
                engine.records(f"select * from read_csv('{unreadable}')")


def test_a_hidden_folder_or_a_symlink_deep_inside_a_data_folder_is_not_readable(tmp_path):
    data = tmp_path / "data"
    for folder in ("lake/2026/.secret", "lake/2025", "lake/.git/objects", "clean/deeper", "links"):
        (data / folder).mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    for rel in ("lake/2026/a.csv", "lake/2026/.secret/s.csv", "lake/2025/b.csv", "lake/.git/objects/o.csv",
                "lake/.env.csv", "clean/c.csv", "clean/deeper/d.csv", "links/inside.csv"):
        (data / rel).write_text("x\n1\n")
    (tmp_path / "elsewhere" / "e.csv").write_text("x\n1\n")
    (data / "lake" / "2025" / "out").symlink_to(tmp_path / "elsewhere")
    (data / "links" / "to_clean").symlink_to(data / "clean")
    (data / "links" / "to_secret.csv").symlink_to(data / "lake" / "2026" / ".secret" / "s.csv")
    sandbox = Sandbox(data_folders=(str(data),))
    dirs, files = sandbox.readable()
    assert f"{data}/clean/" in dirs                                    # nothing hidden inside: allowed whole
    assert not any(d.startswith(f"{data}/lake/2026") or d == f"{data}/lake/" for d in dirs)
    with open_engine("duckdb", None, sandbox=sandbox) as engine:
        for readable in ("lake/2026/a.csv", "lake/2025/b.csv", "clean/c.csv", "clean/deeper/d.csv",
                         "links/inside.csv"):
            assert engine.records(f"select x from read_csv('{data / readable}')") == [{"x": 1}], readable
        for unreadable in (data / "lake/2026/.secret/s.csv", data / "lake/.git/objects/o.csv", data / "lake/.env.csv",
                           data / "lake/2025/out/e.csv", tmp_path / "elsewhere" / "e.csv",
                           data / "links/to_secret.csv"):
            with pytest.raises(EngineQueryError, match="outside the data folders"):
                engine.records(f"select * from read_csv('{unreadable}')")


def test_a_view_cannot_read_a_hidden_folder_deep_inside_the_data_folder(world):
    (world.root / "data" / ".secret").mkdir()
    (world.root / "data" / ".secret" / "x.csv").write_text(f"secret,t\n{CANARY},2026-01-05\n")
    con = duckdb.connect(str(world.root / "warehouse.duckdb"))
    con.execute(f"create view deep_view as select * from read_csv('{world.root}/data/.secret/x.csv')")
    con.close()
    write(world, "sources:\n  - {name: evil, table: deep_view, time: t}\nmetrics:\n"
          + metric("evil", "max(length(secret))"), "engine: {type: duckdb, path: warehouse.duckdb}\n")
    codes, seen = run_all(world)
    assert codes[0] == 2 and codes[1] == 2, seen
    assert "source 'evil' cannot be read" in seen
    assert_no_canary(seen)
    # and a sql: source cannot name the file: only sources, by name
    write(world, "sources:\n  - {name: crm, path: data/crm.csv, time: t}\n"
          f"  - {{name: evil, sql: \"select * from '{world.root}/data/.secret/x.csv'\", time: t}}\nmetrics:\n"
          + metric("evil", "count(*)"))
    codes, seen = run_all(world)
    assert codes[0] == 2 and "defs.yml:3:" in seen, seen     # refused at load, at its line
    assert_no_canary(seen)


def test_the_configuration_is_locked_and_extensions_stay_off(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with open_engine("duckdb", None, sandbox=Sandbox(memory_limit="512MB", threads=1)) as engine:
        for statement in ("SET enable_external_access = true", "SET allowed_directories = ['/']",
                          "SET lock_configuration = false", "SET autoinstall_known_extensions = true",
                          "INSTALL httpfs", "LOAD sqlite_scanner"):
            with pytest.raises(EngineQueryError):
                engine.records(statement)
        with pytest.raises(EngineQueryError):
            engine.records("select * from sqlite_scan('x.db', 't')")
        [row] = engine.records("select current_setting('threads') as t, current_setting('memory_limit') as m, "
                               "current_setting('temp_directory') as d")
    assert row["t"] == 1 and row["m"] in ("512.0 MiB", "488.2 MiB")
    assert list(tmp_path.iterdir()) == []
    assert not Path(row["d"]).exists(), "the private temporary folder is removed on close"


def test_spilling_goes_to_a_private_temporary_folder_outside_the_project(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    seen = []
    with open_engine("duckdb", None, sandbox=Sandbox(memory_limit="40MB", threads=1)) as engine:
        [row] = engine.records("select current_setting('temp_directory') as d")
        folder = Path(row["d"])
        assert folder.parent == tmp_path / "tmp"
        # sorting 3M wide rows needs more than 40 MB: the engine spills into its folder
        [res] = engine.records("select count(*) as n from (select range as a, range::varchar || 'xxxxxxxx' as b "
                               "from range(3000000) order by b desc)")
        seen = list(folder.iterdir())
    assert res["n"] == 3_000_000
    assert not folder.exists()
    assert all(p.parent == folder for p in seen)


def test_a_query_past_the_timeout_is_stopped_with_one_line(tmp_path):
    sandbox = Sandbox(timeout=dt.timedelta(seconds=1), threads=1)
    with open_engine("duckdb", None, sandbox=sandbox) as engine:
        start = time.monotonic()
        with pytest.raises(UserError) as e:
            engine.records("select count(*) from range(1000000000000)")
        took = time.monotonic() - start
        assert engine.records("select 42 as x") == [{"x": 42}], "the engine still answers after a timeout"
    assert took < 30
    assert e.value.lines() == ["accord.yml: a query ran longer than engine.timeout (1s) and was stopped. raise "
                               "engine.timeout, or compute fewer metrics or periods"]


def test_engine_timeout_memory_and_threads_come_from_accord_yml(world):
    write(world, "sources:\n  - name: slow\n    sql: \"select date '2026-01-05' as t, a.range as x from range(100000) a, "
                 "range(1000000) b\"\n    time: t\nmetrics:\n" + metric("slow", "sum(x)"),
          "engine: {type: duckdb, timeout: 1s, threads: 1, memory_limit: 1GB}\n")
    result = CliRunner().invoke(app, ["compute", "--format", "json", "--project", str(world.root)])
    assert result.exit_code == 2
    assert result.stderr == ("accord.yml: a query ran longer than engine.timeout (1s) and was stopped. raise "
                             "engine.timeout, or compute fewer metrics or periods\n")


@pytest.mark.parametrize("engine,message", [
    ("{memory_limit: lots}", "is not an amount of memory"), ("{timeout: 10 minutes}", "is not a time limit"),
    ("{threads: 0}", "must be at least 1")])
def test_engine_limits_that_make_no_sense_are_refused_at_their_line(world, engine, message):
    write(world, "sources:\n" + crm_source() + "metrics:\n" + metric(), f"engine: {engine}\n")
    result = CliRunner().invoke(app, ["validate", "--project", str(world.root)])
    assert result.exit_code == 2 and result.stderr.startswith("accord.yml:3:") and message in result.stderr


@pytest.mark.parametrize("folder,message", [("../nowhere", "is not a folder"), ("../outside/.ssh", "hidden")])
def test_a_data_path_that_is_not_a_visible_folder_is_refused(world, folder, message):
    (world.outside / ".ssh").mkdir()
    write(world, "sources:\n" + crm_source() + "metrics:\n" + metric(), settings=f", data_paths: [{folder}]")
    result = CliRunner().invoke(app, ["validate", "--project", str(world.root)])
    assert result.exit_code == 2 and result.stderr.startswith("accord.yml:2:") and message in result.stderr


def test_a_data_path_lets_sources_read_a_shared_folder_on_purpose(world):
    lake = world.base / "lake"
    lake.mkdir()
    (lake / "orders.csv").write_text(CRM)
    write(world, "sources:\n  - {name: o, path: " + str(lake / "orders.csv") + ", time: t}\nmetrics:\n"
          + metric("o", "sum(amount)"), settings=f", data_paths: [{lake}]")
    result = CliRunner().invoke(app, ["compute", "--format", "json", "--grain", "quarter", "--project",
                                      str(world.root)])
    assert result.exit_code == 0, result.stderr
    assert '"value": 60.0' in result.stdout


def test_diff_computes_an_old_revision_in_todays_sandbox_whatever_folders_it_listed(world):
    """An old revision (or a branch under review) that widened settings.data_paths still runs on today's engine:
    the canary it points at stays unreadable (a readable one would show in the conversion error)."""
    (world.outside / "canary.csv").write_text(f"secret,t\n{CANARY},2026-01-05\n")
    write(world, "sources:\n  - {name: lake, path: ../outside/canary.csv, time: t}\nmetrics:\n"
          + metric("lake", "sum(secret::double)"), settings=", data_paths: [../outside]")
    _git(world.root, "init", "-q")
    _git(world.root, "add", "-A")
    _git(world.root, "commit", "-qm", "wider")
    write(world, "sources:\n" + crm_source() + "metrics:\n" + metric("crm", "sum(amount)"))
    _git(world.root, "commit", "-qam", "today")
    before = world.outside_state()
    result = CliRunner().invoke(app, ["diff", "HEAD~1", "--format", "json", "--project", str(world.root)])
    assert result.exit_code == 0
    assert "the old definitions cannot be computed on today's data" in result.stdout
    assert "outside the data folders" in result.stdout
    assert_no_canary(result.stdout + result.stderr)
    assert world.outside_state() == before


@pytest.mark.parametrize("path", ["https://example.invalid/orders.csv", "s3://bucket/orders.parquet"])
def test_a_url_as_a_path_is_never_fetched_and_installs_nothing(world, path):
    write(world, "sources:\n" + f"  - {{name: web, path: \"{path}\", time: t}}\n" + "metrics:\n" + metric("web"))
    codes, seen = run_all(world)   # run_all also checks that $HOME (~/.duckdb/extensions) stays empty
    assert codes == [2] * len(COMMANDS)
    assert "defs.yml:2:" in seen and "does not exist" in seen
