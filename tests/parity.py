"""Every command's JSON on another engine against DuckDB's: the demo, once per engine."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

from accord.project.loader import load_project

ACCORD = [sys.executable, "-m", "accord.cli"]
PAIR = ["marketing_sourced_pipeline", "sales_qualified_pipeline"]
# every command that reads data, with JSON output
COMMANDS = {
    "validate": ["validate", "--format", "json"],
    "compute": ["compute", "--format", "json", "--grain", "week"],
    "check": ["check", "--format", "json"],
    "tree": ["tree", "--format", "json"],
    "touchpoints": ["touchpoints", "--format", "json"],
    "reconcile": ["reconcile", *PAIR, "--period", "2026-Q3", "--format", "json"],
}


def run(args: list[str], project: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(ACCORD + args + ["--project", str(project)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def differences(a, b, path: str = "") -> list[str]:
    """Where two JSON documents differ: floats within 1e-9 relative, everything else exactly."""
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only on one side")
            else:
                out += differences(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items against {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
        if not (numbers and (a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0))):
            out.append(f"{path}: {a!r} against {b!r}")
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: {a!r} against {b!r}")
    return out


def copy_demo(demo: Path, target: Path, engine: str, tables: dict[str, str] | None = None) -> Path:
    """The demo's definitions in `target` with `engine` in accord.yml; with `tables` (source -> table),
    each of those sources reads that table instead of its file (and the data files stay behind)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(demo, target, ignore=shutil.ignore_patterns("data") if tables else None)
    if tables:
        for source in load_project(demo).sources:
            if source.name in tables:
                f = target / source.location.file
                text = f.read_text(encoding="utf-8")
                assert f"path: {source.path}\n" in text
                f.write_text(text.replace(f"path: {source.path}\n", f"table: {tables[source.name]}\n"),
                             encoding="utf-8")
    config = target / "accord.yml"
    config.write_text(config.read_text(encoding="utf-8") + f"\nengine: {engine}\n", encoding="utf-8")
    return target


def duckdb_twin(demo: Path, target: Path, tables: dict[str, str]) -> Path:
    """The demo reading the same tables as the other engine's copy, from a DuckDB database in the project:
    the definitions (and so their fingerprints) are the same on both sides, only the engine differs."""
    import duckdb
    root = copy_demo(demo, target, "{type: duckdb, path: warehouse.duckdb}", tables)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    for source in load_project(demo).sources:
        if source.name in tables:
            schema = tables[source.name].split(".")[0]
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            con.execute(f"CREATE TABLE {tables[source.name]} AS SELECT * FROM read_parquet(?)",
                        [str(demo / source.path)])
    con.close()
    return root


def run_here(args: list[str], project: Path) -> subprocess.CompletedProcess:
    """The command run in this process: an engine session the tests started (Spark's) is the one it uses."""
    from typer.testing import CliRunner

    from accord.cli import app
    r = CliRunner().invoke(app, args + ["--project", str(project)])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return subprocess.CompletedProcess(args, r.exit_code, r.stdout, r.stderr)


def same_json(command: str, duck: Path, other: Path, env: dict | None = None, here: bool = False) -> None:
    """The command's exit code and JSON on both projects agree (`here`: the other one runs in this process)."""
    a = run(COMMANDS[command], duck)
    b = run_here(COMMANDS[command], other) if here else run(COMMANDS[command], other, env)
    assert a.returncode in (0, 1), a.stderr
    assert b.returncode == a.returncode, b.stderr
    assert a.stdout.strip(), a.stderr
    found = differences(json.loads(a.stdout), json.loads(b.stdout))
    assert not found, f"{command}: {len(found)} differences, first: " + "; ".join(found[:5])
