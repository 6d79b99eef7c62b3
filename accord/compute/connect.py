"""Open the engine a project's accord.yml names, on its data, read-only, in its sandbox."""
from __future__ import annotations

from accord.engine import Engine, Sandbox, open_engine
from accord.project.data_folders import data_folders
from accord.project.durations import parse_time_limit
from accord.project.model import Project

_in_workers = False


def run_engines_in_workers(on: bool = True) -> None:
    """From now on, open DuckDB in a worker process whose environment holds no secrets: for a process that
    serves several people and knows the store's URL, the SMTP password or the signing key (the web app)."""
    global _in_workers
    _in_workers = on


def project_engine(project: Project) -> Engine:
    engine = project.config.engine
    database = str(project.root / engine.path) if engine.path else None
    if _in_workers and engine.type == "duckdb":
        from accord.engine.worker import WorkerEngine
        return WorkerEngine(database, project.settings.timezone, project_sandbox(project))
    return open_engine(engine.type, database, project.settings.timezone, project_sandbox(project))


def project_sandbox(project: Project) -> Sandbox:
    """The project's data folders and the limits of accord.yml's `engine:`."""
    engine = project.config.engine
    return Sandbox(data_folders=tuple(str(f) for f in data_folders(project.root, project.settings.data_paths)),
                   memory_limit=engine.memory_limit, threads=engine.threads,
                   timeout=parse_time_limit(engine.timeout))
