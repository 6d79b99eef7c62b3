"""Shared fixture: write a small project (accord.yml, one definitions file, data files) and load it."""
from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ruamel.yaml import YAML

from accord.project.loader import load_project

# Speed is measured in bench/, never timed in tests: hypothesis's per-example deadline failed property tests
# whenever the machine was busy, though every example was right.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("accord", deadline=None)
_hypothesis_settings.load_profile("accord")


def _yaml(doc) -> str:
    y = YAML()
    y.default_flow_style = False
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue()


def write_data(path: Path, table: pa.Table) -> None:
    """A data file in the format its suffix names; parquet keeps the arrow types exactly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
        return
    fmt = {".csv": "csv, header true", ".json": "json"}[path.suffix]
    con = duckdb.connect()
    con.register("data", table)
    con.execute(f"COPY data TO '{path}' (FORMAT {fmt})")
    con.close()


def write_project(root: Path, sources: list[dict], metrics: list[dict], data: dict | None = None,
                  settings: dict | None = None, engine: dict | None = None):
    """Write and load a project; metrics get a team and level unless given."""
    root.mkdir(parents=True, exist_ok=True)
    config: dict = {"project": "test"}
    if engine:
        config["engine"] = engine
    if settings:
        config["settings"] = settings
    (root / "accord.yml").write_text(_yaml(config))
    full = [{"team": "data", "level": "role", **m} for m in metrics]
    (root / "definitions.yml").write_text(_yaml({"sources": sources, "metrics": full}))
    for rel, table in (data or {}).items():
        write_data(root / rel, table)
    return load_project(root)


@pytest.fixture
def make_project(tmp_path):
    """`make_project(sources, metrics, data={path: arrow table}, settings=..., engine=..., root=...)`."""
    def make(sources, metrics, data=None, settings=None, engine=None, root=None):
        return write_project(root or tmp_path / "project", sources, metrics, data, settings, engine)
    return make


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds; `pytest -m 'not slow'` leaves it out")


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the session (see tests/browser.py); skips in one line without one."""
    from browser import launch
    with launch() as b:
        yield b


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the run (tests using it share one xdist group, so one worker starts it)."""
    from servers import start_postgres
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark_connect():
    """A Spark Connect server for the run (local[2]), stopped at the end."""
    from servers import start_spark_connect
    server = start_spark_connect()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark():
    """A local Spark session for the run (local[2], no UI), stopped at the end."""
    from servers import start_spark
    import shutil
    session = start_spark()
    yield session
    session.stop()
    for folder in session._accord_dirs:
        shutil.rmtree(folder, ignore_errors=True)
