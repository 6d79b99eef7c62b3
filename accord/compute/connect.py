"""Open the engine a project's accord.yml names, on its data, read-only."""
from __future__ import annotations

from accord.engine import Engine, open_engine
from accord.project.model import Project


def project_engine(project: Project) -> Engine:
    path = project.config.engine.path
    return open_engine(project.config.engine.type, str(project.root / path) if path else None,
                       project.settings.timezone)
