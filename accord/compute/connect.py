"""Open the engine a project's accord.yml names, on its data, read-only (DuckDB in its sandbox).

`engine.type` is duckdb, postgres, spark, or dbt (a dbt profile's target for the PostgreSQL, DuckDB or
Spark adapter, its password from the environment as dbt reads it). A failure to open is one line pointing
at the engine in accord.yml.
"""
from __future__ import annotations

import os

from accord.engine import Engine, EngineError, EngineSpec, Sandbox, open_engine
from accord.errors import Problem, UserError
from accord.project.data_folders import data_folders
from accord.project.durations import parse_time_limit
from accord.project.loader import CONFIG_FILE, file_sources_refused
from accord.project.model import EngineConfig, Project
from accord.project.profiles import profiles_path, read_profile

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
    target = read_profile(profiles_path(project.root, config), config)
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


def _at_engine(config: EngineConfig, message: str) -> Problem:
    return Problem(CONFIG_FILE, config.line, 0, message)


def project_sandbox(project: Project) -> Sandbox:
    """The project's data folders and the limits of accord.yml's `engine:`."""
    engine = project.config.engine
    return Sandbox(data_folders=tuple(str(f) for f in data_folders(project.root, project.settings.data_paths)),
                   memory_limit=engine.memory_limit, threads=engine.threads,
                   timeout=parse_time_limit(engine.timeout))
