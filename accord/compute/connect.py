"""Open the engine a project's accord.yml names, on its data, read-only (DuckDB in its sandbox).

`engine.type` is duckdb, postgres, spark, or dbt (a dbt profile's target for the PostgreSQL, DuckDB or
Spark adapter, its password from the environment as dbt reads it). A failure to open is one line pointing
at the engine in accord.yml.
"""
from __future__ import annotations

import os
from pathlib import Path

from accord.engine import Engine, EngineError, EngineSpec, Sandbox, open_engine
from accord.errors import Problem, UserError
from accord.project.data_folders import data_folders
from accord.project.durations import parse_time_limit
from accord.project.loader import CONFIG_FILE, file_sources_refused
from accord.project.model import EngineConfig, Project

__all__ = ["engine_spec", "project_engine", "project_sandbox", "run_engines_in_workers"]

_in_workers = False


def run_engines_in_workers(on: bool = True) -> None:
    """From now on, open DuckDB in a worker process whose environment holds no secrets: for a process that
    serves several people and knows the store's URL, the SMTP password or the signing key (the web app)."""
    global _in_workers
    _in_workers = on


def project_engine(project: Project) -> Engine:
    spec = engine_spec(project)
    if spec.kind == "postgres" and project.config.engine.type == "dbt":
        problems = file_sources_refused(project, "PostgreSQL")
        if problems:
            raise UserError(problems)
    if spec.kind == "duckdb" and _in_workers:
        from accord.engine.worker import WorkerEngine
        return WorkerEngine(spec.database, spec.timezone, spec.sandbox)
    try:
        return open_engine(spec)
    except EngineError as e:
        raise UserError([_at_engine(project.config.engine, str(e))]) from None


def engine_spec(project: Project) -> EngineSpec:
    """The engine's plain settings: paths resolved against the project, the DSN read from its variable."""
    config = project.config.engine
    common = {"timezone": project.settings.timezone, "timeout": parse_time_limit(config.timeout).total_seconds(),
              "sandbox": project_sandbox(project)}
    if config.type == "duckdb":
        return EngineSpec("duckdb", database=str(project.root / config.path) if config.path else None, **common)
    if config.type == "postgres":
        dsn = config.dsn
        if config.dsn_env:
            dsn = os.environ.get(config.dsn_env)
            if not dsn:
                raise UserError([_at_engine(config, f"environment variable {config.dsn_env} (engine.dsn_env) is "
                                                    "not set. set it to a libpq DSN, such as "
                                                    "'host=db dbname=analytics user=accord'")])
        return EngineSpec("postgres", dsn=dsn, **common)
    if config.type == "spark":
        return EngineSpec("spark", master=config.master, remote=config.remote, **common)
    return _dbt_spec(project, config, common)


def _dbt_spec(project: Project, config: EngineConfig, common: dict) -> EngineSpec:
    """The target of a dbt profile as an engine: postgres, duckdb or spark (session or Spark Connect)."""
    folder = Path(config.profiles_dir or os.environ.get("DBT_PROFILES_DIR") or Path.home() / ".dbt")
    if not folder.is_absolute():
        folder = project.root / folder
    path = folder / "profiles.yml"
    if not path.is_file():
        raise UserError([_at_engine(config, f"no profiles.yml in '{folder}'. set engine.profiles_dir to the "
                                            "folder holding it")])
    target = _read_profile(path, config)
    kind = str(target.get("type", ""))
    if kind == "postgres":
        keys = {"host": "host", "port": "port", "user": "user", "pass": "password", "password": "password",
                "dbname": "dbname", "database": "dbname"}
        connect = {libpq: str(target[k]) for k, libpq in keys.items() if target.get(k) is not None}
        if target.get("schema"):
            connect["options"] = f"-c search_path={target['schema']}"
        return EngineSpec("postgres", connect=connect, **common)
    if kind == "duckdb":
        db = target.get("path")
        return EngineSpec("duckdb", database=str(project.root / db) if db and db != ":memory:" else None,
                          **common)
    if kind == "spark":
        method = target.get("method")
        if method == "session":
            return EngineSpec("spark", master=str(target.get("host") or "local[2]"), **common)
        if target.get("host") and method in ("thrift", "http", None):
            raise UserError([_at_engine(config, f"dbt spark method '{method}' is not one accord reads. use "
                                                "method: session, or engine type spark with remote: sc://HOST")])
        return EngineSpec("spark", remote=str(target.get("host")), **common)
    raise UserError([_at_engine(config, f"dbt profile '{config.profile}' is of type '{kind}', which accord "
                                        "does not run. use a postgres, duckdb or spark profile")])


def _read_profile(path: Path, config: EngineConfig) -> dict:
    """The chosen output of a profile, with `{{ env_var('NAME') }}` read from the environment as dbt does."""
    from jinja2.sandbox import SandboxedEnvironment
    from ruamel.yaml import YAML

    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise UserError([_at_engine(config, f"profiles.yml reads environment variable {name}, which is not "
                                            "set. set it")])
    try:
        # sandboxed: a profiles.yml a project points at may hold Jinja that reaches for Python's internals
        from jinja2 import StrictUndefined
        text = SandboxedEnvironment(undefined=StrictUndefined).from_string(path.read_text(encoding="utf-8")) \
            .render(env_var=env_var)
        doc = YAML(typ="safe").load(text) or {}
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - a broken profiles file: one line, whatever broke
        raise UserError([_at_engine(config, f"cannot read '{path}': {str(e).splitlines()[0]}. fix profiles.yml")])
    profile = doc.get(config.profile) if isinstance(doc, dict) else None
    if not isinstance(profile, dict):
        raise UserError([_at_engine(config, f"profiles.yml has no profile '{config.profile}'. fix engine.profile")])
    name = config.target or profile.get("target")
    target = (profile.get("outputs") or {}).get(name)
    if not isinstance(target, dict):
        raise UserError([_at_engine(config, f"profile '{config.profile}' has no target '{name}'. "
                                            "fix engine.target")])
    return target


def adapter_dialect(project: Project) -> str | None:
    """The dialect of a `type: dbt` engine's adapter (postgres, duckdb or spark); None when the profile cannot
    be read yet (opening the engine reports why)."""
    try:
        return _dbt_spec(project, project.config.engine, {"timezone": project.settings.timezone}).kind
    except (UserError, KeyError, TypeError, ValueError):
        return None


def _at_engine(config: EngineConfig, message: str) -> Problem:
    return Problem(CONFIG_FILE, config.line, 0, message)


def project_sandbox(project: Project) -> Sandbox:
    """The project's data folders and the limits of accord.yml's `engine:`."""
    engine = project.config.engine
    return Sandbox(data_folders=tuple(str(f) for f in data_folders(project.root, project.settings.data_paths)),
                   memory_limit=engine.memory_limit, threads=engine.threads,
                   timeout=parse_time_limit(engine.timeout))
