"""dbt's profiles.yml, for `engine: {type: dbt, profile: NAME, target: T, profiles_dir: DIR}`.

The file is rendered as dbt renders it (`{{ env_var('NAME') }}` from the environment), in Jinja's sandbox:
a profiles.yml that a project points at may hold a template reaching for Python's internals.
"""
from __future__ import annotations

import os
from pathlib import Path

from accord.errors import Problem, UserError
from accord.project.model import CONFIG_FILE, EngineConfig


def profiles_path(root: Path, config: EngineConfig) -> Path:
    """profiles.yml in engine.profiles_dir (relative to the project), else $DBT_PROFILES_DIR, else ~/.dbt."""
    folder = Path(config.profiles_dir or os.environ.get("DBT_PROFILES_DIR") or Path.home() / ".dbt")
    if not folder.is_absolute():
        folder = root / folder
    path = folder / "profiles.yml"
    if not path.is_file():
        raise UserError([_at_engine(config, f"no profiles.yml in '{folder}'. set engine.profiles_dir to the "
                                            "folder holding it")])
    return path


def read_profile(path: Path, config: EngineConfig) -> dict:
    """The chosen output of a profile, with `{{ env_var('NAME') }}` read from the environment as dbt does."""
    from jinja2 import StrictUndefined
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


def adapter_dialect(root: Path, config: EngineConfig) -> str | None:
    """The type of the profile's target (postgres, duckdb, spark, ...); None when it cannot be read yet
    (opening the engine reports why)."""
    try:
        return str(read_profile(profiles_path(root, config), config).get("type", "")) or None
    except UserError:
        return None


def _at_engine(config: EngineConfig, message: str) -> Problem:
    return Problem(CONFIG_FILE, config.line, 0, message)
