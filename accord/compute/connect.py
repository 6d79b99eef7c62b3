"""Open the engine a project's accord.yml names, on its data, read-only, in its sandbox."""
from __future__ import annotations

from accord.engine import Engine, Sandbox, open_engine
from accord.project.data_folders import data_folders
from accord.project.durations import parse_time_limit
from accord.project.model import Project


def project_engine(project: Project) -> Engine:
    engine = project.config.engine
    return open_engine(engine.type, str(project.root / engine.path) if engine.path else None,
                       project.settings.timezone, project_sandbox(project))


def project_sandbox(project: Project) -> Sandbox:
    """The project's data folders and the limits of accord.yml's `engine:`."""
    engine = project.config.engine
    return Sandbox(data_folders=tuple(str(f) for f in data_folders(project.root, project.settings.data_paths)),
                   memory_limit=engine.memory_limit, threads=engine.threads,
                   timeout=parse_time_limit(engine.timeout))
